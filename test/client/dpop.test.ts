/**
 * Outbound DPoP calls (issue 18, item 2; RFC 9449 §7.1, §9) against a real target that checks
 * every proof with the core's `verifyDpopProof`: `Authorization: DPoP` with a fresh proof per
 * dispatch (htm, htu without query, ath, iat, jti, the key the token is bound to), the target's
 * `use_dpop_nonce` retried once and its nonce kept for the next calls, the 401 `invalid_token`
 * retry with a DPoP challenge, both retries bounded together, redirects, a Bearer answer from an
 * authorization server that ignores DPoP, and nothing secret in logs or errors.
 */
import { generateKeyPairSync } from 'node:crypto'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { Readable } from 'node:stream'
import type { ServiceClient, ServiceClientOptions } from '@svcauth/client'
import { accessTokenHash, CHANNELS } from '@svcauth/core'
import { calculateJwkThumbprint, decodeJwt, exportJWK, type JWK } from 'jose'
import pino from 'pino'
import { Agent, interceptors } from 'undici'
import { describe, expect, it } from 'vitest'
import { captureLogs } from '../support/log-capture.js'
import { startDownstream, type Downstream } from './downstream.js'
import { startDpopTarget, useDpopSetup } from './dpop-target.js'

const setup = useDpopSetup()

function client(
  extra: Partial<ServiceClientOptions> = {},
  origins = [setup.target.origin],
): ServiceClient {
  return setup.client({
    targets: Object.fromEntries(origins.map((o) => [o, { scope: 'smd.read', audience: 'smd' }])),
    retry: { minDelay: 50, maxDelay: 200 },
    dpop: true,
    ...extra,
  })
}

const tokenOf = (authorization: string | undefined): string =>
  (authorization ?? '').replace(/^(DPoP|Bearer) /, '')

