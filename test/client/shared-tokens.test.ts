/**
 * The fleet's shared token cache (issue 21), with the test kit's in-process stores shared by
 * several service clients in one process, as replicas share Redis: a cold burst across three
 * clients makes one token request, a refresh ahead of expiry is made once for all, a token a
 * target rejected never comes back from the store, a failing or slow store leaves each client on
 * its own (calls still succeed), and only Bearer client-credentials tokens are written, under keys
 * that hold no token and no secret.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { createServiceClient, type ServiceClient, type ServiceClientOptions } from '@svcauth/client'
import { createAuthenticator } from '@svcauth/core'
import {
  createMemoryStores,
  createTestIssuer,
  type MemoryStores,
  type TestIssuer,
} from '@svcauth/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { typeError } from '../support/type-error.js'
import { useDpopSetup } from './dpop-target.js'
import { startDownstream, type Downstream } from './downstream.js'
import { useMtlsWorld } from './mtls-target.js'

/** A store key: `token:` and a SHA-256, base64url. */
const STORE_KEY = /^token:[A-Za-z0-9_-]{43}$/

interface Line {
  readonly level: string
  readonly fields: Record<string, unknown>
}

let issuer: TestIssuer
let smd: Downstream
let stores: MemoryStores
let lines: Line[]
const clients: ServiceClient[] = []

beforeEach(async () => {
  issuer = await createTestIssuer({ keyCount: 1 })
  issuer.addClient({ clientId: 'bss', secrets: ['s3cret'], scope: ['smd.read'], audience: ['smd'] })
  smd = await startDownstream()
  stores = createMemoryStores()
  lines = []
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await Promise.all([smd.close(), issuer.close()])
})

const logger = {
  info: (fields: Record<string, unknown>) => lines.push({ level: 'info', fields }),
  warn: (fields: Record<string, unknown>) => lines.push({ level: 'warn', fields }),
  error: (fields: Record<string, unknown>) => lines.push({ level: 'error', fields }),
}

/** A replica: a service client on the shared stores. */
function replica(extra: Partial<ServiceClientOptions> = {}): ServiceClient {
  const svc = createServiceClient({
    tokenEndpoint: issuer.tokenEndpoint,
    clientId: 'bss',
    clientSecret: 's3cret',
    targets: { [smd.origin]: { scope: 'smd.read', audience: 'smd' } },
    retry: { minDelay: 50, maxDelay: 200 },
    stores,
    logger,
    ...extra,
  })
  clients.push(svc)
  return svc
}

/** The status of a call to SMD and the token it carried. */
async function call(svc: ServiceClient): Promise<{ status: number; token: string | undefined }> {
  const res = await svc.request(`${smd.origin}/x`)
  await res.body.text()
  return { status: res.statusCode, token: smd.seen.at(-1)?.authorization?.replace(/^Bearer /, '') }
}

/** The shared entries, parsed. */
function entries(): Record<string, unknown>[] {
  return stores.tokens
    .keys()
    .map((key) => JSON.parse(stores.tokens.peek(key) ?? 'null') as Record<string, unknown>)
}

/** The store's keys hold no token, no secret, no client id; its values only the token's fields. */
function expectNothingSecretInStore(tokens: readonly string[]): void {
  for (const key of stores.tokens.keys()) {
    expect(key).toMatch(STORE_KEY)
    for (const token of tokens) expect(key).not.toContain(token)
    expect(key).not.toContain('s3cret')
    expect(key).not.toContain('bss')
  }
  for (const entry of entries()) {
    expect(Object.keys(entry).sort()).toEqual(
      [
        'accessToken',
        'expiresAt',
        'issuedAt',
        'tokenType',
        ...('scope' in entry ? ['scope'] : []),
      ].sort(),
    )
    expect(JSON.stringify(entry)).not.toContain('s3cret')
  }
}

