/**
 * Issue 21, inbound: the `stores` a fleet shares, as the verifier uses them. Two authenticators
 * stand for two replicas of one service, sharing one set of stores (the test kit's in-process
 * `createMemoryStores()`, and a revocation list written here that can be made to throw); the
 * issuer is the test kit's, on loopback. The Redis implementation of the same interfaces is tested in test/redis.
 */
import { createHash } from 'node:crypto'
import {
  createAuthenticator,
  isAuthError,
  type Authenticator,
  type AuthenticatorOptions,
  type Revocation,
  type RevocationList,
} from '@svcauth/core'
import {
  createDpopKey,
  createMemoryStores,
  createTestIssuer,
  type DpopKey,
  type MemoryCache,
  type TestIssuer,
} from '@svcauth/testing'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

/** A shared revocation list, answered from memory. */
class Revocations implements RevocationList {
  readonly #revoked = new Map<string, number>()
  failing = false
  isRevoked(issuer: string, tokenId: string): boolean {
    if (this.failing) throw new Error('list broken')
    const until = this.#revoked.get(`${issuer}\0${tokenId}`)
    return until !== undefined && until > Date.now()
  }
  revoke(r: Revocation): Promise<void> {
    const until = typeof r.expiresAt === 'number' ? r.expiresAt * 1000 : r.expiresAt.getTime()
    this.#revoked.set(`${r.issuer}\0${r.tokenId}`, until)
    return Promise.resolve()
  }
}

let issuer: TestIssuer
let key: DpopKey
const open: Authenticator[] = []
beforeAll(async () => {
  ;[issuer, key] = await Promise.all([createTestIssuer(), createDpopKey()])
})
afterEach(() => {
  for (const a of open.splice(0)) a.close()
  issuer.setIntrospectionMode('ok')
})
afterAll(async () => {
  await issuer.close()
})

const silent = { warn: () => undefined, error: () => undefined }

function replica(extra: Partial<AuthenticatorOptions>): Authenticator {
  const auth = createAuthenticator({
    issuer: issuer.issuer,
    audience: 'smd',
    jwksUri: issuer.jwksUri,
    logger: silent,
    ...extra,
  })
  open.push(auth)
  return auth
}

const opaque = () =>
  issuer.mintOpaqueToken({ sub: 'bss', clientId: 'bss', scope: ['smd.read'], audience: ['smd'] })
const introspecting = (shared: MemoryCache) => ({
  introspection: { endpoint: issuer.introspectionEndpoint },
  stores: { introspection: shared },
})
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } })

async function reason(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (err) {
    if (isAuthError(err)) return `${err.status} ${err.reason}`
    throw err
  }
  return 'accepted'
}

describe('stores.introspection: answers shared by the replicas', () => {
  it('one replica asks the endpoint, the other reuses its answer', async () => {
    const shared = createMemoryStores().introspection
    const [a, b] = [replica(introspecting(shared)), replica(introspecting(shared))]
    const token = opaque()
    const before = issuer.hits.introspection
    expect((await a.verify(token)).clientId).toBe('bss')
    expect((await b.verify(token)).clientId).toBe('bss')
    expect(issuer.hits.introspection - before).toBe(1)
  })

  it('shares a refusal too: a revoked token is refused by the other replica without a call', async () => {
    const shared = createMemoryStores().introspection
    const [a, b] = [replica(introspecting(shared)), replica(introspecting(shared))]
    const token = opaque()
    issuer.revokeToken(token)
    const before = issuer.hits.introspection
    expect(await reason(a.verify(token))).toBe('401 token_inactive')
    expect(await reason(b.verify(token))).toBe('401 token_inactive')
    expect(issuer.hits.introspection - before).toBe(1)
  })

  it("S3: each replica judges a shared answer under its own policy (another service's audience)", async () => {
    const shared = createMemoryStores().introspection
    const smd = replica(introspecting(shared))
    const bss = replica({ ...introspecting(shared), audience: 'bss' })
    const token = opaque()
    expect((await smd.verify(token)).clientId).toBe('bss')
    const before = issuer.hits.introspection
    // The answer is reused (no call), and still refused: the token is not for this service.
    expect(await reason(bss.verify(token))).toBe('401 aud_invalid')
    expect(issuer.hits.introspection - before).toBe(0)
  })

  it('S1: names no token: keys are hashes, values the answer without the token', async () => {
    const shared = createMemoryStores().introspection
    const token = opaque()
    await replica(introspecting(shared)).verify(token)
    expect(shared.keys()).toHaveLength(1)
    const name = shared.keys()[0] ?? ''
    const value = shared.peek(name) ?? ''
    expect(name).toMatch(/^introspection:[\w-]{43}$/)
    expect(name).not.toContain(createHash('sha256').update(token).digest('base64url'))
    expect(value).not.toContain(token)
    expect(JSON.parse(value)).toMatchObject({ answer: { active: true, client_id: 'bss' } })
  })

  it('never shares an outage, and a store that fails only costs the reuse', async () => {
    const stores = createMemoryStores()
    const shared = stores.introspection
    issuer.setIntrospectionMode('5xx')
    expect(await reason(replica(introspecting(shared)).verify(opaque()))).toBe(
      '503 introspection_unavailable',
    )
    expect(shared.keys()).toEqual([])
    issuer.setIntrospectionMode('ok')
    stores.setMode('down')
    expect((await replica(introspecting(shared)).verify(opaque())).clientId).toBe('bss')
  })

  it('S2: ignores a shared value that is not an answer (asks the endpoint)', async () => {
    const shared = createMemoryStores().introspection
    const a = replica(introspecting(shared))
    const token = opaque()
    await a.verify(token)
    for (const name of shared.keys()) await shared.set(name, '{"answer":"yes"}', 60_000)
    const before = issuer.hits.introspection
    expect((await replica(introspecting(shared)).verify(token)).clientId).toBe('bss')
    expect(issuer.hits.introspection - before).toBe(1)
  })
})

