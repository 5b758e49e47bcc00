/**
 * Instant revocation for JWTs (issue 20, item 3): `introspection.jwt` asks the issuer's RFC 7662
 * endpoint about its JWTs after local verification, against the test kit's real loopback issuer,
 * whose Hydra-shaped endpoint answers for the issuer's own JWTs and sees `revokeToken()`. Calls
 * are counted at the endpoint, per token. Time is moved with a faked `Date` only (the code reads
 * `Date.now()`); sockets and timers stay real.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import {
  CHANNELS,
  createAuthenticator,
  isAuthError,
  type Authenticator,
  type AuthenticatorOptions,
  type IntrospectionEvent,
  type IntrospectionOptions,
  type RequestLike,
} from '@svcauth/core'
import { createDpopKey, createTestIssuer, type DpopKey, type TestIssuer } from '@svcauth/testing'
import pino from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { captureLogs } from '../support/log-capture.js'
import { typeError } from '../support/type-error.js'

let issuer: TestIssuer
let other: TestIssuer
let key: DpopKey
const open: Authenticator[] = []

beforeAll(async () => {
  ;[issuer, other, key] = await Promise.all([
    createTestIssuer({ keyCount: 1 }),
    createTestIssuer({ keyCount: 1 }),
    createDpopKey(),
  ])
})
afterAll(async () => {
  await Promise.all([issuer.close(), other.close()])
})
afterEach(() => {
  vi.useRealTimers()
  for (const a of open.splice(0)) a.close()
  issuer.setIntrospectionMode('ok')
})

/** An authenticator for the issuer, its introspection covering JWTs as `jwt` says. */
function auth(
  jwt: IntrospectionOptions['jwt'],
  introspection: IntrospectionOptions = {},
  extra: Partial<AuthenticatorOptions> = {},
): Authenticator {
  const a = createAuthenticator({
    issuer: issuer.issuer,
    audience: 'smd',
    jwksUri: issuer.jwksUri,
    introspection: {
      endpoint: issuer.introspectionEndpoint,
      ...(jwt === undefined ? {} : { jwt }),
      ...introspection,
    },
    ...extra,
  })
  open.push(a)
  return a
}

const jwt = (over: { ttl?: number; sub?: string; scope?: string[] } = {}): Promise<string> =>
  over.sub === undefined
    ? issuer.mintClientToken({
        clientId: 'bss',
        scope: over.scope ?? ['smd.read'],
        audience: ['smd'],
        ...over,
      })
    : issuer.mintUserToken({
        clientId: 'ochami-cli',
        scope: over.scope ?? ['smd.read'],
        audience: ['smd'],
        ...over,
        sub: over.sub,
      })

/** How many times the endpoint was asked about `token`. */
const calls = (token: string): number =>
  issuer.introspectionRequests.filter((r) => r.form.token === token).length

const bearer = (token: string): RequestLike => ({
  headers: { authorization: `Bearer ${token}` },
  rawHeaders: ['Authorization', `Bearer ${token}`],
})

async function refusal(promise: Promise<unknown>) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!isAuthError(err)) throw new Error(`expected an AuthError, got ${String(err)}`)
  return err
}

/** Moves the faked clock on by `seconds`. */
const later = (seconds: number): void => {
  vi.setSystemTime(Date.now() + seconds * 1000)
}

