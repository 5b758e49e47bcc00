/**
 * Reading a target's WWW-Authenticate for its DPoP challenge (RFC 9110 §11.6.1, RFC 9449 §7.1):
 * the DPoP challenge may come after a Bearer one in the same field or in a field of its own,
 * parameters may be quoted (with commas and escapes inside) or tokens, schemes and names compare
 * case-insensitively, and a token68 challenge does not confuse the parameters that follow.
 */
import { describe, expect, it } from 'vitest'
import { challengeError, parseChallenges } from '../../packages/client/src/lib/challenge.js'

describe('WWW-Authenticate challenges', () => {
  it.each([
    ['DPoP error="use_dpop_nonce"', 'use_dpop_nonce'],
    ['Bearer realm="smd", DPoP error="invalid_token", algs="ES256 PS256"', 'invalid_token'],
    [
      'Bearer realm="a, b", error="invalid_token", DPoP algs="ES256", error=use_dpop_nonce',
      'use_dpop_nonce',
    ],
    ['Basic abc==, dpop ERROR="invalid_token"', 'invalid_token'],
    ['Negotiate a87421000492aa874209af8bc028, DPoP error="use_dpop_nonce"', 'use_dpop_nonce'],
    [['Bearer error="invalid_token"', 'DPoP error="use_dpop_nonce"'], 'use_dpop_nonce'],
    ['DPoP error = "invalid_token" , algs="ES256"', 'invalid_token'],
    ['DPoP error="a\\"b"', 'a"b'],
  ] as [string | string[], string][])('%s → %s', (header, error) => {
    expect(challengeError(header, 'dpop')).toBe(error)
  })

  it('tells a DPoP challenge without error from no DPoP challenge at all', () => {
    expect(challengeError('DPoP algs="ES256"', 'dpop')).toBeNull()
    expect(challengeError('Bearer error="invalid_token"', 'dpop')).toBeUndefined()
    expect(challengeError(undefined, 'dpop')).toBeUndefined()
    expect(challengeError('', 'dpop')).toBeUndefined()
  })

  it('stops at a fault and keeps what came before; an oversized header yields nothing', () => {
    expect(parseChallenges('Bearer realm="x", DPoP error="unterminated')).toEqual([
      { scheme: 'bearer', params: new Map([['realm', 'x']]) },
      { scheme: 'dpop', params: new Map() },
    ])
    expect(parseChallenges(`DPoP error="invalid_token", x="${'a'.repeat(20_000)}"`)).toEqual([])
    // The first of a repeated parameter wins.
    expect(challengeError('DPoP error="invalid_token", error="use_dpop_nonce"', 'dpop')).toBe(
      'invalid_token',
    )
  })
})
