/**
 * The outbound DPoP key (issue 18, item 2; RFC 9449 §4.2): `dpop: true` generates a P-256 key;
 * `{ privateKey, alg }` takes a KeyObject, a CryptoKey or a private JWK for every supported
 * algorithm, each proof verified by the core's `verifyDpopProof` at a real target and its key's
 * thumbprint checked against jose's (the oracle) and the token's `cnf.jkt`. Mistakes (a
 * symmetric or public key, an algorithm that does not fit, a short RSA key, an unknown curve) are
 * TypeErrors at construction that name the option and never quote the key.
 */
import { createSecretKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { type DpopAlgorithm, type DpopKeyOptions, type ServiceClient } from '@svcauth/client'
import { calculateJwkThumbprint, decodeJwt, exportJWK, type JWK } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { typeError } from '../support/type-error.js'
import { useDpopSetup } from './dpop-target.js'

const setup = useDpopSetup()

/** The algorithms the test issuer's token endpoint accepts in proofs. */
const AS_ALGORITHMS: readonly DpopAlgorithm[] = [
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'RS256',
  'PS256',
]

let rsa: { privateKey: KeyObject; publicKey: KeyObject }
const ec = (curve: string): KeyObject => generateKeyPairSync('ec', { namedCurve: curve }).privateKey

beforeAll(() => {
  rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
})

function client(dpop: unknown): ServiceClient {
  return setup.client({ dpop: dpop as DpopKeyOptions })
}

/** The thumbprint jose computes for the public half of `key`. */
async function joseJkt(key: KeyObject): Promise<string> {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = await exportJWK(key)
  return calculateJwkThumbprint(pub, 'sha256')
}

/**
 * One call through `svc`; the token is issued by the test issuer when it accepts `alg`, else
 * scripted (a DPoP token bound to `jkt`, as an authorization server that knows the alg would).
 */
async function callWith(svc: ServiceClient, alg: DpopAlgorithm, jkt: string): Promise<void> {
  if (!AS_ALGORITHMS.includes(alg)) {
    const token = await setup.issuer.mintClientToken({
      clientId: 'bss',
      audience: ['smd'],
      dpop: { jkt },
    })
    setup.issuer.setTokenMode({
      status: 200,
      body: JSON.stringify({ access_token: token, token_type: 'DPoP', expires_in: 3600 }),
    })
  }
  const res = await svc.fetch(`${setup.target.origin}/hsm/v2/State/Components?type=Node`)
  expect(res.status).toBe(200)
  await res.text()
}

describe('DPoP keys', () => {
  it('dpop: true generates an ES256 (P-256) key; proofs carry its public members only', async () => {
    const svc = client(true)
    await callWith(svc, 'ES256', '')
    const sent = setup.target.seen[0]!
    expect(sent.status).toBe(200)
    expect(sent.header).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' })
    const jwk = sent.header?.jwk as JWK
    expect(Object.keys(jwk).sort()).toEqual(['crv', 'kty', 'x', 'y'])
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256' })
    const token = sent.authorization!.slice('DPoP '.length)
    expect((decodeJwt(token).cnf as { jkt: string }).jkt).toBe(await calculateJwkThumbprint(jwk))
  })

  it('two clients with dpop: true hold two keys', async () => {
    const a = client(true)
    const b = client(true)
    await callWith(a, 'ES256', '')
    await callWith(b, 'ES256', '')
    expect(setup.target.seen[0]!.header?.jwk).not.toEqual(setup.target.seen[1]!.header?.jwk)
  })

  const cases: { alg: DpopAlgorithm; key: () => KeyObject }[] = [
    { alg: 'ES256', key: () => ec('P-256') },
    { alg: 'ES384', key: () => ec('P-384') },
    { alg: 'ES512', key: () => ec('P-521') },
    { alg: 'EdDSA', key: () => generateKeyPairSync('ed25519').privateKey },
    ...(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const).map((alg) => ({
      alg,
      key: () => rsa.privateKey,
    })),
  ]

  it.each(cases)(
    '$alg: a given KeyObject and the same key as a JWK sign proofs the target accepts',
    async ({ alg, key }) => {
      const privateKey = key()
      const jkt = await joseJkt(privateKey)
      const asJwk = await exportJWK(privateKey)
      for (const given of [{ privateKey, alg }, { privateKey: { ...asJwk, alg } }]) {
        setup.issuer.setTokenMode('ok')
        const svc = client(given)
        await callWith(svc, alg, jkt)
        const sent = setup.target.seen.at(-1)!
        expect(sent.status, sent.refusal).toBe(200)
        expect(sent.header?.alg).toBe(alg)
        expect(await calculateJwkThumbprint(sent.header?.jwk as JWK)).toBe(jkt)
        const token = sent.authorization!.slice('DPoP '.length)
        expect((decodeJwt(token).cnf as { jkt: string }).jkt).toBe(jkt)
        for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) {
          expect(sent.header?.jwk).not.toHaveProperty(secret)
        }
      }
    },
  )

  it('a WebCrypto CryptoKey works and its own algorithm is the default (ECDSA P-384, RSA-PSS SHA-384)', async () => {
    const ecPair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, [
      'sign',
      'verify',
    ])
    const pssPair = await crypto.subtle.generateKey(
      {
        name: 'RSA-PSS',
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-384',
      },
      true,
      ['sign', 'verify'],
    )
    for (const [pair, alg] of [
      [ecPair, 'ES384'],
      [pssPair, 'PS384'],
    ] as const) {
      setup.issuer.setTokenMode('ok')
      const jwk = await exportJWK(pair.publicKey)
      const jkt = await calculateJwkThumbprint(jwk)
      await callWith(client({ privateKey: pair.privateKey }), alg, jkt)
      const sent = setup.target.seen.at(-1)!
      expect(sent.status, sent.refusal).toBe(200)
      expect(sent.header?.alg).toBe(alg)
    }
  })

  it('defaults: the JWK alg, else ES by curve, EdDSA for Ed25519, RS256 for RSA', async () => {
    const asJwk = { ...(await exportJWK(rsa.privateKey)), alg: 'PS256' }
    const given: [unknown, DpopAlgorithm][] = [
      [{ privateKey: asJwk }, 'PS256'],
      [{ privateKey: ec('P-384') }, 'ES384'],
      [{ privateKey: ec('P-521') }, 'ES512'],
      [{ privateKey: generateKeyPairSync('ed25519').privateKey }, 'EdDSA'],
      [{ privateKey: rsa.privateKey }, 'RS256'],
    ]
    for (const [option, alg] of given) {
      await (await client(option).fetch(`${setup.target.origin}/x`)).text()
      expect(setup.target.seen.at(-1)?.header?.alg).toBe(alg)
      expect(setup.target.seen.at(-1)?.status).toBe(200)
    }
  })
})