describe('introspection.jwt: options', () => {
  it("accepts 'always' and { maxAge } (0 < maxAge ≤ 86400)", () => {
    for (const value of ['always', { maxAge: 60 }, { maxAge: 0.5 }, { maxAge: 86_400 }] as const) {
      expect(auth(value).options.issuers[0]?.introspection?.jwt).toEqual(value)
    }
    expect(auth(undefined).options.issuers[0]?.introspection?.jwt).toBeUndefined()
  })

  it('refuses anything else at start-up with a TypeError naming the option', () => {
    const shape = /introspection\.jwt must be 'always' or \{ maxAge: seconds \}/
    const range =
      /introspection\.jwt\.maxAge must be a finite number of seconds above 0 and at most 86400/
    const bad: [unknown, RegExp][] = [
      ['sometimes', shape],
      [true, shape],
      [null, shape],
      [60, shape],
      [[], shape],
      [{}, shape],
      [{ maxAge: 60, always: true }, shape],
      [{ maxage: 60 }, shape],
      [{ maxAge: 0 }, range],
      [{ maxAge: -1 }, range],
      [{ maxAge: 86_401 }, range],
      [{ maxAge: Number.NaN }, range],
      [{ maxAge: Number.POSITIVE_INFINITY }, range],
      [{ maxAge: '60' }, range],
    ]
    for (const [value, message] of bad) {
      expect(
        () =>
          createAuthenticator({
            issuer: issuer.issuer,
            audience: 'smd',
            introspection: { jwt: value as never },
          }),
        JSON.stringify(value),
      ).toThrow(typeError(message))
    }
  })
})

describe("introspection.jwt: 'always'", () => {
  it('asks the endpoint on every request, verified-token cache hits included, as RFC 7662 says', async () => {
    const a = auth('always')
    const token = await jwt({ scope: ['smd.read', 'smd.write'] })
    for (let i = 0; i < 3; i++) {
      const p = await a.authenticate(bearer(token))
      expect(p).toMatchObject({ actorType: 'client', clientId: 'bss', issuer: issuer.issuer })
      expect([...(p?.scopes ?? [])].sort()).toEqual(['smd.read', 'smd.write'])
    }
    expect(calls(token)).toBe(3)
    expect(issuer.introspectionRequests.at(-1)?.form).toEqual({
      token,
      token_type_hint: 'access_token',
    })
  })

  it('refuses a revoked JWT at once: 401 token_inactive, though it is still in the verified-token cache', async () => {
    const a = auth('always')
    const token = await jwt()
    expect((await a.verify(token)).clientId).toBe('bss')
    issuer.revokeToken(token)
    const err = await refusal(a.authenticate(bearer(token)))
    expect(err).toMatchObject({ status: 401, code: 'invalid_token', reason: 'token_inactive' })
    expect(err.headers['WWW-Authenticate']).toBe(
      'Bearer realm="api", error="invalid_token", error_description="The access token is invalid"',
    )
  })

  it('keeps the refusal for cacheTtl (no call), and asks again with cacheTtl: 0', async () => {
    for (const cacheTtl of [60, 0]) {
      const a = auth('always', { cacheTtl })
      const token = await jwt()
      issuer.revokeToken(token)
      for (let i = 0; i < 3; i++) {
        expect((await refusal(a.verify(token))).reason).toBe('token_inactive')
      }
      expect(calls(token), `cacheTtl ${cacheTtl}`).toBe(cacheTtl === 0 ? 3 : 1)
    }
  })

  it('20 concurrent requests with one token make one call', async () => {
    const a = auth('always')
    await a.ready()
    const token = await jwt()
    const results = await Promise.all(
      Array.from({ length: 20 }, () => a.authenticate(bearer(token))),
    )
    expect(results.every((p) => p?.clientId === 'bss')).toBe(true)
    expect(calls(token)).toBe(1)
    // Two tokens are two questions.
    const second = await jwt()
    await Promise.all([a.verify(token), a.verify(second), a.verify(second)])
    expect(calls(token)).toBe(2)
    expect(calls(second)).toBe(1)
  })

  it('coalesced requests share a revocation too: each gets its own 401', async () => {
    const a = auth('always', { cacheTtl: 0 })
    await a.ready()
    const token = await jwt()
    issuer.revokeToken(token)
    const errors = await Promise.all(Array.from({ length: 5 }, () => refusal(a.verify(token))))
    expect(errors.map((e) => e.reason)).toEqual(Array(5).fill('token_inactive'))
    expect(new Set(errors).size).toBe(5)
    expect(calls(token)).toBe(1)
  })
})

