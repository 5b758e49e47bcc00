/**
 * Issue 20, item 1: an issuer's keys given inline (`keys`), for services that cannot reach the
 * authorization server. Every input form (JWKS object, one JWK, SPKI and PKCS #1 PEM,
 * certificates, bundles, arrays), every start-up refusal (private keys, secrets, unusable sets,
 * conflicting options) without the material in the message, no network call ever (counted at a
 * loopback issuer), PEM keys matching any kid and tried in turn when several fit, and JWKS
 * objects keeping jose's exact kid rules.
 */
import { generateKeyPairSync } from 'node:crypto'
import {
  createAuthenticator,
  type Authenticator,
  type AuthenticatorOptions,
  JWKS_DEFAULTS,
  type OfflineKeys,
} from '@svcauth/core'
import { resolveHttpAllowance } from '@svcauth/core/internal'
import { createTestCa, createTestIssuer, type TestIssuer } from '@svcauth/testing'
import { createHmac } from 'node:crypto'
import { importPKCS8, SignJWT } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { resolveIssuer } from '../../packages/core/src/issuer-options.js'
import { ISSUER, mint, outcome, pair, pkcs1, startupError } from '../support/offline-keys.js'

const closers: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})
const silent = { warn: () => undefined, error: () => undefined }

function authenticator(
  keys: OfflineKeys,
  extra: Partial<AuthenticatorOptions> = {},
): Authenticator {
  const auth = createAuthenticator({
    issuer: ISSUER,
    audience: 'smd',
    keys,
    logger: silent,
    ...extra,
  })
  closers.push(() => {
    auth.close()
  })
  return auth
}

async function newIssuer(): Promise<TestIssuer> {
  const issuer = await createTestIssuer()
  closers.push(() => issuer.close())
  return issuer
}

const rsa = pair('rsa')
const rsa2 = pair('rsa')
const ec = pair('ec')
const ed = pair('ed25519')

describe('every input form verifies its tokens', () => {
  it('a JWKS object: tokens naming a published kid', async () => {
    const auth = authenticator({
      keys: [
        { ...rsa.jwk, kid: 'a' },
        { ...ec.jwk, kid: 'b' },
      ],
    })
    expect(await auth.ready()).toBe(true)
    expect(await outcome(auth, mint(rsa, { kid: 'a' }))).toBe('accepted')
    expect(await outcome(auth, mint(ec, { kid: 'b' }))).toBe('accepted')
  })

  it('one public JWK, as a set of one', async () => {
    const auth = authenticator({ ...ed.jwk, kid: 'ed' })
    expect(await outcome(auth, mint(ed, { kid: 'ed' }))).toBe('accepted')
  })

  it('an SPKI PEM key of each type, whatever the token kid (or none)', async () => {
    for (const p of [rsa, ec, ed]) {
      const auth = authenticator(p.pem)
      expect(await outcome(auth, mint(p, { kid: 'any-kid-at-all' }))).toBe('accepted')
      expect(await outcome(auth, mint(p))).toBe('accepted')
    }
  })

  it('a PKCS #1 RSA PEM key', async () => {
    const auth = authenticator(pkcs1(rsa))
    expect(await outcome(auth, mint(rsa, { kid: 'hydra-uuid' }))).toBe('accepted')
  })

  it('an X.509 certificate: its public key, whatever its validity dates', async () => {
    const issuer = await newIssuer()
    const auth = createAuthenticator({
      issuer: issuer.issuer,
      audience: 'smd',
      keys: await issuer.publicKeyCertificate(),
      logger: silent,
    })
    closers.push(() => {
      auth.close()
    })
    const token = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    expect(await outcome(auth, token)).toBe('accepted')

    // An expired certificate still holds the key: validity is not a key container's business.
    const ca = await createTestCa()
    closers.push(() => ca.close())
    const expired = await ca.issueClient({ notBefore: 7200, notAfter: -3600 })
    const old = authenticator(expired.cert)
    const signer = await importPKCS8(expired.key, 'ES256')
    const now = Math.floor(Date.now() / 1000)
    const signed = await new SignJWT({
      iss: ISSUER,
      aud: 'smd',
      sub: 'bss',
      iat: now,
      exp: now + 60,
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'k' })
      .sign(signer)
    expect(await outcome(old, signed)).toBe('accepted')
  })

  it('a bundle of PEM blocks with explanatory text, and an array of PEM strings', async () => {
    const bundle = `# old key\n${rsa.pem}\nsubject=CN=new\n${ec.pem}`
    for (const keys of [bundle, [rsa.pem, ec.pem]]) {
      const auth = authenticator(keys)
      expect(await outcome(auth, mint(rsa, { kid: 'x' }))).toBe('accepted')
      expect(await outcome(auth, mint(ec, { kid: 'y' }))).toBe('accepted')
      expect(auth.status()[0]?.keys).toBe(2)
    }
  })

  it('the single-issuer shorthand and an issuers list alike, beside a JWKS issuer', async () => {
    const issuer = await newIssuer()
    const auth = createAuthenticator({
      issuers: [
        { issuer: ISSUER, audience: 'smd', keys: rsa.pem },
        { issuer: issuer.issuer, audience: 'smd', jwksUri: issuer.jwksUri },
      ],
      logger: silent,
    })
    closers.push(() => {
      auth.close()
    })
    expect(await outcome(auth, mint(rsa, { kid: 'k' }))).toBe('accepted')
    const fetched = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    expect(await outcome(auth, fetched)).toBe('accepted')
    // The offline issuer's key does not serve the other issuer's tokens.
    const crossed = mint(rsa, { kid: issuer.signingKid }, { iss: issuer.issuer })
    expect(await outcome(auth, crossed)).toBe('signature_invalid')
  })
})