describe('shared token cache: one token request for the fleet', () => {
  it('a cold burst of calls across three replicas makes one token request', async () => {
    issuer.setTokenDelay(100)
    const fleet = [replica(), replica(), replica()]
    const results = await Promise.all(
      fleet.flatMap((svc) => Array.from({ length: 10 }, () => call(svc))),
    )
    expect(issuer.tokenRequests).toHaveLength(1)
    expect(results.every((r) => r.status === 200)).toBe(true)
    const tokens = new Set(smd.seen.map((s) => s.authorization))
    expect(tokens.size).toBe(1)
    expect(stores.tokens.keys()).toHaveLength(1)
    expect(entries()[0]).toMatchObject({ tokenType: 'Bearer', scope: 'smd.read' })
    expectNothingSecretInStore([...tokens].map((t) => String(t).replace(/^Bearer /, '')))
  })

  it('a replica that starts later takes the shared token without a request', async () => {
    const first = await call(replica())
    const later = await call(replica())
    expect(later).toEqual(first)
    expect(issuer.tokenRequests).toHaveLength(1)
  })

  it('without a lock the token is still shared once written', async () => {
    const { tokens } = stores
    await call(replica({ stores: { tokens } }))
    await call(replica({ stores: { tokens } }))
    expect(issuer.tokenRequests).toHaveLength(1)
    expect(stores.lock.grants).toBe(0)
  })

  it('a refresh ahead of expiry is made once for the fleet; every replica moves to the new token', async () => {
    issuer.setTokenMode({
      status: 200,
      body: '{"access_token":"first","token_type":"Bearer","expires_in":2}',
    })
    const fleet = [
      replica({ refreshSkew: 30 }),
      replica({ refreshSkew: 30 }),
      replica({ refreshSkew: 30 }),
    ]
    for (const svc of fleet) expect(await call(svc)).toEqual({ status: 200, token: 'first' })
    expect(issuer.tokenRequests).toHaveLength(1)
    issuer.setTokenMode({
      status: 200,
      body: '{"access_token":"second","token_type":"Bearer","expires_in":60}',
    })
    await sleep(1100) // past half of the 2 s lifetime: each replica's next call starts a refresh
    const during = await Promise.all(fleet.map((svc) => call(svc)))
    // Callers keep the current token while the refresh runs in the background.
    expect(during.map((r) => r.token)).toEqual(['first', 'first', 'first'])
    // Wait (bounded) for the background refreshes to land.
    for (let i = 0; i < 80; i++) {
      const now = await Promise.all(fleet.map((svc) => svc.getToken(smd.origin)))
      if (now.every((t) => t === 'second')) break
      await sleep(25)
    }
    const after = await Promise.all(fleet.map((svc) => call(svc)))
    expect(after.map((r) => r.token)).toEqual(['second', 'second', 'second'])
    expect(issuer.tokenRequests).toHaveLength(2)
  })
})

describe('shared token cache: a rejected token', () => {
  it('a 401 retry never takes the rejected token back from the store; the new one is shared', async () => {
    const a = replica()
    const b = replica()
    const first = await call(a)
    expect(await call(b)).toEqual(first)
    expect(issuer.tokenRequests).toHaveLength(1)
    const rejected = `Bearer ${String(first.token)}`
    // The token is revoked: the target refuses it from now on.
    smd.respond = (req) =>
      req.authorization === rejected
        ? { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } }
        : undefined
    const renewed = await call(b)
    expect(renewed.status).toBe(200)
    expect(renewed.token).not.toBe(first.token)
    expect(issuer.tokenRequests).toHaveLength(2)
    // The other replica meets the 401 too, and takes the new token from the store.
    expect(await call(a)).toEqual(renewed)
    expect(issuer.tokenRequests).toHaveLength(2)
    expect(entries().map((e) => e.accessToken)).toEqual([renewed.token])
    expect(lines.filter((l) => l.fields.event === 'token_rejected')).toHaveLength(2)
  })
})

describe('shared token cache: a store that fails', () => {
  for (const mode of ['down', 'hang', { delay: 2000 }] as const) {
    it(`a store that is ${JSON.stringify(mode)} leaves each replica on its own; every call succeeds`, async () => {
      stores.setMode(mode)
      const fleet = [replica(), replica(), replica()]
      const results = await Promise.all(fleet.map((svc) => call(svc)))
      expect(results.map((r) => r.status)).toEqual([200, 200, 200])
      expect(issuer.tokenRequests).toHaveLength(3)
      const failed = lines.filter((l) => l.fields.event === 'token_store_failed')
      // Once per client per window, whatever the number of failed operations.
      expect(failed).toHaveLength(3)
      for (const line of failed) {
        expect(line).toMatchObject({
          level: 'warn',
          fields: { client_id: 'bss', operation: 'get' },
        })
        for (const r of results) expect(JSON.stringify(line)).not.toContain(String(r.token))
      }
    })
  }

  it('a store that throws synchronously, or whose lock fails, is skipped too', async () => {
    const broken = {
      tokens: {
        get: () => Promise.resolve(undefined),
        set: () => {
          throw new Error('no')
        },
        delete: () => Promise.resolve(),
      },
      lock: { acquire: () => Promise.reject(new Error('no')) },
    }
    const fleet = [replica({ stores: broken }), replica({ stores: broken })]
    const results = await Promise.all(fleet.map((svc) => call(svc)))
    expect(results.map((r) => r.status)).toEqual([200, 200])
    expect(issuer.tokenRequests).toHaveLength(2)
  })

  it('recovers when the store answers again', async () => {
    stores.setMode('down')
    await call(replica())
    stores.setMode('ok')
    const token = await replica().getToken(smd.origin)
    // The first replica's background write failed; the next replica requested and wrote.
    expect(issuer.tokenRequests).toHaveLength(2)
    expect(await replica().getToken(smd.origin)).toBe(token)
    expect(issuer.tokenRequests).toHaveLength(2)
  })
})

