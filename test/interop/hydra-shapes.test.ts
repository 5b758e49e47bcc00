/**
 * Ory Hydra's exact wire shapes (shared/reference/hydra-openchami.md §4.3–§4.6), reproduced with
 * keys of our own: the token response (`token_type: "bearer"`, `expires_in: 3599`, Hydra's
 * headers), its error bodies (`401 invalid_client` without a challenge), the OpenCHAMI JWT
 * (`typ: JWT`, `aud: []`, `scp`, `ext: {}`, issuer with a trailing slash, RSA-4096, UUID kids, two
 * keys in the JWKS), and the introspection answers (`active: true` with a `scope` string,
 * `{"active":false}`).
 */
import { createServiceClient, isTokenEndpointError, type ServiceClient } from '@svcauth/client'
import { createAuthenticator, isAuthError, type Authenticator } from '@svcauth/core'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import { decodeProtectedHeader } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDownstream, type Downstream } from '../client/downstream.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const CLIENT = '738ac601-8fd4-4797-922d-eeb4c5927067'

let hydra: TestIssuer
let smd: Downstream
const closers: (() => Promise<void> | void)[] = []

beforeAll(async () => {
  // As deployed by OpenCHAMI: issuer with a trailing slash, RSA-4096 keys, two in the JWKS.
  hydra = await createTestIssuer({ trailingSlash: true, modulusLength: 4096 })
  smd = await startDownstream()
})
afterAll(async () => {
  for (const close of closers.splice(0)) await close()
  await Promise.all([hydra.close(), smd.close()])
})

function verifier(audience: string | false = false): Authenticator {
  const a = createAuthenticator({
    issuer: hydra.issuer,
    audience,
    jwksUri: hydra.jwksUri,
    introspection: { endpoint: hydra.introspectionEndpoint },
    logger: { warn: () => undefined, error: () => undefined },
  })
  closers.push(() => {
    a.close()
  })
  return a
}

function client(): ServiceClient {
  const svc = createServiceClient({
    tokenEndpoint: hydra.tokenEndpoint,
    clientId: CLIENT,
    clientSecret: 'hydra-generated_secret.~',
    targets: { [smd.origin]: { scope: ['smd.read'], audience: 'smd' } },
    retry: { minDelay: 10, maxDelay: 20 },
  })
  closers.push(() => svc.close())
  return svc
}

async function reason(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    if (isAuthError(err)) return err.reason
    throw err
  }
  return 'accepted'
}

/** The OpenCHAMI blog's decoded Hydra token, re-signed with our key and fresh times. */
function openchamiPayload(): Record<string, unknown> {
  const iat = Math.floor(Date.now() / 1000)
  return {
    aud: [],
    client_id: CLIENT,
    exp: iat + 3600,
    ext: {},
    iat,
    iss: hydra.issuer,
    jti: 'e3186675-437d-4ac6-8745-d84e50bb491f',
    nbf: iat,
    scp: ['openid', 'smd.read'],
    sub: CLIENT,
  }
}

describe('Hydra JWT access tokens', () => {
  it('the JWKS has two RSA-4096 RS256 signing keys with UUID kids', async () => {
    const jwks = (await (await fetch(hydra.jwksUri)).json()) as {
      keys: { kty: string; use: string; alg: string; kid: string; n: string; e: string }[]
    }
    expect(jwks.keys).toHaveLength(2)
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256', e: 'AQAB' })
      expect(key.kid).toMatch(UUID)
      expect(Buffer.from(key.n, 'base64url')).toHaveLength(512)
    }
  })

  it('the OpenCHAMI token verifies as a client with its scp, and aud: [] needs audience: false', async () => {
    const token = await hydra.signRaw({ typ: 'JWT' }, openchamiPayload())
    expect(decodeProtectedHeader(token)).toEqual({
      alg: 'RS256',
      kid: hydra.signingKid,
      typ: 'JWT',
    })
    expect(Buffer.from(token.split('.')[2] ?? '', 'base64url')).toHaveLength(512)
    const p = await verifier(false).verify(token)
    expect(p).toMatchObject({ actorType: 'client', actorId: CLIENT, sub: CLIENT, clientId: CLIENT })
    expect([...p.scopes]).toEqual(['openid', 'smd.read'])
    expect(p.issuer).toBe(hydra.issuer)
    // Hydra only fills aud when the client asks for it (audience=smd, allow-listed on the client).
    expect(await reason(verifier('smd').verify(token))).toBe('aud_invalid')
    const requested = await hydra.signRaw({ typ: 'JWT' }, { ...openchamiPayload(), aud: ['smd'] })
    expect(await reason(verifier('smd').verify(requested))).toBe('accepted')
  })

  it('the issuer compares exactly: the trailing slash matters', async () => {
    const token = await hydra.signRaw(
      { typ: 'JWT' },
      { ...openchamiPayload(), iss: hydra.issuer.replace(/\/$/, '') },
    )
    expect(await reason(verifier(false).verify(token))).toBe('iss_invalid')
  })
})

