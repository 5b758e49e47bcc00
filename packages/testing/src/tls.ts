/**
 * A throw-away certificate authority for mutual-TLS tests (RFC 8705, issue 19): server
 * certificates for loopback, client certificates (current, expired, not yet valid), self-signed
 * client certificates, and the `x5t#S256` thumbprint a certificate-bound token carries.
 *
 * Certificates are made by the system `openssl` (decision recorded in docs/design.md: Node has no
 * X.509 writer, and the JavaScript X.509 libraries need a global Reflect polyfill that a test kit
 * should not impose); keys are P-256, made by `node:crypto`. Each CA lives in its own temporary
 * directory, removed by `close()`; issuing is serialised per CA (openssl's `ca` keeps a database).
 */
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** A certificate, its private key and what tests compare it by. */
export interface TestCertificate {
  /** The certificate, PEM. */
  readonly cert: string
  /** Its private key, PKCS #8 PEM (P-256). */
  readonly key: string
  /** The certificate's DER bytes. */
  readonly der: Buffer
  /** RFC 8705 §3.1: base64url SHA-256 of the DER, the `cnf["x5t#S256"]` of tokens bound to it. */
  readonly x5tS256: string
}

/** What a leaf certificate is for, and when it is valid. */
export interface CertificateOptions {
  /** Subject common name. @default 'svcauth-test' */
  readonly commonName?: string
  /** Valid from this long ago, seconds; negative: not valid yet. @default 60 */
  readonly notBefore?: number
  /** Valid for this long from now, seconds; negative: already expired. @default 86400 */
  readonly notAfter?: number
}

/** A test CA. */
export interface TestCa {
  /** The CA certificate, PEM: what servers and clients trust (`ca` of a TLS context). */
  readonly cert: string
  /** A server certificate for `127.0.0.1`, `::1` and `localhost` (and any extra DNS names). */
  issueServer(
    options?: CertificateOptions & { readonly dnsNames?: readonly string[] },
  ): Promise<TestCertificate>
  /** A client certificate (extended key usage `clientAuth`). */
  issueClient(options?: CertificateOptions): Promise<TestCertificate>
  /** Removes the CA's temporary directory. */
  close(): Promise<void>
}

/**
 * Makes a CA (P-256, valid for two days).
 *
 * @example
 * ```ts
 * const ca = await createTestCa()
 * const server = await ca.issueServer()
 * const client = await ca.issueClient({ commonName: 'bss' })
 * https.createServer({ cert: server.cert, key: server.key, ca: ca.cert, requestCert: true })
 * const token = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'], mtls: client })
 * ```
 */
