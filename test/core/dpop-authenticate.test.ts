/**
 * DPoP in the core authenticator (RFC 9449 §7, issue 18): the options, the `cnf` rules, the URI a
 * proof must name (`origin` or `publicOrigin`), rotating server nonces, the replay store as
 * infrastructure, and what the adapters' conformance table cannot see (the `DPoP-Nonce` header on
 * a successful response, the Principal's `confirmation`).
 */
import {
  createAuthenticator,
  isAuthError,
  type Authenticator,
  type RequestLike,
} from '@svcauth/core'
import { createDpopKey, createTestIssuer, type DpopKey, type TestIssuer } from '@svcauth/testing'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { DpopNonces } from '../../packages/core/src/dpop-nonce.js'
import { captureLogs } from '../support/log-capture.js'

let issuer: TestIssuer
let key: DpopKey
const ORIGIN = 'https://smd.example'
const open: Authenticator[] = []

beforeAll(async () => {
  ;[issuer, key] = await Promise.all([createTestIssuer(), createDpopKey()])
})
afterAll(async () => {
  for (const a of open) a.close()
  await issuer.close()
})

function authenticator(extra: Record<string, unknown> = {}): Authenticator {
  const auth = createAuthenticator({
    issuer: issuer.issuer,
    audience: 'smd',
    jwksUri: issuer.jwksUri,
    dpop: true,
    ...extra,
  })
  open.push(auth)
  return auth
}

const bound = (scope = ['smd.read']): Promise<string> =>
  issuer.mintClientToken({ clientId: 'bss', scope, audience: ['smd'], dpop: key })

/** A request as an adapter would describe it: the DPoP scheme and one proof. */
async function request(
  token: string,
  over: { url?: string; origin?: string; method?: string; nonce?: string; proofUrl?: string } = {},
): Promise<RequestLike> {
  const url = over.url ?? '/hsm/v2/State/Components?type=Node'
  const origin = over.origin ?? ORIGIN
  const proof = await key.proof({
    method: 'GET',
    url: over.proofUrl ?? `${origin}${url}`,
    accessToken: token,
    ...(over.nonce === undefined ? {} : { nonce: over.nonce }),
  })
  return {
    headers: { authorization: `DPoP ${token}`, dpop: proof },
    rawHeaders: ['Authorization', `DPoP ${token}`, 'DPoP', proof],
    url,
    method: over.method ?? 'GET',
    origin,
  }
}

async function refusal(promise: Promise<unknown>) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!isAuthError(err)) throw new Error(`expected an AuthError, got ${String(err)}`)
  return err
}

describe('options', () => {
  it.each([
    ['dpop: a string', { dpop: 'yes' }, /dpop must be/],
    ['dpop.required not boolean', { dpop: { required: 'true' } }, /dpop.required/],
    ['dpop.algorithms empty', { dpop: { algorithms: [] } }, /dpop.algorithms/],
    ['dpop.algorithms with HS256', { dpop: { algorithms: ['HS256'] } }, /HS256/],
    ['dpop.algorithms with none', { dpop: { algorithms: ['none'] } }, /none/],
    ['dpop.proofMaxAge 0', { dpop: { proofMaxAge: 0 } }, /proofMaxAge/],
    ['dpop.proofMaxAge NaN', { dpop: { proofMaxAge: Number.NaN } }, /proofMaxAge/],
    ['dpop.nonce a number', { dpop: { nonce: 1 } }, /dpop.nonce/],
    ['dpop.nonce.secret short', { dpop: { nonce: { secret: 'short' } } }, /secret/],
    ['dpop.nonce.lifetime 1', { dpop: { nonce: { lifetime: 1 } } }, /lifetime/],
    ['dpop.replay without addIfAbsent', { dpop: { replay: {} } }, /replay/],
    ['publicOrigin not a URL', { publicOrigin: 'smd.example' }, /publicOrigin/],
    ['publicOrigin ftp', { publicOrigin: 'ftp://smd.example' }, /publicOrigin/],
    ['publicOrigin with a query', { publicOrigin: 'https://smd.example/?a=1' }, /publicOrigin/],
    ['publicOrigin with credentials', { publicOrigin: 'https://u:p@smd.example' }, /publicOrigin/],
  ])('%s is a TypeError at construction', (_name, extra, message) => {
    expect(() => authenticator(extra)).toThrow(TypeError)
    expect(() => authenticator(extra)).toThrow(message)
  })
})