describe('introspection.jwt: { maxAge }', () => {
  it('reuses an active answer within maxAge; a revocation shows once it has passed, and stays', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const a = auth({ maxAge: 30 })
    const token = await jwt()
    await a.verify(token)
    later(10)
    await a.verify(token)
    expect(calls(token)).toBe(1)
    issuer.revokeToken(token)
    later(19) // 29 s after the question was sent: still within maxAge
    expect((await a.verify(token)).clientId).toBe('bss')
    expect(calls(token)).toBe(1)
    later(2) // 31 s
    expect((await refusal(a.verify(token))).reason).toBe('token_inactive')
    expect(calls(token)).toBe(2)
    // The refusal is kept: the active answer is gone and no call is made for cacheTtl.
    later(1)
    expect((await refusal(a.verify(token))).reason).toBe('token_inactive')
    expect(calls(token)).toBe(2)
  })

  it('never reuses an answer past the token’s exp', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    // Within the clock tolerance (30 s) an expired token still verifies locally.
    const a = auth({ maxAge: 600 })
    const token = await jwt({ ttl: 20 })
    await a.verify(token)
    later(10)
    await a.verify(token)
    expect(calls(token)).toBe(1)
    later(15) // 5 s past exp: the answer (about a token then unexpired) is not reused
    await refusal(a.verify(token)) // the kit's endpoint calls an expired token inactive
    expect(calls(token)).toBe(2)
  })

  it('concurrent first requests share one call; the answer then serves them all', async () => {
    const a = auth({ maxAge: 60 })
    await a.ready()
    const token = await jwt()
    await Promise.all(Array.from({ length: 20 }, () => a.authenticate(bearer(token))))
    await a.authenticate(bearer(token))
    expect(calls(token)).toBe(1)
  })

  it('refusals and answers are bounded by maxCachedInactive and maxCached', async () => {
    const a = auth({ maxAge: 60 }, { maxCached: 2, maxCachedInactive: 1 })
    const tokens = await Promise.all([jwt(), jwt(), jwt()])
    for (const t of tokens) await a.verify(t)
    // The first answer was evicted by the third: asked again; the last two are still held.
    for (const t of tokens.slice(1)) await a.verify(t)
    await a.verify(tokens[0] ?? '')
    expect(tokens.map(calls)).toEqual([2, 1, 1])
    const revoked = await Promise.all([jwt(), jwt()])
    for (const t of revoked) issuer.revokeToken(t)
    for (const t of revoked) await refusal(a.verify(t))
    // Only the last refusal is held: it makes no call; the first is asked about again.
    for (const t of [...revoked].reverse()) await refusal(a.verify(t))
    expect(revoked.map(calls)).toEqual([2, 1])
  })
})

