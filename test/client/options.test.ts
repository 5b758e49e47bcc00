/**
 * Option resolution (issue 15): every mistake in the client's options is a TypeError at
 * construction whose message names the option, zero values that make no sense included.
 */
import { registerClient } from '@svcauth/client'
import { describe, expect, it } from 'vitest'

describe('createServiceClient options', () => {
  it('registerClient refuses a zero timeout before sending anything', async () => {
    await expect(registerClient({ adminUrl: 'http://127.0.0.1:1', timeout: 0 })).rejects.toThrow(
      'svcauth registration: timeout must be a number of milliseconds above 0',
    )
  })
})
