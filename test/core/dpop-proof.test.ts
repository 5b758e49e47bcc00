/**
 * DPoP proof checks (RFC 9449 §4.3), the building block of issue 18's inbound half: real proofs
 * signed with real keys (jose's SignJWT as the client would), then each rule broken on purpose.
 * The catalogue cases of issue 18, item 4 that concern the proof itself are here: replayed proof,
 * proof for another method or URI, stale or future `iat`, `ath` missing or wrong, proof signed
 * with another key, private key material in `jwk`, `alg: none` and HS256, nonce missing or stale,
 * oversized proof.
 */
import { createHash, createHmac, generateKeyPairSync, KeyObject, sign } from 'node:crypto'
import {
  accessTokenHash,
  DpopProofError,
  MemoryReplayStore,
  verifyDpopProof,
  type DpopProofPolicy,
  type DpopRequest,
} from '@svcauth/core'
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  SignJWT,
  type JWK,
  type JWTPayload,
} from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'

/** What jose's `sign` takes (a SigningKey here). */
type SigningKey = Parameters<SignJWT['sign']>[0]

const URL_ = 'https://smd.example/hsm/v2/State/Components'
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJic3MifQ.c2lnbmF0dXJl'
// The replay store keeps its own clock (Date.now), so the proofs are made for now.
const NOW = Date.now()
const iatNow = Math.floor(NOW / 1000)

interface Signer {
  readonly alg: string
  readonly privateKey: SigningKey
  readonly jwk: JWK
}

let es256: Signer
let eddsa: Signer
let rs256: Signer
let other: Signer

async function signer(alg: string): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  return { alg, privateKey, jwk: await exportJWK(publicKey) }
}

beforeAll(async () => {
  ;[es256, eddsa, rs256, other] = await Promise.all([
    signer('ES256'),
    signer('EdDSA'),
    signer('RS256'),
    signer('ES256'),
  ])
})

let counter = 0
/** A proof as a client would make it, with `edit` applied to header and claims before signing. */
async function proof(
  s: Signer,
  edit: { header?: Record<string, unknown>; claims?: JWTPayload; signWith?: SigningKey } = {},
): Promise<string> {
  const claims: JWTPayload = {
    jti: `jti-${String(++counter)}`,
    htm: 'GET',
    htu: URL_,
    iat: iatNow,
    ath: accessTokenHash(TOKEN),
    ...edit.claims,
  }
  return new SignJWT(claims)
    .setProtectedHeader({ alg: s.alg, typ: 'dpop+jwt', jwk: s.jwk, ...edit.header })
    .sign(edit.signWith ?? s.privateKey)
}

const policy = (overrides: Partial<DpopProofPolicy> = {}): DpopProofPolicy => ({
  algorithms: ['ES256', 'EdDSA', 'RS256', 'PS256'],
  maxAge: 300,
  clockTolerance: 5,
  replay: new MemoryReplayStore(),
  ...overrides,
})

const request = (value: string, overrides: Partial<DpopRequest> = {}): DpopRequest => ({
  proof: value,
  method: 'GET',
  url: URL_,
  accessToken: TOKEN,
  ...overrides,
})

/** The refusal's `code/reason`, or `ok <jkt>`. */
async function outcome(
  req: DpopRequest,
  p: DpopProofPolicy = policy(),
  now = NOW,
): Promise<string> {
  try {
    return `ok ${(await verifyDpopProof(req, p, now)).jkt}`
  } catch (err) {
    if (err instanceof DpopProofError) return `${err.code}/${err.reason}`
    throw err
  }
}

/** A compact JWS from raw JSON parts and signature bytes (for proofs no JOSE library would make). */
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')

