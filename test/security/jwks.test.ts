/**
 * JWKS retrieval robustness (catalogue G1–G7, G9, G10, D10, E6, E14) and the resilience layer of
 * DESIGN "JWT verification" and "Verified-token cache": refetch storms, cold starts, bad answers,
 * redirects, timeouts, caps, rotation, removal, outages up to `maxStale`, discovery, several issuers.
 * Real issuers on loopback; short real cooldowns and timeouts instead of fake timers (undici and the
 * HTTP servers need real ones).
 */
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  createAuthenticator,
  errorResponse,
  isAuthError,
  type AuthError,
  type Authenticator,
  type AuthenticatorOptions,
  type JwksOptions,
} from '@svcauth/core'
import { createTestIssuer, type TestIssuer, type TestIssuerOptions } from '@svcauth/testing'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

const issuers: TestIssuer[] = []
const auths: Authenticator[] = []

afterEach(async () => {
  for (const a of auths.splice(0)) a.close()
  await Promise.all(issuers.splice(0).map((i) => i.close()))
})

const ONE_KEY: TestIssuerOptions = { keyCount: 1 }

/**
 * Issuers made up front: RSA key generation runs in parallel instead of once in each test. Every
 * test still gets its own issuer, with untouched hit counters.
 */
const spares = new Map<string, Promise<TestIssuer>[]>()
beforeAll(async () => {
  const prepare = (count: number, options: TestIssuerOptions) =>
    spares.set(
      JSON.stringify(options),
      Array.from({ length: count }, () => createTestIssuer(options)),
    )
  prepare(25, ONE_KEY)
  prepare(1, { keyCount: 2 })
  prepare(1, { keyCount: 1, trailingSlash: true })
  await Promise.all([...spares.values()].flat())
})
afterAll(async () => {
  const left = [...spares.values()].flatMap((list) => list.splice(0))
  await Promise.all(left.map(async (i) => (await i).close()))
})

/** A fresh issuer that the caller closes. */
function takeIssuer(options: TestIssuerOptions = ONE_KEY): Promise<TestIssuer> {
  return spares.get(JSON.stringify(options))?.shift() ?? createTestIssuer(options)
}

/** A fresh issuer, closed after the test. */
async function newIssuer(options?: TestIssuerOptions): Promise<TestIssuer> {
  const issuer = await takeIssuer(options)
  issuers.push(issuer)
  return issuer
}

type LogLine = Record<string, unknown> & { level: 'warn' | 'error' }

/** An authenticator with an in-memory logger; closed after the test. */
function build(options: AuthenticatorOptions) {
  const lines: LogLine[] = []
  const auth = createAuthenticator({
    logger: {
      warn: (o) => lines.push({ level: 'warn', ...o }),
      error: (o) => lines.push({ level: 'error', ...o }),
    },
    ...options,
  })
  auths.push(auth)
  const errors = () => lines.filter((l) => l.level === 'error')
  return { auth, lines, errors }
}

/** One issuer with an explicit `jwksUri`, fast defaults (cooldown 200 ms, timeout 300 ms). */
function newAuth(issuer: TestIssuer, jwks: JwksOptions = {}) {
  return build({
    issuer: issuer.issuer,
    audience: 'smd',
    jwksUri: issuer.jwksUri,
    jwks: { cooldown: 200, timeout: 300, ...jwks },
  })
}

/** A fresh (never cached) Hydra client-credentials token for `smd`. */
function token(issuer: TestIssuer, opts: { kid?: string; clientId?: string } = {}) {
  return issuer.mintClientToken({
    clientId: opts.clientId ?? 'bss',
    audience: ['smd'],
    ...(opts.kid === undefined ? {} : { kid: opts.kid }),
  })
}

const attacker = generateKeyPair('RS256')

