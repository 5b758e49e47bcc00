/**
 * The README's `catch` example for outbound calls (issue 16, item 4), verbatim inside a function,
 * type-checked under the project's strict tsconfig: `svc.fetch` rejects with svcauth's own
 * errors, so the guards narrow `err` with no cast and no `.cause`.
 */
import {
  isTokenEndpointError,
  isUserTokenRefusedError,
  type ServiceClient,
  type TokenEndpointError,
} from '@svcauth/client'
import { expectTypeOf, test } from 'vitest'

declare const svc: ServiceClient

export async function readmeCatchExample(): Promise<void> {
  try {
    const res = await svc.fetch('http://smd:27779/hsm/v2/State/Components')
    console.log(res.status)
  } catch (err) {
    if (isUserTokenRefusedError(err)) {
      // The caller's token was not issued for this target; nothing was sent.
      console.warn(`not forwarded to ${err.origin}; answer ${err.status}`)
    } else if (isTokenEndpointError(err)) {
      // No token: err.error is the OAuth error (invalid_client, …) or network_error.
      console.error(err.message, { error: err.error, origin: err.origin, retry: err.retryable })
    } else {
      throw err
    }
  }
}

test('a failure at an endpoint names its origin when it is about reaching it', () => {
  expectTypeOf<TokenEndpointError['origin']>().toEqualTypeOf<string | undefined>()
})
