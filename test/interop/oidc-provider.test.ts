/**
 * Interop with a real authorization server we did not write: oidc-provider on loopback, with
 * client credentials, RFC 8707 resource indicators, RFC 9068 JWT access tokens and opaque tokens
 * read by introspection. @svcauth/client gets tokens with client_secret_basic, client_secret_post
 * and private_key_jwt (finding the token endpoint by discovery), and both adapters accept them
 * (finding the JWKS and the introspection endpoint by discovery). Key rotation, revocation, the
 * wrong audience, a missing scope and expiry are checked end to end.
 */
import { createServiceClient, type ServiceClient, type TargetConfig } from '@svcauth/client'
import type { Principal } from '@svcauth/core'
import type * as ex from '@svcauth/express'
import {
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
} from 'jose'
import { Agent, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSmd as startService } from './smd-service.js'
import {
  generateSigningKey,
  restartProvider,
  startProvider,
  type ProviderClient,
  type RunningProvider,
  type StartOptions,
} from '@svcauth/example-demo'

const SECRETS = {
  basic: 'basic-secret-with/slash+plus:colon-0123456789',
  post: 'post-secret-0123456789-abcdefghijklmnop',
  rs: 'smd-resource-server-secret-0123456789',
}

let assertionKey: CryptoKey
let assertionJwk: JWK
let provider: RunningProvider
let startOptions: StartOptions
const closers: (() => Promise<void> | void)[] = []

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true })
  assertionKey = pair.privateKey
  assertionJwk = {
    ...(await exportJWK(pair.publicKey)),
    kid: 'bss-jwt-1',
    alg: 'ES256',
    use: 'sig',
  }
  const clients: ProviderClient[] = [
    { clientId: 'bss-basic', clientSecret: SECRETS.basic, authMethod: 'client_secret_basic' },
    { clientId: 'bss-post', clientSecret: SECRETS.post, authMethod: 'client_secret_post' },
    { clientId: 'bss-jwt', authMethod: 'private_key_jwt', jwks: { keys: [assertionJwk] } },
    { clientId: 'smd', clientSecret: SECRETS.rs, authMethod: 'client_secret_basic' },
  ]
  startOptions = {
    clients,
    resources: {
      'urn:smd': { audience: 'smd', scope: 'smd.read smd.write', format: 'jwt' },
      'urn:smd:opaque': { audience: 'smd', scope: 'smd.read smd.write', format: 'opaque' },
      'urn:other': { audience: 'other', scope: 'smd.read', format: 'jwt' },
      'urn:smd:short': { audience: 'smd', scope: 'smd.read', format: 'jwt', ttl: 1 },
    },
    keys: [await generateSigningKey()],
  }
  provider = await startProvider(startOptions)
})
afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close()
  await provider.close()
})

/** The summary an SMD route answers: who called, with which scopes. */
function summary(p: Principal | undefined) {
  return p === undefined
    ? null
    : { actorType: p.actorType, actorId: p.actorId, scopes: [...p.scopes].sort() }
}

type AuthOptions = ex.AuthenticateOptions

/** The SMD-like service on `framework`, answering {@link summary}. */
const startSmd = (framework: 'Express' | 'Koa', options: ex.AuthenticateOptions) =>
  startService(framework, options, summary, closers)

type Method = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt'

function bss(method: Method, smd: string, target: TargetConfig): ServiceClient {
  const common = { issuer: provider.issuer, targets: { [smd]: target }, allowInsecureHttp: true }
  const svc =
    method === 'client_secret_basic'
      ? createServiceClient({ ...common, clientId: 'bss-basic', clientSecret: SECRETS.basic })
      : method === 'client_secret_post'
        ? createServiceClient({
            ...common,
            clientId: 'bss-post',
            clientSecret: SECRETS.post,
            authMethod: 'client_secret_post',
          })
        : createServiceClient({
            ...common,
            clientId: 'bss-jwt',
            authMethod: 'private_key_jwt',
            privateKey: assertionKey,
            privateKeyAlg: 'ES256',
            privateKeyId: 'bss-jwt-1',
          })
  closers.push(() => svc.close())
  return svc
}

const jwtVerifier = (): AuthOptions => ({ issuer: provider.issuer, audience: 'smd' })
const introspecting = (extra: Record<string, unknown> = {}): AuthOptions => ({
  issuer: provider.issuer,
  audience: 'smd',
  introspection: { clientId: 'smd', clientSecret: SECRETS.rs, ...extra },
})

async function call(svc: ServiceClient, url: string, method = 'GET') {
  const res = await svc.fetch(url, { method })
  return { status: res.status, body: await res.json() }
}