/** Right `iss` and `aud`, a random `kid`, signed by a key no JWKS ever published. */
async function attackerToken(issuer: TestIssuer, kid = randomUUID()): Promise<string> {
  const { privateKey } = await attacker
  return new SignJWT({ client_id: 'mallory', aud: ['smd'], jti: randomUUID() })
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
    .setIssuer(issuer.issuer)
    .setSubject('mallory')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(privateKey)
}

interface Rejected {
  status: number
  code: string
  reason: string
  retryAfter: string | undefined
}

/** The principal's actor, or the AuthError's status, code, reason and Retry-After. */
async function outcome(auth: Authenticator, t: string): Promise<{ actorId: string } | Rejected> {
  try {
    const p = await auth.verify(t)
    return { actorId: p.actorId }
  } catch (err) {
    return fields(asAuthError(err))
  }
}

function asAuthError(err: unknown): AuthError {
  if (!isAuthError(err)) throw err
  return err
}

function fields(err: AuthError): Rejected {
  return {
    status: err.status,
    code: err.code,
    reason: err.reason,
    retryAfter: err.headers['Retry-After'],
  }
}

const accepted = (actorId = 'bss') => ({ actorId })
const UNAVAILABLE = {
  status: 503,
  code: 'temporarily_unavailable',
  reason: 'jwks_unavailable',
  retryAfter: expect.stringMatching(/^[1-9]\d*$/), // delay-seconds, at least 1
}
const KEY_NOT_FOUND = {
  status: 401,
  code: 'invalid_token',
  reason: 'key_not_found',
  retryAfter: undefined,
}

