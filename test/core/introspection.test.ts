/**
 * Opaque tokens by RFC 7662 introspection against the test issuer's Hydra-shaped endpoint: the
 * answer becomes the same Principal as a JWT and is held to the same rules; results are cached by
 * token hash and lookups coalesce; an unreachable or broken endpoint is 503 and never cached.
 */
import {
  createAuthenticator,
  isAuthError,
  rawToken,
  type Authenticator,
  type IntrospectionOptions,
  type Principal,
} from '@svcauth/core'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import pino from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { typeError } from '../support/type-error.js'
import { captureLogs } from '../support/log-capture.js'

let issuer: TestIssuer
const authenticators: Authenticator[] = []

beforeAll(async () => {
  issuer = await createTestIssuer({ keyCount: 1 })
})
afterAll(async () => {
  await issuer.close()
})
afterEach(() => {
  for (const a of authenticators.splice(0)) a.close()
  issuer.setIntrospectionMode('ok')
  issuer.requireIntrospectionAuth(undefined)
  issuer.setDiscoveryOverrides({})
})

function auth(
  introspection: IntrospectionOptions = {},
  extra: Record<string, unknown> = {},
): Authenticator {
  const a = createAuthenticator({
    issuer: issuer.issuer,
    audience: 'smd',
    jwksUri: issuer.jwksUri,
    introspection: { endpoint: issuer.introspectionEndpoint, ...introspection },
    ...extra,
  })
  authenticators.push(a)
  return a
}

const opaque = (over: Partial<Parameters<TestIssuer['mintOpaqueToken']>[0]> = {}) =>
  issuer.mintOpaqueToken({ clientId: 'bss', scope: ['smd.read'], audience: ['smd'], ...over })

/** A custom introspection answer for the next calls. */
function answer(body: Record<string, unknown>): void {
  issuer.setIntrospectionMode({ status: 200, body: JSON.stringify(body) })
}

async function rejection(p: Promise<unknown>): Promise<{ status: number; reason: string }> {
  try {
    await p
  } catch (err) {
    if (isAuthError(err)) return { status: err.status, reason: err.reason }
    throw err
  }
  throw new Error('expected a rejection')
}

const active = () => ({
  active: true,
  scope: 'smd.read',
  client_id: 'bss',
  sub: 'bss',
  aud: ['smd'],
  iss: issuer.issuer,
  exp: Math.floor(Date.now() / 1000) + 600,
  token_type: 'Bearer',
  token_use: 'access_token',
})

describe('introspection: the Principal', () => {
  it('maps a Hydra client-credentials answer to the same Principal as a JWT', async () => {
    const token = opaque({ scope: ['smd.read', 'smd.write'] })
    const p: Principal = await auth().verify(token)
    expect(p).toMatchObject({
      actorType: 'client',
      actorId: 'bss',
      sub: 'bss',
      clientId: 'bss',
      issuer: issuer.issuer,
      audience: ['smd'],
    })
    expect([...p.scopes].sort()).toEqual(['smd.read', 'smd.write'])
    expect(p.expiresAt.getTime()).toBeGreaterThan(Date.now() + 3_000_000)
    expect(rawToken(p)).toBe(token)
    expect(issuer.introspectionRequests.at(-1)?.form).toEqual({
      token,
      token_type_hint: 'access_token',
    })
  })

  it('a user token (sub is not the client) is a user', async () => {
    const p = await auth().verify(opaque({ sub: 'alice', clientId: 'ochami-cli' }))
    expect(p).toMatchObject({ actorType: 'user', actorId: 'alice', clientId: 'ochami-cli' })
  })

  it('JWTs still go to the JWKS; opaque tokens without introspection stay malformed', async () => {
    const before = issuer.hits.introspection
    const jwt = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    expect((await auth().verify(jwt)).clientId).toBe('bss')
    expect(issuer.hits.introspection).toBe(before)
    const plain = createAuthenticator({
      issuer: issuer.issuer,
      audience: 'smd',
      jwksUri: issuer.jwksUri,
    })
    authenticators.push(plain)
    expect(await rejection(plain.verify(opaque()))).toEqual({
      status: 401,
      reason: 'malformed_jws',
    })
    expect(issuer.hits.introspection).toBe(before)
  })
})

