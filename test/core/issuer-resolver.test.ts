/**
 * Issue 20, item 2: issuers resolved at request time. `issuers` as a function of the token's
 * unverified `iss` (and the request): answers cached per `iss` (bounded), discovery and key
 * fetches only for issuers the resolver returned, a refusal is 401 `iss_invalid` at no network
 * cost, a failing resolver is 503 `issuer_unavailable`, and the verified-token cache serves a
 * resolved issuer's tokens only while its answer stands. Real loopback issuers.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import {
  createAuthenticator,
  isAuthError,
  type Authenticator,
  type AuthenticatorOptions,
  type IssuerConfig,
  type RequestLike,
} from '@svcauth/core'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import { afterEach, describe, expect, it } from 'vitest'

const closers: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

interface Line {
  level: 'warn' | 'error'
  obj: Record<string, unknown>
  msg: string | undefined
}

function recordingLogger() {
  const lines: Line[] = []
  return {
    lines,
    logger: {
      warn: (obj: Record<string, unknown>, msg?: string) => lines.push({ level: 'warn', obj, msg }),
      error: (obj: Record<string, unknown>, msg?: string) =>
        lines.push({ level: 'error', obj, msg }),
    },
  }
}

async function newIssuer(): Promise<TestIssuer> {
  const issuer = await createTestIssuer({ keyCount: 1 })
  closers.push(() => issuer.close())
  return issuer
}

function authenticator(options: AuthenticatorOptions): Authenticator {
  const auth = createAuthenticator({ logger: recordingLogger().logger, ...options })
  closers.push(() => {
    auth.close()
  })
  return auth
}

const mint = (issuer: TestIssuer, audience = 'smd') =>
  issuer.mintClientToken({ clientId: 'bss', scope: ['smd.read'], audience: [audience] })

const request = (token: string, headers: Record<string, string> = {}): RequestLike => ({
  headers: { authorization: `Bearer ${token}`, ...headers },
})

/** The rejection of `promise`, as `status reason`. */
async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (err) {
    if (isAuthError(err)) return `${err.status} ${err.reason}`
    throw err
  }
  return 'accepted'
}

/** A resolver over a table of tenants, counting its calls per `iss`. */
function tenants(table: Map<string, IssuerConfig>) {
  const calls: string[] = []
  return {
    calls,
    resolve: (iss: string) => {
      calls.push(iss)
      return table.get(iss)
    },
  }
}