describe('no network call is ever made for keys', () => {
  it('PEM keys: no discovery, no JWKS request, whatever the tokens; introspection still allowed', async () => {
    const issuer = await newIssuer()
    const auth = createAuthenticator({
      issuer: issuer.issuer,
      audience: 'smd',
      keys: issuer.publicKeyPems(),
      introspection: { endpoint: issuer.introspectionEndpoint },
      jwks: { cooldown: 0 },
      logger: silent,
    })
    closers.push(() => {
      auth.close()
    })
    expect(await auth.ready()).toBe(true)
    const good = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    const otherKid = await issuer.mintClientToken({
      clientId: 'bss',
      audience: ['smd'],
      header: { kid: 'not-a-published-kid' },
    })
    const forged = await issuer.forgeClientToken({ clientId: 'bss', audience: ['smd'] })
    const es256 = mint(ec, {}, { iss: issuer.issuer })
    expect(await outcome(auth, good)).toBe('accepted')
    expect(await outcome(auth, otherKid)).toBe('accepted')
    expect(await outcome(auth, forged)).toBe('signature_invalid')
    expect(await outcome(auth, es256)).toBe('key_not_found')
    const opaque = issuer.mintOpaqueToken({ clientId: 'bss', audience: ['smd'] })
    expect(await outcome(auth, opaque)).toBe('accepted')
    expect(issuer.hits).toMatchObject({ jwks: 0, discovery: 0, introspection: 1 })
  })

  it('a JWKS object: an unknown kid is key_not_found at once, with no refetch', async () => {
    const issuer = await newIssuer()
    const auth = createAuthenticator({
      issuer: issuer.issuer,
      audience: 'smd',
      keys: issuer.publicKeys(),
      jwks: { cooldown: 0 },
      logger: silent,
    })
    closers.push(() => {
      auth.close()
    })
    const good = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    const unknown = await issuer.mintClientToken({
      clientId: 'bss',
      audience: ['smd'],
      header: { kid: 'rotated-in-later' },
    })
    expect(await outcome(auth, good)).toBe('accepted')
    expect(await outcome(auth, unknown)).toBe('key_not_found')
    expect(await outcome(auth, unknown)).toBe('key_not_found')
    expect(issuer.hits).toMatchObject({ jwks: 0, discovery: 0 })
  })
})

