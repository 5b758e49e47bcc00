/**
 * Re-discovery of the issuer's JWKS address (issue 14, R11; OpenID Connect Discovery 1.0 §4,
 * RFC 8414 §3). Without a configured `jwksUri` the address comes from discovery metadata; it is
 * looked up again on the background refresh and after a failed key fetch, so an issuer that moves
 * its keys is followed without a restart, at a bounded cost in discovery requests. Re-discovered
 * metadata meets the same checks as the first, and a failed or refused re-discovery keeps the last
 * good address. Real servers on loopback; short real cooldowns instead of fake timers.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { createAuthenticator, isAuthError, type Authenticator } from '@svcauth/core'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'

const closers: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

type LogLine = Record<string, unknown> & { level: 'warn' | 'error' }

async function newIssuer(): Promise<TestIssuer> {
  const issuer = await createTestIssuer({ keyCount: 1 })
  closers.push(() => issuer.close())
  return issuer
}

/** An authenticator that finds its keys by discovery (no jwksUri), with an in-memory logger. */
function discovering(issuer: TestIssuer, jwks: Record<string, number>) {
  const lines: LogLine[] = []
  const auth = createAuthenticator({
    issuer: issuer.issuer,
    audience: 'smd',
    jwks: { timeout: 500, ...jwks },
    logger: {
      warn: (o) => lines.push({ level: 'warn', ...o }),
      error: (o) => lines.push({ level: 'error', ...o }),
    },
  })
  closers.push(() => {
    auth.close()
  })
  return { auth, lines }
}

