/**
 * The AuthError family and the challenge formatter (RFC 6750 §3; catalogue H1, H2, F8).
 */
import { AuthError, errorResponse, formatChallenge, isAuthError } from '@svcauth/core'
import { describe, expect, it } from 'vitest'

describe('AuthError', () => {
  it('maps each code to its status', () => {
    expect(new AuthError('unauthorized', 'missing_token').status).toBe(401)
    expect(new AuthError('invalid_request', 'malformed_header').status).toBe(400)
    expect(new AuthError('invalid_token', 'expired').status).toBe(401)
    expect(new AuthError('insufficient_scope', 'insufficient_scope').status).toBe(403)
    expect(new AuthError('temporarily_unavailable', 'jwks_unavailable').status).toBe(503)
  })

  it('gives no error attribute when no credentials were presented', () => {
    expect(new AuthError('unauthorized', 'missing_token').headers).toEqual({
      'WWW-Authenticate': 'Bearer realm="api"',
    })
  })

  it('F8: names the required scopes once, quoted, in a 403 challenge', () => {
    const err = new AuthError('insufficient_scope', 'insufficient_scope', {
      scopes: ['read:orders', 'write:orders'],
    })
    const header = err.headers['WWW-Authenticate']!
    expect(header).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="The access token lacks a required scope", scope="read:orders write:orders"',
    )
    expect(header.match(/scope="/g)).toHaveLength(1)
  })

  it('sends Retry-After and no challenge for 503', () => {
    const err = new AuthError('temporarily_unavailable', 'jwks_unavailable', { retryAfter: 2.2 })
    expect(err.headers).toEqual({ 'Retry-After': '3' })
  })

  it('H1: never lets CR, LF, quotes or backslashes into the challenge', () => {
    const header = formatChallenge('a"b\r\nSet-Cookie: x=1\\', 'invalid_token', 'x"\ny', ['a"b'])
    expect(header).not.toMatch(/[\r\n\\]/)
    expect(header).toBe(
      'Bearer realm="abSet-Cookie: x=1", error="invalid_token", error_description="xy"',
    )
  })

  it('keeps its description fixed and generic for every reason', () => {
    const err = new AuthError('invalid_token', 'signature_invalid', {
      cause: new Error('secret detail'),
    })
    expect(err.message).toBe('The access token is invalid')
    expect(errorResponse(err)).toEqual({
      status: 401,
      headers: {
        'WWW-Authenticate':
          'Bearer realm="api", error="invalid_token", error_description="The access token is invalid"',
        'Cache-Control': 'no-store',
      },
      body: { error: 'invalid_token', error_description: 'The access token is invalid' },
    })
  })

  it('rebuilds the challenge for another realm', () => {
    const err = new AuthError('insufficient_scope', 'insufficient_scope', {
      scopes: ['a'],
    }).withRealm('smd')
    expect(err.headers['WWW-Authenticate']).toContain('realm="smd"')
    expect(err.headers['WWW-Authenticate']).toContain('scope="a"')
  })

  it('is recognised by shape, so a second copy of the package still matches', () => {
    const foreign = Object.assign(new Error('x'), {
      name: 'AuthError',
      code: 'invalid_token',
      status: 401,
    })
    expect(isAuthError(foreign)).toBe(true)
    expect(isAuthError(new Error('x'))).toBe(false)
    expect(isAuthError(null)).toBe(false)
  })
})
