/**
 * The outbound errors (issue 15): TokenEndpointError, RegistrationError and UserTokenRefusedError
 * share one base, OutboundError, with a closed `code` set; `code` is the kind of failure, `error`
 * the OAuth error code the server answered.
 */
import {
  isOutboundError,
  isRegistrationError,
  isTokenEndpointError,
  isUserTokenRefusedError,
  OutboundError,
  RegistrationError,
  TokenEndpointError,
  UserTokenRefusedError,
} from '@svcauth/client'
import { describe, expect, it } from 'vitest'

const ORIGIN = 'http://127.0.0.1:27779'

describe('outbound errors', () => {
  const errors = [
    new TokenEndpointError('invalid_client', { status: 401, description: 'x'.repeat(300) }),
    new RegistrationError('conflict', { status: 409 }),
    new UserTokenRefusedError(ORIGIN),
  ]

  it('share the OutboundError base and a closed code set; the guards read the code', () => {
    expect(errors.map((e) => e.code)).toEqual([
      'ERR_TOKEN_ENDPOINT',
      'ERR_CLIENT_REGISTRATION',
      'ERR_USER_TOKEN_REFUSED',
    ])
    for (const err of errors) {
      expect(err).toBeInstanceOf(OutboundError)
      expect(err).toBeInstanceOf(Error)
      expect(isOutboundError(err)).toBe(true)
      // Another copy of the package: a plain object with the code passes the guards too.
      expect(isOutboundError({ code: err.code })).toBe(true)
    }
    expect(errors.map((e) => [isTokenEndpointError(e), isRegistrationError(e)])).toEqual([
      [true, false],
      [false, true],
      [false, false],
    ])
    expect(isUserTokenRefusedError(errors[2])).toBe(true)
    for (const other of [null, undefined, 'ERR_TOKEN_ENDPOINT', { code: 'ERR_OTHER' }]) {
      expect(isOutboundError(other)).toBe(false)
    }
    // An inbound AuthError's code is an OAuth code, not an outbound kind.
    expect(isOutboundError(Object.assign(new Error('x'), { code: 'invalid_token' }))).toBe(false)
  })

  it('code is the kind of failure, error the OAuth error code the server answered', () => {
    const [token, registration, refused] = errors
    expect(token).toMatchObject({
      name: 'TokenEndpointError',
      error: 'invalid_client',
      status: 401,
      message: 'token request failed: invalid_client (HTTP 401)',
      retryable: false,
    })
    expect((token as TokenEndpointError).description).toHaveLength(200)
    expect(registration).toMatchObject({
      name: 'RegistrationError',
      error: 'conflict',
      status: 409,
      message: 'client registration failed: conflict (HTTP 409)',
    })
    expect(refused).toMatchObject({ name: 'UserTokenRefusedError', origin: ORIGIN, status: 403 })
    expect('error' in (refused as object)).toBe(false)
  })
})
