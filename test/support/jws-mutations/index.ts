/**
 * The named mutations `../jws-mutants.ts` applies to a token draft, by family: header and key
 * (`header.ts`), claims (`claims.ts`), signature (`signature.ts`) and encoding (`encoding.ts`).
 */
import { claimMutations } from './claims.js'
import { encodingMutations } from './encoding.js'
import { headerMutations, keyMutations } from './header.js'
import type { Mutation } from './mutation.js'
import { signatureMutations } from './signature.js'

export { ALGS } from './header.js'
export { NOT_APPLICABLE, skip } from './mutation.js'
export type { Mutation } from './mutation.js'

/** Every mutation, in a fixed order (systematic runs walk it; random mixes draw from it). */
export const MUTATIONS: readonly Mutation[] = Object.freeze([
  ...headerMutations,
  ...keyMutations,
  ...claimMutations,
  ...signatureMutations,
  ...encodingMutations,
])
