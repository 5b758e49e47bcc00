/**
 * The `tls` option and the mutual-TLS auth methods checked at construction (issue 19, item 2;
 * RFC 8705 §2): every mistake is a TypeError naming the option (and the file, when there is one),
 * never quoting key material, and never a failure at the first call.
 */
import { generateKeyPairSync } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createServiceClient,
  requestToken,
  type ClientTlsOptions,
  type ServiceClientOptions,
} from '@svcauth/client'
import { createTestCa, type TestCa, type TestCertificate } from '@svcauth/testing'
import { Agent } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { typeError } from '../support/type-error.js'

let ca: TestCa
let bss: TestCertificate
let other: TestCertificate
let dir: string

beforeAll(async () => {
  ca = await createTestCa()
  bss = await ca.issueClient({ commonName: 'bss' })
  other = await ca.issueClient({ commonName: 'other' })
  dir = await mkdtemp(join(tmpdir(), 'svcauth-mtls-options-'))
  await writeFile(join(dir, 'bss.crt'), bss.cert)
  await writeFile(join(dir, 'bss.key'), bss.key)
  await writeFile(join(dir, 'other.key'), other.key)
})
afterAll(async () => {
  await ca.close()
  await rm(dir, { recursive: true, force: true })
})

const SMD = 'https://smd.example:8443'

function base(tls?: ClientTlsOptions): ServiceClientOptions {
  return {
    tokenEndpoint: 'https://hydra.example/oauth2/token',
    clientId: 'bss',
    authMethod: 'tls_client_auth',
    targets: { [SMD]: { audience: 'smd' } },
    ...(tls === undefined ? {} : { tls }),
  }
}

/** The TypeError `options` make, checked to quote no key. */
function rejects(options: ServiceClientOptions, message: RegExp): void {
  let thrown: unknown
  try {
    const svc = createServiceClient(options)
    void svc.close()
  } catch (err) {
    thrown = err
  }
  expect(thrown).toEqual(typeError(message))
  const text = (thrown as Error).message
  expect(text).not.toContain('PRIVATE KEY')
  for (const key of [bss.key, other.key]) {
    for (const line of key.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))) {
      expect(text).not.toContain(line)
    }
  }
}