describe('stores.revocations: one revocation list for the fleet', () => {
  it('a token revoked through the list is refused by every replica, cached or not', async () => {
    const list = new Revocations()
    const [a, b] = [
      replica({ stores: { revocations: list } }),
      replica({ stores: { revocations: list } }),
    ]
    const token = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    const principal = await a.authenticate(bearer(token))
    await b.authenticate(bearer(token))
    expect(a.authenticateCached(bearer(token))?.clientId).toBe('bss')
    await list.revoke({
      issuer: issuer.issuer,
      tokenId: principal?.tokenId ?? '',
      expiresAt: principal?.expiresAt ?? new Date(),
    })
    for (const replicaAuth of [a, b]) {
      expect(replicaAuth.authenticateCached(bearer(token))).toBeUndefined()
      expect(await reason(replicaAuth.authenticate(bearer(token)))).toBe('401 revoked')
    }
    // Other tokens of the same client are untouched.
    const other = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    expect((await b.authenticate(bearer(other)))?.clientId).toBe('bss')
  })

  it('a list that throws is a 503, never an acceptance', async () => {
    const list = new Revocations()
    const a = replica({ stores: { revocations: list } })
    const token = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    await a.authenticate(bearer(token))
    list.failing = true
    expect(a.authenticateCached(bearer(token))).toBeUndefined()
    expect(await reason(a.authenticate(bearer(token)))).toBe('503 revocation_unavailable')
  })
})

describe('stores.dpopReplay: one replay set for the fleet', () => {
  it('a proof replayed to another replica is refused', async () => {
    const seen = createMemoryStores().dpopReplay
    const dpop = { dpop: true, publicOrigin: 'https://smd.example', stores: { dpopReplay: seen } }
    const [a, b] = [replica(dpop), replica(dpop)]
    const token = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'], dpop: key })
    const proof = await key.proof({
      method: 'GET',
      url: 'https://smd.example/hsm',
      accessToken: token,
    })
    const req = {
      headers: { authorization: `DPoP ${token}`, dpop: proof },
      rawHeaders: ['Authorization', `DPoP ${token}`, 'DPoP', proof],
      url: '/hsm',
      method: 'GET',
    }
    expect((await a.authenticate(req))?.clientId).toBe('bss')
    expect(await reason(b.authenticate(req))).toBe('401 dpop_proof_replayed')
  })
})

describe('stores option', () => {
  it.each([
    [{ stores: 'redis' }, /stores must be an object/],
    [
      { stores: { introspection: {} } },
      /stores.introspection must have get\(\), set\(\), delete\(\)/,
    ],
    [{ stores: { revocations: { isRevoked: () => false } } }, /stores.revocations must have/],
    [{ stores: { dpopReplay: new Map() } }, /stores.dpopReplay must have addIfAbsent/],
  ])('%o is a TypeError at start-up', (extra, message) => {
    expect(() =>
      createAuthenticator({
        issuer: 'https://a.example/',
        audience: 'smd',
        ...extra,
      } as AuthenticatorOptions),
    ).toThrow(message)
  })
})