const METHODS: readonly Method[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt']

describe.each(['Express', 'Koa'] as const)('oidc-provider → %s', (framework) => {
  let smdJwt: string
  let smdOpaque: string

  beforeAll(async () => {
    smdJwt = await startSmd(framework, jwtVerifier())
    smdOpaque = await startSmd(framework, introspecting())
  })

  it.each(METHODS)('%s: a JWT access token (resource urn:smd) is accepted', async (method) => {
    const svc = bss(method, smdJwt, { scope: ['smd.read'], resource: 'urn:smd' })
    const token = await svc.getToken(smdJwt)
    expect(decodeProtectedHeader(token)).toMatchObject({ typ: 'at+jwt', alg: 'RS256' })
    const clientId =
      method === 'client_secret_basic'
        ? 'bss-basic'
        : method === 'client_secret_post'
          ? 'bss-post'
          : 'bss-jwt'
    expect(await call(svc, `${smdJwt}/hsm/v2/State/Components`)).toEqual({
      status: 200,
      body: { actorType: 'client', actorId: clientId, scopes: ['smd.read'] },
    })
  })

  it.each(METHODS)('%s: an opaque token is accepted through introspection', async (method) => {
    const svc = bss(method, smdOpaque, { scope: ['smd.read'], resource: 'urn:smd:opaque' })
    const token = await svc.getToken(smdOpaque)
    expect(token.split('.')).toHaveLength(1)
    const { status, body } = await call(svc, `${smdOpaque}/hsm/v2/State/Components`)
    expect(status).toBe(200)
    expect(body).toMatchObject({ actorType: 'client', scopes: ['smd.read'] })
  })

  it('a revoked opaque token is rejected', async () => {
    const smd = await startSmd(framework, introspecting({ cacheTtl: 0 }))
    const svc = bss('client_secret_basic', smd, { scope: ['smd.read'], resource: 'urn:smd:opaque' })
    const token = await svc.getToken(smd)
    expect((await call(svc, `${smd}/hsm/v2/State/Components`)).status).toBe(200)
    const revoked = await request(provider.revocationEndpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`bss-basic:${encodeURIComponent(SECRETS.basic)}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token }).toString(),
    })
    expect(revoked.statusCode).toBe(200)
    await revoked.body.dump()
    const res = await request(`${smd}/hsm/v2/State/Components`, {
      headers: { authorization: `Bearer ${token}` },
    })
    expect(res.statusCode).toBe(401)
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"')
    await res.body.dump()
  })

  it('a token for another audience, one without the scope, and an expired one are refused', async () => {
    const other = bss('client_secret_basic', smdJwt, { scope: ['smd.read'], resource: 'urn:other' })
    expect((await call(other, `${smdJwt}/hsm/v2/State/Components`)).status).toBe(401)
    const reader = bss('client_secret_post', smdJwt, { scope: ['smd.read'], resource: 'urn:smd' })
    const write = await call(reader, `${smdJwt}/hsm/v2/State/Components`, 'POST')
    expect(write).toEqual({
      status: 403,
      body: {
        error: 'insufficient_scope',
        error_description: 'The access token lacks a required scope',
      },
    })
    const strict = await startSmd(framework, { ...jwtVerifier(), clockTolerance: 0, cache: false })
    const brief = bss('private_key_jwt', strict, { scope: ['smd.read'], resource: 'urn:smd:short' })
    const token = await brief.getToken(strict)
    await new Promise((resolve) => setTimeout(resolve, 2100))
    const res = await request(`${strict}/hsm/v2/State/Components`, {
      headers: { authorization: `Bearer ${token}` },
    })
    expect(res.statusCode).toBe(401)
    expect(res.headers['www-authenticate']).toContain(
      'error_description="The access token expired"',
    )
    await res.body.dump()
  })
})

describe('oidc-provider key rotation', () => {
  it('new tokens verify after one JWKS refetch; old ones until their key leaves the set', async () => {
    let jwksFetches = 0
    const counting = new Agent().compose((dispatch) => (opts, handler) => {
      if (opts.path.startsWith('/jwks')) jwksFetches++
      return dispatch(opts, handler)
    })
    closers.push(() => counting.close())
    const smd = await startSmd('Express', {
      ...jwtVerifier(),
      strict: true,
      dispatcher: counting,
      cache: false,
      jwks: { cooldown: 0 },
    })
    const svc = bss('client_secret_basic', smd, { scope: ['smd.read'], resource: 'urn:smd' })
    const get = (token: string) =>
      request(`${smd}/hsm/v2/State/Components`, {
        headers: { authorization: `Bearer ${token}` },
      }).then(async (r) => {
        await r.body.dump()
        return r.statusCode
      })
    const oldKey = startOptions.keys?.[0]
    const oldToken = await svc.getToken(smd)
    expect(await get(oldToken)).toBe(200)
    const fetchesBefore = jwksFetches

    const newKey = await generateSigningKey()
    provider = await restartProvider(provider, {
      ...startOptions,
      keys: [newKey, ...(oldKey ? [oldKey] : [])],
    })
    const rotated = bss('client_secret_basic', smd, { scope: ['smd.read'], resource: 'urn:smd' })
    const newToken = await rotated.getToken(smd)
    expect(decodeProtectedHeader(newToken).kid).toBe(newKey.kid)
    expect(await get(newToken)).toBe(200)
    expect(jwksFetches - fetchesBefore).toBe(1)
    expect(await get(oldToken)).toBe(200)
    expect(jwksFetches - fetchesBefore).toBe(1)

    provider = await restartProvider(provider, { ...startOptions, keys: [newKey] })
    // The old key leaves at the next refetch of the key set: the background refresh (10 min by
    // default) or, as here, the next unknown kid (cooldown 0 in this test).
    const stranger = await generateKeyPair('RS256')
    const unknownKid = await new SignJWT({ iss: provider.issuer, aud: 'smd' })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'not-published' })
      .setExpirationTime('1m')
      .sign(stranger.privateKey)
    expect(await get(unknownKid)).toBe(401)
    expect(jwksFetches - fetchesBefore).toBe(2)
    expect(await get(oldToken)).toBe(401)
    expect(await get(newToken)).toBe(200)
  })
})
