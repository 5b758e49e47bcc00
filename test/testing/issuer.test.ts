/**
 * @svcauth/testing's issuer: Hydra-shaped tokens that verify against its own JWKS, RFC 9068
 * tokens, rotation, forgeries, its keys handed out offline, every JWKS failure mode it offers,
 * and its introspection endpoint's answers for its own JWTs (issue 20, item 3).
 */
import { createPublicKey, X509Certificate } from 'node:crypto'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWK } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const issuers: TestIssuer[] = []

async function issuerWith(options: Parameters<typeof createTestIssuer>[0] = {}) {
  const issuer = await createTestIssuer(options)
  issuers.push(issuer)
  return issuer
}

afterEach(async () => {
  await Promise.all(issuers.splice(0).map((i) => i.close()))
})

async function get(url: string): Promise<{ status: number; body: string; type: string | null }> {
  const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(500) })
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') }
}

describe('test issuer', () => {
  it('mints Hydra client-credentials tokens that verify against its JWKS', async () => {
    const issuer = await issuerWith({ trailingSlash: true })
    expect(issuer.issuer).toBe(`${issuer.origin}/`)
    const token = await issuer.mintClientToken({ clientId: 'bss', scope: ['smd.read'] })
    const { payload, protectedHeader } = await jwtVerify(
      token,
      createRemoteJWKSet(new URL(issuer.jwksUri)),
      {
        issuer: issuer.issuer,
      },
    )
    expect(protectedHeader).toEqual({ alg: 'RS256', kid: issuer.signingKid, typ: 'JWT' })
    expect(protectedHeader.kid).toMatch(UUID)
    expect(payload).toMatchObject({
      sub: 'bss',
      client_id: 'bss',
      aud: [],
      scp: ['smd.read'],
      ext: {},
    })
    expect(payload.nbf).toBe(payload.iat)
    expect(payload.exp).toBe((payload.iat ?? 0) + 3600)
    expect(payload.jti).toMatch(UUID)
  })

  it('publishes two RSA signing keys like Hydra, and mints user and RFC 9068 tokens', async () => {
    const issuer = await issuerWith()
    const jwks = JSON.parse((await get(issuer.jwksUri)).body) as { keys: Record<string, unknown>[] }
    expect(jwks.keys).toHaveLength(2)
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' })
      expect(key.d).toBeUndefined()
    }
    const user = decodeJwt(
      await issuer.mintUserToken({ sub: 'alice', clientId: 'cli', audience: ['smd'] }),
    )
    expect(user).toMatchObject({ sub: 'alice', client_id: 'cli', aud: ['smd'] })
    const at = await issuer.mintAccessToken({ claims: { scope: 'a b', jti: undefined } })
    expect(decodeProtectedHeader(at).typ).toBe('at+jwt')
    expect(decodeJwt(at)).toMatchObject({ scope: 'a b', iss: issuer.issuer })
    expect(decodeJwt(at).jti).toBeUndefined()
  })

  it('rotates and removes keys, and forges tokens its JWKS cannot verify', async () => {
    const issuer = await issuerWith({ keyCount: 1 })
    const first = issuer.signingKid
    const second = await issuer.rotateKey()
    expect(issuer.kids).toEqual([first, second])
    expect(decodeProtectedHeader(await issuer.mintClientToken({ clientId: 'x' })).kid).toBe(second)
    issuer.removeKey(first)
    expect(issuer.kids).toEqual([second])
    const old = await issuer.mintClientToken({ clientId: 'x', kid: first })
    const jwks = createRemoteJWKSet(new URL(issuer.jwksUri))
    await expect(jwtVerify(old, jwks)).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' })
    const forged = await issuer.forgeClientToken({ clientId: 'x' })
    expect(decodeProtectedHeader(forged).kid).toBe(second)
    await expect(jwtVerify(forged, jwks)).rejects.toMatchObject({
      code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    })
  })

  it('hands out its published keys offline: as the JWKS, as SPKI PEM, as a certificate', async () => {
    const issuer = await issuerWith()
    const served = JSON.parse((await get(issuer.jwksUri)).body) as { keys: JWK[] }
    expect(issuer.publicKeys()).toEqual(served)
    const pems = issuer.publicKeyPems()
    expect(pems).toHaveLength(2)
    for (const [i, kid] of issuer.kids.entries()) {
      const jwk = served.keys.find((k) => k.kid === kid)
      const fromPem = createPublicKey(pems[i] ?? '').export({ format: 'jwk' })
      expect({ n: fromPem.n, e: fromPem.e }).toEqual({ n: jwk?.n, e: jwk?.e })
      expect(issuer.publicKeyPem(kid)).toBe(pems[i])
    }
    expect(issuer.publicKeyPem()).toBe(issuer.publicKeyPem(issuer.signingKid))
    expect(issuer.publicKeyPem()).toMatch(/^-----BEGIN PUBLIC KEY-----\n/)
    const cert = new X509Certificate(await issuer.publicKeyCertificate())
    expect(cert.publicKey.export({ type: 'spki', format: 'pem' })).toBe(issuer.publicKeyPem())
    // A copy: changing it changes nothing the issuer serves.
    issuer.publicKeys().keys.pop()
    expect(issuer.publicKeys()).toEqual(served)
  })

  it('signs raw header and payload text', async () => {
    const issuer = await issuerWith({ keyCount: 1 })
    const token = await issuer.signRaw({ typ: 'JWT' }, '{"sub":"a","sub":"b"}')
    const [h, p] = token.split('.')
    expect(JSON.parse(Buffer.from(h!, 'base64url').toString())).toEqual({
      alg: 'RS256',
      kid: issuer.signingKid,
      typ: 'JWT',
    })
    expect(Buffer.from(p!, 'base64url').toString()).toBe('{"sub":"a","sub":"b"}')
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(issuer.jwksUri)))
    expect(payload.sub).toBe('b')
  })

  it('serves discovery metadata with overrides, and counts hits', async () => {
    const issuer = await issuerWith()
    const doc = JSON.parse((await get(`${issuer.origin}/.well-known/openid-configuration`)).body)
    expect(doc).toMatchObject({ issuer: issuer.issuer, jwks_uri: issuer.jwksUri })
    issuer.setDiscoveryOverrides({ issuer: 'https://elsewhere/' })
    const rfc8414 = JSON.parse(
      (await get(`${issuer.origin}/.well-known/oauth-authorization-server`)).body,
    )
    expect(rfc8414.issuer).toBe('https://elsewhere/')
    issuer.setDiscoveryMode('fail')
    expect((await get(`${issuer.origin}/.well-known/openid-configuration`)).status).toBe(500)
    expect(issuer.hits.discovery).toBe(3)
  })

  it('makes the JWKS endpoint fail, return garbage, redirect, hang or stall', async () => {
    const issuer = await issuerWith()
    issuer.setJwksMode('fail')
    expect((await get(issuer.jwksUri)).status).toBe(500)
    issuer.setJwksMode('garbage')
    expect(await get(issuer.jwksUri)).toMatchObject({ status: 200, body: '{' })
    issuer.setJwksMode({ status: 404, body: 'nope' })
    expect(await get(issuer.jwksUri)).toMatchObject({ status: 404, body: 'nope' })
    issuer.setJwksMode('redirect')
    const redirect = await fetch(issuer.jwksUri, { redirect: 'manual' })
    expect(redirect.status).toBe(302)
    expect(redirect.headers.get('location')).toBe('/evil')
    expect(issuer.hits.evil).toBe(0)
    issuer.setJwksMode('hang')
    await expect(get(issuer.jwksUri)).rejects.toThrow()
    issuer.setJwksMode('stall-body')
    await expect(get(issuer.jwksUri)).rejects.toThrow()
    expect(issuer.hits.jwks).toBe(6)
    expect(issuer.jwksRequests).toHaveLength(6)
  })

  it('closes promptly even with a request hanging', async () => {
    const issuer = await createTestIssuer()
    issuer.setJwksMode('hang')
    const pending = fetch(issuer.jwksUri).catch((err: unknown) => err)
    await new Promise((resolve) => setTimeout(resolve, 50))
    const started = Date.now()
    await issuer.close()
    expect(Date.now() - started).toBeLessThan(1000)
    expect(await pending).toBeInstanceOf(Error)
  })

  it('introspects its own JWTs as Hydra does, and revokeToken() makes one inactive', async () => {
    const issuer = await issuerWith({ keyCount: 1 })
    const introspect = async (token: string, scope?: string): Promise<unknown> => {
      const form = new URLSearchParams({ token, token_type_hint: 'access_token' })
      if (scope !== undefined) form.set('scope', scope)
      const res = await fetch(issuer.introspectionEndpoint, { method: 'POST', body: form })
      expect(res.status).toBe(200)
      return res.json()
    }
    const token = await issuer.mintUserToken({
      sub: 'alice',
      clientId: 'ochami-cli',
      scope: ['smd.read', 'smd.write'],
      audience: ['smd'],
    })
    const claims = decodeJwt(token)
    expect(await introspect(token)).toEqual({
      active: true,
      scope: 'smd.read smd.write',
      client_id: 'ochami-cli',
      sub: 'alice',
      exp: claims.exp,
      iat: claims.iat,
      nbf: claims.nbf,
      aud: ['smd'],
      iss: issuer.issuer,
      token_type: 'Bearer',
      token_use: 'access_token',
    })
    expect(await introspect(token, 'smd.admin')).toEqual({ active: false })
    const inactive = [
      await issuer.forgeClientToken({ clientId: 'bss' }),
      await issuer.mintClientToken({ clientId: 'bss', ttl: -60 }),
      `${token.slice(0, -4)}AAAA`,
    ]
    for (const t of inactive) expect(await introspect(t)).toEqual({ active: false })
    const other = await issuer.mintClientToken({ clientId: 'bss' })
    issuer.revokeToken(token)
    expect(await introspect(token)).toEqual({ active: false })
    expect(await introspect(other)).toMatchObject({ active: true, sub: 'bss' })
  })
})