/** Waits (up to `ms`) for a condition that a background task will make true. */
async function until(condition: () => boolean, ms = 1000): Promise<void> {
  const deadline = performance.now() + ms
  while (!condition() && performance.now() < deadline) await sleep(10)
  expect(condition()).toBe(true)
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('G: JWKS retrieval', () => {
  it('G1: a storm of unknown kids costs one JWKS fetch per cooldown', async () => {
    const cooldown = 400
    const issuer = await newIssuer()
    const storm = await Promise.all(Array.from({ length: 200 }, () => attackerToken(issuer)))
    const sequential = await Promise.all(Array.from({ length: 50 }, () => attackerToken(issuer)))
    const { auth, errors } = newAuth(issuer, { cooldown })
    expect(await auth.ready()).toBe(true)
    await sleep(cooldown) // the start-up fetch opened a cooldown window; start from a closed one
    const before = issuer.hits.jwks
    const started = performance.now()
    const results = await Promise.all(storm.map((t) => outcome(auth, t)))
    for (const t of sequential) results.push(await outcome(auth, t))
    expect(performance.now() - started).toBeLessThan(cooldown) // all inside one window
    expect(results).toEqual(Array.from({ length: 250 }, () => KEY_NOT_FOUND))
    expect(issuer.hits.jwks - before).toBe(1)
    expect(errors()).toEqual([]) // token faults are not infrastructure errors
    await sleep(cooldown)
    expect(await outcome(auth, await attackerToken(issuer))).toEqual(KEY_NOT_FOUND)
    expect(issuer.hits.jwks - before).toBe(2)
    // The known key was never disturbed.
    expect(await outcome(auth, await token(issuer))).toEqual(accepted())
  })

  it('G2: a cold-start burst of 200 verifications shares one JWKS fetch', async () => {
    const issuer = await newIssuer()
    const tokens = await Promise.all(
      Array.from({ length: 200 }, (_, i) => token(issuer, { clientId: `svc-${i}` })),
    )
    const { auth } = newAuth(issuer)
    const results = await Promise.all(tokens.map((t) => outcome(auth, t)))
    expect(results).toEqual(tokens.map((_, i) => accepted(`svc-${i}`)))
    expect(issuer.hits.jwks).toBe(1)
  })

  it('G2: a cold-start burst against a failing endpoint costs one fetch and one error line', async () => {
    const issuer = await newIssuer()
    issuer.setJwksMode('fail')
    const t = await token(issuer)
    const { auth, errors } = newAuth(issuer)
    const results = await Promise.all(Array.from({ length: 200 }, () => outcome(auth, t)))
    expect(results).toEqual(Array.from({ length: 200 }, () => UNAVAILABLE))
    expect(issuer.hits.jwks).toBe(1)
    expect(errors()).toHaveLength(1)
  })

  describe('G3: JWKS endpoint errors on a cold start', () => {
    let issuer: TestIssuer
    beforeAll(async () => {
      issuer = await takeIssuer()
    })
    afterAll(async () => {
      await issuer.close()
    })

    it.for([
      ['404', 404, '{"error":"not_found"}'],
      ['500', 500, 'oops'],
      ['200 {', 200, '{'],
      ['200 null', 200, 'null'],
      ['200 {}', 200, '{}'],
      ['200 {"keys":null}', 200, '{"keys":null}'],
      ['200 {"keys":[null]}', 200, '{"keys":[null]}'],
      ['204', 204, ''],
    ] as const)(
      'G3: an answer of %s fails closed with 503, logs once, and is not cached',
      async ([, status, body]) => {
        issuer.setJwksMode({ status, body })
        const t = await token(issuer)
        const hits = issuer.hits.jwks
        const { auth, lines, errors } = newAuth(issuer, { cooldown: 100 })
        const err = await auth
          .verify(t)
          .then(() => expect.unreachable('a broken key set must not verify anything'), asAuthError)
        expect(fields(err)).toEqual(UNAVAILABLE)
        // The answer names neither the internal JWKS address nor anything from the token.
        const answer = JSON.stringify(errorResponse(err))
        expect(answer).not.toContain(issuer.origin)
        expect(answer).not.toContain(t)
        expect(errors()).toEqual([
          expect.objectContaining({
            event: 'jwks_fetch_failed',
            issuer: issuer.issuer,
            serving_last_good_keys: false,
          }),
        ])
        expect(JSON.stringify(lines)).not.toContain(t)
        expect(JSON.stringify(lines)).not.toContain(t.split('.')[2])
        // Not cached: once the endpoint recovers and the cooldown passed, the next request fetches.
        issuer.setJwksMode('ok')
        await sleep(110)
        expect(await outcome(auth, t)).toEqual(accepted())
        expect(issuer.hits.jwks - hits).toBe(2)
      },
    )
  })

  it('G3: inside the cooldown after a failed fetch, requests get 503 with Retry-After and cause no fetch', async () => {
    const issuer = await newIssuer()
    issuer.setJwksMode('fail')
    const t = await token(issuer)
    const { auth, errors } = newAuth(issuer, { cooldown: 3000 })
    expect(await outcome(auth, t)).toEqual(UNAVAILABLE)
    const again = await outcome(auth, t)
    expect(again).toEqual(UNAVAILABLE)
    expect(Number((again as Rejected).retryAfter)).toBeGreaterThanOrEqual(1)
    expect(Number((again as Rejected).retryAfter)).toBeLessThanOrEqual(3)
    expect(issuer.hits.jwks).toBe(1)
    expect(errors()).toHaveLength(1)
  })

  it('G4: a redirect is not followed', async () => {
    const issuer = await newIssuer()
    issuer.setJwksMode('redirect')
    const { auth, errors } = newAuth(issuer)
    expect(await outcome(auth, await token(issuer))).toEqual(UNAVAILABLE)
    expect(issuer.hits.jwks).toBe(1)
    expect(issuer.hits.evil).toBe(0)
    expect(errors()).toHaveLength(1)
  })

  it.for(['hang', 'stall-body'] as const)(
    'G5: a JWKS endpoint that answers %s fails within the timeout',
    async (mode) => {
      const timeout = 300
      const issuer = await newIssuer()
      issuer.setJwksMode(mode)
      const t = await token(issuer)
      const started = performance.now()
      const { auth, errors } = newAuth(issuer, { timeout })
      expect(await outcome(auth, t)).toEqual(UNAVAILABLE)
      expect(performance.now() - started).toBeLessThan(timeout + 500)
      expect(performance.now() - started).toBeGreaterThanOrEqual(timeout - 20)
      expect(errors()).toHaveLength(1)
    },
  )

  describe('G6: oversized key sets', () => {
    const huge = () => ({
      status: 200,
      body: `{"keys":[],"pad":"${'x'.repeat(30 * 1024 * 1024)}"}`,
    })
    const manyKeys = () => ({
      status: 200,
      body: JSON.stringify({
        keys: Array.from({ length: 10_000 }, (_, i) => ({
          kty: 'RSA',
          kid: `k${i}`,
          n: 'AQAB',
          e: 'AQAB',
        })),
      }),
    })

    it('G6: a 30 MB body is refused by the byte cap on a cold start', async () => {
      const issuer = await newIssuer()
      issuer.setJwksMode(huge())
      const started = performance.now()
      const { auth, errors } = newAuth(issuer, { timeout: 2000 })
      expect(await outcome(auth, await token(issuer))).toEqual(UNAVAILABLE)
      expect(performance.now() - started).toBeLessThan(2000) // the cap, not the timeout
      expect(errors()).toEqual([
        expect.objectContaining({
          event: 'jwks_fetch_failed',
          error: expect.stringMatching(/cap/),
        }),
      ])
    })

    it('G6: a 10 000-key set is refused on a cold start, by the key-count cap too', async () => {
      const issuer = await newIssuer()
      issuer.setJwksMode(manyKeys())
      const t = await token(issuer)
      expect(await outcome(newAuth(issuer).auth, t)).toEqual(UNAVAILABLE)
      // With the byte cap raised to its maximum, the key-count cap (default 100) still refuses it.
      const { auth, errors } = newAuth(issuer, { maxBytes: 16 << 20 })
      expect(await outcome(auth, t)).toEqual(UNAVAILABLE)
      expect(errors()).toEqual([
        expect.objectContaining({
          error: expect.stringMatching(/10000 keys, over the cap of 100/),
        }),
      ])
    })

    it('G6: an oversized refresh is refused and the last good keys keep serving', async () => {
      const issuer = await newIssuer()
      const { auth, errors } = newAuth(issuer, { cooldown: 100 })
      expect(await outcome(auth, await token(issuer))).toEqual(accepted())
      for (const mode of [huge(), manyKeys()]) {
        issuer.setJwksMode(mode)
        await sleep(110)
        const hits = issuer.hits.jwks
        // An unknown kid forces a refetch, which is refused (the token is not accepted either way).
        const forced = await outcome(auth, await attackerToken(issuer))
        expect(forced).not.toHaveProperty('actorId')
        expect(issuer.hits.jwks).toBe(hits + 1)
        expect(errors().at(-1)).toMatchObject({
          event: 'jwks_fetch_failed',
          serving_last_good_keys: true,
        })
        expect(await outcome(auth, await token(issuer, { clientId: 'again' }))).toEqual(
          accepted('again'),
        )
      }
    })
  })

  it('G7: a JWKS address on a closed loopback port fails fast', async () => {
    const issuer = await newIssuer()
    const port = await closedPort()
    const t = await token(issuer)
    const started = performance.now()
    const { auth, errors } = build({
      issuer: issuer.issuer,
      audience: 'smd',
      jwksUri: `http://127.0.0.1:${port}/.well-known/jwks.json`,
      jwks: { cooldown: 200, timeout: 5000 },
    })
    expect(await outcome(auth, t)).toEqual(UNAVAILABLE)
    expect(performance.now() - started).toBeLessThan(1000)
    expect(errors()).toEqual([
      expect.objectContaining({
        event: 'jwks_fetch_failed',
        error: expect.stringMatching(/ECONNREFUSED/),
      }),
    ])
  })

  it('G9: a rotated-in key is refused inside the cooldown after a refetch, then accepted after one more', async () => {
    // Long enough that generating the rotated key (RSA) cannot outlast the window on a slow machine.
    const cooldown = 1500
    const issuer = await newIssuer()
    const oldKid = issuer.signingKid
    const { auth } = newAuth(issuer, { cooldown })
    expect(await auth.ready()).toBe(true)
    await sleep(cooldown)
    // A refetch (here forced by an unknown kid) opens a cooldown window.
    expect(await outcome(auth, await attackerToken(issuer))).toEqual(KEY_NOT_FOUND)
    const hits = issuer.hits.jwks
    const kid = await issuer.rotateKey()
    const rotated = await token(issuer, { kid })
    // Documented: inside that window the new kid is unknown and no fetch is made.
    expect(await outcome(auth, rotated)).toEqual(KEY_NOT_FOUND)
    expect(issuer.hits.jwks).toBe(hits)
    await sleep(cooldown)
    expect(await outcome(auth, rotated)).toEqual(accepted())
    expect(issuer.hits.jwks).toBe(hits + 1)
    // Both keys are published now: the old one still verifies, with no further fetch.
    expect(await outcome(auth, await token(issuer, { kid: oldKid }))).toEqual(accepted())
    expect(issuer.hits.jwks).toBe(hits + 1)
  })

  it('G10: the JWKS request sends no credentials or cookies and asks for a JWK set', async () => {
    const issuer = await newIssuer()
    const { auth } = newAuth(issuer, { cooldown: 50 })
    expect(await auth.ready()).toBe(true)
    await sleep(60)
    // A refetch caused by a request: the caller's bearer token must not travel to the JWKS host.
    const t = await attackerToken(issuer)
    expect(await outcome(auth, t)).toEqual(KEY_NOT_FOUND)
    expect(issuer.jwksRequests).toHaveLength(2)
    for (const { headers } of issuer.jwksRequests) {
      expect(headers.authorization).toBeUndefined()
      expect(headers.cookie).toBeUndefined()
      expect(String(headers.accept)).toContain('application/jwk-set+json')
      expect(JSON.stringify(headers)).not.toContain(t.split('.')[2])
    }
  })

  it('D10: a key set with a private member is refused as a whole', async () => {
    const issuer = await newIssuer()
    const { privateKey } = await generateKeyPair('RS256', { extractable: true })
    issuer.publishJwk({ ...(await exportJWK(privateKey)), kid: 'private', alg: 'RS256' })
    const { auth, errors } = newAuth(issuer)
    // The issuer's own, public key is in the same set, but the set is refused as a whole.
    expect(await outcome(auth, await token(issuer))).toEqual(UNAVAILABLE)
    expect(errors()).toEqual([
      expect.objectContaining({ error: expect.stringMatching(/public keys/) }),
    ])
  })
})

describe('key lifecycle and outages', () => {
  it('E14: a key removed from the JWKS stops verifying after the next refresh, cached tokens included', async () => {
    const issuer = await newIssuer({ keyCount: 2 })
    const [removedKid, keptKid] = issuer.kids as [string, string]
    const { auth } = newAuth(issuer, { cooldown: 100, refreshInterval: 1000 })
    const cached = await token(issuer, { kid: removedKid })
    const kept = await token(issuer, { kid: keptKid })
    expect(await outcome(auth, cached)).toEqual(accepted())
    expect(await outcome(auth, kept)).toEqual(accepted())
    const refreshDue = performance.now() + 1000
    issuer.removeKey(removedKid)
    // Documented window: until the next refresh the removed key still verifies.
    expect(await outcome(auth, cached)).toEqual(accepted())
    const hits = issuer.hits.jwks
    await sleep(refreshDue - performance.now() + 20)
    // A request past refreshInterval triggers the refresh without waiting for it.
    expect(await outcome(auth, await token(issuer, { kid: keptKid }))).toEqual(accepted())
    await until(() => issuer.hits.jwks > hits)
    await sleep(50) // let the answer be parsed and installed
    expect(await outcome(auth, cached)).toEqual(KEY_NOT_FOUND)
    expect(await outcome(auth, await token(issuer, { kid: removedKid }))).toEqual(KEY_NOT_FOUND)
    expect(await outcome(auth, kept)).toEqual(accepted())
  })

  it('serves the last good keys while the endpoint is down, up to maxStale, then 503 until it recovers', async () => {
    const issuer = await newIssuer()
    const { auth, errors } = newAuth(issuer, {
      cooldown: 100,
      refreshInterval: 1000,
      maxStale: 1600,
    })
    expect(await auth.ready()).toBe(true)
    const goodAt = performance.now() // the last successful fetch finished just before this
    expect(await outcome(auth, await token(issuer))).toEqual(accepted())
    issuer.setJwksMode('fail')

    await sleep(goodAt + 1100 - performance.now())
    expect(await outcome(auth, await token(issuer))).toEqual(accepted())
    await until(() => errors().length > 0) // refreshes are attempted, and fail
    expect(errors()[0]).toMatchObject({
      event: 'jwks_fetch_failed',
      serving_last_good_keys: true,
    })
    expect(await outcome(auth, await token(issuer))).toEqual(accepted())

    await sleep(goodAt + 1750 - performance.now()) // past maxStale
    expect(await outcome(auth, await token(issuer))).toEqual(UNAVAILABLE)
    expect(await outcome(auth, await token(issuer))).toEqual(UNAVAILABLE)

    issuer.setJwksMode('ok')
    await sleep(110)
    expect(await outcome(auth, await token(issuer))).toEqual(accepted())
  })

  it('past maxStale, a token verified and cached earlier is refused like any other', async () => {
    const issuer = await newIssuer()
    const { auth } = newAuth(issuer, { cooldown: 100, maxStale: 300 })
    const cached = await token(issuer)
    expect(await outcome(auth, cached)).toEqual(accepted())
    issuer.setJwksMode('fail')
    await sleep(400)
    expect(await outcome(auth, await token(issuer))).toEqual(UNAVAILABLE)
    // The cache must not extend trust in keys beyond the hard limit.
    expect(await outcome(auth, cached)).toEqual(UNAVAILABLE)
  })

  it('ready() after a failed start-up fetch resolves false without bypassing the cooldown', async () => {
    const issuer = await newIssuer()
    issuer.setJwksMode('fail')
    const { auth } = newAuth(issuer, { cooldown: 3000 })
    expect(await auth.ready()).toBe(false) // boot does not fail
    expect(await auth.ready()).toBe(false)
    expect(await auth.ready()).toBe(false)
    // A readiness probe polling ready() must not hammer a JWKS endpoint that is down.
    expect(issuer.hits.jwks).toBe(1)
  })

  it('boot does not fail when the JWKS endpoint is down at start-up, and requests recover with it', async () => {
    const issuer = await newIssuer()
    issuer.setJwksMode('fail')
    const { auth } = newAuth(issuer, { cooldown: 100 })
    expect(await auth.ready()).toBe(false)
    issuer.setJwksMode('ok')
    await sleep(110)
    expect(await outcome(auth, await token(issuer))).toEqual(accepted())
  })
})

describe('discovery', () => {
  const discovering = (issuer: TestIssuer, jwks: JwksOptions = {}) =>
    build({
      issuer: issuer.issuer,
      audience: 'smd',
      jwks: { cooldown: 200, timeout: 300, ...jwks },
    })

  it('without jwksUri, keys come from the discovery document; a cold burst shares one discovery', async () => {
    const issuer = await newIssuer({ keyCount: 1, trailingSlash: true })
    const tokens = await Promise.all(
      Array.from({ length: 50 }, (_, i) => token(issuer, { clientId: `svc-${i}` })),
    )
    const { auth } = discovering(issuer)
    const results = await Promise.all(tokens.map((t) => outcome(auth, t)))
    expect(results).toEqual(tokens.map((_, i) => accepted(`svc-${i}`)))
    expect(issuer.hits.discovery).toBe(1)
    expect(issuer.hits.jwks).toBe(1)
  })

  it('metadata whose issuer differs is refused, and its jwks_uri is never fetched', async () => {
    const issuer = await newIssuer()
    issuer.setDiscoveryOverrides({ issuer: 'http://evil', jwks_uri: `${issuer.origin}/evil` })
    const { auth, errors } = discovering(issuer)
    expect(await outcome(auth, await token(issuer))).toEqual(UNAVAILABLE)
    expect(issuer.hits.discovery).toBeGreaterThanOrEqual(1)
    expect(issuer.hits.evil).toBe(0)
    expect(issuer.hits.jwks).toBe(0)
    expect(errors()).toEqual([expect.objectContaining({ event: 'jwks_fetch_failed' })])
  })

  it('a failing discovery endpoint answers 503 after trying both well-known addresses', async () => {
    const issuer = await newIssuer()
    issuer.setDiscoveryMode('fail')
    const { auth, errors } = discovering(issuer)
    expect(await outcome(auth, await token(issuer))).toEqual(UNAVAILABLE)
    expect(issuer.hits.discovery).toBe(2) // OIDC, then RFC 8414
    expect(issuer.hits.jwks).toBe(0)
    expect(errors()).toHaveLength(1)
  })

  it('a hanging discovery endpoint fails within the per-request timeouts', async () => {
    const timeout = 200
    const issuer = await newIssuer()
    issuer.setDiscoveryMode('hang')
    const t = await token(issuer)
    const started = performance.now()
    const { auth } = discovering(issuer, { timeout })
    expect(await outcome(auth, t)).toEqual(UNAVAILABLE)
    // jwks.timeout bounds each request: two well-known addresses, each given up after `timeout`.
    expect(performance.now() - started).toBeLessThan(2 * timeout + 500)
    expect(issuer.hits.jwks).toBe(0)
  })
})

describe('several issuers', () => {
  it('E6: each issuer verifies with its own keys only; an unconfigured issuer costs no fetch', async () => {
    const [a, b, stranger] = await Promise.all([newIssuer(), newIssuer(), newIssuer()])
    const { auth } = build({
      issuers: [
        { issuer: a.issuer, audience: 'smd', jwksUri: a.jwksUri },
        { issuer: b.issuer, audience: 'smd', jwksUri: b.jwksUri },
      ],
      jwks: { cooldown: 100, timeout: 300 },
    })
    expect(await auth.ready()).toBe(true)
    expect(await outcome(auth, await token(a, { clientId: 'from-a' }))).toEqual(accepted('from-a'))
    expect(await outcome(auth, await token(b, { clientId: 'from-b' }))).toEqual(accepted('from-b'))
    // Signed with A's key, claiming B: B's key set is the only one consulted.
    const crossed = await a.mintClientToken({
      clientId: 'x',
      audience: ['smd'],
      claims: { iss: b.issuer },
    })
    expect(await outcome(auth, crossed)).toEqual(KEY_NOT_FOUND)
    // A third, unconfigured issuer: refused on `iss` alone, and nothing is fetched anywhere.
    const hits = () =>
      [a, b, stranger].map((i) => [i.hits.jwks, i.hits.discovery, i.hits.evil]).flat()
    const before = hits()
    expect(await outcome(auth, await token(stranger))).toEqual({
      status: 401,
      code: 'invalid_token',
      reason: 'iss_invalid',
      retryAfter: undefined,
    })
    expect(hits()).toEqual(before)
    expect(stranger.hits.jwks + stranger.hits.discovery).toBe(0)
  })
})