describe('DPoP: calls to a target', () => {
  it('sends Authorization: DPoP with a proof for this request: htm, htu without query, ath, iat, the bound key', async () => {
    const svc = client()
    const before = Math.floor(Date.now() / 1000)
    const res = await svc.fetch(`${setup.target.origin}/hsm/v2/State/Components?type=Node#frag`)
    expect(res.status).toBe(200)
    await res.text()

    const sent = setup.target.seen[0]!
    expect(sent.status, sent.refusal).toBe(200)
    expect(sent.authorization).toMatch(/^DPoP [\w.-]+$/)
    expect(sent.proofs).toHaveLength(1)
    const token = tokenOf(sent.authorization)
    expect(sent.header).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' })
    expect(sent.claims).toMatchObject({
      htm: 'GET',
      htu: `${setup.target.origin}/hsm/v2/State/Components`,
      ath: accessTokenHash(token),
    })
    expect(sent.claims?.nonce).toBeUndefined()
    expect(typeof sent.claims?.jti).toBe('string')
    expect(Buffer.from(sent.claims!.jti!, 'utf8').length).toBeGreaterThanOrEqual(16)
    expect(sent.claims?.iat).toBeGreaterThanOrEqual(before)
    expect(sent.claims?.iat).toBeLessThanOrEqual(Math.floor(Date.now() / 1000))

    // The token request carried a proof for the token endpoint (RFC 9449 §5), with the same key.
    const asProof = String(setup.issuer.tokenRequests[0]?.headers.dpop)
    expect(decodeJwt(asProof)).toMatchObject({ htm: 'POST', htu: setup.issuer.tokenEndpoint })
    expect(decodeJwt(asProof).ath).toBeUndefined()
    const jkt = await calculateJwkThumbprint(sent.header?.jwk as JWK)
    expect((decodeJwt(token).cnf as { jkt: string }).jkt).toBe(jkt)
  })

  it('makes a fresh proof for every call: distinct jti, each for its own method and path', async () => {
    const svc = client()
    const calls: [string, string][] = [
      ['GET', '/a'],
      ['POST', '/b'],
      ['PUT', '/c/d'],
      ['DELETE', '/e?x=1'],
      ['GET', '/a'],
    ]
    for (const [method, path] of calls) {
      const res = await svc.request(`${setup.target.origin}${path}`, {
        method: method as 'GET',
        ...(method === 'GET' || method === 'DELETE' ? {} : { body: 'payload' }),
      })
      await res.body.text()
      expect(res.statusCode).toBe(200)
    }
    expect(setup.target.seen.map((s) => [s.claims?.htm, s.claims?.htu])).toEqual(
      calls.map(([m, p]) => [m, `${setup.target.origin}${p.replace(/\?.*$/, '')}`]),
    )
    expect(new Set(setup.target.seen.map((s) => s.claims?.jti)).size).toBe(calls.length)
    expect(setup.issuer.tokenRequests).toHaveLength(1)
  })

  it("retries a target's use_dpop_nonce once with its nonce, replaying the body; the next call carries the nonce at once", async () => {
    setup.target.nonce = 'rs-nonce-1'
    const svc = client()
    const events: unknown[] = []
    const listener = (message: unknown): void => {
      events.push(message)
    }
    subscribe(CHANNELS.outboundRetry, listener)
    const res = await svc
      .fetch(`${setup.target.origin}/boot`, { method: 'POST', body: '{"node":"x1"}' })
      .finally(() => {
        unsubscribe(CHANNELS.outboundRetry, listener)
      })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { body: string }).body).toBe('{"node":"x1"}')
    expect(events).toEqual([{ clientId: 'bss', reason: 'use_dpop_nonce' }])
    expect(setup.target.seen.map((s) => [s.status, s.claims?.nonce, s.refusal])).toEqual([
      [401, undefined, 'nonce_missing'],
      [200, 'rs-nonce-1', undefined],
    ])
    expect(setup.target.seen[0]?.claims?.jti).not.toBe(setup.target.seen[1]?.claims?.jti)

    await (await svc.fetch(`${setup.target.origin}/again`)).text()
    expect(setup.target.seen).toHaveLength(3)
    expect(setup.target.seen[2]).toMatchObject({ status: 200, claims: { nonce: 'rs-nonce-1' } })
    expect(setup.issuer.tokenRequests).toHaveLength(1)
  })

  it('keeps the nonce a target sends on a success (RFC 9449 §8.2) for its next proofs', async () => {
    const svc = client()
    setup.target.nextNonce = 'rotated-2'
    await (await svc.fetch(`${setup.target.origin}/a`)).text()
    setup.target.nonce = 'rotated-2'
    await (await svc.fetch(`${setup.target.origin}/b`)).text()
    expect(setup.target.seen.map((s) => s.status)).toEqual([200, 200])
    expect(setup.target.seen[1]?.claims?.nonce).toBe('rotated-2')
  })

  it('P17: a target that answers use_dpop_nonce with a new nonce every time gets one nonce retry, then its 401', async () => {
    const rs: Downstream = await startDownstream()
    try {
      rs.respond = (_req, n) => ({
        status: 401,
        headers: {
          'www-authenticate': 'DPoP error="use_dpop_nonce", algs="ES256"',
          'dpop-nonce': `n-${n}`,
        },
        body: 'nonce please',
      })
      const svc = client({}, [rs.origin])
      const res = await svc.request(`${rs.origin}/x`, { method: 'PUT', body: 'payload' })
      expect(res.statusCode).toBe(401)
      expect(res.headers['dpop-nonce']).toBe('n-2')
      expect(await res.body.text()).toBe('nonce please')
      expect(rs.seen).toHaveLength(2)
      expect(rs.seen.map((s) => s.body)).toEqual(['payload', 'payload'])
      expect(setup.issuer.tokenRequests).toHaveLength(1)
    } finally {
      await rs.close()
    }
  })

  it('no nonce retry without a usable DPoP-Nonce, with the nonce just sent, or for a body that cannot be replayed', async () => {
    const rs: Downstream = await startDownstream()
    try {
      const answers: Record<string, string>[] = [
        { 'www-authenticate': 'DPoP error="use_dpop_nonce"' },
        { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': 'bad "nonce"' },
      ]
      rs.respond = (_req, n) => ({ status: 401, headers: answers[n - 1] ?? {} })
      const svc = client({ maxReplayBytes: 0 }, [rs.origin, setup.target.origin])
      for (let i = 0; i < answers.length; i++) {
        const res = await svc.request(`${rs.origin}/x`)
        expect(res.statusCode).toBe(401)
        await res.body.text()
      }
      expect(rs.seen).toHaveLength(2)

      // The same nonce as the one sent: a retry would be refused the same way.
      setup.target.nonce = 'stale'
      setup.target.nextNonce = 'stale'
      await (await svc.fetch(`${setup.target.origin}/warm`)).text()
      expect(setup.target.seen).toHaveLength(2)
      setup.target.respond = () => ({
        status: 401,
        headers: { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': 'stale' },
      })
      const same = await svc.fetch(`${setup.target.origin}/same`)
      expect(same.status).toBe(401)
      await same.text()
      expect(setup.target.seen).toHaveLength(3)

      // A streamed body over maxReplayBytes (0) is not buffered, so not replayed.
      setup.target.respond = undefined
      setup.target.nonce = 'fresh'
      const streamed = await svc.fetch(`${setup.target.origin}/stream`, {
        method: 'POST',
        body: Readable.toWeb(Readable.from([Buffer.from('chunk')])) as ReadableStream,
        duplex: 'half',
      })
      expect(streamed.status).toBe(401)
      await streamed.text()
      expect(setup.target.seen).toHaveLength(4)
    } finally {
      await rs.close()
    }
  })
})

