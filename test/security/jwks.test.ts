/**
 * JWKS retrieval robustness (catalogue G1–G10, E6, E14, D10) and the resilience layer of DESIGN
 * "JWT verification": refetch storms, outages, caps, redirects, discovery, rotation and removal.
 * Real issuers on loopback; short cooldowns and timeouts instead of fake timers.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  createAuthenticator,
  isAuthError,
  type Authenticator,
  type AuthenticatorOptions,
} from '@svcauth/core'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'

const issuers: TestIssuer[] = []
const auths: Authenticator[] = []

afterEach(async () => {
  for (const a of auths.splice(0)) a.close()
  await Promise.all(issuers.splice(0).map((i) => i.close()))
})

async function newIssuer(
  options: Parameters<typeof createTestIssuer>[0] = {},
): Promise<TestIssuer> {
  const issuer = await createTestIssuer(options)
  issuers.push(issuer)
  return issuer
}

interface LogLine {
  [key: string]: unknown
}

type AuthOverrides = Omit<Partial<AuthenticatorOptions>, 'jwksUri'> & {
  jwksUri?: string | undefined
}

function newAuth(issuer: TestIssuer, options: AuthOverrides = {}) {
  const lines: LogLine[] = []
  const auth = createAuthenticator({
    issuer: issuer.issuer,
    audience: 'smd',
    jwksUri: issuer.jwksUri,
    logger: {
      warn: (o) => lines.push({ level: 'warn', ...o }),
      error: (o) => lines.push({ level: 'error', ...o }),
    },
    ...options,
    jwks: { cooldown: 200, timeout: 300, ...options.jwks },
  } as AuthenticatorOptions)
  auths.push(auth)
  return { auth, lines }
}

function token(issuer: TestIssuer, extra: { kid?: string; clientId?: string } = {}) {
  return issuer.mintClientToken({
    clientId: extra.clientId ?? 'bss',
    audience: ['smd'],
    ...(extra.kid === undefined ? {} : { kid: extra.kid }),
  })
}

async function outcome(auth: Authenticator, t: string): Promise<string> {
  try {
    const p = await auth.verify(t)
    return `ok ${p.actorId}`
  } catch (err) {
    if (!isAuthError(err)) throw err
    const retry = err.headers['Retry-After']
    return `${err.status} ${err.reason}${retry === undefined ? '' : ` retry=${retry}`}`
  }
}

/** A token with the issuer's `iss` and audience, signed by a key the JWKS never published. */
async function attackerToken(issuer: TestIssuer, kid: string): Promise<string> {
  const { privateKey } = await attacker
  return new SignJWT({ client_id: 'x', aud: ['smd'] })
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
    .setIssuer(issuer.issuer)
    .setSubject('x')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(privateKey)
}
const attacker = generateKeyPair('RS256')

