/**
 * One named mutation of a token draft (`../jws-mutants.ts`), and the shorthands the family files
 * build theirs with. A mutation that does not apply to a draft (e.g. DER form for an RSA key)
 * calls `skip()`.
 */
import type { Draft, MutantFamily, MutationContext } from '../jws-draft.js'

export interface Mutation {
  readonly family: Exclude<MutantFamily, 'valid'>
  readonly name: string
  /** Edits the draft; calls {@link skip} when the mutation does not apply to it. */
  apply(draft: Draft, context: MutationContext): void
}

/** Thrown by {@link skip}. */
export const NOT_APPLICABLE: unique symbol = Symbol('not applicable')

/** Abandons a mutation that does not apply to this draft (e.g. DER form for an RSA key). */
export function skip(): never {
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- a sentinel, caught by the generator
  throw NOT_APPLICABLE
}

export const m = (
  family: Mutation['family'],
  name: string,
  apply: Mutation['apply'],
): Mutation => ({
  family,
  name,
  apply,
})

/** An edit of the finished compact string. */
export const post = (
  family: Mutation['family'],
  name: string,
  edit: (t: string) => string,
): Mutation =>
  m(family, name, (d) => {
    d.post.push(edit)
  })
