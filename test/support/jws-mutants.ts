/**
 * Structured mutants of signed JWTs (RFC 7515 §7.1, RFC 7519) for differential tests of a JWS
 * verifier against an oracle (issue 17). A mutant starts as a valid token draft for one signing
 * key and one verification policy, gets one or more named mutations (`jws-mutations.ts`: header,
 * key choice, claims, signing step, final encoding), and is then signed and encoded. Everything is
 * driven by a seeded PRNG, so a run is reproducible and a failure names the exact mutation.
 */
import { constants, sign, type KeyObject } from 'node:crypto'
import { MUTATIONS, NOT_APPLICABLE, type Mutation } from './jws-mutations.js'

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

export interface Mutant {
  /** `family: mutation + mutation [signer @ policy]`. */
  readonly name: string
  /** The family of its first mutation ('valid' when unmutated). */
  readonly family: MutantFamily
  readonly token: string
  readonly policy: MutantPolicy
}

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

/** mulberry32: a small, well-mixed 32-bit PRNG, enough to make runs reproducible. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * The mutants: for every policy and signer, the valid token and every mutation that applies
 * (every `stride`-th for slow or never-verifying signers), then random draws (one mutation, or a
 * mix of two or three from different families) until `count` is reached.
 */
export function generateMutants(options: MutantOptions): Mutant[] {
  const random = seeded(options.seed)
  let serial = 0
  const context: MutationContext = {
    options,
    random,
    sibling: (draft) => encode(baseDraft(draft.signer, draft.policy, options.now, serial++)),
  }
  const out: Mutant[] = []
  const make = (signer: Signer, policy: MutantPolicy, mutations: readonly Mutation[]): void => {
    const draft = baseDraft(signer, policy, options.now, serial++)
    let token: string
    try {
      for (const m of mutations) m.apply(draft, context)
      token = encode(draft) // an edit of the final string may find it does not apply either
    } catch (err) {
      if (err === NOT_APPLICABLE) return
      throw err
    }
    const what = mutations.length === 0 ? 'unmutated' : mutations.map((m) => m.name).join(' + ')
    out.push({
      name: `${mutations[0]?.family ?? 'valid'}: ${what} [${signer.name} @ ${policy.name}]`,
      family: mutations[0]?.family ?? 'valid',
      token,
      policy,
    })
  }
  for (const policy of options.policies) {
    for (const signer of options.signers) {
      make(signer, policy, [])
      const stride = signer.stride ?? 1
      MUTATIONS.forEach((m, i) => {
        if (i % stride === 0) make(signer, policy, [m])
      })
    }
  }
  const cheap = options.signers.filter((s) => (s.stride ?? 1) === 1)
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T
  while (out.length < options.count) {
    const first = pick(MUTATIONS)
    const chosen = [first]
    // Half single mutations on random keys and policies, half mixes of two or three.
    const extra = random() < 0.5 ? 0 : 1 + Math.floor(random() * 2)
    for (let i = 0; i < extra; i++) {
      const next = pick(MUTATIONS)
      if (chosen.every((m) => m.family !== next.family)) chosen.push(next)
    }
    make(pick(cheap), pick(options.policies), chosen)
  }
  return out
}
