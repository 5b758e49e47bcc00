/**
 * The outbound mutual-TLS tests' world (RFC 8705): a test CA, the test issuer over TLS, client
 * certificates written to files (as step-ca leaves them) that tests can rewrite, and HTTPS targets
 * on loopback that ask for a client certificate and check a certificate-bound token the way a
 * resource server does (§3: `cnf["x5t#S256"]` of the token against the connection's certificate;
 * a mismatch is a 401 `invalid_token`). Each target request is recorded with the certificate its
 * connection presented. The targets do not depend on svcauth's own inbound half.
 */
import { randomUUID } from 'node:crypto'
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TLSSocket } from 'node:tls'
import {
  certificateThumbprint,
  createTestCa,
  createTestIssuer,
  type TestCa,
  type TestCertificate,
  type TestIssuer,
} from '@svcauth/testing'
import { decodeJwt } from 'jose'
import pino from 'pino'
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest'
import { captureLogs, type LogCapture } from '../support/log-capture.js'

export interface TargetRequest {
  readonly path: string
  readonly authorization: string | undefined
  /** `x5t#S256` of the client certificate the connection presented; undefined: none. */
  readonly presented: string | undefined
  /** The token's `cnf["x5t#S256"]`, when it is a JWT bound to a certificate. */
  readonly bound: string | undefined
  readonly body: string
  readonly status: number
}

export interface MtlsTarget {
  readonly origin: string
  readonly seen: TargetRequest[]
  close(): Promise<void>
}

/** An HTTPS target with `server`'s certificate, asking for (not requiring) a client certificate. */
export async function startMtlsTarget(ca: TestCa, server: TestCertificate): Promise<MtlsTarget> {
  const seen: TargetRequest[] = []
  const https: Server = createServer(
    {
      cert: server.cert,
      key: server.key,
      ca: ca.cert,
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const socket = req.socket
        const peer = socket instanceof TLSSocket ? socket.getPeerCertificate() : undefined
        const presented =
          peer !== undefined && 'raw' in peer && Buffer.isBuffer(peer.raw)
            ? certificateThumbprint(peer.raw)
            : undefined
        const authorization = req.headers.authorization
        const bound = boundTo(authorization)
        // RFC 8705 §3: a bound token is good only over a connection presenting its certificate.
        const status = bound !== undefined && bound !== presented ? 401 : 200
        seen.push({
          path: req.url ?? '/',
          authorization,
          presented,
          bound,
          body: Buffer.concat(chunks).toString('utf8'),
          status,
        })
        res.writeHead(status, {
          'content-type': 'application/json',
          ...(status === 401 ? { 'www-authenticate': 'Bearer error="invalid_token"' } : {}),
        })
        res.end(JSON.stringify({ presented: presented ?? null }))
      })
    },
  )
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve))
  return {
    origin: `https://127.0.0.1:${String((https.address() as AddressInfo).port)}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        https.closeAllConnections()
        https.close(() => {
          resolve()
        })
      }),
  }
}

function boundTo(authorization: string | undefined): string | undefined {
  const token = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1]
  if (token === undefined) return undefined
  try {
    const cnf = decodeJwt(token).cnf as Record<string, unknown> | undefined
    const x5t = cnf?.['x5t#S256']
    return typeof x5t === 'string' ? x5t : undefined
  } catch {
    return undefined
  }
}

/** Client certificate files in a directory of their own, as a renewal daemon keeps them. */
export interface CertificateFiles {
  readonly certFile: string
  readonly keyFile: string
  readonly caFile: string
  /** Replaces the certificate and key, each by an atomic rename, the certificate first. */
  write(cert: Pick<TestCertificate, 'cert' | 'key'>): Promise<void>
}

/** The per-file world: CA, server certificate, client certificates, issuer, logs, clean-up. */
export interface MtlsWorld {
  ca: TestCa
  serverCert: TestCertificate
  /** A client certificate from the CA with subject `CN=bss`. */
  bss: TestCertificate
  issuer: TestIssuer
  logs: LogCapture
  logger: pino.Logger
  /** Files holding `bss`, its key and the CA, in a fresh directory per test. */
  files: CertificateFiles
  /** Runs at the end of the test (clients, targets). */
  defer(close: () => Promise<void>): void
  target(): Promise<MtlsTarget>
}

/**
 * Registers the hooks for a test file: one CA for the file; per test, an issuer over TLS with the
 * clients `bss` (tls_client_auth, CN=bss) and `bss-secret` (client_secret_basic), and the files.
 */
export function useMtlsWorld(): MtlsWorld {
  const closers: (() => Promise<void>)[] = []
  const dirs: string[] = []
  const world = {
    defer(close: () => Promise<void>) {
      closers.push(close)
    },
    async target() {
      const t = await startMtlsTarget(world.ca, world.serverCert)
      closers.push(() => t.close())
      return t
    },
  } as MtlsWorld
  beforeAll(async () => {
    world.ca = await createTestCa()
    world.serverCert = await world.ca.issueServer()
    world.bss = await world.ca.issueClient({ commonName: 'bss' })
  })
  afterAll(async () => {
    await world.ca.close()
  })
  beforeEach(async () => {
    world.logs = captureLogs()
    world.logger = pino({ level: 'info' }, world.logs.stream)
    world.issuer = await createTestIssuer({
      tls: { ca: world.ca, server: world.serverCert },
      keyCount: 1,
    })
    world.issuer.addClient({
      clientId: 'bss',
      authMethod: 'tls_client_auth',
      tlsClientAuthSubjectDn: 'CN=bss',
    })
    world.issuer.addClient({ clientId: 'bss-secret', secrets: ['s3cret'] })
    const dir = await mkdtemp(join(tmpdir(), 'svcauth-mtls-'))
    dirs.push(dir)
    const files: CertificateFiles = {
      certFile: join(dir, 'bss.crt'),
      keyFile: join(dir, 'bss.key'),
      caFile: join(dir, 'ca.crt'),
      async write(cert) {
        // As a renewal daemon does: a temporary file renamed over the old one.
        for (const [file, text] of [
          [files.certFile, cert.cert],
          [files.keyFile, cert.key],
        ] as const) {
          const tmp = join(dir, `.${randomUUID()}.tmp`)
          await writeFile(tmp, text, { mode: 0o600 })
          await rename(tmp, file)
        }
      },
    }
    await files.write(world.bss)
    await writeFile(files.caFile, world.ca.cert)
    world.files = files
  })
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((c) => c()))
    await world.issuer.close()
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
  })
  return world
}
