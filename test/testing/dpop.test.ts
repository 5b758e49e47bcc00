/**
 * The test kit's DPoP key (issue 18, item 3): proofs a real verifier accepts (svcauth's
 * `verifyDpopProof`, checked against jose's thumbprint), and DPoP-bound tokens (`cnf.jkt`).
 */
import { accessTokenHash, MemoryReplayStore, verifyDpopProof } from '@svcauth/core'
import {
  createDpopKey,
  createTestIssuer,
  type DpopAlgorithm,
  type TestIssuer,
} from '@svcauth/testing'
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader } from 'jose'
import { request } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer({ keyCount: 1 })
})
afterAll(async () => {
  await issuer.close()
})
afterEach(() => {
  issuer.setDpopNonce(undefined)
})

const URL_ = 'http://127.0.0.1:27779/hsm/v2/State/Components'
const policy = () => ({
  algorithms: ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'] as const,
  maxAge: 60,
  clockTolerance: 5,
  replay: new MemoryReplayStore(),
})

describe('createDpopKey (issue 18)', () => {
  it.each<DpopAlgorithm>(['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'])(
    'makes %s proofs that verify, bound to its RFC 7638 thumbprint',
    async (alg) => {
      const key = await createDpopKey(alg)
      expect(key.jkt).toBe(await calculateJwkThumbprint(key.publicJwk, 'sha256'))
      expect(key.publicJwk).not.toHaveProperty('d')
      const token = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'], dpop: key })
      expect(decodeJwt(token).cnf).toEqual({ jkt: key.jkt })
      const proof = await key.proof({
        method: 'GET',
        url: `${URL_}?type=Node#x`,
        accessToken: token,
      })
      expect(decodeProtectedHeader(proof)).toMatchObject({
        alg,
        typ: 'dpop+jwt',
        jwk: key.publicJwk,
      })
      expect(decodeJwt(proof)).toMatchObject({ htm: 'GET', htu: URL_, ath: accessTokenHash(token) })
      const verified = await verifyDpopProof(
        { proof, method: 'GET', url: URL_, accessToken: token, jkt: key.jkt },
        { ...policy(), algorithms: [...policy().algorithms] },
      )
      expect(verified.jkt).toBe(key.jkt)
    },
  )

  it('gives each proof a new jti, carries the nonce, and lets a test change or drop any claim', async () => {
    const key = await createDpopKey()
    const a = decodeJwt(await key.proof({ method: 'POST', url: URL_ }))
    const b = decodeJwt(await key.proof({ method: 'POST', url: URL_, nonce: 'n-1' }))
    expect(a.jti).not.toBe(b.jti)
    expect(a).not.toHaveProperty('ath')
    expect(a).not.toHaveProperty('nonce')
    expect(b.nonce).toBe('n-1')
    const edited = decodeJwt(
      await key.proof({
        method: 'GET',
        url: URL_,
        iat: 1,
        jti: 'fixed',
        claims: { htm: undefined, extra: 1 },
      }),
    )
    expect(edited).toEqual({ jti: 'fixed', htu: URL_, iat: 1, extra: 1 })
  })

  it('mints RFC 9068 tokens bound the same way, and leaves unbound tokens without cnf', async () => {
    const key = await createDpopKey('EdDSA')
    expect(decodeJwt(await issuer.mintAccessToken({ dpop: key })).cnf).toEqual({ jkt: key.jkt })
    expect(decodeJwt(await issuer.mintClientToken({ clientId: 'bss' }))).not.toHaveProperty('cnf')
  })
})

/** A client-credentials request to the test issuer, with the given DPoP header values. */
async function tokenRequest(dpop: readonly string[]) {
  const headers: [string, string][] = [
    ['authorization', `Basic ${Buffer.from('bss-dpop:s3cret').toString('base64')}`],
    ['content-type', 'application/x-www-form-urlencoded'],
    ...dpop.map((value): [string, string] => ['dpop', value]),
  ]
  const res = await request(issuer.tokenEndpoint, {
    method: 'POST',
    headers: headers.flat(),
    body: 'grant_type=client_credentials&scope=smd.read',
  })
  return {
    status: res.statusCode,
    nonce: res.headers['dpop-nonce'],
    body: (await res.body.json()) as Record<string, unknown>,
  }
}

describe('the token endpoint of the test issuer with DPoP (RFC 9449 §5, issue 18)', () => {
  beforeAll(() => {
    issuer.addClient({ clientId: 'bss-dpop', secrets: ['s3cret'] })
  })

  it('issues a DPoP-bound token (cnf.jkt, token_type DPoP) for a valid proof, and a bearer token without one', async () => {
    const key = await createDpopKey()
    const bound = await tokenRequest([
      await key.proof({ method: 'POST', url: issuer.tokenEndpoint }),
    ])
    expect(bound.status).toBe(200)
    expect(bound.body.token_type).toBe('DPoP')
    expect(decodeJwt(String(bound.body.access_token)).cnf).toEqual({ jkt: key.jkt })
    const plain = await tokenRequest([])
    expect(plain.body.token_type).toBe('bearer')
    expect(decodeJwt(String(plain.body.access_token))).not.toHaveProperty('cnf')
  })

  it('refuses a proof for another URI or method, a replayed proof and two DPoP headers with 400 invalid_dpop_proof', async () => {
    const key = await createDpopKey()
    const refused = async (dpop: readonly string[]) => {
      const res = await tokenRequest(dpop)
      return `${String(res.status)} ${String(res.body.error)}`
    }
    expect(
      await refused([await key.proof({ method: 'POST', url: `${issuer.origin}/other` })]),
    ).toBe('400 invalid_dpop_proof')
    expect(await refused([await key.proof({ method: 'GET', url: issuer.tokenEndpoint })])).toBe(
      '400 invalid_dpop_proof',
    )
    const once = await key.proof({ method: 'POST', url: issuer.tokenEndpoint })
    expect((await tokenRequest([once])).status).toBe(200)
    expect(await refused([once])).toBe('400 invalid_dpop_proof')
    const a = await key.proof({ method: 'POST', url: issuer.tokenEndpoint })
    const b = await key.proof({ method: 'POST', url: issuer.tokenEndpoint })
    expect(await refused([a, b])).toBe('400 invalid_dpop_proof')
  })

  it('asks for its nonce with 400 use_dpop_nonce and a DPoP-Nonce header, then accepts a proof carrying it', async () => {
    issuer.setDpopNonce('n-42')
    const key = await createDpopKey()
    const first = await tokenRequest([
      await key.proof({ method: 'POST', url: issuer.tokenEndpoint }),
    ])
    expect(first.status).toBe(400)
    expect(first.body.error).toBe('use_dpop_nonce')
    expect(first.nonce).toBe('n-42')
    const retry = await tokenRequest([
      await key.proof({ method: 'POST', url: issuer.tokenEndpoint, nonce: String(first.nonce) }),
    ])
    expect(retry.status).toBe(200)
    expect(retry.body.token_type).toBe('DPoP')
  })
})