describe('the confirmation claim', () => {
  it('a bound token’s Principal carries the key thumbprint as confirmation', async () => {
    const auth = authenticator()
    const principal = await auth.authenticate(await request(await bound()))
    expect(principal?.confirmation).toEqual({ jkt: key.jkt })
    expect(Object.isFrozen(principal?.confirmation)).toBe(true)
  })

  it('a plain Bearer token has no confirmation', async () => {
    const auth = authenticator()
    const token = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    const principal = await auth.authenticate({ headers: { authorization: `Bearer ${token}` } })
    expect(principal?.confirmation).toBeUndefined()
  })

  it.each([
    [
      'an mTLS thumbprint',
      { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' },
      'sender_constrained',
    ],
    [
      'jkt beside another method',
      { jkt: 'A'.repeat(43), 'x5t#S256': 'B'.repeat(43) },
      'sender_constrained',
    ],
    ['a jkt that is a number', { jkt: 42 }, 'claim_type_invalid'],
    ['a jkt that is not a SHA-256 thumbprint', { jkt: 'abc' }, 'claim_type_invalid'],
    ['cnf that is a string', 'jkt', 'claim_type_invalid'],
  ])('cnf with %s is refused even where DPoP is on', async (_name, cnf, reason) => {
    const auth = authenticator()
    const token = await issuer.mintClientToken({
      clientId: 'bss',
      audience: ['smd'],
      claims: { cnf },
    })
    expect((await refusal(auth.verify(token))).reason).toBe(reason)
  })

  it('without dpop, a bound token is refused under either scheme', async () => {
    const auth = authenticator({ dpop: false })
    const token = await bound()
    expect((await refusal(auth.verify(token))).reason).toBe('sender_constrained')
    expect((await refusal(auth.authenticate(await request(token)))).reason).toBe('missing_token')
  })

  it('a bound token that was cached as a DPoP request is not let through the Bearer fast path', async () => {
    const auth = authenticator()
    const token = await bound()
    await auth.authenticate(await request(token))
    const asBearer = { headers: { authorization: `Bearer ${token}` } }
    expect(auth.authenticateCached(asBearer)).toBeUndefined()
    expect((await refusal(auth.authenticate(asBearer))).reason).toBe('sender_constrained')
  })
})

describe('the URI a proof names', () => {
  it('is the request origin plus its path, without the query', async () => {
    const auth = authenticator()
    const token = await bound()
    await expect(auth.authenticate(await request(token))).resolves.toBeDefined()
    const elsewhere = await request(token, {
      proofUrl: 'https://gateway.example/hsm/v2/State/Components',
    })
    expect((await refusal(auth.authenticate(elsewhere))).reason).toBe('dpop_htu_mismatch')
  })

  it('is publicOrigin plus the path when configured, whatever Host the request came with', async () => {
    const auth = authenticator({ publicOrigin: 'https://api.example/smd/' })
    const token = await bound()
    const viaGateway = await request(token, {
      origin: 'http://10.0.0.7:27779',
      proofUrl: 'https://api.example/smd/hsm/v2/State/Components',
    })
    await expect(auth.authenticate(viaGateway)).resolves.toBeDefined()
    // A proof for the address the request reached the process by is not one for the service.
    const direct = await request(token, { origin: 'http://10.0.0.7:27779' })
    expect((await refusal(auth.authenticate(direct))).reason).toBe('dpop_htu_mismatch')
  })

  it.each([
    ['a Host with a path', 'https://smd.example/evil'],
    ['a Host with userinfo', 'https://user@smd.example'],
    ['a Host with a space', 'https://smd example'],
    ['a port out of range', 'https://smd.example:70000'],
    ['no scheme', 'smd.example'],
  ])('%s is refused as an invalid request URI (400), never parsed', async (_name, origin) => {
    const auth = authenticator()
    const proofUrl = 'https://smd.example/hsm/v2/State/Components'
    const err = await refusal(auth.authenticate(await request(await bound(), { origin, proofUrl })))
    expect(err.reason).toBe('request_uri_invalid')
    expect(err.status).toBe(400)
  })

  it('an absolute-form request target is refused, not glued to the origin', async () => {
    const auth = authenticator()
    const token = await bound()
    const req = { ...(await request(token)), url: 'https://other.example/hsm/v2' }
    expect((await refusal(auth.authenticate(req))).reason).toBe('request_uri_invalid')
  })
})

describe('server nonces', () => {
  const SECRET = 'a-nonce-secret-of-at-least-32-bytes!!'

  it('are refused without a nonce, with a fresh one in DPoP-Nonce; accepted with it', async () => {
    const auth = authenticator({ dpop: { nonce: { secret: SECRET } } })
    const token = await bound()
    const err = await refusal(auth.authenticate(await request(token)))
    expect(err).toMatchObject({ code: 'use_dpop_nonce', status: 401 })
    const nonce = err.headers['DPoP-Nonce']
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{32}$/)
    expect(err.headers['WWW-Authenticate']).toMatch(
      /^Bearer realm="api", DPoP error="use_dpop_nonce"/,
    )
    const headers: Record<string, string> = {}
    const response = { setHeader: (name: string, value: string) => (headers[name] = value) }
    await expect(
      auth.authenticate(await request(token, { nonce: nonce as string }), response),
    ).resolves.toBeDefined()
    // Still the current nonce: nothing new to hand out.
    expect(headers).toEqual({})
  })

  it('a nonce from the previous window is accepted, and the success hands out the new one', async () => {
    const auth = authenticator({ dpop: { nonce: { secret: SECRET, lifetime: 10 } } })
    const token = await bound()
    const nonce = (await refusal(auth.authenticate(await request(token)))).headers['DPoP-Nonce']
    // Just into the next 10-second window: the nonce is the previous window's, still accepted.
    vi.useFakeTimers({
      toFake: ['Date'],
      now: (Math.floor(Date.now() / 10_000) + 1) * 10_000 + 500,
    })
    try {
      const headers: Record<string, string> = {}
      const response = { setHeader: (name: string, value: string) => (headers[name] = value) }
      await expect(
        auth.authenticate(await request(token, { nonce: nonce as string }), response),
      ).resolves.toBeDefined()
      expect(headers['DPoP-Nonce']).toMatch(/^[A-Za-z0-9_-]{32}$/)
      expect(headers['DPoP-Nonce']).not.toBe(nonce)
      // The one handed out is then current: accepted, and nothing newer to hand out.
      const again: Record<string, string> = {}
      const next = { setHeader: (name: string, value: string) => (again[name] = value) }
      await expect(
        auth.authenticate(await request(token, { nonce: headers['DPoP-Nonce'] as string }), next),
      ).resolves.toBeDefined()
      expect(again).toEqual({})
    } finally {
      vi.useRealTimers()
    }
  })

  it('a replica with the same secret accepts the nonce another handed out', async () => {
    const a = authenticator({ dpop: { nonce: { secret: SECRET } } })
    const b = authenticator({ dpop: { nonce: { secret: SECRET } } })
    const c = authenticator({ dpop: { nonce: { secret: `${SECRET}-other` } } })
    const token = await bound()
    const nonce = (await refusal(a.authenticate(await request(token)))).headers[
      'DPoP-Nonce'
    ] as string
    await expect(b.authenticate(await request(token, { nonce }))).resolves.toBeDefined()
    expect((await refusal(c.authenticate(await request(token, { nonce })))).reason).toBe(
      'dpop_nonce_required',
    )
  })

  it('rotate: a nonce holds for its window and the next, and is then refused', () => {
    const nonces = new DpopNonces(Buffer.alloc(32, 7), 60)
    const t0 = 1_800_000_000_000
    const first = nonces.current(t0)
    expect(nonces.accepts(first, t0 + 59_000)).toBe(true)
    expect(nonces.stale(first, t0 + 59_000)).toBe(false)
    const second = nonces.current(t0 + 61_000)
    expect(second).not.toBe(first)
    expect(nonces.accepts(first, t0 + 61_000)).toBe(true)
    expect(nonces.stale(first, t0 + 61_000)).toBe(true)
    expect(nonces.accepts(first, t0 + 121_000)).toBe(false)
    expect(nonces.accepts(second, t0 + 121_000)).toBe(true)
    // Only the MAC makes a nonce: the same window number with another MAC is refused.
    const forged = `${first.slice(0, 11)}${'A'.repeat(21)}`
    expect(nonces.accepts(forged, t0)).toBe(false)
    expect(nonces.accepts('short', t0)).toBe(false)
  })
})