describe('status() and staleness', () => {
  it('reports the keys, when they were installed, no address and no failure', async () => {
    const before = Date.now()
    const auth = authenticator([rsa.pem, rsa2.pem])
    expect(await auth.ready()).toBe(true)
    const [status] = auth.status()
    expect(status).toMatchObject({ issuer: ISSUER, jwksUri: undefined, keys: 2 })
    expect(status?.fetchedAt?.getTime()).toBeGreaterThanOrEqual(before)
    expect(status?.lastFailure).toBeUndefined()
    expect(status).not.toHaveProperty('keysFile')
  })

  it('static keys never go stale: jwks.maxStale does not apply to them', async () => {
    const auth = authenticator(rsa.pem, { jwks: { maxStale: 0 }, cache: false })
    await auth.ready()
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(await outcome(auth, mint(rsa))).toBe('accepted')
    expect(await outcome(auth, mint(rsa))).toBe('accepted')
  })

  it('verifies without yielding to the event loop once the keys are imported', async () => {
    const auth = authenticator(rsa.pem, { cache: false })
    await auth.ready()
    const token = mint(rsa, { kid: 'k' })
    let turned = false
    const immediate = setImmediate(() => {
      turned = true
    })
    await auth.verify(token)
    clearImmediate(immediate)
    expect(turned).toBe(false)
  })
})