describe('DPoP proofs (RFC 9449 §4.3, issue 18)', () => {
  it('accepts a proof per algorithm and returns the RFC 7638 thumbprint of its key', async () => {
    for (const s of [es256, eddsa, rs256]) {
      const jkt = await calculateJwkThumbprint(s.jwk, 'sha256')
      expect(await outcome(request(await proof(s)))).toBe(`ok ${jkt}`)
    }
  })

  it('ignores query and fragment and applies URI normalisation to htu, but not to another path, host or scheme', async () => {
    const ok = [
      `${URL_}?type=Node`,
      'HTTPS://SMD.example:443/hsm/v2/State/Components',
      'https://smd.example/hsm/v2/State/./Components#x',
    ]
    for (const htu of ok) {
      expect(await outcome(request(await proof(es256, { claims: { htu } })))).toMatch(/^ok /)
    }
    const bad = [
      'https://smd.example/hsm/v2/State/Components/x',
      'https://bss.example/hsm/v2/State/Components',
      'http://smd.example/hsm/v2/State/Components',
      'https://smd.example:8443/hsm/v2/State/Components',
      'https://user@smd.example/hsm/v2/State/Components',
      'not a url',
    ]
    for (const htu of bad) {
      expect(await outcome(request(await proof(es256, { claims: { htu } })))).toBe(
        'invalid_dpop_proof/htu_mismatch',
      )
    }
  })

  it('refuses a replayed proof, and a proof for another method', async () => {
    const p = policy()
    const once = await proof(es256)
    expect(await outcome(request(once), p)).toMatch(/^ok /)
    expect(await outcome(request(once), p)).toBe('invalid_dpop_proof/replayed')
    expect(await outcome(request(await proof(es256), { method: 'POST' }), p)).toBe(
      'invalid_dpop_proof/htm_mismatch',
    )
    expect(await outcome(request(await proof(es256, { claims: { htm: 'get' } })), p)).toBe(
      'invalid_dpop_proof/htm_mismatch',
    )
  })

  it('refuses a stale or future iat, outside maxAge and the clock tolerance', async () => {
    const at = async (iat: number) => outcome(request(await proof(es256, { claims: { iat } })))
    expect(await at(iatNow - 305)).toMatch(/^ok /)
    expect(await at(iatNow - 306)).toBe('invalid_dpop_proof/iat_stale')
    expect(await at(iatNow + 5)).toMatch(/^ok /)
    expect(await at(iatNow + 6)).toBe('invalid_dpop_proof/iat_future')
  })

  it('refuses a proof whose ath is missing or is the hash of another token', async () => {
    const missing = await proof(es256, { claims: { ath: undefined } })
    expect(await outcome(request(missing))).toBe('invalid_dpop_proof/ath_mismatch')
    const otherHash = createHash('sha256').update('another.token.x').digest('base64url')
    const wrong = await proof(es256, { claims: { ath: otherHash } })
    expect(await outcome(request(wrong))).toBe('invalid_dpop_proof/ath_mismatch')
    // Without an access token (a token request to the authorization server), ath is not required.
    expect(await outcome(request(missing, { accessToken: undefined }))).toMatch(/^ok /)
  })

  it('refuses a proof signed with another key than its jwk, or altered after signing', async () => {
    const forged = await proof(es256, { signWith: other.privateKey })
    expect(await outcome(request(forged))).toBe('invalid_dpop_proof/signature_invalid')
    const good = await proof(es256)
    const [h, , s] = good.split('.')
    const altered = `${h ?? ''}.${b64({ jti: 'x', htm: 'GET', htu: URL_, iat: iatNow, ath: accessTokenHash(TOKEN) })}.${s ?? ''}`
    expect(await outcome(request(altered))).toBe('invalid_dpop_proof/signature_invalid')
  })

  it('refuses private key material in jwk, a missing or symmetric jwk, and an RSA key under 2048 or over 4096 bits', async () => {
    const privateJwk = await exportJWK(es256.privateKey as never)
    expect(await outcome(request(await proof(es256, { header: { jwk: privateJwk } })))).toBe(
      'invalid_dpop_proof/jwk_private',
    )
    expect(await outcome(request(await proof(es256, { header: { jwk: undefined } })))).toBe(
      'invalid_dpop_proof/jwk_invalid',
    )
    expect(
      await outcome(
        request(await proof(es256, { header: { jwk: { kty: 'oct', k: 'c2VjcmV0' } } })),
      ),
    ).toBe('invalid_dpop_proof/jwk_private')
    // An EdDSA key under an ES256 header: the key does not fit the algorithm.
    expect(await outcome(request(await proof(es256, { header: { jwk: eddsa.jwk } })))).toBe(
      'invalid_dpop_proof/jwk_invalid',
    )
    // jose will not make a 1024-bit RSA proof: sign one with node:crypto.
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const weakJwk = weak.publicKey.export({ format: 'jwk' })
    const claims = { jti: 'w1', htm: 'GET', htu: URL_, iat: iatNow, ath: accessTokenHash(TOKEN) }
    const input = `${b64({ alg: 'RS256', typ: 'dpop+jwt', jwk: weakJwk })}.${b64(claims)}`
    const signature = sign('sha256', Buffer.from(input), weak.privateKey).toString('base64url')
    expect(await outcome(request(`${input}.${signature}`))).toBe('invalid_dpop_proof/jwk_invalid')
    // Above 4096 bits an RSA proof key is refused too: the caller picks it, and its cost.
    const huge = generateKeyPairSync('rsa', { modulusLength: 4104 })
    const hugeInput = `${b64({ alg: 'RS256', typ: 'dpop+jwt', jwk: huge.publicKey.export({ format: 'jwk' }) })}.${b64({ ...claims, jti: 'w2' })}`
    const hugeSignature = sign('sha256', Buffer.from(hugeInput), huge.privateKey).toString(
      'base64url',
    )
    expect(await outcome(request(`${hugeInput}.${hugeSignature}`))).toBe(
      'invalid_dpop_proof/jwk_invalid',
    )
  })

  it('refuses alg none, HS256 keyed with the public key, and algorithms off the allow-list', async () => {
    const claims = { jti: 'n1', htm: 'GET', htu: URL_, iat: iatNow, ath: accessTokenHash(TOKEN) }
    const none = `${b64({ alg: 'none', typ: 'dpop+jwt', jwk: es256.jwk })}.${b64(claims)}.`
    expect(await outcome(request(none))).toBe('invalid_dpop_proof/alg_not_allowed')
    const input = `${b64({ alg: 'HS256', typ: 'dpop+jwt', jwk: es256.jwk })}.${b64(claims)}`
    const mac = createHmac('sha256', JSON.stringify(es256.jwk)).update(input).digest('base64url')
    expect(await outcome(request(`${input}.${mac}`))).toBe('invalid_dpop_proof/alg_not_allowed')
    expect(await outcome(request(await proof(rs256)), policy({ algorithms: ['ES256'] }))).toBe(
      'invalid_dpop_proof/alg_not_allowed',
    )
  })

  it('refuses a wrong typ, a crit header, missing claims and non-canonical encodings', async () => {
    for (const typ of ['JWT', 'at+jwt', undefined]) {
      expect(await outcome(request(await proof(es256, { header: { typ } })))).toBe(
        'invalid_dpop_proof/typ_invalid',
      )
    }
    expect(
      await outcome(request(await proof(es256, { header: { typ: 'application/DPoP+JWT' } }))),
    ).toMatch(/^ok /)
    // jose will not sign a crit header it does not understand: signed with node:crypto.
    const critClaims = {
      jti: 'c1',
      htm: 'GET',
      htu: URL_,
      iat: iatNow,
      ath: accessTokenHash(TOKEN),
    }
    const critInput = `${b64({ alg: 'ES256', typ: 'dpop+jwt', jwk: es256.jwk, crit: ['exp'], exp: 1 })}.${b64(critClaims)}`
    const critKey = {
      key: KeyObject.from(es256.privateKey as never),
      dsaEncoding: 'ieee-p1363' as const,
    }
    const crit = `${critInput}.${sign('sha256', Buffer.from(critInput), critKey).toString('base64url')}`
    expect(await outcome(request(crit))).toBe('invalid_dpop_proof/proof_malformed')
    for (const claim of ['jti', 'htm', 'htu', 'iat'] as const) {
      expect(await outcome(request(await proof(es256, { claims: { [claim]: undefined } })))).toBe(
        'invalid_dpop_proof/claim_missing',
      )
    }
    expect(
      await outcome(request(await proof(es256, { claims: { iat: `${iatNow}` as never } }))),
    ).toBe('invalid_dpop_proof/claim_missing')
    const good = await proof(es256)
    expect(await outcome(request(`${good}=`))).toBe('invalid_dpop_proof/proof_malformed')
    expect(await outcome(request(`${good}.x`))).toBe('invalid_dpop_proof/proof_malformed')
    expect(await outcome(request(`${good.slice(0, 10)}+${good.slice(11)}`))).toBe(
      'invalid_dpop_proof/proof_malformed',
    )
  })

  it('refuses an oversized proof before reading it', async () => {
    const big = await proof(es256, { claims: { pad: 'x'.repeat(9000) } })
    expect(await outcome(request(big))).toBe('invalid_dpop_proof/proof_too_large')
    expect(await outcome(request(big), policy({ maxBytes: 16_384 }))).toMatch(/^ok /)
  })

  it('asks for the server nonce with use_dpop_nonce when it is missing or stale', async () => {
    const nonce = (value: string) => value === 'n-current'
    expect(await outcome(request(await proof(es256), { nonce }))).toBe(
      'use_dpop_nonce/nonce_missing',
    )
    const stale = await proof(es256, { claims: { nonce: 'n-old' } })
    expect(await outcome(request(stale, { nonce }))).toBe('use_dpop_nonce/nonce_invalid')
    const fresh = await proof(es256, { claims: { nonce: 'n-current' } })
    expect(await outcome(request(fresh, { nonce }))).toMatch(/^ok /)
  })

  it('fails closed when the replay store fails, and keys replays by proof key and jti', async () => {
    const failing = policy({
      replay: {
        addIfAbsent: () => Promise.reject(new Error('store down')),
      },
    })
    expect(await outcome(request(await proof(es256)), failing)).toBe(
      'invalid_dpop_proof/replay_store_failed',
    )
    const p = policy()
    const same = { claims: { jti: 'shared-jti' } }
    expect(await outcome(request(await proof(es256, same)), p)).toMatch(/^ok /)
    expect(await outcome(request(await proof(other, same)), p)).toMatch(/^ok /)
    expect(await outcome(request(await proof(es256, same)), p)).toBe('invalid_dpop_proof/replayed')
  })
})