describe('shared token cache: what is never shared', () => {
  it('user tokens, forwarded or exchanged, never reach the store', async () => {
    const other = await startDownstream()
    try {
      const svc = replica({
        targets: {
          [smd.origin]: { scope: 'smd.read', audience: 'smd', userToken: 'forward' },
          [other.origin]: { scope: 'smd.read', audience: 'smd', userToken: 'exchange' },
        },
      })
      const token = await issuer.mintUserToken({
        sub: 'alice',
        clientId: 'cli',
        scope: ['smd.read'],
        audience: ['bss', 'smd'],
      })
      const auth = createAuthenticator({
        issuer: issuer.issuer,
        audience: false,
        jwksUri: issuer.jwksUri,
        logger,
      })
      const alice = await auth.verify(token)
      auth.close()
      const forwarded = await svc.forPrincipal(alice).fetch(`${smd.origin}/a`)
      await forwarded.text()
      const exchanged = await svc.forPrincipal(alice).fetch(`${other.origin}/b`)
      await exchanged.text()
      expect([forwarded.status, exchanged.status]).toEqual([200, 200])
      expect(smd.seen[0]?.authorization).toBe(`Bearer ${token}`)
      expect(issuer.tokenRequests.map((r) => r.form.grant_type)).toEqual([
        'urn:ietf:params:oauth:grant-type:token-exchange',
      ])
      expect(stores.tokens.calls).toBe(0)
      expect(stores.lock.grants).toBe(0)
    } finally {
      await other.close()
    }
  })

  it('rejects stores without the methods, naming the member', () => {
    expect(() => replica({ stores: { tokens: {} } as never })).toThrow(
      typeError(/stores\.tokens must have get\(\), set\(\), delete\(\)/),
    )
    expect(() => replica({ stores: 'redis' as never })).toThrow(
      typeError(/stores must be an object/),
    )
  })
})

describe('shared token cache: DPoP-bound tokens stay in the process', () => {
  const setup = useDpopSetup()
  it('a DPoP client neither reads nor writes the store', async () => {
    const dpopStores = createMemoryStores()
    const svc = setup.client({ dpop: true, stores: dpopStores })
    const res = await svc.fetch(`${setup.target.origin}/x`)
    await res.text()
    expect(res.status).toBe(200)
    expect(setup.issuer.tokenRequests).toHaveLength(1)
    expect(dpopStores.tokens.calls).toBe(0)
    expect(dpopStores.lock.grants).toBe(0)
  })
})

describe('shared token cache: certificate-bound tokens stay in the process', () => {
  const world = useMtlsWorld()
  it('a client with a certificate neither reads nor writes the store', async () => {
    const mtlsStores = createMemoryStores()
    const smdTls = await world.target()
    const svc = createServiceClient({
      issuer: world.issuer.issuer,
      clientId: 'bss',
      authMethod: 'tls_client_auth',
      tls: {
        certFile: world.files.certFile,
        keyFile: world.files.keyFile,
        caFile: world.files.caFile,
      },
      targets: { [smdTls.origin]: { scope: 'smd.read', audience: 'smd' } },
      logger: world.logger,
      stores: mtlsStores,
    })
    world.defer(() => svc.close())
    const res = await svc.fetch(`${smdTls.origin}/x`)
    await res.text()
    expect(res.status).toBe(200)
    expect(world.issuer.tokenRequests).toHaveLength(1)
    expect(mtlsStores.tokens.calls).toBe(0)
    expect(mtlsStores.lock.grants).toBe(0)
  })
})