/** A JWKS server on loopback that counts its requests and can be switched off. */
async function keyServer(keys: () => JWK[]) {
  let hits = 0
  let up = true
  const server: Server = createServer((_req, res) => {
    hits++
    const body = up ? JSON.stringify({ keys: keys() }) : 'down'
    res.writeHead(up ? 200 : 500, { 'content-type': 'application/json' }).end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closers.push(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/keys/v2`,
    get hits() {
      return hits
    },
    setUp(value: boolean) {
      up = value
    },
  }
}

/** A new RSA key, its public JWK under a fresh kid, and a signer for Hydra-shaped tokens. */
async function newKey(issuer: TestIssuer) {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true })
  const kid = randomUUID()
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }
  const sign = (clientId: string, key: CryptoKey = privateKey, k = kid) =>
    new SignJWT({ client_id: clientId, aud: ['smd'], jti: randomUUID() })
      .setProtectedHeader({ alg: 'RS256', kid: k, typ: 'JWT' })
      .setIssuer(issuer.issuer)
      .setSubject(clientId)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key)
  return { jwk, kid, privateKey, sign }
}

async function outcome(auth: Authenticator, token: string): Promise<string> {
  try {
    return `accepted ${(await auth.verify(token)).actorId}`
  } catch (err) {
    if (isAuthError(err)) return `${err.status} ${err.reason}`
    throw err
  }
}

/** Waits (up to `ms`) for a condition that a background task will make true. */
async function until(condition: () => boolean, ms = 3000): Promise<void> {
  const deadline = performance.now() + ms
  while (!condition() && performance.now() < deadline) await sleep(10)
  expect(condition()).toBe(true)
}

/** The issuer's own published key, as served by its JWKS endpoint. */
async function publishedKeys(issuer: TestIssuer): Promise<JWK[]> {
  const res = await fetch(issuer.jwksUri)
  return ((await res.json()) as { keys: JWK[] }).keys
}

describe('R11: the discovered jwks_uri is discovered again', () => {
  it('R11: an issuer that moves its JWKS: a new key is accepted after re-discovery, without restart, for a bounded number of discovery fetches', async () => {
    // Long enough that both storms below fit in one window on a slow machine.
    const cooldown = 1500
    const issuer = await newIssuer()
    const { auth, lines } = discovering(issuer, { cooldown })
    const old = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    expect(await outcome(auth, old)).toBe('accepted bss')
    expect(issuer.hits.discovery).toBe(1)

    // The issuer moves its keys: new metadata, a new key at the new address, the old one gone.
    const rotated = await newKey(issuer)
    const kept = await publishedKeys(issuer)
    const moved = await keyServer(() => [...kept, rotated.jwk])
    issuer.setDiscoveryOverrides({ jwks_uri: moved.url })
    issuer.setJwksMode('fail')
    const tokens = await Promise.all(
      Array.from({ length: 100 }, (_, i) => rotated.sign(`svc-${i}`)),
    )
    const { privateKey: attacker } = await generateKeyPair('RS256')
    const strangers = await Promise.all(
      Array.from({ length: 50 }, () => rotated.sign('mallory', attacker, randomUUID())),
    )
    await sleep(cooldown) // the start-up fetch opened a cooldown window

    const discoveries = issuer.hits.discovery
    const oldFetches = issuer.hits.jwks
    // A storm of requests under the new key: one refetch attempt, which re-discovers once.
    const results = await Promise.all(tokens.map((t) => outcome(auth, t)))
    expect(results).toEqual(tokens.map((_, i) => `accepted svc-${i}`))
    expect(issuer.hits.jwks - oldFetches).toBe(1) // the old address, tried once, failing
    expect(issuer.hits.discovery - discoveries).toBeGreaterThanOrEqual(1)
    expect(issuer.hits.discovery - discoveries).toBeLessThanOrEqual(2) // OIDC, then RFC 8414
    expect(moved.hits).toBe(1)
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        event: 'jwks_uri_changed',
        from: issuer.jwksUri,
        to: moved.url,
      }),
    )

    // Inside the cooldown, a storm of unknown kids costs nothing anywhere.
    const before = [issuer.hits.discovery, issuer.hits.jwks, moved.hits]
    for (const result of await Promise.all(strangers.map((t) => outcome(auth, t)))) {
      expect(result).toBe('401 key_not_found')
    }
    expect([issuer.hits.discovery, issuer.hits.jwks, moved.hits]).toEqual(before)
    // The old key was moved along with the new one: old tokens are still accepted, no fetch.
    expect(await outcome(auth, old)).toBe('accepted bss')
    expect(moved.hits).toBe(1)
  })

  it('R11: the background refresh re-discovers; refused metadata keeps the last good jwks_uri, which is never replaced by it', async () => {
    const issuer = await newIssuer()
    let listenerHits = 0
    const listener = createServer((_req, res) => {
      listenerHits++
      res.end('{"keys":[]}')
    })
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
    closers.push(async () => {
      listener.closeAllConnections()
      await new Promise((resolve) => listener.close(resolve))
    })
    const elsewhere = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/keys`
    const { auth, lines } = discovering(issuer, { cooldown: 100, refreshInterval: 1000 })
    expect(await auth.ready()).toBe(true)

    for (const refused of [
      { issuer: 'https://evil.test/', jwks_uri: elsewhere }, // another issuer's metadata
      { jwks_uri: 'http://169.254.169.254/latest/meta-data/' }, // a link-local address
    ]) {
      issuer.setDiscoveryOverrides(refused)
      const discoveries = issuer.hits.discovery
      const fetches = issuer.hits.jwks
      // A key rotated in at the issuer, at the address discovered first.
      const kid = await issuer.rotateKey()
      const t = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'], kid })
      await until(() => issuer.hits.jwks > fetches) // the background refresh ran
      await sleep(50) // let its answer be installed
      expect(issuer.hits.discovery).toBeGreaterThan(discoveries) // and looked again first
      expect(await outcome(auth, t)).toBe('accepted bss')
      expect(lines).toContainEqual(
        expect.objectContaining({
          level: 'error',
          event: 'jwks_discovery_failed',
          issuer: issuer.issuer,
          jwks_uri: issuer.jwksUri,
        }),
      )
      lines.length = 0
    }
    expect(listenerHits).toBe(0)
    expect(JSON.stringify(lines)).not.toContain('169.254')
  })

  it('R11: after a failed key fetch, a failed re-discovery keeps the last good keys and address; a configured jwksUri is never re-discovered', async () => {
    const issuer = await newIssuer()
    const { auth, lines } = discovering(issuer, { cooldown: 100 })
    const t = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    expect(await outcome(auth, t)).toBe('accepted bss')
    issuer.setJwksMode('fail')
    issuer.setDiscoveryMode('fail')
    await sleep(110)
    const discoveries = issuer.hits.discovery
    const rotated = await newKey(issuer)
    // Unknown kid → refetch at the known address fails → re-discovery fails → 503, both logged.
    expect(await outcome(auth, await rotated.sign('svc'))).toBe('503 jwks_unavailable')
    expect(issuer.hits.discovery - discoveries).toBe(2)
    expect(lines.map((l) => l.event)).toEqual(['jwks_discovery_failed', 'jwks_fetch_failed'])
    expect(lines[1]).toMatchObject({ jwks_uri: issuer.jwksUri, serving_last_good_keys: true })
    // The known key keeps serving, and the address is kept: once the endpoints are back, the
    // next attempt fetches from it.
    expect(
      await outcome(auth, await issuer.mintClientToken({ clientId: 'b', audience: ['smd'] })),
    ).toBe('accepted b')
    issuer.setJwksMode('ok')
    issuer.setDiscoveryMode('ok')
    await sleep(110)
    const fetches = issuer.hits.jwks
    const kid = await issuer.rotateKey()
    expect(
      await outcome(auth, await issuer.mintClientToken({ clientId: 'c', audience: ['smd'], kid })),
    ).toBe('accepted c')
    expect(issuer.hits.jwks).toBe(fetches + 1)

    // With jwksUri configured there is nothing to discover, on failure or on refresh.
    const configured = createAuthenticator({
      issuer: issuer.issuer,
      audience: 'smd',
      jwksUri: issuer.jwksUri,
      jwks: { cooldown: 100, timeout: 500, refreshInterval: 1000 },
      logger: { warn: () => undefined, error: () => undefined },
    })
    closers.push(() => {
      configured.close()
    })
    expect(await configured.ready()).toBe(true)
    const seen = issuer.hits.discovery
    issuer.setJwksMode('fail')
    await sleep(110)
    expect(await outcome(configured, await rotated.sign('svc'))).toBe('503 jwks_unavailable')
    await until(() => issuer.hits.jwks > fetches + 3, 3000) // failed refetch, then refreshes
    expect(issuer.hits.discovery).toBe(seen)
  })
})

