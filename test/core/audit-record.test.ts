/**
 * The audit record (catalogue I4, I5): fields only from a verified principal, bounded and
 * printable, and the actor chain of a delegated token cut at a fixed depth.
 */
import { auditRecord, type Actor, type Principal } from '@svcauth/core'
import { requestAuditRecord } from '@svcauth/core/internal'
import { describe, expect, it } from 'vitest'

function principal(over: Partial<Principal>): Principal {
  return {
    actorType: 'user',
    actorId: 'alice',
    sub: 'alice',
    clientId: 'ochami-cli',
    scopes: new Set<string>(),
    act: undefined,
    issuer: 'http://127.0.0.1/',
    audience: ['smd'],
    expiresAt: new Date(0),
    tokenId: undefined,
    claims: {},
    confirmation: undefined,
    ...over,
  }
}

describe('auditRecord', () => {
  it('is anonymous with null ids when there is no verified caller', () => {
    expect(auditRecord(undefined)).toEqual({
      actor_type: 'anonymous',
      actor_id: null,
      sub: null,
      client_id: null,
    })
    expect(requestAuditRecord(undefined)).toMatchObject({ outcome: 'none' })
  })

  it('cuts a 100 KB sub to 256 characters without splitting a surrogate pair', () => {
    const cut = auditRecord(principal({ sub: 'a'.repeat(100_000), actorId: 'a'.repeat(100_000) }))
    expect(cut).toMatchObject({ sub: 'a'.repeat(256), actor_id: 'a'.repeat(256), truncated: true })
    const emoji = auditRecord(principal({ sub: `${'a'.repeat(255)}😀tail` }))
    expect(emoji.sub).toBe('a'.repeat(255))
    expect(emoji.truncated).toBe(true)
    expect(auditRecord(principal({})).truncated).toBeUndefined()
  })

  it('replaces control characters and line separators', () => {
    expect(auditRecord(principal({ sub: 'a\r\nb\u0000c\u009bd\u2028e' })).sub).toBe(
      'a\uFFFD\uFFFDb\uFFFDc\uFFFDd\uFFFDe',
    )
  })

  it('keeps the actor chain of a delegated token, at most four links deep', () => {
    let act: Actor = { sub: 'link-6' }
    for (let i = 5; i >= 1; i--) act = { sub: `link-${i}`, act }
    const record = auditRecord(principal({ act: { sub: 'bss', clientId: 'bss', act } }))
    expect(record.act).toEqual({
      sub: 'bss',
      client_id: 'bss',
      act: { sub: 'link-1', act: { sub: 'link-2', act: { sub: 'link-3' } } },
    })
    expect(record.truncated).toBe(true)
  })

  it('carries the outcome and reason of a request', () => {
    expect(
      requestAuditRecord({
        result: 'rejected',
        principal: undefined,
        reason: 'expired',
        status: 401,
      }),
    ).toEqual({
      actor_type: 'anonymous',
      actor_id: null,
      sub: null,
      client_id: null,
      outcome: 'rejected',
      reason: 'expired',
    })
  })
})
