/**
 * The Principal built from verified claims (DESIGN "Principal") and the verified-token cache
 * (DESIGN "Verified-token cache"): reuse, time claims re-checked on hits, revocation hook.
 */
import {
  createAuthenticator,
  isAuthError,
  rawToken,
  type AuthenticatorOptions,
} from '@svcauth/core'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'

let issuer: TestIssuer
const open: { close(): void }[] = []

beforeAll(async () => {
  issuer = await createTestIssuer()
})
afterAll(async () => {
  await issuer.close()
})
afterEach(() => {
  vi.useRealTimers()
  for (const a of open.splice(0)) a.close()
})

function auth(options: Partial<AuthenticatorOptions> = {}) {
  const a = createAuthenticator({
    issuer: issuer.issuer,
    audience: 'smd',
    jwksUri: issuer.jwksUri,
    ...options,
  })
  open.push(a)
  return a
}

describe('Principal', () => {
  it('maps a Hydra client-credentials token to a client principal', async () => {
    const t = await issuer.mintClientToken({
      clientId: 'bss',
      scope: ['smd.read', 'openid'],
      audience: ['smd'],
    })
    const p = await auth().verify(t)
    expect(p).toMatchObject({
      actorType: 'client',
      actorId: 'bss',
      sub: 'bss',
      clientId: 'bss',
      issuer: issuer.issuer,
      audience: ['smd'],
      act: undefined,
    })
    expect([...p.scopes].sort()).toEqual(['openid', 'smd.read'])
    expect(p.tokenId).toMatch(/^[0-9a-f-]{36}$/)
    expect(p.expiresAt.getTime()).toBe((p.claims.exp as number) * 1000)
  })

  it('maps a user token to a user principal and reads the RFC 8693 act chain', async () => {
    const t = await issuer.mintUserToken({
      sub: 'alice',
      clientId: 'bss',
      audience: ['smd'],
      claims: { act: { sub: 'bss', client_id: 'bss', act: { sub: 'gateway' } } },
    })
    const p = await auth().verify(t)
    expect(p.actorType).toBe('user')
    expect(p.actorId).toBe('alice')
    expect(p.act).toEqual({
      sub: 'bss',
      clientId: 'bss',
      iss: undefined,
      act: { sub: 'gateway', clientId: undefined, iss: undefined, act: undefined },
    })
  })

  it('refuses a malformed act claim', async () => {
    for (const act of ['bss', { client_id: 'x' }, { sub: 1 }, { sub: 'a', act: [] }]) {
      const t = await issuer.mintUserToken({
        sub: 'u',
        clientId: 'c',
        audience: ['smd'],
        claims: { act },
      })
      await expect(auth().verify(t), JSON.stringify(act)).rejects.toMatchObject({
        reason: 'claim_type_invalid',
      })
    }
  })

  it('treats a token without sub, or TokenSmith service_auth, as a client; the rule is configurable', async () => {
    const noSub = await issuer.mintClientToken({
      clientId: 'w',
      audience: ['smd'],
      claims: { sub: undefined },
    })
    expect((await auth().verify(noSub)).actorType).toBe('client')
    const tokensmith = await issuer.mintUserToken({
      sub: 'boot-service',
      clientId: 'x',
      audience: ['smd'],
      claims: { client_id: undefined, auth_events: ['service_auth'] },
    })
    const p = await auth().verify(tokensmith)
    expect(p.actorType).toBe('client')
    expect(p.actorId).toBe('boot-service')
    const custom = auth({ actorType: (c) => (c.sub === 'bss' ? 'user' : undefined) })
    const t = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    expect((await custom.verify(t)).actorType).toBe('user')
  })

  it('R9: a token with user-authentication claims is a user even when sub equals client_id; actorType still overrides', async () => {
    const now = Math.floor(Date.now() / 1000)
    const a = auth({ introspection: { endpoint: issuer.introspectionEndpoint } })
    for (const claims of [{ auth_time: now - 60 }, { acr: '1' }, { amr: ['pwd', 'otp'] }]) {
      const label = Object.keys(claims).join()
      // Hydra-shaped: sub === client_id, as for client credentials, but a user logged in.
      const jwt = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'], claims })
      const p = await a.verify(jwt)
      expect([p.actorType, p.actorId, p.sub, p.clientId], label).toEqual([
        'user',
        'bss',
        'bss',
        'bss',
      ])
      // The same rule for an introspected (opaque) token.
      const opaque = issuer.mintOpaqueToken({ clientId: 'bss', audience: ['smd'], claims })
      expect((await a.verify(opaque)).actorType, `opaque ${label}`).toBe('user')
    }
    // Without those claims the same shape is still a client, JWT and opaque.
    const plain = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    expect((await a.verify(plain)).actorType).toBe('client')
    const plainOpaque = issuer.mintOpaqueToken({ clientId: 'bss', audience: ['smd'] })
    expect((await a.verify(plainOpaque)).actorType).toBe('client')
    // The actorType option still decides first.
    const custom = auth({ actorType: (c) => (c.client_id === 'bss' ? 'client' : undefined) })
    const withAuthTime = await issuer.mintClientToken({
      clientId: 'bss',
      audience: ['smd'],
      claims: { auth_time: now },
    })
    expect((await custom.verify(withAuthTime)).actorType).toBe('client')
  })

  it('falls back to azp for the client id', async () => {
    const t = await issuer.mintUserToken({
      sub: 'alice',
      clientId: 'x',
      audience: ['smd'],
      claims: { client_id: undefined, azp: 'portal' },
    })
    expect((await auth().verify(t)).clientId).toBe('portal')
  })

  it('is frozen, with read-only scopes, null-prototype frozen claims and a hidden raw token', async () => {
    const t = await issuer.mintClientToken({
      clientId: 'bss',
      scope: ['a'],
      audience: ['smd'],
      claims: { nested: { deep: [1, { x: 1 }] } },
    })
    const p = await auth().verify(t)
    expect(Object.isFrozen(p)).toBe(true)
    expect(() => (p.scopes as Set<string>).add('admin')).toThrow(TypeError)
    expect(() => (p.scopes as Set<string>).delete('a')).toThrow(TypeError)
    expect(() => {
      ;(p.scopes as Set<string>).clear()
    }).toThrow(TypeError)
    expect(p.scopes.has('a')).toBe(true)
    expect(Object.getPrototypeOf(p.claims)).toBeNull()
    expect(Object.isFrozen(p.claims)).toBe(true)
    const nested = p.claims.nested as { deep: unknown[] }
    expect(Object.isFrozen(nested)).toBe(true)
    expect(Object.isFrozen(nested.deep)).toBe(true)
    expect(Object.keys(p)).not.toContain('token')
    expect(JSON.stringify(p)).not.toContain(t.split('.')[2])
    expect(rawToken(p)).toBe(t)
    // The scopes serialize as an array, and nothing reaches the set behind them.
    expect(JSON.parse(JSON.stringify(p)).scopes).toEqual(['a'])
    expect(Object.keys(p.scopes)).toEqual([])
  })
})