describe('issuers as a function (issue 20, item 2)', () => {
  it('verifies a tenant the resolver returns, asking it once and fetching only that issuer', async () => {
    const [a, b] = await Promise.all([newIssuer(), newIssuer()])
    const resolver = tenants(new Map([[a.issuer, { issuer: a.issuer, audience: 'smd' }]]))
    const auth = authenticator({ issuers: resolver.resolve })
    const principal = await auth.verify(await mint(a))
    expect(principal).toMatchObject({ issuer: a.issuer, clientId: 'bss' })
    // Discovery, then the JWKS, of the issuer returned: nothing of the other one.
    expect(a.hits.discovery).toBeGreaterThan(0)
    expect(a.hits.jwks).toBe(1)
    for (let i = 0; i < 5; i++) await auth.verify(await mint(a))
    expect(resolver.calls).toEqual([a.issuer])
    expect(a.hits.jwks).toBe(1)
    expect(b.hits.discovery + b.hits.jwks).toBe(0)
  })

  it('M1: refuses an issuer the resolver does not return with 401 iss_invalid and no network call', async () => {
    const [a, stranger] = await Promise.all([newIssuer(), newIssuer()])
    const resolver = tenants(new Map([[a.issuer, { issuer: a.issuer, audience: 'smd' }]]))
    const auth = authenticator({ issuers: resolver.resolve })
    const token = await mint(stranger)
    expect(await refusal(auth.verify(token))).toBe('401 iss_invalid')
    expect(await refusal(auth.verify(token))).toBe('401 iss_invalid')
    expect(stranger.hits.discovery + stranger.hits.jwks).toBe(0)
    // The refusal is kept: the resolver was asked once for the two requests.
    expect(resolver.calls).toEqual([stranger.issuer])
  })

  it('M2: never hands the resolver an iss that cannot name an issuer', async () => {
    const a = await newIssuer()
    const resolver = tenants(new Map())
    const auth = authenticator({ issuers: resolver.resolve })
    const forged = [
      await a.signRaw({ alg: 'RS256', kid: a.signingKid }, { aud: 'smd', exp: 4e9 }),
      await a.signRaw({ alg: 'RS256', kid: a.signingKid }, { iss: 42, aud: 'smd', exp: 4e9 }),
      await a.signRaw({ alg: 'RS256', kid: a.signingKid }, { iss: 'not a url', exp: 4e9 }),
      await a.signRaw({ alg: 'RS256', kid: a.signingKid }, { iss: 'http://hydra.example/' }),
      await a.signRaw({ alg: 'RS256' }, { iss: `https://x.example/${'a'.repeat(2100)}` }),
    ]
    for (const token of forged) expect(await refusal(auth.verify(token))).toBe('401 iss_invalid')
    expect(resolver.calls).toEqual([])
  })

  it('shares one resolver call among concurrent requests for a new issuer', async () => {
    const a = await newIssuer()
    let calls = 0
    const auth = authenticator({
      issuers: async (iss) => {
        calls++
        await sleep(20)
        return { issuer: iss, audience: 'smd' }
      },
    })
    const tokens = await Promise.all(Array.from({ length: 10 }, () => mint(a)))
    const principals = await Promise.all(tokens.map((t) => auth.verify(t)))
    expect(principals.every((p) => p.issuer === a.issuer)).toBe(true)
    expect(calls).toBe(1)
    expect(a.hits.jwks).toBe(1)
  })

  it('hands the resolver the request through authenticate(), and undefined through verify()', async () => {
    const a = await newIssuer()
    const seen: (RequestLike | undefined)[] = []
    const auth = authenticator({
      issuers: (iss, req) => {
        seen.push(req)
        return { issuer: iss, audience: 'smd' }
      },
      issuerCache: { ttl: 0 },
    })
    const token = await mint(a)
    await auth.authenticate(request(token, { 'x-tenant': 'site-a' }))
    await auth.verify(token)
    expect(seen[0]?.headers['x-tenant']).toBe('site-a')
    expect(seen[1]).toBeUndefined()
  })

  it('M6: with ttl 0, a decision that depends on the request holds for a token verified before', async () => {
    const a = await newIssuer()
    // Site A's host accepts site A's issuer; any other host refuses it.
    const auth = authenticator({
      issuers: (iss, req) =>
        iss === a.issuer && req?.headers.host === 'site-a.example'
          ? { issuer: iss, audience: 'smd' }
          : undefined,
      issuerCache: { ttl: 0 },
    })
    const token = await mint(a)
    const ok = await auth.authenticate(request(token, { host: 'site-a.example' }))
    expect(ok?.issuer).toBe(a.issuer)
    expect(auth.authenticateCached(request(token, { host: 'site-b.example' }))).toBeUndefined()
    expect(await refusal(auth.authenticate(request(token, { host: 'site-b.example' })))).toBe(
      '401 iss_invalid',
    )
    // And it keeps its keys between requests: one JWKS fetch for all of them.
    await auth.authenticate(request(token, { host: 'site-a.example' }))
    expect(a.hits.jwks).toBe(1)
  })

  it('M4: a failing resolver is 503 issuer_unavailable with Retry-After, logged, asked again after the cooldown', async () => {
    const a = await newIssuer()
    const log = recordingLogger()
    let failing = true
    let calls = 0
    const auth = authenticator({
      issuers: (iss) => {
        calls++
        if (failing) throw new Error('tenant database unreachable')
        return { issuer: iss, audience: 'smd' }
      },
      jwks: { cooldown: 200 },
      logger: log.logger,
    })
    const token = await mint(a)
    let error: unknown
    try {
      await auth.verify(token)
    } catch (err) {
      error = err
    }
    expect(isAuthError(error) && error.status).toBe(503)
    expect(isAuthError(error) && error.reason).toBe('issuer_unavailable')
    expect(isAuthError(error) && error.headers['Retry-After']).toBe('1')
    expect(await refusal(auth.verify(token))).toBe('503 issuer_unavailable')
    expect(calls).toBe(1)
    expect(log.lines).toHaveLength(1)
    expect(log.lines[0]).toMatchObject({
      level: 'error',
      obj: { event: 'issuer_resolver_failed', iss: a.issuer, error: 'tenant database unreachable' },
    })
    expect(JSON.stringify(log.lines)).not.toContain(token)
    expect(a.hits.discovery + a.hits.jwks).toBe(0)
    failing = false
    await sleep(250)
    expect((await auth.verify(token)).issuer).toBe(a.issuer)
    expect(calls).toBe(2)
  })

  it.each([
    ['no audience', (iss: string) => ({ issuer: iss })],
    ['introspection', (iss: string) => ({ issuer: iss, audience: 'smd', introspection: {} })],
    [
      'a symmetric algorithm',
      (iss: string) => ({ issuer: iss, audience: 'x', algorithms: ['HS256'] }),
    ],
    ['not an object', () => 'https://hydra.example/'],
  ])('an answer with %s is an outage (503, logged), not a refusal', async (_name, answer) => {
    const a = await newIssuer()
    const log = recordingLogger()
    const auth = authenticator({
      issuers: answer as unknown as (iss: string) => IssuerConfig,
      logger: log.logger,
    })
    expect(await refusal(auth.verify(await mint(a)))).toBe('503 issuer_unavailable')
    expect(log.lines[0]?.obj.event).toBe('issuer_resolver_failed')
    expect(log.lines[0]?.msg).toContain('invalid configuration')
    expect(a.hits.discovery + a.hits.jwks).toBe(0)
  })

  it("M3: refuses an answer for another issuer than the token's (401, warned)", async () => {
    const [a, b] = await Promise.all([newIssuer(), newIssuer()])
    const log = recordingLogger()
    const auth = authenticator({
      issuers: () => ({ issuer: b.issuer, audience: 'smd' }),
      logger: log.logger,
    })
    expect(await refusal(auth.verify(await mint(a)))).toBe('401 iss_invalid')
    expect(log.lines[0]).toMatchObject({
      level: 'warn',
      obj: { event: 'issuer_resolver_mismatch', iss: a.issuer, resolved_issuer: b.issuer },
    })
    expect(a.hits.jwks + b.hits.jwks + a.hits.discovery + b.hits.discovery).toBe(0)
  })

  it('M5: past the ttl: the same answer keeps the keys, a refusal retires cached tokens at once', async () => {
    const a = await newIssuer()
    const table = new Map([[a.issuer, { issuer: a.issuer, audience: 'smd' }]])
    const resolver = tenants(table)
    const auth = authenticator({ issuers: resolver.resolve, issuerCache: { ttl: 0.2 } })
    const token = await mint(a)
    expect((await auth.authenticate(request(token)))?.issuer).toBe(a.issuer)
    expect(auth.authenticateCached(request(token))?.issuer).toBe(a.issuer)
    await sleep(250)
    // The answer is stale: the cache does not serve it; the resolver is asked and says the same.
    expect(auth.authenticateCached(request(token))).toBeUndefined()
    expect((await auth.authenticate(request(token)))?.issuer).toBe(a.issuer)
    expect(resolver.calls).toHaveLength(2)
    expect(a.hits.jwks).toBe(1)
    expect(auth.authenticateCached(request(token))?.issuer).toBe(a.issuer)
    // The tenant leaves: within the ttl its tokens stop working, cached or not.
    table.delete(a.issuer)
    await sleep(250)
    expect(auth.authenticateCached(request(token))).toBeUndefined()
    expect(await refusal(auth.authenticate(request(token)))).toBe('401 iss_invalid')
    expect(auth.status()).toEqual([])
  })

  it('past the ttl: a changed answer replaces the issuer, and its new audience applies', async () => {
    const a = await newIssuer()
    const table = new Map([[a.issuer, { issuer: a.issuer, audience: 'smd' }]])
    const auth = authenticator({ issuers: tenants(table).resolve, issuerCache: { ttl: 0.2 } })
    const token = await mint(a, 'smd')
    expect((await auth.verify(token)).issuer).toBe(a.issuer)
    table.set(a.issuer, { issuer: a.issuer, audience: 'bss' })
    await sleep(250)
    expect(await refusal(auth.verify(token))).toBe('401 aud_invalid')
    expect((await auth.verify(await mint(a, 'bss'))).issuer).toBe(a.issuer)
  })

  it('keeps serving the last good answer while the resolver fails, then asks again', async () => {
    const a = await newIssuer()
    let failing = false
    let calls = 0
    const auth = authenticator({
      issuers: (iss) => {
        calls++
        if (failing) throw new Error('down')
        return { issuer: iss, audience: 'smd' }
      },
      issuerCache: { ttl: 0.2 },
      jwks: { cooldown: 5_000 },
    })
    const token = await mint(a)
    await auth.verify(token)
    failing = true
    await sleep(250)
    expect((await auth.verify(token)).issuer).toBe(a.issuer)
    expect((await auth.verify(await mint(a))).issuer).toBe(a.issuer)
    // Asked once when the answer went stale; not again within the cooldown.
    expect(calls).toBe(2)
  })

  it('holds at most issuerCache.max issuers; status() lists them; an evicted one is resolved again', async () => {
    const issuers = await Promise.all([newIssuer(), newIssuer(), newIssuer()])
    const resolver = tenants(
      new Map(issuers.map((i) => [i.issuer, { issuer: i.issuer, audience: 'smd' }])),
    )
    const auth = authenticator({ issuers: resolver.resolve, issuerCache: { max: 2 } })
    const tokens = await Promise.all(issuers.map((i) => mint(i)))
    for (const token of tokens) await auth.verify(token)
    const held = auth.status().map((s) => s.issuer)
    expect(held).toHaveLength(2)
    expect(new Set(held)).toEqual(new Set([issuers[1]?.issuer, issuers[2]?.issuer]))
    expect(await auth.ready()).toBe(true)
    // The first one was evicted: its cached token is verified again, after asking the resolver.
    expect(auth.authenticateCached(request(tokens[0] as string))).toBeUndefined()
    await auth.verify(tokens[0] as string)
    expect(resolver.calls.filter((c) => c === issuers[0]?.issuer)).toHaveLength(2)
  })

  it('M1: a flood of invented issuers costs no network call and evicts no tenant', async () => {
    const a = await newIssuer()
    const resolver = tenants(new Map([[a.issuer, { issuer: a.issuer, audience: 'smd' }]]))
    // Room for 10 issuers, and so for 100 refusals.
    const auth = authenticator({ issuers: resolver.resolve, issuerCache: { max: 10 } })
    await auth.verify(await mint(a))
    const forged = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        a.signRaw(
          { alg: 'RS256', kid: a.signingKid },
          { iss: `https://tenant-${i}.attacker.example/`, aud: 'smd', exp: 4e9 },
        ),
      ),
    )
    for (const token of [...forged, ...forged]) {
      expect(await refusal(auth.verify(token))).toBe('401 iss_invalid')
    }
    // Each invented issuer reached the resolver once (its refusal is kept), the tenant stayed.
    expect(resolver.calls).toHaveLength(51)
    expect(auth.status().map((s) => s.issuer)).toEqual([a.issuer])
    expect(a.hits.jwks).toBe(1)
  })

  it("a resolved issuer's keys may be given offline: no network call at all", async () => {
    const a = await newIssuer()
    const pems = a.publicKeyPems()
    const auth = authenticator({ issuers: (iss) => ({ issuer: iss, audience: 'smd', keys: pems }) })
    expect((await auth.verify(await mint(a))).issuer).toBe(a.issuer)
    expect(a.hits.discovery + a.hits.jwks).toBe(0)
    expect(auth.status()[0]).toMatchObject({ issuer: a.issuer, keys: 1 })
  })

  it('works with a static issuer list unchanged, and reports nothing before any request', async () => {
    const auth = authenticator({ issuers: () => undefined })
    expect(auth.status()).toEqual([])
    expect(await auth.ready()).toBe(true)
  })
})

describe('issuer resolver options', () => {
  const resolve = (iss: string) => ({ issuer: iss, audience: 'smd' })
  it.each([
    [{ issuers: resolve, issuer: 'https://a.example/', audience: 'smd' }, /either issuer/],
    [{ issuer: 'https://a.example/', audience: 'smd', issuerCache: {} }, /issuerCache applies/],
    [{ issuers: resolve, issuerCache: { max: 0 } }, /issuerCache.max/],
    [{ issuers: resolve, issuerCache: { max: 1.5 } }, /issuerCache.max/],
    [{ issuers: resolve, issuerCache: { ttl: -1 } }, /issuerCache.ttl/],
    [{ issuers: resolve, issuerCache: 'soon' }, /issuerCache must be an object/],
  ])('%o is a TypeError at start-up', (options, message) => {
    expect(() => createAuthenticator(options as AuthenticatorOptions)).toThrow(TypeError)
    expect(() => createAuthenticator(options as AuthenticatorOptions)).toThrow(message)
  })
})