describe('R11: the discovered introspection endpoint is discovered again', () => {
  /**
   * Introspection with the endpoint from discovery metadata (no `endpoint` configured); the JWKS
   * address is configured, so every discovery request counted is the introspection side's.
   */
  function introspecting(issuer: TestIssuer, cooldown: number) {
    const auth = createAuthenticator({
      issuer: issuer.issuer,
      audience: 'smd',
      jwksUri: issuer.jwksUri,
      introspection: { timeout: 500 },
      jwks: { cooldown, timeout: 500 },
      logger: { warn: () => undefined, error: () => undefined },
    })
    closers.push(() => {
      auth.close()
    })
    return auth
  }

  it('R11: an introspection endpoint that moves is followed after a failed call, for a bounded number of discovery fetches', async () => {
    const cooldown = 1500
    const [issuer, elsewhere] = await Promise.all([newIssuer(), newIssuer()])
    issuer.setDiscoveryOverrides({ introspection_endpoint: issuer.introspectionEndpoint })
    const auth = introspecting(issuer, cooldown)
    const opaque = (at: TestIssuer, clientId: string) =>
      at.mintOpaqueToken({ clientId, audience: ['smd'], claims: { iss: issuer.issuer } })
    expect(await outcome(auth, opaque(issuer, 'bss'))).toBe('accepted bss')
    expect(issuer.hits.discovery).toBe(1)

    // The endpoint moves: new metadata, the old endpoint down.
    issuer.setDiscoveryOverrides({ introspection_endpoint: elsewhere.introspectionEndpoint })
    issuer.setIntrospectionMode('down')
    const tokens = Array.from({ length: 50 }, (_, i) => opaque(elsewhere, `svc-${i}`))
    await sleep(cooldown) // the first discovery opened a cooldown window
    const discoveries = issuer.hits.discovery
    const results = await Promise.all(tokens.map((t) => outcome(auth, t)))
    expect(results).toEqual(tokens.map((_, i) => `accepted svc-${i}`))
    expect(issuer.hits.discovery - discoveries).toBe(1) // one discovery, shared by the storm
    expect(elsewhere.hits.introspection).toBe(50)

    // From now on the new endpoint is asked directly.
    const asked = issuer.hits.introspection
    expect(await outcome(auth, opaque(elsewhere, 'next'))).toBe('accepted next')
    expect(issuer.hits.introspection).toBe(asked)
    // Both endpoints down inside the cooldown: 503, and no discovery at all.
    elsewhere.setIntrospectionMode('down')
    const storm = Array.from({ length: 30 }, (_, i) => opaque(elsewhere, `down-${i}`))
    for (const result of await Promise.all(storm.map((t) => outcome(auth, t)))) {
      expect(result).toBe('503 introspection_unavailable')
    }
    expect(issuer.hits.discovery - discoveries).toBe(1)
  })

  it('R11: a failing introspection discovery costs one attempt per cooldown, not one per request', async () => {
    const issuer = await newIssuer()
    issuer.setDiscoveryMode('fail')
    const auth = introspecting(issuer, 60_000)
    for (let i = 0; i < 20; i++) {
      expect(await outcome(auth, `ory_at_t${i}.c2ln`)).toBe('503 introspection_unavailable')
    }
    expect(issuer.hits.discovery).toBe(2) // OIDC, then RFC 8414, once
    expect(issuer.hits.introspection).toBe(0)
  })
})