describe('G: JWKS retrieval', () => {
  it('G1: a storm of unknown kids costs one JWKS fetch per cooldown', async () => {
    const issuer = await newIssuer()
    const { auth } = newAuth(issuer, { jwks: { cooldown: 1000 } })
    expect(await auth.ready()).toBe(true)
    const before = issuer.hits.jwks
    await sleep(1000) // the start-up fetch counts as the last attempt; let its cooldown pass
    const storm = await Promise.all(
      Array.from({ length: 200 }, (_, i) => attackerToken(issuer, `storm-${i}`)),
    )
    const results = await Promise.all(storm.map((t) => outcome(auth, t)))
    for (let i = 0; i < 50; i++)
      results.push(await outcome(auth, await attackerToken(issuer, `seq-${i}`)))
    expect(new Set(results)).toEqual(new Set(['401 key_not_found']))
    expect(issuer.hits.jwks - before).toBe(1)
    await sleep(1050)
    expect(await outcome(auth, await attackerToken(issuer, 'after-cooldown'))).toBe(
      '401 key_not_found',
    )
    expect(issuer.hits.jwks - before).toBe(2)
  })

  it('G2: a cold-start burst shares one JWKS fetch', async () => {
    const issuer = await newIssuer()
    const t = await token(issuer)
    const { auth } = newAuth(issuer)
    const results = await Promise.all(Array.from({ length: 200 }, () => outcome(auth, t)))
    expect(new Set(results)).toEqual(new Set(['ok bss']))
    expect(issuer.hits.jwks).toBe(1)
  })

  it('G3: error answers from the JWKS endpoint fail closed with 503 and are not cached', async () => {
    const bodies = [
      { status: 404, body: 'not found' },
      { status: 500, body: 'oops' },
      { status: 200, body: '{' },
      { status: 200, body: 'null' },
      { status: 200, body: '{}' },
      { status: 200, body: '{"keys":null}' },
      { status: 200, body: '{"keys":[null]}' },
      { status: 204, body: '' },
    ]
    const issuer = await newIssuer()
    const t = await token(issuer)
    for (const mode of bodies) {
      issuer.setJwksMode(mode)
      const { auth, lines } = newAuth(issuer, { jwks: { cooldown: 100 } })
      const result = await outcome(auth, t)
      expect(result, JSON.stringify(mode)).toMatch(/^503 jwks_unavailable retry=\d+$/)
      const errors = lines.filter((l) => l.level === 'error')
      expect(errors).toHaveLength(1)
      expect(errors[0]).toMatchObject({ event: 'jwks_fetch_failed', issuer: issuer.issuer })
      expect(JSON.stringify(lines)).not.toContain(t)
      // Recovery: the failure is not cached; after the cooldown the next request fetches again.
      issuer.setJwksMode('ok')
      await sleep(120)
      expect(await outcome(auth, t)).toBe('ok bss')
    }
  })

  it('G3: a request inside the cooldown after a failed fetch gets 503 with Retry-After, without a fetch', async () => {
    const issuer = await newIssuer()
    issuer.setJwksMode('fail')
    const t = await token(issuer)
    const { auth } = newAuth(issuer, { jwks: { cooldown: 3000 } })
    expect(await outcome(auth, t)).toMatch(/^503 jwks_unavailable/)
    const hits = issuer.hits.jwks
    expect(await outcome(auth, t)).toMatch(/^503 jwks_unavailable retry=[1-3]$/)
    expect(issuer.hits.jwks).toBe(hits)
  })

  it('G4: a redirect is not followed', async () => {
    const issuer = await newIssuer()
    issuer.setJwksMode('redirect')
    const { auth } = newAuth(issuer)
    expect(await outcome(auth, await token(issuer))).toMatch(/^503 jwks_unavailable/)
    expect(issuer.hits.evil).toBe(0)
  })

  it('G5: a hanging or stalled JWKS endpoint fails within the timeout', async () => {
    for (const mode of ['hang', 'stall-body'] as const) {
      const issuer = await newIssuer()
      issuer.setJwksMode(mode)
      const t = await token(issuer)
      const { auth } = newAuth(issuer, { jwks: { timeout: 300 } })
      const started = Date.now()
      expect(await outcome(auth, t), mode).toMatch(/^503 jwks_unavailable/)
      expect(Date.now() - started, mode).toBeLessThan(1300)
    }
  })

  it('G6: a 30 MB body and a 10 000-key set are refused, and a refused refresh keeps the old keys', async () => {
    const issuer = await newIssuer({ keyCount: 1 })
    const t = await token(issuer)
    const huge = { status: 200, body: `{"keys":[],"pad":"${'x'.repeat(30 * 1024 * 1024)}"}` }
    const many = {
      status: 200,
      body: JSON.stringify({
        keys: Array.from({ length: 10_000 }, (_, i) => ({
          kty: 'RSA',
          kid: `k${i}`,
          n: 'AQAB',
          e: 'AQAB',
        })),
      }),
    }
    for (const mode of [huge, many]) {
      issuer.setJwksMode(mode)
      const { auth } = newAuth(issuer)
      const rss = process.memoryUsage().rss
      expect(await outcome(auth, t)).toMatch(/^503 jwks_unavailable/)
      expect(process.memoryUsage().rss - rss).toBeLessThan(64 * 1024 * 1024)
    }
    issuer.setJwksMode('ok')
    const { auth } = newAuth(issuer, { jwks: { cooldown: 0 } })
    expect(await outcome(auth, t)).toBe('ok bss')
    issuer.setJwksMode(huge)
    // An unknown kid forces a refetch, which is refused; the known key keeps working.
    expect(await outcome(auth, await attackerToken(issuer, 'unknown'))).toMatch(
      /^503 jwks_unavailable/,
    )
    expect(await outcome(auth, await token(issuer, { clientId: 'again' }))).toBe('ok again')
  })

  it('G6: the key-count cap refuses a set with more keys than allowed', async () => {
    const issuer = await newIssuer({ keyCount: 3 })
    const t = await token(issuer)
    expect(await outcome(newAuth(issuer, { jwks: { maxKeys: 2 } }).auth, t)).toMatch(
      /^503 jwks_unavailable/,
    )
    expect(await outcome(newAuth(issuer, { jwks: { maxKeys: 3 } }).auth, t)).toBe('ok bss')
  })

  it('G7: a closed port fails fast', async () => {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    await new Promise((resolve) => server.close(resolve))
    const issuer = await newIssuer()
    const { auth } = newAuth(issuer, { jwksUri: `http://127.0.0.1:${port}/jwks.json` })
    const started = Date.now()
    expect(await outcome(auth, await token(issuer))).toMatch(/^503 jwks_unavailable/)
    expect(Date.now() - started).toBeLessThan(1000)
  })

  it('G9: a key rotated in at the issuer is accepted after one refetch once the cooldown passed', async () => {
    const issuer = await newIssuer()
    const { auth } = newAuth(issuer, { jwks: { cooldown: 500 } })
    await auth.ready()
    const hits = issuer.hits.jwks
    const kid = await issuer.rotateKey()
    const rotated = await token(issuer, { kid })
    // Right after the start-up fetch the cooldown holds: documented 401, no fetch.
    expect(await outcome(auth, rotated)).toBe('401 key_not_found')
    expect(issuer.hits.jwks).toBe(hits)
    await sleep(520)
    expect(await outcome(auth, rotated)).toBe('ok bss')
    expect(issuer.hits.jwks).toBe(hits + 1)
  })

  it('G10: the JWKS request sends no credentials and asks for a JWK set', async () => {
    const issuer = await newIssuer()
    const { auth } = newAuth(issuer)
    await auth.ready()
    const headers = issuer.jwksRequests[0]?.headers ?? {}
    expect(headers.authorization).toBeUndefined()
    expect(headers.cookie).toBeUndefined()
    expect(String(headers.accept)).toContain('application/jwk-set+json')
  })

  it('D10: a key set with a private member is refused as a whole', async () => {
    const issuer = await newIssuer({ keyCount: 1 })
    const { privateKey } = await generateKeyPair('RS256', { extractable: true })
    issuer.publishJwk({ ...(await exportJWK(privateKey)), kid: 'private' })
    const { auth } = newAuth(issuer)
    expect(await outcome(auth, await token(issuer))).toMatch(/^503 jwks_unavailable/)
  })
})

