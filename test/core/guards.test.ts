/**
 * Guards as plain functions (catalogue F1–F10).
 */
import {
  isAuthError,
  requireActor,
  requireAnyScope,
  requireClaim,
  requireClaimIncludes,
  requireScopes,
  runGuard,
  type Guard,
  type Principal,
} from '@svcauth/core'
import { describe, expect, it } from 'vitest'
import { typeError } from '../support/type-error.js'

function principal(scopes: string[], extra: Partial<Principal> = {}): Principal {
  return {
    actorType: 'client',
    actorId: 'bss',
    sub: 'bss',
    clientId: 'bss',
    scopes: new Set(scopes),
    act: undefined,
    issuer: 'https://as.test/',
    audience: ['smd'],
    expiresAt: new Date(Date.now() + 60_000),
    tokenId: 'j',
    claims: Object.freeze(Object.assign(Object.create(null) as object, { role: 'operator' })),
    confirmation: undefined,
    ...extra,
  }
}

function outcome(guard: Guard, p: Principal): string {
  try {
    guard(p)
    return 'ok'
  } catch (err) {
    if (!isAuthError(err)) throw err
    return `${err.status} ${err.reason}`
  }
}

describe('guards', () => {
  it('F1: a token with no scopes gets 403, not 401, naming the scope', () => {
    try {
      requireScopes('read')(principal([]))
      expect.unreachable()
    } catch (err) {
      expect(isAuthError(err) && err.status).toBe(403)
      expect(isAuthError(err) && err.headers['WWW-Authenticate']).toContain('scope="read"')
    }
  })

  it('F2: no substring or prefix matching', () => {
    for (const s of ['reader', 'read:all', 'xread', 'adminread', 'readwrite']) {
      expect(outcome(requireScopes('read'), principal([s])), s).toBe('403 insufficient_scope')
    }
    expect(outcome(requireScopes('admin'), principal(['administrator']))).toBe(
      '403 insufficient_scope',
    )
  })

  it('F3: scopes are case-sensitive', () => {
    expect(outcome(requireScopes('read'), principal(['READ']))).toBe('403 insufficient_scope')
  })

  it('F6: prototype-named scopes never match by accident', () => {
    for (const s of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(outcome(requireScopes(s), principal([])), s).toBe('403 insufficient_scope')
      expect(outcome(requireScopes(s), principal([s])), s).toBe('ok')
    }
  })

  it('F7: requireScopes needs all, requireAnyScope needs one, and empty lists are start-up errors', () => {
    expect(outcome(requireScopes(['a', 'b']), principal(['a']))).toBe('403 insufficient_scope')
    expect(outcome(requireScopes('a', 'b'), principal(['a', 'b', 'c']))).toBe('ok')
    expect(outcome(requireAnyScope(['a', 'b']), principal(['a']))).toBe('ok')
    expect(outcome(requireAnyScope('a', 'b'), principal(['c']))).toBe('403 insufficient_scope')
    expect(() => requireScopes()).toThrow(typeError(/requireScopes needs at least one scope/))
    expect(() => requireScopes([])).toThrow(typeError(/requireScopes needs at least one scope/))
    expect(() => requireAnyScope()).toThrow(typeError(/requireAnyScope needs at least one scope/))
    const badScope = /requireScopes: scopes must be non-empty strings without spaces/
    expect(() => requireScopes('a b')).toThrow(typeError(badScope))
    expect(() => requireScopes('')).toThrow(typeError(badScope))
  })

  it('F10: requireActor separates services from users', () => {
    expect(outcome(requireActor('user'), principal(['x']))).toBe('403 actor_not_allowed')
    expect(outcome(requireActor('client'), principal(['x']))).toBe('ok')
    expect(outcome(requireActor('user'), principal([], { actorType: 'user' }))).toBe('ok')
    expect(() => requireActor('service' as 'user')).toThrow(
      typeError(/requireActor takes 'user' or 'client'/),
    )
  })

  it('requireClaim runs the predicate on the verified claim, and a throwing predicate refuses', () => {
    expect(
      outcome(
        requireClaim('role', (r) => r === 'operator'),
        principal([]),
      ),
    ).toBe('ok')
    expect(
      outcome(
        requireClaim('role', (r) => r === 'admin'),
        principal([]),
      ),
    ).toBe('403 claim_check_failed')
    expect(
      outcome(
        requireClaim('toString', (v) => v !== undefined),
        principal([]),
      ),
    ).toBe('403 claim_check_failed')
    expect(
      outcome(
        requireClaim('role', () => {
          throw new Error('boom')
        }),
        principal([]),
      ),
    ).toBe('403 claim_check_failed')
    expect(() => requireClaim('', () => true)).toThrow(typeError(/requireClaim needs a claim name/))
  })

  it('requireClaim by value compares strictly; requireClaimIncludes reads arrays and space-delimited strings', () => {
    const who = (claims: Record<string, unknown>) =>
      principal([], {
        claims: Object.freeze(Object.assign(Object.create(null) as object, claims)),
      })
    expect(outcome(requireClaim('role', 'operator'), who({ role: 'operator' }))).toBe('ok')
    expect(outcome(requireClaim('level', 3), who({ level: '3' }))).toBe('403 claim_check_failed')
    expect(outcome(requireClaim('level', 3), who({ level: 3 }))).toBe('ok')
    expect(outcome(requireClaim('admin', true), who({ admin: 'true' }))).toBe(
      '403 claim_check_failed',
    )
    expect(outcome(requireClaim('tenant', null), who({ tenant: null }))).toBe('ok')
    // An absent claim is undefined, never an inherited property.
    expect(outcome(requireClaim('constructor', null), who({}))).toBe('403 claim_check_failed')
    const groups = requireClaimIncludes('groups', 'hpc', 'ops')
    expect(outcome(groups, who({ groups: ['ops', 'users', 'hpc'] }))).toBe('ok')
    expect(outcome(groups, who({ groups: ' hpc   ops ' }))).toBe('ok')
    expect(outcome(groups, who({ groups: ['hpc'] }))).toBe('403 claim_check_failed')
    expect(outcome(groups, who({ groups: 'hpc operators' }))).toBe('403 claim_check_failed')
    expect(outcome(groups, who({ groups: 'hpc\tops' }))).toBe('403 claim_check_failed')
    expect(outcome(groups, who({ groups: { hpc: 1, ops: 1 } }))).toBe('403 claim_check_failed')
    expect(outcome(groups, who({}))).toBe('403 claim_check_failed')
    expect(outcome(requireClaimIncludes('n', 1), who({ n: [1, 2] }))).toBe('ok')
    expect(outcome(requireClaimIncludes('n', 1), who({ n: ['1'] }))).toBe('403 claim_check_failed')
    expect(groups.description).toBe('claim: groups includes hpc ops')
    expect(requireClaim('role', 'operator').description).toBe('claim: role = "operator"')
  })

  it('claim guards with bad arguments are start-up TypeErrors', () => {
    expect(() => requireClaim('role', {} as never)).toThrow(
      typeError(/requireClaim needs a string/),
    )
    expect(() => requireClaim('role', undefined as never)).toThrow(TypeError)
    expect(() => requireClaimIncludes('groups')).toThrow(typeError(/at least one value/))
    expect(() => requireClaimIncludes('groups', '')).toThrow(TypeError)
    expect(() => requireClaimIncludes('groups', {} as never)).toThrow(TypeError)
    expect(() => requireClaimIncludes('', 'x')).toThrow(typeError(/needs a claim name/))
  })

  it('F9: runGuard fails closed when authentication never ran, and 401s anonymous callers', () => {
    const g = requireScopes('read')
    try {
      runGuard(g, undefined)
      expect.unreachable()
    } catch (err) {
      expect(isAuthError(err) && `${err.status} ${err.reason}`).toBe('401 auth_not_configured')
    }
    try {
      runGuard(g, { principal: undefined, realm: 'smd' })
      expect.unreachable()
    } catch (err) {
      expect(isAuthError(err) && err.headers['WWW-Authenticate']).toBe('Bearer realm="smd"')
    }
    expect(() => {
      runGuard(g, { principal: principal(['read']), realm: 'smd' })
    }).not.toThrow()
  })
})
