/**
 * The keys of the JWS differential test (issue 17): one JWKS (RFC 7517 §5) that exercises every
 * rule of key selection (usable keys of every type and curve, keys no algorithm may select, a key
 * whose import fails, a shared kid, kid-less keys, members of odd types), the signers that make
 * tokens with them (how many mutations each gets: slow curves and keys that never verify fewer),
 * unpublished strangers, and public key material an attacker would use as an HMAC secret.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import type { JSONWebKeySet } from 'jose'
import type { Signer } from './jws-mutants.js'

type Pair = { privateKey: KeyObject; publicKey: KeyObject }
const rsa = (bits = 2048): Pair => generateKeyPairSync('rsa', { modulusLength: bits })
const ec = (namedCurve: string): Pair => generateKeyPairSync('ec', { namedCurve })
const jwkOf = (pair: Pair): Record<string, unknown> => pair.publicKey.export({ format: 'jwk' })

export interface Keyring {
  readonly jwks: JSONWebKeySet
  readonly signers: readonly Signer[]
  readonly strangers: readonly Signer[]
  readonly publicSecrets: readonly (string | Buffer)[]
}

/** Fresh keys every run (a second or two of RSA key generation). */
export function createKeyring(): Keyring {
  const [rsaA, rsaB, rsaPss, rsaC] = [rsa(), rsa(), rsa(), rsa()] as [Pair, Pair, Pair, Pair]
  const weak = rsa(1024)
  const [ec256, ec256b, ec384, ec521, ecMis] = [
    ec('P-256'),
    ec('P-256'),
    ec('P-384'),
    ec('P-521'),
    ec('P-256'),
  ]
  const ed = generateKeyPairSync('ed25519')
  const ed2 = generateKeyPairSync('ed25519')
  const x25519 = generateKeyPairSync('x25519')
  // Every kind of key selection has to agree: usable keys, keys no algorithm may select, a key
  // whose import fails, a shared kid, kid-less keys, and members of odd types.
  const jwks: JSONWebKeySet = {
    keys: [
      { ...jwkOf(rsaA), kid: 'rsa-a', alg: 'RS256', use: 'sig' },
      { ...jwkOf(rsaB), kid: 'rsa-b' },
      { ...jwkOf(rsaPss), kid: 'rsa-pss', alg: 'PS256' },
      { ...jwkOf(rsaC), alg: 'RS512' },
      { ...jwkOf(weak), kid: 'weak', alg: 'RS256' },
      { ...jwkOf(rsaA), kid: 'enc', use: 'enc' },
      { ...jwkOf(rsaA), kid: 'ops-enc', key_ops: ['encrypt'] },
      { ...jwkOf(rsaB), kid: 'ops-sign', alg: 'RS256', key_ops: ['verify', 'sign'] },
      { ...jwkOf(rsaB), kid: 'ops-ok', alg: 'RS256', key_ops: ['verify'] },
      { ...jwkOf(rsaA), kid: 'dup', alg: 'RS256' },
      { ...jwkOf(rsaB), kid: 'dup', alg: 'RS256' },
      { ...jwkOf(ec256), kid: 'ec256', alg: 'ES256', use: 'sig' },
      { ...jwkOf(ec384), kid: 'ec384' },
      { ...jwkOf(ec521), kid: 'ec521', alg: 'ES512' },
      { ...jwkOf(ecMis), kid: 'ec-mis', alg: 'ES384' },
      { ...jwkOf(ec256b), kid: 'ext-bad', ext: 'yes' },
      { ...jwkOf(ec256b), kid: 'use-SIG', use: 'SIG' },
      { ...jwkOf(ec256b), kid: 7 },
      { ...jwkOf(ed), kid: 'ed', alg: 'EdDSA' },
      { ...jwkOf(ed2), kid: 'ed2' },
      { ...jwkOf(ed), kid: 'ext-false', alg: 'EdDSA', ext: false },
      { ...jwkOf(x25519), kid: 'x25519' },
    ] as JSONWebKeySet['keys'],
  }
  const s = (
    name: string,
    alg: string,
    kid: string | undefined,
    pair: Pair,
    stride = 1,
  ): Signer => ({
    name,
    alg,
    kid,
    privateKey: pair.privateKey,
    publicJwk: jwkOf(pair),
    stride,
  })
  const signers: Signer[] = [
    // Every mutation, under every policy.
    s('rsa-a/RS256', 'RS256', 'rsa-a', rsaA),
    s('rsa-b/PS384', 'PS384', 'rsa-b', rsaB),
    s('rsa-pss/PS256', 'PS256', 'rsa-pss', rsaPss),
    s('ec256/ES256', 'ES256', 'ec256', ec256),
    s('ed/EdDSA', 'EdDSA', 'ed', ed),
    s('ed2/Ed25519', 'Ed25519', 'ed2', ed2),
    // Every third mutation.
    ...['RS256', 'RS384', 'RS512', 'PS256', 'PS512'].map((alg) =>
      s(`rsa-b/${alg}`, alg, 'rsa-b', rsaB, 3),
    ),
    s('kid-less rsa-c/RS512', 'RS512', undefined, rsaC, 3),
    s('ops-ok/RS256', 'RS256', 'ops-ok', rsaB, 3),
    s('ed2/EdDSA', 'EdDSA', 'ed2', ed2, 3),
    s('ext-false/EdDSA', 'EdDSA', 'ext-false', ed, 3),
    s('kid-less ed2/Ed25519', 'Ed25519', undefined, ed2, 3),
    // Slow curves: every fifteenth.
    s('ec384/ES384', 'ES384', 'ec384', ec384, 15),
    s('ec521/ES512', 'ES512', 'ec521', ec521, 15),
    s('kid-less ec384/ES384', 'ES384', undefined, ec384, 15),
    s('kid-less ec521/ES512', 'ES512', undefined, ec521, 15),
    // Keys that never verify (weak, wrong use or key_ops, shared kid, ambiguous, mismatched alg).
    s('weak/RS256', 'RS256', 'weak', weak, 12),
    s('enc/RS256', 'RS256', 'enc', rsaA, 12),
    s('ops-enc/RS256', 'RS256', 'ops-enc', rsaA, 12),
    s('ops-sign/RS256', 'RS256', 'ops-sign', rsaB, 12),
    s('dup/RS256', 'RS256', 'dup', rsaA, 12),
    s('kid-less rsa-a/RS256', 'RS256', undefined, rsaA, 12),
    s('ec-mis/ES256', 'ES256', 'ec-mis', ecMis, 12),
    s('ext-bad/ES256', 'ES256', 'ext-bad', ec256b, 12),
    s('use-SIG/ES256', 'ES256', 'use-SIG', ec256b, 12),
    s('kid-less ec256/ES256', 'ES256', undefined, ec256, 12),
  ]
  const strangers = [
    s('stranger/RS256', 'RS256', 'rsa-x', rsa()),
    s('stranger/ES256', 'ES256', 'ec-x', ec('P-256')),
    s('stranger/EdDSA', 'EdDSA', 'ed-x', generateKeyPairSync('ed25519')),
  ]
  const rsaAJwk = jwkOf(rsaA)
  const publicSecrets = [
    rsaA.publicKey.export({ type: 'spki', format: 'pem' }),
    rsaA.publicKey.export({ type: 'pkcs1', format: 'pem' }),
    rsaA.publicKey.export({ type: 'spki', format: 'der' }),
    JSON.stringify(rsaAJwk),
    Buffer.from(String(rsaAJwk.n), 'base64url'),
    ec256.publicKey.export({ type: 'spki', format: 'pem' }),
  ]

  return { jwks, signers, strangers, publicSecrets }
}