describe('outage and key lifecycle', () => {
  it('serves the last good keys while the JWKS endpoint is down, up to maxStale, then 503 until it recovers', async () => {
    const issuer = await newIssuer()
    const { auth } = newAuth(issuer, {
      cache: false,
      jwks: { cooldown: 100, refreshInterval: 1000, maxStale: 2500 },
    })
    expect(await outcome(auth, await token(issuer))).toBe('ok bss')
    issuer.setJwksMode('fail')
    await sleep(1200) // past refreshInterval: refreshes are attempted and fail
    expect(await outcome(auth, await token(issuer))).toBe('ok bss')
    await sleep(50)
    expect(issuer.hits.jwks).toBeGreaterThan(1)
    expect(await outcome(auth, await token(issuer))).toBe('ok bss')
    await sleep(1400) // past maxStale since the last good fetch
    expect(await outcome(auth, await token(issuer))).toMatch(/^503 jwks_unavailable retry=\d+$/)
    issuer.setJwksMode('ok')
    await sleep(150)
    expect(await outcome(auth, await token(issuer))).toBe('ok bss')
  })

  it('E14: a key removed from the JWKS stops verifying after the next refresh, cached tokens included', async () => {
    const issuer = await newIssuer()
    const { auth } = newAuth(issuer, { jwks: { cooldown: 100, refreshInterval: 1000 } })
    const removedKid = issuer.kids[0]!
    const cached = await token(issuer, { kid: removedKid })
    const kept = await token(issuer, { kid: issuer.kids[1]! })
    expect(await outcome(auth, cached)).toBe('ok bss')
    expect(await outcome(auth, kept)).toBe('ok bss')
    issuer.removeKey(removedKid)
    expect(await outcome(auth, cached)).toBe('ok bss') // documented: until the next refresh
    const hits = issuer.hits.jwks
    await sleep(1100)
    await auth.verify(kept) // triggers the background refresh
    for (let i = 0; i < 20 && issuer.hits.jwks === hits; i++) await sleep(25)
    await sleep(25)
    expect(await outcome(auth, cached)).toBe('401 key_not_found')
    expect(await outcome(auth, kept)).toBe('ok bss')
    expect(await outcome(auth, await token(issuer, { kid: removedKid, clientId: 'fresh' }))).toBe(
      '401 key_not_found',
    )
  })

  it('does not fail boot when the JWKS endpoint is down at start-up, and recovers', async () => {
    const issuer = await newIssuer()
    issuer.setJwksMode('fail')
    const { auth } = newAuth(issuer, { jwks: { cooldown: 100 } })
    expect(await auth.ready()).toBe(false)
    issuer.setJwksMode('ok')
    await sleep(120)
    expect(await outcome(auth, await token(issuer))).toBe('ok bss')
  })
})