export async function createTestCa(
  options: { readonly commonName?: string } = {},
): Promise<TestCa> {
  const dir = await mkdtemp(join(tmpdir(), 'svcauth-ca-'))
  const caKey = join(dir, 'ca.key')
  const caCert = join(dir, 'ca.pem')
  await writeFile(caKey, newKey(), { mode: 0o600 })
  await openssl(dir, [
    'req',
    '-x509',
    '-new',
    '-key',
    caKey,
    '-sha256',
    '-days',
    '2',
    '-subj',
    `/CN=${options.commonName ?? 'svcauth test CA'}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    caCert,
  ])
  await writeFile(join(dir, 'index.txt'), '')
  await writeFile(join(dir, 'ca.cnf'), caConfig(dir))
  const cert = await readFile(caCert, 'utf8')
  let queue: Promise<unknown> = Promise.resolve()
  let n = 0

  const issue = (
    usage: 'serverAuth' | 'clientAuth',
    leaf: CertificateOptions,
    altNames: readonly string[],
  ): Promise<TestCertificate> => {
    const task = queue.then(async () => {
      const name = `leaf-${String(n++)}`
      const key = newKey()
      const keyFile = join(dir, `${name}.key`)
      await writeFile(keyFile, key, { mode: 0o600 })
      await openssl(dir, [
        'req',
        '-new',
        '-key',
        keyFile,
        '-subj',
        `/CN=${leaf.commonName ?? 'svcauth-test'}`,
        '-out',
        join(dir, `${name}.csr`),
      ])
      const extensions = [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature',
        `extendedKeyUsage=${usage}`,
        ...(altNames.length === 0 ? [] : [`subjectAltName=${altNames.join(',')}`]),
      ]
      await writeFile(join(dir, `${name}.ext`), `${extensions.join('\n')}\n`)
      const now = Date.now()
      await openssl(dir, [
        'ca',
        '-batch',
        '-notext',
        '-config',
        join(dir, 'ca.cnf'),
        '-keyfile',
        caKey,
        '-cert',
        caCert,
        '-startdate',
        asn1Time(now - (leaf.notBefore ?? 60) * 1000),
        '-enddate',
        asn1Time(now + (leaf.notAfter ?? 86_400) * 1000),
        '-extfile',
        join(dir, `${name}.ext`),
        '-in',
        join(dir, `${name}.csr`),
        '-out',
        join(dir, `${name}.pem`),
      ])
      return certificate(await readFile(join(dir, `${name}.pem`), 'utf8'), key)
    })
    queue = task.catch(() => undefined)
    return task
  }

  return Object.freeze({
    cert,
    issueServer: (leaf: CertificateOptions & { readonly dnsNames?: readonly string[] } = {}) =>
      issue('serverAuth', leaf, [
        'IP:127.0.0.1',
        'IP:0:0:0:0:0:0:0:1',
        'DNS:localhost',
        ...(leaf.dnsNames ?? []).map((d) => `DNS:${d}`),
      ]),
    issueClient: (leaf: CertificateOptions = {}) => issue('clientAuth', leaf, []),
    close: () => rm(dir, { recursive: true, force: true }),
  })
}

/**
 * A self-signed client certificate, for `self_signed_tls_client_auth` (RFC 8705 §2.2): the client
 * registers the certificate (or its JWK set) instead of a CA vouching for it.
 */
export async function createSelfSignedCertificate(
  options: CertificateOptions = {},
): Promise<TestCertificate> {
  const dir = await mkdtemp(join(tmpdir(), 'svcauth-self-'))
  try {
    const key = newKey()
    await writeFile(join(dir, 'self.key'), key, { mode: 0o600 })
    await openssl(dir, [
      'req',
      '-x509',
      '-new',
      '-key',
      join(dir, 'self.key'),
      '-sha256',
      '-days',
      String(Math.max(1, Math.ceil((options.notAfter ?? 86_400) / 86_400))),
      '-subj',
      `/CN=${options.commonName ?? 'svcauth-test'}`,
      '-addext',
      'extendedKeyUsage=clientAuth',
      '-out',
      join(dir, 'self.pem'),
    ])
    return certificate(await readFile(join(dir, 'self.pem'), 'utf8'), key)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * A self-signed certificate (one day) for an existing private key (PKCS #8 PEM), e.g. to hand an
 * issuer's signing key to a verifier as a certificate (`keys`, issue 20).
 */
export async function certificateForKey(pkcs8: string, commonName: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'svcauth-key-'))
  try {
    await writeFile(join(dir, 'key.pem'), pkcs8, { mode: 0o600 })
    await openssl(dir, [
      'req',
      '-x509',
      '-new',
      '-key',
      join(dir, 'key.pem'),
      '-sha256',
      '-days',
      '1',
      '-subj',
      `/CN=${commonName}`,
      '-out',
      join(dir, 'cert.pem'),
    ])
    return await readFile(join(dir, 'cert.pem'), 'utf8')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * RFC 8705 §3.1 `x5t#S256` of a certificate (PEM or DER): base64url of the SHA-256 of its DER.
 *
 * @example
 * ```ts
 * certificateThumbprint(client.cert) === token.cnf['x5t#S256']
 * ```
 */
export function certificateThumbprint(cert: string | Uint8Array): string {
  const der = typeof cert === 'string' ? new X509Certificate(cert).raw : Buffer.from(cert)
  return createHash('sha256').update(der).digest('base64url')
}

function certificate(pem: string, key: string): TestCertificate {
  const der = new X509Certificate(pem).raw
  return Object.freeze({
    cert: pem,
    key,
    der,
    x5tS256: createHash('sha256').update(der).digest('base64url'),
  })
}

function newKey(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
}

async function openssl(cwd: string, args: readonly string[]): Promise<void> {
  try {
    await run('openssl', [...args], { cwd, timeout: 20_000 })
  } catch (err) {
    const code = (err as { code?: unknown }).code
    if (code === 'ENOENT') {
      throw new Error('@svcauth/testing: the TLS test kit needs the `openssl` command on PATH')
    }
    throw new Error(
      `@svcauth/testing: openssl ${args[0] ?? ''} failed: ${String((err as { stderr?: unknown }).stderr ?? err)}`,
    )
  }
}

/** `openssl ca`'s date form: YYYYMMDDHHMMSSZ (GeneralizedTime). */
function asn1Time(ms: number): string {
  return `${new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`
}

function caConfig(dir: string): string {
  return [
    '[ ca ]',
    'default_ca = test_ca',
    '[ test_ca ]',
    `database = ${join(dir, 'index.txt')}`,
    `new_certs_dir = ${dir}`,
    `serial = ${join(dir, 'serial')}`,
    'rand_serial = yes',
    'default_md = sha256',
    'policy = any_name',
    'unique_subject = no',
    'copy_extensions = none',
    '[ any_name ]',
    'commonName = supplied',
    '',
  ].join('\n')
}
