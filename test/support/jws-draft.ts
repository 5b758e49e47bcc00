/**
 * A token draft for the mutation tests (issue 17): the signing keys and verification policies a
 * mutant is made for, a valid draft (RFC 7519 claims, the policy's `typ`), how it is signed per
 * algorithm (RFC 7518 §3) and encoded as a compact JWS (RFC 7515 §7.1).
 */
import { constants, sign, type KeyObject } from 'node:crypto'

/** A key that signs tokens, published in the JWKS under test or not (a stranger). */
export interface Signer {
  /** For failure messages, e.g. `rsa-b/PS384`. */
  readonly name: string
  /** The JWS algorithm it signs with. */
  readonly alg: string
  /** The `kid` its tokens carry; undefined for none. */
  readonly kid: string | undefined
  readonly privateKey: KeyObject
  /** Its public key as a JWK, for embedded-key headers. */
  readonly publicJwk: Record<string, unknown>
  /** Only every `stride`-th systematic mutation (slow curves, keys that never verify). @default 1 */
  readonly stride?: number
}

/** The verification policy a mutant is judged under (the verifier and the oracle share it). */
export interface MutantPolicy {
  readonly name: string
  readonly issuer: string
  readonly audience: readonly string[]
  readonly algorithms: readonly string[]
  readonly clockTolerance: number
  readonly maxTokenAge: number | undefined
  readonly strict: boolean
}

export interface MutantOptions {
  readonly seed: number
  /** At least this many mutants are generated (systematic ones first, then random mixes). */
  readonly count: number
  /** The verification time, in seconds (the test freezes the clock there). */
  readonly now: number
  /** Keys published in the JWKS under test, with what they sign as. */
  readonly signers: readonly Signer[]
  /** Keys that are not published. */
  readonly strangers: readonly Signer[]
  /** Public key material as an attacker would feed it to HMAC (PEM, DER, JWK text, modulus). */
  readonly publicSecrets: readonly (string | Buffer)[]
  readonly policies: readonly MutantPolicy[]
}

export type MutantFamily = 'valid' | 'header' | 'key' | 'claims' | 'signature' | 'encoding'

/** A token before signing; mutations edit it in place. */
export interface Draft {
  signer: Signer
  policy: MutantPolicy
  header: Record<string, unknown>
  /** Raw header bytes, when a mutation needs what JSON.stringify cannot write. */
  headerBytes: Buffer | undefined
  claims: Record<string, unknown>
  claimsBytes: Buffer | undefined
  /** Produces the signature segment for the signing input. */
  signature: (input: string) => string
  /** Edits of the finished compact string, in order. */
  post: ((token: string) => string)[]
}

/** What a mutation may use besides the draft. */
export interface MutationContext {
  readonly options: MutantOptions
  readonly random: () => number
  /** A second, valid token of the draft's signer and policy (for swapped signatures). */
  sibling(draft: Draft): string
}

export const b64u = (value: Buffer | string): string => Buffer.from(value).toString('base64url')

/** Signs `input` as `alg` (RFC 7518 §3): PKCS#1 v1.5, PSS, ECDSA as r || s, or EdDSA. */
export function signAs(
  alg: string,
  key: KeyObject,
  input: string,
  pss?: { saltLength: number },
): Buffer {
  const data = Buffer.from(input)
  const hash = `sha${alg.slice(2)}`
  if (alg.startsWith('RS')) return sign(hash, data, key)
  if (alg.startsWith('PS')) {
    return sign(hash, data, {
      key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: pss?.saltLength ?? Number(alg.slice(2)) / 8,
    })
  }
  if (alg.startsWith('ES')) return sign(hash, data, { key, dsaEncoding: 'ieee-p1363' })
  return sign(null, data, key)
}

/** A valid draft: the policy's `typ`, every claim strict mode requires, a five-minute life. */
export function baseDraft(signer: Signer, policy: MutantPolicy, now: number, n: number): Draft {
  return {
    signer,
    policy,
    header: {
      alg: signer.alg,
      ...(signer.kid === undefined ? {} : { kid: signer.kid }),
      typ: policy.strict ? 'at+jwt' : 'JWT',
    },
    headerBytes: undefined,
    claims: {
      iss: policy.issuer,
      aud: [policy.audience[0]],
      sub: 'svc-a',
      client_id: 'svc-a',
      iat: now - 10,
      nbf: now - 10,
      exp: now + 300,
      jti: `jti-${n}`,
      scope: 'inventory.read',
    },
    claimsBytes: undefined,
    signature: (input) => b64u(signAs(signer.alg, signer.privateKey, input)),
    post: [],
  }
}

/** Signs and encodes a draft. */
export function encode(draft: Draft): string {
  const header = draft.headerBytes ?? Buffer.from(JSON.stringify(draft.header))
  const claims = draft.claimsBytes ?? Buffer.from(JSON.stringify(draft.claims))
  const input = `${b64u(header)}.${b64u(claims)}`
  let token = `${input}.${draft.signature(input)}`
  for (const edit of draft.post) token = edit(token)
  return token
}