describe('Hydra token endpoint', () => {
  it('accepts the exact 200: lowercase bearer, expires_in 3599, Hydra’s headers', async () => {
    hydra.setTokenMode({
      status: 200,
      headers: {
        'content-type': 'application/json;charset=UTF-8',
        'cache-control': 'no-store',
        pragma: 'no-cache',
      },
      body: '{"access_token":"ory_at_a59sXk2n3v9d.Qm9vdHN0cmFw","expires_in":3599,"scope":"openid smd.read","token_type":"bearer"}',
    })
    try {
      const svc = client()
      await (await svc.fetch(`${smd.origin}/hsm/v2/State/Components`)).text()
      await (await svc.fetch(`${smd.origin}/hsm/v2/State/Components`)).text()
      expect(smd.seen.slice(-2).map((s) => s.authorization)).toEqual([
        'Bearer ory_at_a59sXk2n3v9d.Qm9vdHN0cmFw',
        'Bearer ory_at_a59sXk2n3v9d.Qm9vdHN0cmFw',
      ])
      expect(hydra.tokenRequests.at(-1)?.form).toEqual({
        grant_type: 'client_credentials',
        scope: 'smd.read',
        audience: 'smd',
      })
    } finally {
      hydra.setTokenMode('ok')
    }
  })

  it('401 invalid_client (no challenge, current and v1 bodies) and 400 invalid_scope are typed errors', async () => {
    const bodies: [number, string, string][] = [
      [
        401,
        '{"error":"invalid_client","error_description":"Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method)."}',
        'invalid_client',
      ],
      [
        401,
        '{"error":"invalid_client","error_description":"Client authentication failed","status_code":401}',
        'invalid_client',
      ],
      [
        400,
        '{"error":"invalid_scope","error_description":"The requested scope is invalid, unknown, or malformed. The OAuth 2.0 Client is not allowed to request scope \'smd.write\'."}',
        'invalid_scope',
      ],
    ]
    try {
      for (const [status, body, error] of bodies) {
        hydra.setTokenMode({ status, body })
        const err: unknown = await client()
          .getToken(smd.origin)
          .catch((e: unknown) => e)
        expect(isTokenEndpointError(err), body).toBe(true)
        expect(err).toMatchObject({ error, status, code: 'ERR_TOKEN_ENDPOINT' })
      }
    } finally {
      hydra.setTokenMode('ok')
    }
  })

  it('Hydra’s opaque strategy: the token endpoint issues ory_at_ tokens that introspect', async () => {
    hydra.addClient({ clientId: CLIENT, secrets: ['hydra-generated_secret.~'] })
    hydra.setAccessTokenFormat('opaque')
    try {
      const token = await client().getToken(smd.origin)
      expect(token).toMatch(/^ory_at_[\w-]+\.[\w-]+$/)
      const p = await verifier('smd').verify(token)
      expect(p).toMatchObject({ actorType: 'client', clientId: CLIENT, audience: ['smd'] })
      expect([...p.scopes]).toEqual(['smd.read'])
    } finally {
      hydra.setAccessTokenFormat('jwt')
    }
  })
})

describe('Hydra introspection', () => {
  it('maps the exact active answer (scope string, aud [], token_use) and {"active":false}', async () => {
    const now = Math.floor(Date.now() / 1000)
    const activeAnswer = {
      active: true,
      scope: 'openid smd.read',
      client_id: CLIENT,
      sub: CLIENT,
      exp: now + 3599,
      iat: now,
      nbf: now,
      aud: [],
      iss: hydra.issuer,
      token_type: 'Bearer',
      token_use: 'access_token',
    }
    try {
      hydra.setIntrospectionMode({ status: 200, body: JSON.stringify(activeAnswer) })
      const p = await verifier(false).verify('ory_at_exact.answer')
      expect(p).toMatchObject({ actorType: 'client', actorId: CLIENT })
      expect([...p.scopes]).toEqual(['openid', 'smd.read'])
      expect(await reason(verifier('smd').verify('ory_at_exact.answer'))).toBe('aud_invalid')
      hydra.setIntrospectionMode({ status: 200, body: '{"active":false}' })
      expect(await reason(verifier(false).verify('ory_at_inactive.answer'))).toBe('token_inactive')
    } finally {
      hydra.setIntrospectionMode('ok')
    }
  })

  it('the kit’s endpoint answers an empty body with 400 invalid_request, as Hydra does', async () => {
    const res = await fetch(hydra.introspectionEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: 'invalid_request' })
  })
})
