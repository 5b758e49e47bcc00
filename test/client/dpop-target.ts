/**
 * A DPoP resource server on loopback for the outbound tests (RFC 9449 §7, §9): every request
 * presented with `Authorization: DPoP` has its one `DPoP` proof checked by the core's
 * `verifyDpopProof` (htm, htu, ath, the token's `cnf.jkt`, replay), and optionally the server's
 * nonce; refusals answer 401 with a DPoP challenge, as the RFC says. A Bearer request is recorded
 * and answered 200 (a target that also takes plain Bearer tokens). Each request is recorded with
 * its decoded proof, so tests can look at what the client sent.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createServiceClient, type ServiceClient, type ServiceClientOptions } from '@svcauth/client'
import { DPOP_ALGORITHMS, MemoryReplayStore, verifyDpopProof } from '@svcauth/core'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import { afterEach, beforeEach } from 'vitest'
import {
  decodeJwt,
  decodeProtectedHeader,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from 'jose'

export interface TargetRequest {
  readonly method: string
  readonly path: string
  readonly authorization: string | undefined
  /** Every `DPoP` header field the request carried. */
  readonly proofs: string[]
  readonly header: ProtectedHeaderParameters | undefined
  readonly claims: JWTPayload | undefined
  readonly body: string
  /** What the target answered. */
  status: number
  /** Why it refused the proof, when it did. */
  refusal?: string
}

export interface DpopTarget {
  readonly origin: string
  readonly seen: TargetRequest[]
  /**
   * The nonce proofs must carry (RFC 9449 §9); undefined: none. A proof without it gets
   * 401 `use_dpop_nonce` with this nonce in `DPoP-Nonce`.
   */
  nonce: string | undefined
  /** A nonce to send with every answer, a success included (RFC 9449 §8.2). */
  nextNonce: string | undefined
  /**
   * Runs after a valid proof: return an answer to send instead of the default 200 (e.g. a 401
   * `invalid_token` for a revoked token).
   */
  respond:
    | ((
        req: TargetRequest,
        n: number,
      ) => { status: number; headers?: Record<string, string> } | undefined)
    | undefined
  close(): Promise<void>
}

export async function startDpopTarget(): Promise<DpopTarget> {
  const replay = new MemoryReplayStore()
  const seen: TargetRequest[] = []
  const state: DpopTarget = {
    origin: '',
    seen,
    nonce: undefined,
    nextNonce: undefined,
    respond: undefined,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => {
          resolve()
        })
      }),
  }
  const answer = (
    res: ServerResponse,
    entry: TargetRequest,
    status: number,
    headers: Record<string, string> = {},
  ): void => {
    entry.status = status
    const nonce = state.nextNonce === undefined ? {} : { 'dpop-nonce': state.nextNonce }
    res.writeHead(status, { 'content-type': 'application/json', ...nonce, ...headers })
    res.end(JSON.stringify({ status, body: entry.body }))
  }

  const handle = async (req: IncomingMessage, res: ServerResponse, body: string): Promise<void> => {
    const proofs = req.rawHeaders.filter(
      (_, i) => i % 2 === 1 && req.rawHeaders[i - 1]?.toLowerCase() === 'dpop',
    )
    const proof = proofs[0]
    let header: ProtectedHeaderParameters | undefined
    let claims: JWTPayload | undefined
    try {
      header = proof === undefined ? undefined : decodeProtectedHeader(proof)
      claims = proof === undefined ? undefined : decodeJwt(proof)
    } catch {
      header = undefined
    }
    const entry: TargetRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      authorization: req.headers.authorization,
      proofs,
      header,
      claims,
      body,
      status: 0,
    }
    seen.push(entry)
    const authorization = req.headers.authorization ?? ''
    if (!/^dpop /i.test(authorization)) {
      answer(res, entry, 200)
      return
    }
    const token = authorization.slice(5)
    const refuse = (error: string, extra: Record<string, string> = {}): void => {
      answer(res, entry, 401, {
        'www-authenticate': `Bearer realm="target", DPoP error="${error}", algs="${DPOP_ALGORITHMS.join(' ')}"`,
        ...extra,
      })
    }
    if (proofs.length !== 1 || proof === undefined) {
      entry.refusal = 'proof_count'
      refuse('invalid_dpop_proof')
      return
    }
    let jkt: string | undefined
    try {
      const cnf = decodeJwt(token).cnf as { jkt?: string } | undefined
      jkt = cnf?.jkt
    } catch {
      jkt = undefined
    }
    if (jkt === undefined) {
      entry.refusal = 'token_not_bound'
      refuse('invalid_token')
      return
    }
    const required = state.nonce
    try {
      await verifyDpopProof(
        {
          proof,
          method: entry.method,
          url: `${state.origin}${entry.path}`,
          accessToken: token,
          jkt,
          nonce: required === undefined ? undefined : (value) => value === required,
        },
        { algorithms: DPOP_ALGORITHMS, maxAge: 60, clockTolerance: 5, replay },
      )
    } catch (err) {
      const { code, reason } = err as { code: string; reason: string }
      entry.refusal = reason
      if (code === 'use_dpop_nonce' && required !== undefined) {
        refuse('use_dpop_nonce', { 'dpop-nonce': required })
      } else {
        refuse('invalid_dpop_proof')
      }
      return
    }
    const custom = state.respond?.(entry, seen.length)
    if (custom !== undefined) {
      answer(res, entry, custom.status, custom.headers)
      return
    }
    answer(res, entry, 200)
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      void handle(req, res, Buffer.concat(chunks).toString('utf8'))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  Object.assign(state, { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })
  return state
}

/** What every DPoP client test starts from. */
export interface DpopSetup {
  /** The test issuer, with the client `bss` (secret `s3cret`). */
  readonly issuer: TestIssuer
  /** A target that checks every proof. */
  readonly target: DpopTarget
  /** A service client `bss` of the issuer for the target (`smd.read`, audience `smd`), plus `options`. */
  client(options?: Partial<ServiceClientOptions>): ServiceClient
}

/**
 * Registers, for each test of the file, a fresh issuer and target, and closes them and every
 * client made through `client()` afterwards.
 */
export function useDpopSetup(): DpopSetup {
  let issuer: TestIssuer | undefined
  let target: DpopTarget | undefined
  const clients: ServiceClient[] = []
  beforeEach(async () => {
    issuer = await createTestIssuer({ keyCount: 1 })
    issuer.addClient({ clientId: 'bss', secrets: ['s3cret'] })
    target = await startDpopTarget()
  })
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()))
    await Promise.all([target?.close(), issuer?.close()])
  })
  const setup: DpopSetup = {
    get issuer(): TestIssuer {
      if (issuer === undefined) throw new Error('useDpopSetup: read inside a test')
      return issuer
    },
    get target(): DpopTarget {
      if (target === undefined) throw new Error('useDpopSetup: read inside a test')
      return target
    },
    client(options = {}): ServiceClient {
      const svc = createServiceClient({
        tokenEndpoint: setup.issuer.tokenEndpoint,
        clientId: 'bss',
        clientSecret: 's3cret',
        targets: { [setup.target.origin]: { scope: 'smd.read', audience: 'smd' } },
        ...options,
      })
      clients.push(svc)
      return svc
    },
  }
  return setup
}