describe('the replay store', () => {
  it('a store that fails is a 503 and an error log line, never an accepted proof', async () => {
    const logs = captureLogs()
    const auth = authenticator({
      logger: pino({}, logs.stream),
      dpop: {
        replay: {
          addIfAbsent: () => Promise.reject(new Error('connection refused')),
        },
      },
    })
    const token = await bound()
    const err = await refusal(auth.authenticate(await request(token)))
    expect(err).toMatchObject({ reason: 'dpop_replay_unavailable', status: 503 })
    expect(err.headers['Retry-After']).toBeDefined()
    const text = logs.raw.join('')
    expect(text).toContain('dpop_replay_failed')
    expect(text).toContain('connection refused')
    expect(text).not.toContain(token)
  })

  it('is given the key thumbprint and jti, held until the proof could no longer be accepted', async () => {
    const seen: [string, number][] = []
    const auth = authenticator({
      dpop: {
        proofMaxAge: 60,
        replay: {
          addIfAbsent: (k: string, expiresAt: number) => {
            seen.push([k, expiresAt])
            return true
          },
        },
      },
      clockTolerance: 5,
    })
    const before = Math.floor(Date.now() / 1000)
    await auth.authenticate(await request(await bound()))
    expect(seen).toHaveLength(1)
    const [k, expiresAt] = seen[0] as [string, number]
    expect(k.startsWith(`${key.jkt}:`)).toBe(true)
    expect(expiresAt / 1000).toBeGreaterThanOrEqual(before + 65)
    expect(expiresAt / 1000).toBeLessThanOrEqual(before + 66)
  })
})