describe('verified-token cache', () => {
  it('returns the cached principal for a repeated token and verifies afresh without the cache', async () => {
    const t = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    const cached = auth()
    expect(await cached.verify(t)).toBe(await cached.verify(t))
    const uncached = auth({ cache: false })
    expect(await uncached.verify(t)).not.toBe(await uncached.verify(t))
  })

  it('re-checks exp on every hit', async () => {
    const a = auth({ clockTolerance: 0 })
    const t = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'], ttl: 60 })
    await a.verify(t)
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 61_000)
    await expect(a.verify(t)).rejects.toMatchObject({ status: 401, reason: 'expired' })
  })

  it('re-checks maxTokenAge on every hit', async () => {
    const a = auth({ clockTolerance: 0, maxTokenAge: 30 })
    const t = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'], ttl: 600 })
    await a.verify(t)
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 31_000)
    await expect(a.verify(t)).rejects.toMatchObject({ reason: 'token_too_old' })
  })

  it('calls isRevoked on hits too, keyed by issuer and jti', async () => {
    const revoked = new Set<string>()
    const calls: string[] = []
    const a = auth({
      isRevoked: (p) => {
        calls.push(`${p.issuer}|${p.tokenId ?? ''}`)
        return revoked.has(`${p.issuer}|${p.tokenId ?? ''}`)
      },
    })
    const t = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    const p = await a.verify(t)
    revoked.add(`${p.issuer}|${p.tokenId ?? ''}`)
    await expect(a.verify(t)).rejects.toMatchObject({ status: 401, reason: 'revoked' })
    expect(calls).toHaveLength(2)
  })

  it('answers 503 when the revocation hook fails, never accepting the token', async () => {
    const a = auth({
      isRevoked: () => Promise.reject(new Error('denylist down')),
      logger: { warn: () => undefined, error: () => undefined },
    })
    const t = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    try {
      await a.verify(t)
      expect.unreachable()
    } catch (err) {
      expect(isAuthError(err) && err.status).toBe(503)
    }
  })

  it('keeps cached entries bounded by approximate bytes', async () => {
    // 64 KiB holds about 15 entries of a ~1 KB token plus the per-entry allowance.
    const a = auth({ cache: { maxBytes: 64 * 1024 } })
    const tokens = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        issuer.mintClientToken({ clientId: `c${i}`, audience: ['smd'] }),
      ),
    )
    const first = await a.verify(tokens[0]!)
    for (const t of tokens.slice(1)) await a.verify(t)
    expect(await a.verify(tokens[0]!)).not.toBe(first)
    const last = tokens[19]!
    expect(await a.verify(last)).toBe(await a.verify(last))
  })

  it('keeps cached entries bounded by max entries', async () => {
    const a = auth({ cache: { max: 2 } })
    const tokens = await Promise.all(
      [1, 2, 3].map((i) => issuer.mintClientToken({ clientId: `c${i}`, audience: ['smd'] })),
    )
    const first = await a.verify(tokens[0]!)
    await a.verify(tokens[1]!)
    await a.verify(tokens[2]!)
    // The oldest entry was evicted: verifying it again builds a new principal.
    expect(await a.verify(tokens[0]!)).not.toBe(first)
  })
})

