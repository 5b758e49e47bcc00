/**
 * Structured mutants of signed JWTs (RFC 7515 §7.1, RFC 7519) for differential tests of a JWS
 * verifier against an oracle (issue 17). A mutant starts as a valid token draft for one signing
 * key and one verification policy, gets one or more named mutations (`jws-mutations/`: header,
 * key choice, claims, signing step, final encoding), and is then signed and encoded. Everything is
 * driven by a seeded PRNG, so a run is reproducible and a failure names the exact mutation.
 */
import {
  baseDraft,
  encode,
  type MutantFamily,
  type MutantOptions,
  type MutantPolicy,
  type MutationContext,
  type Signer,
} from './jws-draft.js'
import { MUTATIONS, NOT_APPLICABLE, type Mutation } from './jws-mutations/index.js'

export type { MutantFamily, MutantOptions, MutantPolicy, Signer } from './jws-draft.js'

export interface Mutant {
  /** `family: mutation + mutation [signer @ policy]`. */
  readonly name: string
  /** The family of its first mutation ('valid' when unmutated). */
  readonly family: MutantFamily
  readonly token: string
  readonly policy: MutantPolicy
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
