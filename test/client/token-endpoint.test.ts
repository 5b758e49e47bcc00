/**
 * Client-credentials acquisition against the test issuer's Hydra-shaped token endpoint
 * (catalogue J1–J13): encoding, request shape, response validation, caching, single-flight,
 * backoff, outages, secret rotation and the other client authentication methods.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import {
  basicAuthorization,
  createServiceClient,
  formEncode,
  isTokenEndpointError,
  type ServiceClient,
  type ServiceClientOptions,
} from '@svcauth/client'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import { exportJWK, generateKeyPair } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { typeError } from '../support/type-error.js'
import { startBareRefusalServer } from './bare-refusal-server.js'
import { startDownstream, type Downstream } from './downstream.js'

let issuer: TestIssuer
let smd: Downstream
const clients: ServiceClient[] = []

beforeEach(async () => {
  issuer = await createTestIssuer({ keyCount: 1 })
  issuer.addClient({
    clientId: 'bss',
    secrets: ['s3cret'],
    scope: ['smd.read', 'smd.write'],
    audience: ['smd'],
  })
  smd = await startDownstream()
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await smd.close()
  await issuer.close()
})

type Overrides = { [K in keyof ServiceClientOptions]?: ServiceClientOptions[K] | undefined }

function client(extra: Overrides = {}): ServiceClient {
  const svc = createServiceClient({
    tokenEndpoint: issuer.tokenEndpoint,
    clientId: 'bss',
    clientSecret: 's3cret',
    targets: { [smd.origin]: { scope: ['smd.read'], audience: 'smd' } },
    retry: { minDelay: 50, maxDelay: 200 },
    ...extra,
  } as ServiceClientOptions)
  clients.push(svc)
  return svc
}

async function call(svc: ServiceClient): Promise<string> {
  try {
    const res = await svc.request(`${smd.origin}/x`)
    const body = (await res.body.json()) as { authorization: string | null }
    return `${res.statusCode} ${body.authorization === null ? 'none' : 'bearer'}`
  } catch (err) {
    return isTokenEndpointError(err) ? `error ${err.error}` : `error ${String(err)}`
  }
}

describe('J: client-credentials acquisition', () => {
  it('J1: encodes client_secret_basic per RFC 6749 §2.3.1, matching the known vectors', () => {
    expect(formEncode(' %&+£€')).toBe('+%25%26%2B%C2%A3%E2%82%AC')
    expect(basicAuthorization('1PpG/Q 1', 'z/tZ9VwFZqApmIQ+ZH1I5pLk/uB4ud:X2/8bL+wfFTt1rFw=')).toBe(
      'Basic MVBwRyUyRlErMTp6JTJGdFo5VndGWnFBcG1JUSUyQlpIMUk1cExrJTJGdUI0dWQlM0FYMiUyRjhiTCUyQndmRlR0MXJGdyUzRA==',
    )
  })

  it('J1: a client id and secret with reserved characters authenticate against a decoding server', async () => {
    issuer.addClient({ clientId: '1PpG/Q 1', secrets: ['z/tZ9:X2+8=%'], scope: ['smd.read'] })
    const svc = client({
      clientId: '1PpG/Q 1',
      clientSecret: 'z/tZ9:X2+8=%',
      targets: { [smd.origin]: { scope: 'smd.read' } },
    })
    expect(await call(svc)).toBe('200 bearer')
  })

  it('J2: sends a form POST with grant_type, scope and audience, and no secret in the URL', async () => {
    await call(client())
    const [req] = issuer.tokenRequests
    expect(req?.headers['content-type']).toBe('application/x-www-form-urlencoded')
    expect(req?.headers.accept).toBe('application/json')
    expect(req?.headers.authorization).toMatch(/^Basic /)
    expect(req?.form).toEqual({
      grant_type: 'client_credentials',
      scope: 'smd.read',
      audience: 'smd',
    })
    expect(smd.seen[0]?.authorization).toMatch(/^Bearer /)
  })

  it('J2: client_secret_post puts the credentials in the body; resource is sent per RFC 8707', async () => {
    issuer.addClient({ clientId: 'poster', secrets: ['p'], authMethod: 'client_secret_post' })
    const svc = client({
      clientId: 'poster',
      clientSecret: 'p',
      authMethod: 'client_secret_post',
      targets: { [smd.origin]: { scope: 'smd.read', resource: 'https://smd.example/' } },
    })
    expect(await call(svc)).toBe('200 bearer')
    const [req] = issuer.tokenRequests
    expect(req?.headers.authorization).toBeUndefined()
    expect(req?.form).toMatchObject({
      client_id: 'poster',
      client_secret: 'p',
      resource: 'https://smd.example/',
    })
  })

  it('J2: private_key_jwt signs a fresh assertion for every request', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
    issuer.addClient({
      clientId: 'signer',
      authMethod: 'private_key_jwt',
      jwks: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }],
    })
    const svc = client({
      clientId: 'signer',
      clientSecret: undefined,
      authMethod: 'private_key_jwt',
      privateKey,
      privateKeyAlg: 'ES256',
      privateKeyId: 'k1',
      targets: { [smd.origin]: { scope: 'smd.read' }, 'http://127.0.0.1:1': { scope: 'other' } },
    })
    expect(await call(svc)).toBe('200 bearer')
    await svc.getToken('http://127.0.0.1:1')
    const assertions = issuer.tokenRequests.map((r) => r.form.client_assertion)
    expect(assertions).toHaveLength(2)
    expect(new Set(assertions).size).toBe(2)
  })

  it('J3: does not follow a redirect from the token endpoint', async () => {
    issuer.setTokenMode('redirect')
    expect(await call(client())).toBe('error invalid_response')
    expect(issuer.hits.token).toBe(1)
    expect(smd.seen).toHaveLength(0)
  })

  it('J4/J5: refuses malformed success responses and never sends them', async () => {
    const bad = [
      '{}',
      '{"access_token":""}',
      '{"access_token":123,"token_type":"Bearer"}',
      '{"access_token":"abc\\r\\nX-Evil: 1","token_type":"Bearer"}',
      '{"access_token":"a b","token_type":"Bearer"}',
      '{"access_token":"ok","token_type":"DPoP"}',
      '{"access_token":"ok","token_type":"N_A"}',
      '{"access_token":"ok"}',
      '{"access_token":"ok","token_type":"Bearer","expires_in":"abc"}',
    ]
    for (const body of bad) {
      issuer.setTokenMode({ status: 200, body })
      expect(await call(client()), body).toBe('error invalid_response')
    }
    expect(smd.seen).toHaveLength(0)
  })

  it('J5/J6: accepts bearer in any case, expires_in as a digit string, and a __proto__ member harmlessly', async () => {
    for (const body of [
      '{"access_token":"t1","token_type":"bearer","expires_in":"3599"}',
      '{"access_token":"t2","token_type":"BEARER","expires_in":3599.9}',
      '{"__proto__":{"polluted":1},"access_token":"t3","token_type":"Bearer"}',
    ]) {
      issuer.setTokenMode({ status: 200, body })
      const svc = client()
      expect(await call(svc), body).toBe('200 bearer')
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(smd.seen.map((s) => s.authorization)).toEqual(['Bearer t1', 'Bearer t2', 'Bearer t3'])
  })

  it('J6: a token with no expires_in is cached only for the default lifetime', async () => {
    issuer.setTokenMode({ status: 200, body: '{"access_token":"short","token_type":"Bearer"}' })
    const svc = client({ defaultLifetime: 1, refreshSkew: 0 })
    await call(svc)
    await call(svc)
    expect(issuer.hits.token).toBe(1)
    await sleep(1100)
    await call(svc)
    expect(issuer.hits.token).toBe(2)
  })

  it('J6: expires_in 0 is used once and not cached; a short lifetime does not cause a refresh loop', async () => {
    issuer.setTokenMode({
      status: 200,
      body: '{"access_token":"zero","token_type":"Bearer","expires_in":0}',
    })
    const zero = client()
    await call(zero)
    await call(zero)
    expect(issuer.hits.token).toBe(2)
    issuer.setTokenMode({
      status: 200,
      body: '{"access_token":"twenty","token_type":"Bearer","expires_in":20}',
    })
    const short = client({ refreshSkew: 30 })
    for (let i = 0; i < 20; i++) await call(short)
    expect(issuer.hits.token).toBe(3)
  })

  it('J7: error responses become a typed TokenEndpointError without secrets', async () => {
    const cases: [Parameters<TestIssuer['setTokenMode']>[0], string][] = [
      [{ status: 400, body: '{"error":"invalid_client"}' }, 'invalid_client'],
      [{ status: 401, body: 'nope', headers: { 'www-authenticate': 'Basic' } }, 'invalid_client'],
      [{ status: 400, body: '{"error":"invalid_scope"}' }, 'invalid_scope'],
      ['5xx', 'server_error'],
      [{ status: 200, body: '<html>ok</html>' }, 'invalid_response'],
      [{ status: 200, body: '{"error":"server_error"}' }, 'server_error'],
    ]
    for (const [mode, code] of cases) {
      issuer.setTokenMode(mode)
      const svc = client()
      try {
        await svc.getToken(smd.origin)
        expect.unreachable()
      } catch (err) {
        expect(isTokenEndpointError(err) && err.error, JSON.stringify(mode)).toBe(code)
        expect(JSON.stringify(err) + String(err)).not.toContain('s3cret')
      }
    }
  })

  it('J8: a stalled or huge response fails within the timeout and cap', async () => {
    issuer.setTokenMode('hang')
    const started = Date.now()
    expect(await call(client({ timeout: 300 }))).toBe('error network_error')
    expect(Date.now() - started).toBeLessThan(1500)
    issuer.setTokenMode({
      status: 200,
      body: `{"access_token":"${'a'.repeat(10 * 1024 * 1024)}","token_type":"Bearer"}`,
    })
    expect(await call(client())).toBe('error invalid_response')
  })

  it('J9: a cold burst shares one token request; a failing wave fails together and the next call retries', async () => {
    const svc = client()
    const results = await Promise.all(Array.from({ length: 50 }, () => call(svc)))
    expect(new Set(results)).toEqual(new Set(['200 bearer']))
    expect(issuer.hits.token).toBe(1)
    issuer.setTokenMode('5xx')
    const failing = client()
    const failed = await Promise.all(Array.from({ length: 50 }, () => call(failing)))
    expect(new Set(failed)).toEqual(new Set(['error server_error']))
    expect(issuer.hits.token).toBe(2)
    issuer.setTokenMode('ok')
    await sleep(120)
    expect(await call(failing)).toBe('200 bearer')
  })

  it('J10: refreshes ahead of expiry in the background; callers keep the current token meanwhile', async () => {
    issuer.setTokenMode({
      status: 200,
      body: '{"access_token":"first","token_type":"Bearer","expires_in":2}',
    })
    const svc = client({ refreshSkew: 30 })
    await call(svc)
    issuer.setTokenMode({
      status: 200,
      body: '{"access_token":"second","token_type":"Bearer","expires_in":60}',
    })
    await sleep(1100) // past half of the 2 s lifetime: the next call starts a refresh
    await call(svc)
    await sleep(50)
    await call(svc)
    expect(smd.seen.map((s) => s.authorization)).toEqual([
      'Bearer first',
      'Bearer first',
      'Bearer second',
    ])
  })

  it('J11: different scopes, audiences and clients get separate tokens', async () => {
    const other = await startDownstream()
    try {
      issuer.addClient({ clientId: 'billing', secrets: ['b'], scope: ['smd.read'] })
      const a = client({
        targets: {
          [smd.origin]: { scope: 'smd.read', audience: 'smd' },
          [other.origin]: { scope: 'smd.write' },
        },
      })
      const b = client({
        clientId: 'billing',
        clientSecret: 'b',
        targets: { [smd.origin]: { scope: 'smd.read' } },
      })
      const tokens = new Set([
        await a.getToken(smd.origin),
        await a.getToken(other.origin),
        await b.getToken(smd.origin),
      ])
      expect(tokens.size).toBe(3)
      expect(issuer.tokenRequests.map((r) => r.form.scope)).toEqual([
        'smd.read',
        'smd.write',
        'smd.read',
      ])
    } finally {
      await other.close()
    }
  })

  it('J12: refuses unsafe token endpoint URLs at construction', () => {
    for (const [url, message] of [
      [
        'http://as.example/token',
        /tokenEndpoint must use https: http:\/\/as.example is plain HTTP off loopback \(allow it with allowInsecureHttp/,
      ],
      ['https://u:p@as.test/token', /tokenEndpoint must not carry credentials/],
      ['https://as.test/token?x=1', /tokenEndpoint must not have a query/],
      ['https://as.test/token#f', /tokenEndpoint must not have a fragment/],
      ['file:///etc/passwd', /tokenEndpoint must use https/],
    ] as const) {
      expect(() => client({ tokenEndpoint: url }), url).toThrow(typeError(message))
    }
    expect(() =>
      client({ tokenEndpoint: 'http://hydra:4444/oauth2/token', allowInsecureHttp: true }),
    ).not.toThrow()
  })

  it('J13: honours Retry-After and bounds requests while the endpoint fails', async () => {
    issuer.setTokenMode('429')
    const svc = client({ retry: { minDelay: 50, maxDelay: 5000 } })
    const first = await call(svc)
    expect(first).toBe('error too_many_requests')
    const started = Date.now()
    while (Date.now() - started < 800) expect(await call(svc)).toBe('error too_many_requests')
    expect(issuer.hits.token).toBe(1) // Retry-After: 1 holds further requests back
    await sleep(300)
    issuer.setTokenMode('ok')
    expect(await call(svc)).toBe('200 bearer')
    expect(issuer.hits.token).toBe(2)
  })

  it('keeps using a still-valid token while the token endpoint is down', async () => {
    issuer.setTokenMode({
      status: 200,
      body: '{"access_token":"valid","token_type":"Bearer","expires_in":4}',
    })
    const svc = client({ refreshSkew: 30 })
    expect(await call(svc)).toBe('200 bearer')
    issuer.setTokenMode('down')
    await sleep(2100) // refresh window reached; refreshes fail in the background
    for (let i = 0; i < 20; i++) expect(await call(svc)).toBe('200 bearer')
    expect(smd.seen.every((s) => s.authorization === 'Bearer valid')).toBe(true)
  })

  it('fails closed with TokenEndpointError and sends nothing when no valid token exists', async () => {
    issuer.setTokenMode('down')
    const svc = client()
    await expect(svc.fetch(`${smd.origin}/x`)).rejects.toThrow()
    expect(await call(svc)).toMatch(/^error /)
    expect(smd.seen).toHaveLength(0)
  })

  it('discovers the token endpoint from the issuer', async () => {
    const svc = client({ tokenEndpoint: undefined, issuer: issuer.issuer })
    expect(await call(svc)).toBe('200 bearer')
    expect(issuer.hits.discovery).toBe(1)
  })
})

describe('secret rotation', () => {
  it('keeps every call succeeding while the server rotates to the new secret of [new, old]', async () => {
    const svc = client({ clientSecret: ['n3w', 's3cret'], maxLifetime: 1 })
    expect(await call(svc)).toBe('200 bearer')
    issuer.rotateClientSecret('bss', 'n3w')
    await sleep(1100) // the cached token expires; the next fetch meets the rotated server
    for (let i = 0; i < 5; i++) expect(await call(svc)).toBe('200 bearer')
    const used = issuer.tokenRequests.map((r) => r.headers.authorization)
    expect(used).toEqual([
      basicAuthorization('bss', 'n3w'),
      basicAuthorization('bss', 's3cret'),
      basicAuthorization('bss', 's3cret'),
      basicAuthorization('bss', 'n3w'),
    ])
  })

  it('re-reads a secret provider once on invalid_client', async () => {
    let reads = 0
    const svc = client({ clientSecret: () => (++reads === 1 ? 's3cret' : 'rotated') })
    issuer.rotateClientSecret('bss', 'rotated')
    expect(await call(svc)).toBe('200 bearer')
    expect(reads).toBe(2)
    expect(issuer.hits.token).toBe(2)
  })

  it('fails closed with invalid_client when no secret works, and logs without the secret', async () => {
    const lines: Record<string, unknown>[] = []
    const svc = client({
      clientSecret: ['wrong1', 'wrong2'],
      logger: { warn: () => undefined, error: (o) => lines.push(o) },
    })
    expect(await call(svc)).toBe('error invalid_client')
    expect(issuer.hits.token).toBe(2)
    expect(lines[0]).toMatchObject({
      event: 'token_fetch_failed',
      client_id: 'bss',
      error: 'invalid_client',
      target: smd.origin,
    })
    expect(JSON.stringify(lines)).not.toMatch(/wrong1|wrong2/)
    expect(smd.seen).toHaveLength(0)
  })
})

describe('R10: credentials refused without an OAuth error body', () => {
  it('R10: an empty 401 for the old secret falls back to the second secret of [old, new]', async () => {
    const server = await startBareRefusalServer('bss', 'B-current')
    try {
      const svc = client({
        tokenEndpoint: server.tokenEndpoint,
        clientSecret: ['A-old', 'B-current'],
        retry: { minDelay: 60_000, maxDelay: 60_000 },
      })
      expect(await call(svc)).toBe('200 bearer')
      expect(smd.seen[0]?.authorization).toBe('Bearer bare-1')
      expect(server.seen).toEqual([
        basicAuthorization('bss', 'A-old'),
        basicAuthorization('bss', 'B-current'),
      ])
      // The secret that worked is tried first from now on.
      expect(await call(svc)).toBe('200 bearer')
      expect(server.seen).toHaveLength(2)
    } finally {
      await server.close()
    }
  })

  it('R10: an empty, non-JSON or error-less 401/403 is invalid_client: not retryable, one request, logged as refused', async () => {
    const refusals = [
      { status: 401 },
      { status: 403 },
      { status: 401, body: '<html>Unauthorized</html>', headers: { 'content-type': 'text/html' } },
      { status: 401, body: '{}', headers: { 'www-authenticate': 'Basic realm="as"' } },
      { status: 403, body: '{"message":"forbidden"}' },
    ] as const
    for (const refusal of refusals) {
      const server = await startBareRefusalServer('bss', 'B-current', refusal)
      const lines: Record<string, unknown>[] = []
      try {
        const svc = client({
          tokenEndpoint: server.tokenEndpoint,
          clientSecret: 'A-old',
          retry: { minDelay: 60_000, maxDelay: 60_000 },
          logger: { warn: (o) => lines.push(o), error: (o) => lines.push(o) },
        })
        const err: unknown = await svc.getToken(smd.origin).catch((e: unknown) => e)
        const what = JSON.stringify(refusal)
        expect(isTokenEndpointError(err), what).toBe(true)
        expect(err, what).toMatchObject({
          error: 'invalid_client',
          status: refusal.status,
          retryable: false,
          description: 'the server refused the client credentials without an OAuth error body',
        })
        for (let i = 0; i < 3; i++) expect(await call(svc)).toBe('error invalid_client')
        expect(server.seen, what).toHaveLength(1)
        expect(lines.map((l) => [l.event, l.error, l.status])).toEqual([
          ['token_fetch_failed', 'invalid_client', refusal.status],
        ])
        expect(JSON.stringify(lines) + String(err)).not.toContain('A-old')
        expect(smd.seen).toHaveLength(0)
      } finally {
        await server.close()
      }
    }
  })

  it('R10: a 401 or 403 with a JSON OAuth error keeps that error', async () => {
    for (const [status, body, code] of [
      [401, '{"error":"unauthorized_client"}', 'unauthorized_client'],
      [403, '{"error":"invalid_grant","error_description":"no"}', 'invalid_grant'],
      [401, '{"error":"invalid_client","error_description":"bad secret"}', 'invalid_client'],
    ] as const) {
      issuer.setTokenMode({ status, body })
      const err: unknown = await client()
        .getToken(smd.origin)
        .catch((e: unknown) => e)
      expect(err, body).toMatchObject({ error: code, status })
      expect(String((err as { description?: string }).description), body).not.toContain('without')
    }
  })
})