describe('DPoP: the 401 retry', () => {
  const invalidToken = {
    status: 401,
    headers: { 'www-authenticate': 'Bearer realm="smd", DPoP error="invalid_token", algs="ES256"' },
  }

  it('a cached token refused with a DPoP invalid_token challenge is replaced once and the call replayed', async () => {
    const svc = client()
    await svc.getToken(setup.target.origin)
    setup.target.respond = (_req, n) => (n === 1 ? invalidToken : undefined)
    const res = await svc.fetch(`${setup.target.origin}/x`, { method: 'POST', body: 'b' })
    expect(res.status).toBe(200)
    await res.text()
    expect(setup.target.seen.map((s) => s.status)).toEqual([401, 200])
    expect(setup.target.seen.every((s) => s.refusal === undefined)).toBe(true)
    const [first, second] = setup.target.seen.map((s) => tokenOf(s.authorization))
    expect(first).not.toBe(second)
    expect(setup.target.seen[1]?.claims?.ath).toBe(accessTokenHash(second!))
    expect(setup.issuer.tokenRequests).toHaveLength(2)
  })

  it('a nonce retry and a token retry together: three dispatches, then success', async () => {
    const svc = client()
    await svc.getToken(setup.target.origin)
    setup.target.nonce = 'n1'
    // The first valid proof (after the nonce retry) meets a revoked token.
    let refused = false
    setup.target.respond = () => {
      if (refused) return undefined
      refused = true
      return invalidToken
    }
    const res = await svc.fetch(`${setup.target.origin}/x`, { method: 'PATCH', body: 'b' })
    expect(res.status).toBe(200)
    await res.text()
    expect(setup.target.seen.map((s) => [s.status, s.claims?.nonce])).toEqual([
      [401, undefined],
      [401, 'n1'],
      [200, 'n1'],
    ])
    expect(setup.issuer.tokenRequests).toHaveLength(2)
  })

  it('P17: no loop: a target that asks for a nonce and then refuses every token is called three times at most', async () => {
    const svc = client()
    await svc.getToken(setup.target.origin)
    setup.target.nonce = 'n1'
    setup.target.respond = () => invalidToken
    const res = await svc.request(`${setup.target.origin}/x`, { method: 'PUT', body: 'b' })
    expect(res.statusCode).toBe(401)
    expect(res.headers['www-authenticate']).toContain('invalid_token')
    await res.body.text()
    expect(setup.target.seen.map((s) => s.status)).toEqual([401, 401, 401])
    expect(setup.target.seen.map((s) => s.claims?.nonce)).toEqual([undefined, 'n1', 'n1'])

    // The other order: a token retry, then the nonce rotates once.
    setup.target.respond = undefined
    await (await svc.fetch(`${setup.target.origin}/accepted`)).text()
    setup.target.respond = (_req, n) => {
      if (n !== 5) return undefined
      setup.target.nonce = 'n2'
      return invalidToken
    }
    const again = await svc.fetch(`${setup.target.origin}/y`, { method: 'POST', body: 'b' })
    expect(again.status).toBe(200)
    await again.text()
    expect(setup.target.seen.slice(4).map((s) => [s.status, s.claims?.nonce])).toEqual([
      [401, 'n1'],
      [401, 'n1'],
      [200, 'n2'],
    ])
  })

  it('no token retry for a token this very call waited for, nor for a proof refused as invalid', async () => {
    const svc = client()
    setup.target.respond = () => invalidToken
    const fresh = await svc.fetch(`${setup.target.origin}/x`)
    expect(fresh.status).toBe(401)
    await fresh.text()
    expect(setup.target.seen).toHaveLength(1)

    setup.target.respond = () => ({
      status: 401,
      headers: { 'www-authenticate': 'DPoP error="invalid_dpop_proof", algs="ES256"' },
    })
    const badProof = await svc.fetch(`${setup.target.origin}/y`)
    expect(badProof.status).toBe(401)
    await badProof.text()
    expect(setup.target.seen).toHaveLength(2)
    expect(setup.issuer.tokenRequests).toHaveLength(1)
  })
})