describe('introspection.jwt: outages are 503, never cached', () => {
  for (const mode of ['down', '5xx', 'garbage', 'hang'] as const) {
    it(`${mode} → 503 introspection_unavailable with Retry-After, logged, then recovers`, async () => {
      const logs = captureLogs()
      const a = auth({ maxAge: 60 }, { timeout: 200 }, { logger: pino({}, logs.stream) })
      const token = await jwt()
      issuer.setIntrospectionMode(mode)
      const err = await refusal(a.authenticate(bearer(token)))
      expect(err).toMatchObject({
        status: 503,
        code: 'temporarily_unavailable',
        reason: 'introspection_unavailable',
      })
      expect(err.headers['Retry-After']).toBe('5')
      expect(a.status()[0]?.introspection?.lastFailure?.reason).toBe('introspection_failed')
      // Not cached: the next request asks again and is served.
      issuer.setIntrospectionMode('ok')
      expect((await a.authenticate(bearer(token)))?.clientId).toBe('bss')
      expect(logs.lines.filter((l) => l.event === 'introspection_failed')).toHaveLength(1)
      expect(logs.raw.join('')).not.toContain(token.split('.')[2])
    })
  }

  it("'always': an outage refuses tokens that were accepted a moment ago", async () => {
    const a = auth('always')
    const token = await jwt()
    await a.verify(token)
    issuer.setIntrospectionMode('5xx')
    expect((await refusal(a.verify(token))).status).toBe(503)
  })

  it('answers that are not RFC 7662 are 503, not 401', async () => {
    const a = auth('always')
    const token = await jwt()
    for (const body of ['[]', '{}', '{"active":"false"}', 'null']) {
      issuer.setIntrospectionMode({ status: 200, body })
      expect((await refusal(a.verify(token))).reason, body).toBe('introspection_unavailable')
    }
  })

  it('an active answer about another issuer or subject is no answer: 503; absent ones are fine', async () => {
    const a = auth('always')
    const token = await jwt()
    const cases: [Record<string, unknown>, number][] = [
      [{ active: true, iss: other.issuer, sub: 'bss' }, 503],
      [{ active: true, iss: issuer.issuer, sub: 'alice' }, 503],
      [{ active: true, iss: issuer.issuer, sub: 'bss' }, 200],
      [{ active: true }, 200],
      // The JWT's own claims decide the rest: the answer's scope, aud or exp change nothing.
      [{ active: true, scope: '', aud: ['other'], exp: 1 }, 200],
    ]
    for (const [body, status] of cases) {
      issuer.setIntrospectionMode({ status: 200, body: JSON.stringify(body) })
      const got = await a.verify(token).then(
        (p) => ({ status: 200, scopes: [...p.scopes] }),
        (e: unknown) => ({ status: isAuthError(e) ? e.status : 0, scopes: [] }),
      )
      expect(got.status, JSON.stringify(body)).toBe(status)
      if (status === 200) expect(got.scopes).toEqual(['smd.read'])
    }
  })
})

describe('introspection.jwt: what is not asked about', () => {
  it('a JWT refused locally costs no call: forged, expired, another audience, isRevoked', async () => {
    const a = auth('always', {}, { isRevoked: (p) => p.tokenId === 'denied' })
    const tokens = await Promise.all([
      issuer.forgeClientToken({ clientId: 'bss', audience: ['smd'] }),
      jwt({ ttl: -120 }),
      issuer.mintClientToken({ clientId: 'bss', audience: ['bss'] }),
      issuer.mintClientToken({ clientId: 'bss', audience: ['smd'], claims: { jti: 'denied' } }),
    ])
    const reasons = []
    for (const t of tokens) reasons.push((await refusal(a.authenticate(bearer(t)))).reason)
    expect(reasons).toEqual(['signature_invalid', 'expired', 'aud_invalid', 'revoked'])
    expect(tokens.map(calls)).toEqual([0, 0, 0, 0])
  })

  it('another issuer’s JWTs are not asked about, and keep the synchronous fast path', async () => {
    const a = createAuthenticator({
      issuers: [
        {
          issuer: issuer.issuer,
          audience: 'smd',
          jwksUri: issuer.jwksUri,
          introspection: { endpoint: issuer.introspectionEndpoint, jwt: 'always' },
        },
        { issuer: other.issuer, audience: 'smd', jwksUri: other.jwksUri },
      ],
    })
    open.push(a)
    const token = await other.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    const before = issuer.hits.introspection + other.hits.introspection
    expect((await a.authenticate(bearer(token)))?.issuer).toBe(other.issuer)
    expect(a.authenticateCached(bearer(token))?.issuer).toBe(other.issuer)
    expect(issuer.hits.introspection + other.hits.introspection).toBe(before)
    // The introspecting issuer's JWTs are still asked about in the same authenticator.
    const own = await jwt()
    await a.authenticate(bearer(own))
    expect(calls(own)).toBe(1)
  })

  it('without jwt, JWTs of the introspecting issuer are verified locally only', async () => {
    const a = auth(undefined)
    const token = await jwt()
    issuer.revokeToken(token)
    expect((await a.verify(token)).clientId).toBe('bss')
    expect(calls(token)).toBe(0)
  })

  it('opaque tokens are introspected once and cached for cacheTtl, as before', async () => {
    const a = auth('always')
    const token = issuer.mintOpaqueToken({
      clientId: 'bss',
      scope: ['smd.read'],
      audience: ['smd'],
    })
    for (let i = 0; i < 3; i++) expect((await a.verify(token)).clientId).toBe('bss')
    expect(calls(token)).toBe(1)
  })
})