describe('introspection: rejections', () => {
  it('unknown, revoked and expired tokens are inactive → 401', async () => {
    const a = auth({ cacheTtl: 0 })
    expect(await rejection(a.verify('ory_at_unknown.sig'))).toEqual({
      status: 401,
      reason: 'token_inactive',
    })
    const token = opaque()
    await a.verify(token)
    issuer.revokeToken(token)
    expect(await rejection(a.verify(token))).toEqual({ status: 401, reason: 'token_inactive' })
    expect(await rejection(a.verify(opaque({ ttl: -10 })))).toMatchObject({
      reason: 'token_inactive',
    })
  })

  it('holds the answer to the JWT rules: audience, issuer, type, lifetime, cnf', async () => {
    const a = auth({ cacheTtl: 0 })
    const cases: [Record<string, unknown>, string][] = [
      [{ aud: [] }, 'aud_invalid'], // Hydra without a requested audience
      [{ aud: ['bss'] }, 'aud_invalid'],
      [{ aud: undefined }, 'aud_invalid'],
      [{ iss: 'http://127.0.0.1:1/' }, 'iss_invalid'],
      [{ token_use: 'refresh_token' }, 'typ_invalid'],
      [{ token_type: 'DPoP' }, 'sender_constrained'],
      [{ token_type: 'mac' }, 'typ_invalid'],
      // oidc-provider's answer for a refresh token: no token_type, no token_use.
      [{ token_type: undefined, token_use: undefined }, 'typ_invalid'],
      [{ cnf: { jkt: 'x' } }, 'sender_constrained'],
      [{ exp: Math.floor(Date.now() / 1000) - 120 }, 'expired'],
      [{ exp: '9999999999' }, 'claim_type_invalid'],
      [{ nbf: Math.floor(Date.now() / 1000) + 3600 }, 'not_yet_valid'],
      [{ sub: 42 }, 'claim_type_invalid'],
      [{ scope: ['smd.read'] }, 'claim_type_invalid'],
      [{ iat: Math.floor(Date.now() / 1000) - 200_000 }, 'lifetime_too_long'],
    ]
    for (const [over, reason] of cases) {
      answer({ ...active(), ...over })
      expect(await rejection(a.verify('ory_at_case.sig')), JSON.stringify(over)).toEqual({
        status: 401,
        reason,
      })
    }
  })

  it('accepts a missing iss (the configured issuer) and a missing exp (trusted for cacheTtl)', async () => {
    const a = auth({ cacheTtl: 30 })
    answer({ ...active(), iss: undefined, exp: undefined })
    const p = await a.verify('ory_at_noexp.sig')
    expect(p.issuer).toBe(issuer.issuer)
    expect(Math.abs(p.expiresAt.getTime() - (Date.now() + 30_000))).toBeLessThan(2_000)
  })

  it('requireTokenType: false accepts an answer that does not say what the token is', async () => {
    const a = auth({ cacheTtl: 0, requireTokenType: false })
    answer({ ...active(), token_type: undefined, token_use: undefined })
    expect((await a.verify('ory_at_untyped.sig')).clientId).toBe('bss')
  })

  it('audience: false accepts Hydra’s empty aud', async () => {
    const a = auth({ cacheTtl: 0 }, { audience: false })
    expect((await a.verify(opaque({ audience: [] }))).clientId).toBe('bss')
  })

  it('a __proto__ key in the answer pollutes nothing and grants no scope', async () => {
    const a = auth({ cacheTtl: 0 })
    issuer.setIntrospectionMode({
      status: 200,
      body: `{"__proto__":{"polluted":1,"scope":"admin"},${JSON.stringify(active()).slice(1)}`,
    })
    const p = await a.verify('ory_at_proto.sig')
    expect([...p.scopes]).toEqual(['smd.read'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('applies isRevoked and maxTokenBytes to opaque tokens too', async () => {
    const a = auth({}, { isRevoked: (p: Principal) => p.clientId === 'evil', maxTokenBytes: 256 })
    expect(await rejection(a.verify(opaque({ clientId: 'evil' })))).toEqual({
      status: 401,
      reason: 'revoked',
    })
    expect(await rejection(a.verify(`ory_at_${'x'.repeat(300)}.sig`))).toEqual({
      status: 401,
      reason: 'token_too_large',
    })
  })
})

describe('introspection: cache and coalescing', () => {
  it('100 concurrent lookups of one token make one request; later ones hit the cache', async () => {
    const a = auth()
    const token = opaque()
    const before = issuer.hits.introspection
    const results = await Promise.all(Array.from({ length: 100 }, () => a.verify(token)))
    expect(results.every((p) => p.clientId === 'bss')).toBe(true)
    await a.verify(token)
    expect(issuer.hits.introspection - before).toBe(1)
  })

  it('caches an inactive answer; a revocation shows after cacheTtl', async () => {
    const a = auth({ cacheTtl: 1 })
    const before = issuer.hits.introspection
    await rejection(a.verify('ory_at_nope.sig'))
    await rejection(a.verify('ory_at_nope.sig'))
    expect(issuer.hits.introspection - before).toBe(1)
    const token = opaque()
    await a.verify(token)
    issuer.revokeToken(token)
    await a.verify(token) // still cached
    await new Promise((resolve) => setTimeout(resolve, 1100))
    expect(await rejection(a.verify(token))).toMatchObject({ reason: 'token_inactive' })
  })

  it('never caches past the token’s exp', async () => {
    const a = auth({ cacheTtl: 3600 }, { clockTolerance: 0 })
    answer({ ...active(), exp: Math.floor(Date.now() / 1000) + 1 })
    await a.verify('ory_at_short.sig')
    issuer.setIntrospectionMode('ok')
    await new Promise((resolve) => setTimeout(resolve, 2100))
    expect(await rejection(a.verify('ory_at_short.sig'))).toMatchObject({ status: 401 })
  })
})

describe('introspection: endpoint failures are 503 and not cached', () => {
  for (const mode of ['down', '5xx', 'garbage', 'hang'] as const) {
    it(`${mode} → 503 introspection_unavailable, then recovers`, async () => {
      const logs = captureLogs()
      const a = auth({ timeout: 200 }, { logger: pino({}, logs.stream) })
      const token = opaque()
      issuer.setIntrospectionMode(mode)
      const started = performance.now()
      expect(await rejection(a.verify(token))).toEqual({
        status: 503,
        reason: 'introspection_unavailable',
      })
      expect(performance.now() - started).toBeLessThan(2_000)
      issuer.setIntrospectionMode('ok')
      expect((await a.verify(token)).clientId).toBe('bss')
      expect(logs.lines.filter((l) => l.event === 'introspection_failed')).toHaveLength(1)
      expect(logs.raw.join('')).not.toContain(token)
    })
  }

  it('answers that are not RFC 7662 are 503, not 401', async () => {
    const a = auth({ cacheTtl: 0 })
    for (const body of ['[]', '"active"', '{"active":"true"}', '{}', 'null']) {
      issuer.setIntrospectionMode({ status: 200, body })
      expect(await rejection(a.verify('ory_at_odd.sig')), body).toEqual({
        status: 503,
        reason: 'introspection_unavailable',
      })
    }
    issuer.setIntrospectionMode({ status: 401, body: '{"error":"invalid_client"}' })
    expect(await rejection(a.verify('ory_at_odd.sig'))).toMatchObject({ status: 503 })
  })

  it('a storm of failures logs one error line per interval', async () => {
    const logs = captureLogs()
    const a = auth({}, { logger: pino({}, logs.stream) })
    issuer.setIntrospectionMode('5xx')
    for (let i = 0; i < 20; i++) await rejection(a.verify(`ory_at_storm${i}.sig`))
    expect(logs.lines.filter((l) => l.event === 'introspection_failed')).toHaveLength(1)
  })
})

describe('introspection: client authentication and discovery', () => {
  it('sends client_secret_basic (form-encoded, RFC 6749 §2.3.1) or client_secret_post', async () => {
    const secret = 'z/tZ9V+wF:Z%q€'
    issuer.requireIntrospectionAuth({ clientId: 'smd rs', secret })
    for (const authMethod of ['client_secret_basic', 'client_secret_post'] as const) {
      const a = auth({ clientId: 'smd rs', clientSecret: secret, authMethod })
      expect((await a.verify(opaque())).clientId).toBe('bss')
    }
    const last = issuer.introspectionRequests.at(-1)
    expect(last?.form.client_secret).toBe(secret)
    const anonymous = auth()
    expect(await rejection(anonymous.verify(opaque()))).toMatchObject({ status: 503 })
  })

  it('finds the endpoint in discovery metadata (introspection_endpoint)', async () => {
    issuer.setDiscoveryOverrides({ introspection_endpoint: issuer.introspectionEndpoint })
    const a = createAuthenticator({
      issuer: issuer.issuer,
      audience: 'smd',
      introspection: {},
    })
    authenticators.push(a)
    expect((await a.verify(opaque())).clientId).toBe('bss')
  })

  it('metadata without introspection_endpoint (Hydra’s) is 503 until configured', async () => {
    const a = createAuthenticator({ issuer: issuer.issuer, audience: 'smd', introspection: {} })
    authenticators.push(a)
    expect(await rejection(a.verify(opaque()))).toEqual({
      status: 503,
      reason: 'introspection_unavailable',
    })
  })

  it('refuses bad configuration at start-up', () => {
    const base = { issuer: issuer.issuer, audience: 'smd' }
    const bad: [Record<string, unknown>, RegExp][] = [
      [
        { ...base, introspection: { authMethod: 'client_secret_basic' } },
        /introspection: client_secret_basic needs clientId and clientSecret/,
      ],
      [
        { ...base, introspection: { clientId: 'x', clientSecret: 's', authMethod: 'jwt' } },
        /introspection\.authMethod must be client_secret_basic, client_secret_post or none/,
      ],
      [
        { ...base, introspection: { endpoint: 'https://u:p@as.test/introspect' } },
        /introspection\.endpoint must not carry credentials/,
      ],
      [
        { ...base, introspection: { endpoint: 'http://as.test/introspect' } },
        /introspection\.endpoint must use https/,
      ],
      [
        { ...base, introspection: { headers: { 'x-key': 'a\r\nb' } } },
        /introspection\.headers must map header names to single-line strings/,
      ],
      [
        { ...base, introspection: { cacheTtl: -1 } },
        /introspection\.cacheTtl must be a finite number from 0 to 86400/,
      ],
      [
        {
          issuers: [
            { ...base, introspection: {} },
            { issuer: 'http://127.0.0.1:2/', audience: 'smd', introspection: {} },
          ],
        },
        /introspection may be configured for one issuer only/,
      ],
    ]
    for (const [options, message] of bad) {
      expect(() => createAuthenticator(options as never), JSON.stringify(options)).toThrow(
        typeError(message),
      )
    }
  })
})

describe('R7: refusals are cached in their own, smaller bound', () => {
  it('R7: junk opaque tokens cannot evict a cached active answer, which keeps serving while introspection is down', async () => {
    const a = auth({ maxCached: 50, timeout: 500 })
    const token = opaque()
    expect((await a.verify(token)).clientId).toBe('bss')
    // More unknown tokens than the whole bound: each is asked about, and each is inactive.
    const junk = Array.from({ length: 60 }, (_, i) => `ory_at_junk${i}.c2ln`)
    for (const t of junk) {
      expect(await rejection(a.verify(t))).toEqual({ status: 401, reason: 'token_inactive' })
    }
    issuer.setIntrospectionMode('5xx')
    const before = issuer.hits.introspection
    expect((await a.verify(token)).clientId).toBe('bss')
    expect(issuer.hits.introspection).toBe(before)
    // Refusals stay cached too, within their bound: maxCached / 10 = the last 5 of them.
    for (const t of junk.slice(-5)) {
      expect(await rejection(a.verify(t))).toEqual({ status: 401, reason: 'token_inactive' })
    }
    expect(issuer.hits.introspection).toBe(before)
    expect(await rejection(a.verify(junk[54] ?? ''))).toEqual({
      status: 503,
      reason: 'introspection_unavailable',
    })
  })

  it('R7: maxCachedInactive sets the refusal bound and is checked at start-up', async () => {
    const a = auth({ maxCached: 50, maxCachedInactive: 20 })
    const junk = Array.from({ length: 20 }, (_, i) => `ory_at_bound${i}.c2ln`)
    for (const t of junk) await rejection(a.verify(t))
    const before = issuer.hits.introspection
    for (const t of junk) {
      expect(await rejection(a.verify(t))).toEqual({ status: 401, reason: 'token_inactive' })
    }
    expect(issuer.hits.introspection).toBe(before)
    const base = { issuer: issuer.issuer, audience: 'smd' }
    for (const maxCachedInactive of [0, -1, 2.5, Number.NaN, '10', 1e9]) {
      expect(
        () => createAuthenticator({ ...base, introspection: { maxCachedInactive } } as never),
        String(maxCachedInactive),
      ).toThrow(
        typeError(
          maxCachedInactive === 2.5
            ? /introspection\.maxCachedInactive must be an integer/
            : /introspection\.maxCachedInactive must be a finite number from 1 to 10000000/,
        ),
      )
    }
  })
})