describe('the tls option', () => {
  it('accepts PEM strings, Buffers and files, and a CA alone', () => {
    const good: ClientTlsOptions[] = [
      { cert: bss.cert, key: bss.key },
      {
        cert: Buffer.from(bss.cert),
        key: Buffer.from(bss.key),
        ca: [ca.cert, Buffer.from(ca.cert)],
      },
      { certFile: join(dir, 'bss.crt'), keyFile: join(dir, 'bss.key'), ca: ca.cert },
    ]
    for (const tls of good) void createServiceClient(base(tls)).close()
    void createServiceClient({
      ...base({ ca: ca.cert }),
      authMethod: 'client_secret_basic',
      clientSecret: 's',
    }).close()
  })

  it('refuses a key that is not the certificate’s, inline or in files', () => {
    rejects(
      base({ cert: bss.cert, key: other.key }),
      /^svcauth client: tls\.key does not match tls\.cert$/,
    )
    rejects(
      base({ certFile: join(dir, 'bss.crt'), keyFile: join(dir, 'other.key') }),
      /tls\.keyFile \(.*other\.key\) does not match tls\.certFile \(.*bss\.crt\)/,
    )
    rejects(
      {
        ...base({ cert: bss.cert, key: bss.key }),
        targets: { [SMD]: { tls: { cert: bss.cert, key: other.key } } },
      },
      /target https:\/\/smd\.example:8443 tls\.key does not match/,
    )
  })

  it('refuses unreadable files, naming the file', () => {
    rejects(
      base({ certFile: join(dir, 'missing.crt'), keyFile: join(dir, 'bss.key') }),
      /tls\.certFile \(.*missing\.crt\) cannot be read \(ENOENT\)/,
    )
    rejects(
      base({ certFile: join(dir, 'bss.crt'), keyFile: join(dir, 'bss.key'), caFile: dir }),
      /tls\.caFile \(.*\) cannot be read \(EISDIR\)/,
    )
  })

  it('refuses what is not PEM: a certificate, an encrypted or foreign key, a CA', () => {
    const encrypted = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'p' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    }).privateKey
    rejects(base({ cert: 'not a certificate', key: bss.key }), /tls\.cert is not a PEM certificate/)
    rejects(
      base({ cert: bss.cert, key: encrypted }),
      /tls\.key is not an unencrypted PEM private key/,
    )
    rejects(
      base({ cert: bss.cert, key: bss.key, ca: 'no CA here' }),
      /tls\.ca holds no PEM certificate/,
    )
    rejects(
      base({
        cert: bss.cert,
        key: bss.key,
        ca: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      }),
      /tls\.ca holds a PEM block that is not a certificate/,
    )
  })

  it('refuses incomplete, doubled, unknown or empty parts', () => {
    const cases: [unknown, RegExp][] = [
      [{ cert: bss.cert }, /give cert and key together/],
      [{ key: bss.key }, /give cert and key together/],
      [{ certFile: join(dir, 'bss.crt') }, /give certFile and keyFile together/],
      [
        { cert: bss.cert, key: bss.key, certFile: join(dir, 'bss.crt') },
        /give cert or certFile, not both/,
      ],
      [{ cert: bss.cert, key: bss.key, passphrase: 'p' }, /tls\.passphrase is not a tls option/],
      [{}, /tls must give cert and key, certFile and keyFile, or a CA/],
      ['/etc/ssl/bss.crt', /tls must be an object/],
      [{ cert: '', key: bss.key }, /tls\.cert must be PEM text/],
    ]
    for (const [tls, message] of cases) rejects(base(tls as ClientTlsOptions), message)
  })
})

describe('the mutual-TLS auth methods and the dispatchers', () => {
  it('tls_client_auth and self_signed_tls_client_auth need a certificate, and refuse a secret', () => {
    for (const authMethod of ['tls_client_auth', 'self_signed_tls_client_auth'] as const) {
      rejects({ ...base(), authMethod }, new RegExp(`${authMethod} needs tls with cert and key`))
      rejects({ ...base({ ca: ca.cert }), authMethod }, /needs tls with cert and key/)
      rejects(
        { ...base({ cert: bss.cert, key: bss.key }), authMethod, clientSecret: 's' },
        /clientSecret is not used with/,
      )
    }
  })

  it('a target’s tls needs https; false is allowed anywhere', () => {
    rejects(
      {
        ...base({ cert: bss.cert, key: bss.key }),
        targets: { 'http://smd:27779': { tls: { ca: ca.cert } } },
      },
      /target http:\/\/smd:27779: tls needs an https target/,
    )
    void createServiceClient({
      ...base({ cert: bss.cert, key: bss.key }),
      targets: { 'http://smd:27779': { tls: false }, [SMD]: { tls: false } },
    }).close()
  })

  it('tls is refused beside a dispatcher of the caller’s, and beside tokenDispatcher', () => {
    const tls = { cert: bss.cert, key: bss.key }
    rejects({ ...base(tls), dispatcher: new Agent() }, /dispatcher cannot be combined with tls/)
    rejects(
      {
        ...base(),
        authMethod: 'client_secret_basic',
        clientSecret: 's',
        dispatcher: new Agent(),
        targets: { [SMD]: { tls } },
      },
      /dispatcher cannot be combined with tls/,
    )
    rejects(
      { ...base(tls), tokenDispatcher: new Agent() },
      /tokenDispatcher cannot be combined with tls/,
    )
  })

  it('requestToken says it does not present a certificate', async () => {
    await expect(
      requestToken({
        tokenEndpoint: 'https://hydra.example/oauth2/token',
        clientId: 'bss',
        authMethod: 'tls_client_auth',
      }),
    ).rejects.toEqual(typeError(/requestToken does not present a TLS client certificate/))
  })
})