describe('introspection.jwt: the synchronous fast path', () => {
  it('declines the introspecting issuer’s JWTs, even after authenticate() cached them', async () => {
    for (const mode of ['always', { maxAge: 60 }] as const) {
      const a = auth(mode)
      const token = await jwt()
      const req = bearer(token)
      expect((await a.authenticate(req))?.clientId).toBe('bss')
      expect((await a.authenticate(req))?.clientId).toBe('bss')
      expect(a.authenticateCached(req), JSON.stringify(mode)).toBeUndefined()
      // And so a revocation is never answered from it.
      issuer.revokeToken(token)
      expect(a.authenticateCached(req)).toBeUndefined()
    }
  })

  it('still answers for the same issuer’s JWTs when jwt is not set', async () => {
    const a = auth(undefined)
    const req = bearer(await jwt())
    await a.authenticate(req)
    expect(a.authenticateCached(req)?.clientId).toBe('bss')
  })
})

describe('introspection.jwt: bound tokens and events', () => {
  const ORIGIN = 'https://smd.example'
  const dpopRequest = async (token: string, accessToken = token): Promise<RequestLike> => {
    const proof = await key.proof({ method: 'GET', url: `${ORIGIN}/read`, accessToken })
    return {
      headers: { authorization: `DPoP ${token}`, dpop: proof },
      rawHeaders: ['Authorization', `DPoP ${token}`, 'DPoP', proof],
      url: '/read',
      method: 'GET',
      origin: ORIGIN,
    }
  }

  it('a DPoP-bound JWT keeps its proof check, then is asked about; a bad proof costs no call', async () => {
    const a = auth('always', {}, { dpop: true })
    const token = await issuer.mintClientToken({
      clientId: 'bss',
      scope: ['smd.read'],
      audience: ['smd'],
      dpop: key,
    })
    const p = await a.authenticate(await dpopRequest(token))
    expect(p?.confirmation?.jkt).toBe(key.jkt)
    expect(calls(token)).toBe(1)
    const wrong = await refusal(a.authenticate(await dpopRequest(token, 'another-token')))
    expect(wrong.reason).toBe('dpop_proof_invalid')
    expect(calls(token)).toBe(1)
    // Bound to a key, presented as Bearer: refused before any call (RFC 9449 §7.2).
    expect((await refusal(a.authenticate(bearer(token)))).reason).toBe('sender_constrained')
    expect(calls(token)).toBe(1)
    issuer.revokeToken(token)
    const revoked = await refusal(a.authenticate(await dpopRequest(token)))
    expect(revoked.reason).toBe('token_inactive')
    expect(revoked.headers['WWW-Authenticate']).toMatch(
      /^Bearer realm="api", DPoP error="invalid_token"/,
    )
  })

  it('each call is published on svcauth:introspection:request with format jwt', async () => {
    const events: IntrospectionEvent[] = []
    const listener = (message: unknown): void => {
      events.push(message as IntrospectionEvent)
    }
    subscribe(CHANNELS.introspectionRequest, listener)
    try {
      const a = auth('always')
      const token = await jwt()
      await a.verify(token)
      await a.verify(token)
      issuer.setIntrospectionMode('5xx')
      await refusal(a.verify(token))
      issuer.setIntrospectionMode('ok')
      await a.verify(issuer.mintOpaqueToken({ clientId: 'bss', audience: ['smd'] }))
    } finally {
      unsubscribe(CHANNELS.introspectionRequest, listener)
    }
    expect(events).toEqual([
      { issuer: issuer.issuer, result: 'ok', format: 'jwt' },
      { issuer: issuer.issuer, result: 'ok', format: 'jwt' },
      { issuer: issuer.issuer, result: 'error', format: 'jwt' },
      { issuer: issuer.issuer, result: 'ok', format: 'opaque' },
    ])
  })
})