describe('DPoP key mistakes are TypeErrors at construction', () => {
  it('refuses symmetric and public keys', async () => {
    const pub = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey
    const pubJwk = await exportJWK(pub)
    const secret = createSecretKey(Buffer.alloc(32, 1))
    const mistakes: [unknown, RegExp][] = [
      [
        { privateKey: secret },
        /dpop\.privateKey must be an asymmetric private key, not a symmetric one/,
      ],
      [
        { privateKey: { kty: 'oct', k: 'AQEBAQ' } },
        /dpop\.privateKey must be an asymmetric private key/,
      ],
      [{ privateKey: pub }, /dpop\.privateKey is a public key; give the private key/],
      [{ privateKey: pubJwk }, /dpop\.privateKey is a public JWK; give the private key/],
      [{}, /dpop\.privateKey must be a KeyObject, a CryptoKey or a private JWK/],
      [
        { privateKey: 'PEM text' },
        /dpop\.privateKey must be a KeyObject, a CryptoKey or a private JWK/,
      ],
      ['yes', /dpop must be true, false, or \{ privateKey, alg\? \}/],
    ]
    for (const [dpop, message] of mistakes) {
      expect(() => client(dpop), String(message)).toThrow(typeError(message))
    }
  })

  it('refuses an alg that does not fit the key, an unknown alg, and a conflict with the key own alg', async () => {
    const p256 = ec('P-256')
    const asJwk = { ...(await exportJWK(rsa.privateKey)), alg: 'RS256' }
    const mistakes: [unknown, RegExp][] = [
      [{ privateKey: ec('P-384'), alg: 'ES256' }, /dpop\.alg ES256 does not fit the key's curve/],
      [{ privateKey: p256, alg: 'RS256' }, /dpop\.alg RS256 does not fit a ec key/],
      [{ privateKey: rsa.privateKey, alg: 'ES256' }, /dpop\.alg ES256 does not fit a rsa key/],
      [
        { privateKey: generateKeyPairSync('ed25519').privateKey, alg: 'PS256' },
        /does not fit a ed25519 key/,
      ],
      [{ privateKey: p256, alg: 'HS256' }, /dpop\.alg must be one of ES256, .*EdDSA/],
      [{ privateKey: p256, alg: 'none' }, /dpop\.alg must be one of/],
      [
        { privateKey: asJwk, alg: 'PS256' },
        /dpop\.alg PS256 does not match the key's own algorithm RS256/,
      ],
      [{ privateKey: { ...asJwk, alg: 'HS256' } }, /dpop\.privateKey's alg HS256 is not one of/],
      [{ privateKey: { ...asJwk, alg: undefined, use: 'enc' } }, /a JWK for use "enc", not "sig"/],
    ]
    for (const [dpop, message] of mistakes) {
      expect(() => client(dpop), String(message)).toThrow(typeError(message))
    }
  })

  it('refuses RSA keys under 2048 bits, and curves and key types proofs cannot use', () => {
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey
    const mistakes: [unknown, RegExp][] = [
      [{ privateKey: short }, /1024-bit RSA key; DPoP proof keys must have 2048 to 4096 bits/],
      [{ privateKey: short, alg: 'PS256' }, /1024-bit RSA key/],
      [{ privateKey: ec('secp256k1') }, /curve secp256k1; use P-256, P-384, P-521 or Ed25519/],
      [{ privateKey: generateKeyPairSync('ed448').privateKey }, /a ed448 key; use an EC/],
      [
        { privateKey: generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).privateKey },
        /a rsa-pss key/,
      ],
    ]
    for (const [dpop, message] of mistakes) {
      expect(() => client(dpop), String(message)).toThrow(typeError(message))
    }
  })

  it('an invalid private JWK is refused without quoting it', async () => {
    const jwk = await exportJWK(ec('P-256'))
    const broken = { ...jwk, x: 'AAAA' }
    let thrown: unknown
    try {
      client({ privateKey: broken })
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(TypeError)
    expect((thrown as Error).message).toBe(
      'svcauth client: dpop.privateKey is not a valid private JWK',
    )
    expect((thrown as Error).message).not.toContain(jwk.d)
  })

  it('dpop: false and an absent dpop leave the client as before: no proof is sent', async () => {
    for (const dpop of [false, undefined]) {
      const svc = client(dpop)
      await (await svc.fetch(`${setup.target.origin}/x`)).text()
      expect(setup.target.seen.at(-1)?.authorization).toMatch(/^Bearer /)
      expect(setup.target.seen.at(-1)?.proofs).toEqual([])
    }
    expect(setup.issuer.tokenRequests.every((r) => r.headers.dpop === undefined)).toBe(true)
  })
})
