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
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer({ keyCount: 1 })
})
afterAll(async () => {
  await issuer.close()
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