describe('authenticateCached: the synchronous fast path of the adapters', () => {
  const request = (authorization: string | string[] | undefined, url = '/x') => ({
    headers: { authorization },
    rawHeaders:
      authorization === undefined
        ? []
        : [authorization].flat().flatMap((v) => ['Authorization', v]),
    url,
  })

  it('answers a verified-cache hit at once, and nothing before the first verification', async () => {
    const a = auth()
    const t = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    expect(a.authenticateCached(request(`Bearer ${t}`))).toBeUndefined()
    const p = await a.authenticate(request(`Bearer ${t}`))
    expect(a.authenticateCached(request(`Bearer ${t}`))).toBe(p)
    expect(a.authenticateCached(request(`bearer   ${t}`))).toBe(p)
  })

  it('accepts nothing authenticate() would refuse', async () => {
    const a = auth({ clockTolerance: 0 })
    const t = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'], ttl: 60 })
    await a.authenticate(request(`Bearer ${t}`))
    // A second credential, a repeated header, a malformed header: all refused by authenticate().
    for (const req of [
      request(`Bearer ${t}`, `/x?access_token=${t}`),
      request([`Bearer ${t}`, `Bearer ${t}`]),
      request(`Bearer ${t} extra`),
      request(undefined),
    ]) {
      expect(a.authenticateCached(req)).toBeUndefined()
    }
    await expect(
      a.authenticate(request(`Bearer ${t}`, `/x?access_token=${t}`)),
    ).rejects.toMatchObject({ reason: 'multiple_methods' })
    // Expired since it was cached: no fast answer, and authenticate() says why.
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 61_000)
    expect(a.authenticateCached(request(`Bearer ${t}`))).toBeUndefined()
    await expect(a.authenticate(request(`Bearer ${t}`))).rejects.toMatchObject({
      reason: 'expired',
    })
  })

  it('leaves tokens to authenticate() when a revocation hook must be asked, or with the cache off', async () => {
    const t = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    for (const a of [auth({ isRevoked: () => false }), auth({ cache: false })]) {
      await a.authenticate(request(`Bearer ${t}`))
      expect(a.authenticateCached(request(`Bearer ${t}`))).toBeUndefined()
    }
  })
})