describe('the key binding before the replay record (issue 18)', () => {
  it('refuses a proof whose key is not the one the token is bound to, without recording its jti', async () => {
    const p = policy()
    const bound = await calculateJwkThumbprint(es256.jwk, 'sha256')
    const mine = await proof(other)
    expect(await outcome(request(mine, { jkt: bound }), p)).toBe('invalid_dpop_proof/jkt_mismatch')
    // Not recorded: the same proof is still accepted where its key is the bound one.
    const otherJkt = await calculateJwkThumbprint(other.jwk, 'sha256')
    expect(await outcome(request(mine, { jkt: otherJkt }), p)).toBe(`ok ${otherJkt}`)
  })
})

describe('MemoryReplayStore', () => {
  it('adds once until expiry, then again; stays within max, dropping expired entries first', () => {
    const store = new MemoryReplayStore({ max: 3 })
    expect(store.addIfAbsent('a', 2000, 1000)).toBe(true)
    expect(store.addIfAbsent('a', 2000, 1500)).toBe(false)
    expect(store.addIfAbsent('a', 4000, 2000)).toBe(true) // expired: usable again
    expect(store.addIfAbsent('b', 3000, 2000)).toBe(true)
    expect(store.addIfAbsent('c', 9000, 2000)).toBe(true)
    expect(store.addIfAbsent('d', 9000, 3500)).toBe(true) // full: 'b' (expired) goes first
    expect(store.size).toBeLessThanOrEqual(3)
    expect(store.addIfAbsent('a', 4000, 3600)).toBe(false)
    expect(store.addIfAbsent('c', 9000, 3600)).toBe(false)
    expect(() => new MemoryReplayStore({ max: 0 })).toThrow(TypeError)
  })

  it('full of live proofs, it drops the oldest tenth at once and keeps every newer one', () => {
    const store = new MemoryReplayStore({ max: 1000 })
    for (let i = 0; i < 1000; i++) expect(store.addIfAbsent(`k${i}`, 1e12, 1000)).toBe(true)
    expect(store.size).toBe(1000)
    // The 1001st insertion evicts the 100 oldest: the next 99 need no sweep.
    expect(store.addIfAbsent('k1000', 1e12, 1000)).toBe(true)
    expect(store.size).toBe(901)
    for (let i = 1001; i < 1100; i++) store.addIfAbsent(`k${i}`, 1e12, 1000)
    expect(store.size).toBe(1000)
    // Full again: k100–k199 go; k99 went before, so its replay is no longer seen.
    expect(store.addIfAbsent('k99', 1e12, 1000)).toBe(true)
    expect(store.size).toBe(901)
    for (const i of [200, 500, 999, 1000, 1099]) {
      expect(store.addIfAbsent(`k${i}`, 1e12, 1000), `k${i}`).toBe(false)
    }
  })
})
