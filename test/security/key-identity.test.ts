/**
 * Verified-token cache entries are tied to the key that verified them, not just its `kid`
 * (issue 14, R6; RFC 7638 thumbprints). The issuer republishes a kid with other key material:
 * tokens cached under the old key must stop being served as soon as the new key set is installed,
 * on the core and through both adapters' synchronous fast path, with no restart; tokens signed
 * by the new key are accepted, and a refetch that keeps a key keeps its cached tokens.
 */
import { randomUUID } from 'node:crypto'
import { createAuthenticator, isAuthError, type Authenticator } from '@svcauth/core'
import * as ex from '@svcauth/express'
import * as ko from '@svcauth/koa'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import express from 'express'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose'
import Koa from 'koa'
import request from 'supertest'
import { afterEach, describe, expect, it } from 'vitest'

const closers: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const close of closers.splice(0)) await close()
})

async function newIssuer(): Promise<TestIssuer> {
  const issuer = await createTestIssuer({ keyCount: 1 })
  closers.push(() => issuer.close())
  return issuer
}

/** cooldown 0: every unknown kid refetches, so a test can make the key set move at once. */
const options = (issuer: TestIssuer) => ({
  issuer: issuer.issuer,
  audience: 'smd',
  jwksUri: issuer.jwksUri,
  jwks: { cooldown: 0, timeout: 1000 },
  logger: { warn: () => undefined, error: () => undefined },
})

const bearer = (token: string) => ({
  headers: { authorization: `Bearer ${token}` },
  rawHeaders: ['Authorization', `Bearer ${token}`],
})

/**
 * Stops publishing the issuer's signing key and publishes another RSA key under the same kid;
 * returns the new private key, which the issuer itself does not hold.
 */
async function replaceKeyMaterial(issuer: TestIssuer): Promise<{ kid: string; key: CryptoKey }> {
  const kid = issuer.signingKid
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true })
  issuer.removeKey(kid)
  issuer.publishJwk({ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' })
  return { kid, key: privateKey }
}

function signed(issuer: TestIssuer, key: CryptoKey, kid: string, clientId = 'bss') {
  return new SignJWT({ client_id: clientId, aud: ['smd'], scp: ['smd.read'], jti: randomUUID() })
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
    .setIssuer(issuer.issuer)
    .setSubject(clientId)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key)
}

/** A token under a kid nobody publishes: with cooldown 0 it makes the verifier refetch the set. */
async function unknownKid(issuer: TestIssuer): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256')
  return signed(issuer, privateKey, randomUUID(), 'mallory')
}

async function outcome(auth: Authenticator, token: string): Promise<string> {
  try {
    return `accepted ${(await auth.verify(token)).actorId}`
  } catch (err) {
    if (isAuthError(err)) return `${err.status} ${err.reason}`
    throw err
  }
}

describe('R6: cache entries are tied to the key, not the kid', () => {
  it('R6: a cached token is refused once its kid is republished with another key; the new key is accepted', async () => {
    const issuer = await newIssuer()
    const auth = createAuthenticator(options(issuer))
    closers.push(() => {
      auth.close()
    })
    const old = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    const principal = await auth.authenticate(bearer(old))
    expect(auth.authenticateCached(bearer(old))).toBe(principal)

    const { kid, key } = await replaceKeyMaterial(issuer)
    const fresh = await signed(issuer, key, kid, 'bss-new')
    const hits = issuer.hits.jwks
    expect(await outcome(auth, await unknownKid(issuer))).toBe('401 key_not_found')
    expect(issuer.hits.jwks).toBe(hits + 1) // the new key set is installed

    // Same kid, other key: the cached verification no longer holds, on either path.
    expect(auth.authenticateCached(bearer(old))).toBeUndefined()
    expect(await outcome(auth, old)).toBe('401 signature_invalid')
    expect(await outcome(auth, fresh)).toBe('accepted bss-new')
    const current = auth.authenticateCached(bearer(fresh))
    expect(current?.actorId).toBe('bss-new')

    // A refetch that publishes the same key again keeps what was verified with it.
    expect(await outcome(auth, await unknownKid(issuer))).toBe('401 key_not_found')
    expect(issuer.hits.jwks).toBe(hits + 2)
    expect(auth.authenticateCached(bearer(fresh))).toBe(current)
  })

  it('R6: a cached token is refused once its kid is published twice (no single key)', async () => {
    const issuer = await newIssuer()
    const auth = createAuthenticator(options(issuer))
    closers.push(() => {
      auth.close()
    })
    const cached = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    await auth.authenticate(bearer(cached))
    expect(auth.authenticateCached(bearer(cached))?.actorId).toBe('bss')
    // The original key stays, and a second key appears under the same kid.
    const { publicKey } = await generateKeyPair('RS256', { extractable: true })
    const kid = issuer.signingKid
    issuer.publishJwk({ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' })
    expect(await outcome(auth, await unknownKid(issuer))).toBe('401 key_not_found')
    expect(auth.authenticateCached(bearer(cached))).toBeUndefined()
    expect(await outcome(auth, cached)).toBe('401 jwks_ambiguous')
  })

  it('R6: both adapters stop serving the cached token once the kid names another key', async () => {
    const issuer = await newIssuer()
    const exAuth = ex.authenticate(options(issuer))
    const koAuth = ko.authenticate(options(issuer))
    closers.push(
      () => {
        exAuth.authenticator.close()
      },
      () => {
        koAuth.authenticator.close()
      },
    )
    const exApp = express()
    exApp.get('/read', exAuth, ex.requireScopes('smd.read'), (req, res) => {
      res.json({ actorId: req.auth?.actorId })
    })
    const koApp = new Koa<ko.AuthState>()
    koApp.use(koAuth).use(ko.requireScopes('smd.read'))
    koApp.use((ctx) => {
      ctx.body = { actorId: ctx.state.auth?.actorId }
    })
    const apps = [
      ['Express', exApp],
      ['Koa', koApp.callback()],
    ] as const

    const old = await issuer.mintClientToken({
      clientId: 'bss',
      audience: ['smd'],
      scope: ['smd.read'],
    })
    for (const [name, app] of apps) {
      for (let i = 0; i < 2; i++) {
        const res = await request(app).get('/read').set('Authorization', `Bearer ${old}`)
        expect(res.status, name).toBe(200)
      }
    }
    const { kid, key } = await replaceKeyMaterial(issuer)
    const fresh = await signed(issuer, key, kid, 'bss-new')
    const probe = await unknownKid(issuer)
    for (const [name, app] of apps) {
      // An unknown kid makes this adapter's verifier install the new key set.
      const refetch = await request(app).get('/read').set('Authorization', `Bearer ${probe}`)
      expect(refetch.status, name).toBe(401)
      const res = await request(app).get('/read').set('Authorization', `Bearer ${old}`)
      expect(res.status, name).toBe(401)
      expect(res.body, name).toEqual({
        error: 'invalid_token',
        error_description: 'The access token is invalid',
      })
      const now = await request(app).get('/read').set('Authorization', `Bearer ${fresh}`)
      expect(now.status, name).toBe(200)
      expect(now.body, name).toEqual({ actorId: 'bss-new' })
    }
  })
})