describe('DPoP: redirects', () => {
  it('P15: fetch follows a same-origin redirect with a proof for the new URL; another origin gets neither Authorization nor DPoP', async () => {
    const stranger = await startDpopTarget()
    try {
      setup.target.respond = (req) =>
        req.path === '/hop'
          ? { status: 307, headers: { location: '/final' } }
          : req.path === '/away'
            ? { status: 307, headers: { location: `${stranger.origin}/land` } }
            : undefined
      const svc = client()
      const hop = await svc.fetch(`${setup.target.origin}/hop`)
      expect(hop.status).toBe(200)
      await hop.text()
      expect(setup.target.seen.map((s) => [s.path, s.status, s.claims?.htu])).toEqual([
        ['/hop', 307, `${setup.target.origin}/hop`],
        ['/final', 200, `${setup.target.origin}/final`],
      ])

      const away = await svc.fetch(`${setup.target.origin}/away`)
      expect(away.status).toBe(200)
      await away.text()
      expect(stranger.seen).toHaveLength(1)
      expect(stranger.seen[0]).toMatchObject({ authorization: undefined, proofs: [] })
    } finally {
      await stranger.close()
    }
  })

  it('P15: a redirect interceptor inside the given dispatcher does not carry the proof on: the 3xx comes back', async () => {
    const stranger = await startDpopTarget()
    const inner = new Agent().compose(interceptors.redirect({ maxRedirections: 3 }))
    try {
      setup.target.respond = () => ({
        status: 307,
        headers: { location: `${stranger.origin}/land` },
      })
      const svc = client({ dispatcher: inner })
      const res = await svc.request(`${setup.target.origin}/away`)
      expect(res.statusCode).toBe(307)
      await res.body.text()
      expect(stranger.seen).toHaveLength(0)
    } finally {
      await inner.close()
      await stranger.close()
    }
  })
})

describe('DPoP: token types', () => {
  it('an authorization server that ignores DPoP answers Bearer: the token is sent as Bearer, without a proof', async () => {
    const bearer = await setup.issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    setup.issuer.setTokenMode({
      status: 200,
      body: JSON.stringify({ access_token: bearer, token_type: 'bearer', expires_in: 3600 }),
    })
    const svc = client()
    await (await svc.fetch(`${setup.target.origin}/x`)).text()
    expect(setup.issuer.tokenRequests[0]?.headers.dpop).toBeDefined()
    expect(setup.target.seen[0]).toMatchObject({
      authorization: `Bearer ${bearer}`,
      proofs: [],
      status: 200,
    })
  })

  it('with dpop off, a DPoP token_type is refused as before and nothing is sent', async () => {
    setup.issuer.setTokenMode({
      status: 200,
      body: '{"access_token":"abc","token_type":"DPoP","expires_in":60}',
    })
    const svc = client({ dpop: false })
    await expect(svc.fetch(`${setup.target.origin}/x`)).rejects.toMatchObject({
      code: 'ERR_TOKEN_ENDPOINT',
      error: 'invalid_response',
      description: 'token_type is not Bearer',
    })
    expect(setup.target.seen).toHaveLength(0)
    expect(setup.issuer.tokenRequests[0]?.headers.dpop).toBeUndefined()
  })

  it('with dpop on, any other token_type is still refused', async () => {
    setup.issuer.setTokenMode({ status: 200, body: '{"access_token":"abc","token_type":"N_A"}' })
    const svc = client()
    await expect(svc.fetch(`${setup.target.origin}/x`)).rejects.toMatchObject({
      error: 'invalid_response',
      description: 'token_type is neither Bearer nor DPoP',
    })
  })
})

describe('DPoP: nothing secret leaks', () => {
  it('no token, proof or private key in logs or error messages', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const jwk = await exportJWK(privateKey)
    const logs = captureLogs()
    const svc = client({
      dpop: { privateKey: jwk },
      logger: pino({ level: 'debug' }, logs.stream),
    })
    setup.target.nonce = 'n1'
    await (await svc.fetch(`${setup.target.origin}/ok`)).text()
    setup.issuer.setDpopNonce('as-n')
    setup.issuer.setTokenMode({
      status: 400,
      body: '{"error":"use_dpop_nonce","error_description":"nonce"}',
      headers: { 'dpop-nonce': 'as-n2' },
    })
    const other = client({ dpop: { privateKey: jwk }, logger: pino({}, logs.stream) })
    const err: unknown = await other.fetch(`${setup.target.origin}/fail`).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toMatchObject({ code: 'ERR_TOKEN_ENDPOINT', error: 'use_dpop_nonce' })

    const secrets = [
      jwk.d!,
      ...setup.target.seen.map((s) => tokenOf(s.authorization)),
      ...setup.target.seen.flatMap((s) => s.proofs),
      ...setup.issuer.tokenRequests.map((r) => String(r.headers.dpop)),
    ].filter((s) => s.length > 8)
    expect(secrets.length).toBeGreaterThan(4)
    const text = `${logs.raw.join('')} ${String(err)} ${JSON.stringify(err)} ${(err as Error).stack ?? ''}`
    for (const secret of secrets) expect(text).not.toContain(secret)
    expect(logs.lines.some((l) => l.event === 'token_fetched' && l.token_type === 'DPoP')).toBe(
      true,
    )
  })
})