describe('PEM keys: any kid, and a rotation pair tried in turn', () => {
  it('D6: an old and a new PEM key given together: tokens from either pass, with any kid or none', async () => {
    const auth = authenticator([rsa.pem, rsa2.pem], { cache: false })
    for (const p of [rsa, rsa2, rsa, rsa2]) {
      expect(await outcome(auth, mint(p, { kid: 'same-header' }))).toBe('accepted')
      expect(await outcome(auth, mint(p))).toBe('accepted')
    }
    // A third key's token is a bad signature, never `jwks_ambiguous`.
    expect(await outcome(auth, mint(pair('rsa'), { kid: 'same-header' }))).toBe('signature_invalid')
  })

  it('C10: a weak RSA key in a bundle is skipped; alone, its tokens are key_invalid', async () => {
    const weak = pair('rsa1024')
    const auth = authenticator([weak.pem, rsa.pem, rsa2.pem], { cache: false })
    expect(await outcome(auth, mint(rsa2))).toBe('accepted')
    expect(await outcome(auth, mint(weak))).toBe('signature_invalid')
    const single = authenticator([weak.pem, ec.pem], { cache: false })
    expect(await outcome(single, mint(weak))).toBe('key_invalid')
    expect(await outcome(single, mint(ec))).toBe('accepted')
  })

  it('D5: a kid that is not a string names no key, PEM keys included', async () => {
    const auth = authenticator(rsa.pem)
    for (const kid of [1, {}, ['k'], null]) {
      expect(await outcome(auth, mint(rsa, { kid }))).toBe('key_not_found')
    }
  })

  it('C3: an HS256 token keyed with the PEM text is refused before any key is used', async () => {
    const auth = authenticator(rsa.pem)
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
    const now = Math.floor(Date.now() / 1000)
    const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ iss: ISSUER, aud: 'smd', sub: 'x', exp: now + 60 })}`
    const token = `${input}.${createHmac('sha256', rsa.pem).update(input).digest('base64url')}`
    expect(await outcome(auth, token)).toBe('alg_not_allowed')
  })

  it('a cached token verified by one key of the pair stays cached (keys never change)', async () => {
    const auth = authenticator([rsa.pem, rsa2.pem])
    const token = mint(rsa2, { kid: 'k' })
    const first = await auth.verify(token)
    expect(await auth.verify(token)).toBe(first)
  })
})

describe('JWKS objects keep jose exact kid rules', () => {
  it('D6: no kid in the token and two RSA keys fit: jwks_ambiguous', async () => {
    const auth = authenticator({
      keys: [
        { ...rsa.jwk, kid: 'a' },
        { ...rsa2.jwk, kid: 'b' },
      ],
    })
    expect(await outcome(auth, mint(rsa))).toBe('jwks_ambiguous')
    expect(await outcome(auth, mint(rsa, { kid: 'a' }))).toBe('accepted')
    expect(await outcome(auth, mint(rsa, { kid: 'b' }))).toBe('signature_invalid')
  })

  it('D7: a kid published twice is ambiguous', async () => {
    const auth = authenticator({
      keys: [
        { ...rsa.jwk, kid: 'dup' },
        { ...rsa2.jwk, kid: 'dup' },
      ],
    })
    expect(await outcome(auth, mint(rsa, { kid: 'dup' }))).toBe('jwks_ambiguous')
  })

  it('a JWK without a kid matches only tokens without one', async () => {
    const auth = authenticator(rsa.jwk)
    expect(await outcome(auth, mint(rsa))).toBe('accepted')
    expect(await outcome(auth, mint(rsa, { kid: 'k' }))).toBe('key_not_found')
  })

  it('D10: keys restricted by use, key_ops or alg are not selected', async () => {
    const auth = authenticator({
      keys: [
        { ...rsa.jwk, kid: 'enc', use: 'enc' },
        { ...rsa.jwk, kid: 'ops', key_ops: ['encrypt'] },
        { ...rsa.jwk, kid: 'ps', alg: 'RS512' },
        { ...ec.jwk, kid: 'ok' },
      ],
    })
    for (const kid of ['enc', 'ops', 'ps']) {
      expect(await outcome(auth, mint(rsa, { kid }))).toBe('key_not_found')
    }
    expect(await outcome(auth, mint(ec, { kid: 'ok' }))).toBe('accepted')
  })
})

describe('start-up errors: a TypeError naming the option, never the material', () => {
  const build =
    (keys: unknown, extra: Record<string, unknown> = {}) =>
    () =>
      createAuthenticator({
        issuer: ISSUER,
        audience: 'smd',
        keys: keys as OfflineKeys,
        logger: silent,
        ...extra,
      })

  it('D10: a private key, in any PEM form, is refused', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const forms = [
      privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      privateKey.export({ type: 'pkcs1', format: 'pem' }) as string,
      privateKey.export({
        type: 'pkcs8',
        format: 'pem',
        cipher: 'aes-256-cbc',
        passphrase: 'pass',
      }) as string,
      `${rsa.pem}${generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }) as string}`,
    ]
    for (const pem of forms) {
      expect(startupError(build(pem), [pem])).toMatch(
        /^svcauth: keys: a private key was given: give only public keys or certificates$/,
      )
      expect(startupError(build([pem]), [pem])).toMatch(/keys: a private key was given/)
    }
  })

  it('D10: a private JWK, or a private member in any key of a set, is refused', () => {
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      format: 'jwk',
    })
    const secret = JSON.stringify(jwk)
    expect(startupError(build(jwk), [secret])).toBe(
      'svcauth: keys: JWKS members must be public keys',
    )
    expect(startupError(build({ keys: [{ ...rsa.jwk, kid: 'a' }, jwk] }), [secret])).toMatch(
      /keys: JWKS members must be public keys/,
    )
  })

  it('C9: a shared secret is refused, as a string or as a kty "oct" JWK', () => {
    const secret = 'my-shared-hmac-secret-0123456789abcdef'
    expect(startupError(build(secret), [secret])).toMatch(
      /^svcauth: keys: not PEM: give a JWKS, PEM public keys or certificates \(shared secrets are not accepted\)$/,
    )
    const k = Buffer.from(secret).toString('base64url')
    expect(startupError(build({ kty: 'oct', k }), [k])).toMatch(
      /keys: a shared-secret \(kty "oct"\) key was given/,
    )
    expect(startupError(build({ keys: [{ kty: 'oct', k }] }), [k])).toMatch(/kty "oct"/)
  })

  it('C10: a key set with no key usable for the algorithms can never verify: refused', () => {
    const weak = pair('rsa1024')
    expect(startupError(build(weak.pem))).toMatch(
      /keys: no key can verify RS256, PS256, ES256, EdDSA \(.*RSA of at least 2048 bits\)/,
    )
    expect(startupError(build(rsa.pem, { algorithms: ['ES256'] }))).toMatch(
      /keys: no key can verify ES256 /,
    )
    expect(startupError(build({ ...rsa.jwk, use: 'enc' }))).toMatch(/no key can verify/)
    expect(startupError(build({ ...rsa.jwk, alg: 'RS512' }))).toMatch(/no key can verify/)
    const secp = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey
    expect(startupError(build(secp.export({ type: 'spki', format: 'pem' })))).toMatch(
      /no key can verify/,
    )
    // One usable key is enough; the others are kept, unusable, as a fetched set keeps them.
    expect(build([weak.pem, rsa.pem])).not.toThrow()
  })

  it('G6: more keys than jwks.maxKeys are refused', () => {
    expect(startupError(build([rsa.pem, rsa2.pem, ec.pem], { jwks: { maxKeys: 2 } }))).toMatch(
      /keys: JWKS has 3 keys, over the cap of 2/,
    )
  })

  it('malformed PEM and shapes that are not keys', () => {
    const body = 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'
    expect(
      startupError(build(`-----BEGIN PUBLIC KEY-----\n${body}\n-----END PUBLIC KEY-----\n`), [
        body,
      ]),
    ).toMatch(/keys: PEM block 1 \(PUBLIC KEY\) cannot be parsed/)
    expect(startupError(build(`${rsa.pem}-----BEGIN CERTIFICATE-----\nAAAA\n`))).toMatch(
      /keys: a PEM block has no matching END line/,
    )
    expect(startupError(build(`-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n`))).toMatch(
      /PEM block 1 is a X509 CRL: only PUBLIC KEY, RSA PUBLIC KEY and CERTIFICATE/,
    )
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey
    expect(startupError(build(pss.export({ type: 'spki', format: 'pem' })))).toMatch(
      /PEM block 1: a rsa-pss key has no JWK form/,
    )
    expect(startupError(build([]))).toMatch(/keys: an array must hold PEM strings/)
    expect(startupError(build([rsa.jwk]))).toMatch(/keys: an array must hold PEM strings/)
    for (const value of [1, true, null]) {
      expect(startupError(build(value))).toMatch(
        /keys: must be a JWKS object, a public JWK, PEM text or PEM strings/,
      )
    }
    expect(startupError(build({}))).toMatch(/keys: JWKS has no "keys" array/)
    expect(startupError(build({ keys: 1 }))).toMatch(/keys: JWKS has no "keys" array/)
    expect(startupError(build({ keys: [] }))).toMatch(/keys: no key given/)
    expect(startupError(build({ keys: ['x'] }))).toMatch(/JWKS member is not an object/)
  })

  it('keys, keysFile and jwksUri exclude each other, in the shorthand and in issuers', () => {
    expect(startupError(build(rsa.pem, { jwksUri: 'https://as.offline.test/jwks' }))).toMatch(
      /^svcauth: jwksUri and keys: give one source of keys, not several$/,
    )
    expect(startupError(build(rsa.pem, { keysFile: '/etc/svcauth/jwks.json' }))).toMatch(
      /keys and keysFile: give one source of keys/,
    )
    expect(
      startupError(() =>
        createAuthenticator({
          issuers: [
            { issuer: 'https://a.test/', audience: 'x', keys: rsa.pem },
            {
              issuer: 'https://b.test/',
              audience: 'x',
              jwksUri: 'https://b.test/jwks',
              keysFile: '/etc/jwks.json',
            },
          ],
        }),
      ),
    ).toMatch(/issuers\[1\]\.jwksUri and issuers\[1\]\.keysFile: give one source of keys/)
  })

  it("resolveIssuer, which a resolver's configurations go through, checks keys and reads keysFile", () => {
    const http = resolveHttpAllowance('allowInsecureHttp', undefined)
    const config = { issuer: ISSUER, audience: 'smd' as const }
    const resolved = resolveIssuer('', { ...config, keys: [rsa.pem, ec.pem] }, http)
    expect(Object.isFrozen(resolved)).toBe(true)
    expect(resolved).toMatchObject({ jwksUri: undefined, keysFile: undefined })
    expect(resolved.keys?.anyKid).toBe(true)
    expect(resolved.keys?.jwks).toHaveLength(2)
    expect(startupError(() => resolveIssuer('', { ...config, keys: 'secret-text' }, http))).toMatch(
      /^svcauth: keys: not PEM/,
    )
    expect(
      startupError(() =>
        resolveIssuer('', { ...config, keysFile: '/nonexistent/jwks.json' }, http),
      ),
    ).toBe('svcauth: keysFile /nonexistent/jwks.json: cannot be read (ENOENT)')
    const capped = { ...JWKS_DEFAULTS, maxKeys: 1 }
    expect(
      startupError(() => resolveIssuer('', { ...config, keys: [rsa.pem, ec.pem] }, http, capped)),
    ).toMatch(/over the cap of 1/)
  })

  it('the caller may change its object afterwards: the keys were copied', async () => {
    const jwks = { keys: [{ ...rsa.jwk, kid: 'a' }] }
    const auth = authenticator(jwks)
    ;(jwks.keys[0] as Record<string, unknown>).kid = 'changed'
    await auth.ready()
    expect(await outcome(auth, mint(rsa, { kid: 'a' }))).toBe('accepted')
  })
})