describe('discovery and issuers', () => {
  it('discovers the JWKS from the issuer metadata', async () => {
    const issuer = await newIssuer({ trailingSlash: true })
    const { auth } = newAuth(issuer, { jwksUri: undefined })
    expect(await outcome(auth, await token(issuer))).toBe('ok bss')
    expect(issuer.hits.discovery).toBe(1)
    expect(issuer.hits.jwks).toBe(1)
  })

  it('refuses metadata whose issuer differs, and never fetches its jwks_uri', async () => {
    const issuer = await newIssuer()
    const decoy = await newIssuer()
    issuer.setDiscoveryOverrides({ issuer: 'http://127.0.0.1:1/', jwks_uri: decoy.jwksUri })
    const { auth } = newAuth(issuer, { jwksUri: undefined })
    expect(await outcome(auth, await token(issuer))).toMatch(/^503 jwks_unavailable/)
    expect(decoy.hits.jwks).toBe(0)
    expect(issuer.hits.jwks).toBe(0)
  })

  it('answers 503 when discovery fails', async () => {
    const issuer = await newIssuer()
    issuer.setDiscoveryMode('fail')
    const { auth } = newAuth(issuer, { jwksUri: undefined })
    expect(await outcome(auth, await token(issuer))).toMatch(/^503 jwks_unavailable/)
    expect(issuer.hits.discovery).toBe(2) // OIDC, then RFC 8414
  })

  it('E6: each issuer verifies with its own keys only; unknown issuers cost no fetch', async () => {
    const a = await newIssuer({ keyCount: 1 })
    const b = await newIssuer({ keyCount: 1 })
    const auth = createAuthenticator({
      issuers: [
        { issuer: a.issuer, audience: 'smd', jwksUri: a.jwksUri },
        { issuer: b.issuer, audience: 'bss', jwksUri: b.jwksUri },
      ],
      jwks: { cooldown: 100 },
    })
    auths.push(auth)
    await auth.ready()
    const fromA = await a.mintClientToken({ clientId: 'x', audience: ['smd'] })
    const fromB = await b.mintClientToken({ clientId: 'y', audience: ['bss'] })
    expect(await outcome(auth, fromA)).toBe('ok x')
    expect(await outcome(auth, fromB)).toBe('ok y')
    // A's key, B's issuer: B's key set does not contain A's key.
    const crossed = await a.mintClientToken({
      clientId: 'x',
      audience: ['bss'],
      claims: { iss: b.issuer },
    })
    expect(await outcome(auth, crossed)).toMatch(/^401 (key_not_found|signature_invalid)$/)
    // Each issuer keeps its own audience.
    const wrongAud = await a.mintClientToken({ clientId: 'x', audience: ['bss'] })
    expect(await outcome(auth, wrongAud)).toBe('401 aud_invalid')
    const hits = a.hits.jwks + b.hits.jwks
    const stranger = await a.mintClientToken({
      clientId: 'x',
      audience: ['smd'],
      claims: { iss: 'https://stranger.test/' },
    })
    expect(await outcome(auth, stranger)).toBe('401 iss_invalid')
    expect(a.hits.jwks + b.hits.jwks).toBe(hits)
  })
})
