/**
 * Option resolution (issue 15): every mistake in the client's options is a TypeError at
 * construction whose message names the option, zero values that make no sense included.
 */
import {
  createServiceClient,
  registerClient,
  tokenInterceptor,
  type ServiceClient,
  type ServiceClientOptions,
} from '@svcauth/client'
import { afterEach, describe, expect, it } from 'vitest'

const ORIGIN = 'http://127.0.0.1:27779'
const base: ServiceClientOptions = {
  tokenEndpoint: 'http://127.0.0.1:4444/oauth2/token',
  clientId: 'bss',
  clientSecret: 's3cret',
  targets: { [ORIGIN]: { scope: 'smd.read', audience: 'smd' } },
}

const clients: ServiceClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

/** Constructs a client with `extra` over the base options (closed after the test). */
function build(extra: Record<string, unknown>): ServiceClient {
  const svc = createServiceClient({ ...base, ...extra })
  clients.push(svc)
  return svc
}

describe('createServiceClient options', () => {
  it('a zero, negative or non-number timeout is a TypeError naming it, not a patched-up 1 ms', () => {
    for (const timeout of [0, -1, Number.NaN, 120_001, '1000']) {
      expect(() => build({ timeout }), String(timeout)).toThrow(
        'svcauth client: timeout must be a number from 1 to 120000',
      )
    }
    expect(() => build({ timeout: 1 })).not.toThrow()
  })

  it('a cache of no tokens, or of a fractional number of them, is a TypeError', () => {
    for (const maxCachedTokens of [0, -5, 1.5, 2_000_000]) {
      expect(() => build({ maxCachedTokens }), String(maxCachedTokens)).toThrow(
        'svcauth client: maxCachedTokens must be a whole number from 1 to 1000000',
      )
    }
    expect(() => build({ maxCachedTokens: 1 })).not.toThrow()
  })

  it('a zero response cap or token lifetime is a TypeError naming the option', () => {
    expect(() => build({ maxResponseBytes: 0 })).toThrow(
      'svcauth client: maxResponseBytes must be a number from 1 to 16777216',
    )
    expect(() => build({ defaultLifetime: 0 })).toThrow(
      'svcauth client: defaultLifetime must be a number from 1 to 86400',
    )
    expect(() => build({ maxLifetime: 0 })).toThrow(
      'svcauth client: maxLifetime must be a number from 1 to 2592000',
    )
    expect(() => build({ retry: { minDelay: -1 } })).toThrow(
      'svcauth client: retry.minDelay must be a number from 0 to 3600000',
    )
  })

  it('zero stays valid where it means something: no skew, no delay, no buffering, no cooldown', () => {
    expect(() =>
      build({
        refreshSkew: 0,
        retry: { minDelay: 0, maxDelay: 0 },
        maxReplayBytes: 0,
        discovery: { cooldown: 0, refreshInterval: 0 },
      }),
    ).not.toThrow()
  })

  it('discovery settings are checked even when a token endpoint is configured', () => {
    expect(() => build({ discovery: { cooldown: -1 } })).toThrow(
      'svcauth client: discovery.cooldown must be a number from 0 to 3600000',
    )
  })

  it('a logger without warn and error, or an empty key option, is a TypeError', () => {
    expect(() => build({ logger: { info: () => undefined } })).toThrow(
      'svcauth client: logger must be pino-compatible: an object with warn and error methods',
    )
    expect(() => build({ clientId: 42 })).toThrow('svcauth client: clientId must be a string')
    expect(() => build({ assertionAudience: '' })).toThrow(
      'svcauth client: assertionAudience must be a non-empty string',
    )
    expect(() =>
      build({ authMethod: 'private_key_jwt', privateKey: { kty: 'EC' }, privateKeyAlg: '' }),
    ).toThrow('svcauth client: privateKeyAlg must be a non-empty string')
  })

  it('a target that is not an object is a TypeError naming it', () => {
    expect(() => build({ targets: { [ORIGIN]: null } })).toThrow(
      `svcauth client: target ${ORIGIN} must be an object`,
    )
  })

  it('registration settings are checked at construction, not at the first token request', () => {
    const registration = { credentialsFile: '/tmp/svcauth-never-written.json' }
    const cases: [Record<string, unknown>, string][] = [
      [{ mode: 'dcr' }, 'svcauth registration: dcr needs registrationEndpoint'],
      [{ mode: 'Hydra' }, "svcauth registration: mode must be 'dcr' or 'hydra-admin'"],
      [{}, 'svcauth registration: hydra-admin needs adminUrl'],
      [
        { adminUrl: 'http://127.0.0.1:4445', timeout: 0 },
        'svcauth registration: timeout must be a number of milliseconds above 0',
      ],
      [
        { adminUrl: 'http://127.0.0.1:4445', initialAccessToken: 'two words' },
        'svcauth registration: an access token must be a non-empty b64token',
      ],
    ]
    for (const [extra, message] of cases) {
      expect(
        () => build({ clientId: undefined, registration: { ...registration, ...extra } }),
        message,
      ).toThrow(message)
    }
    expect(() =>
      build({ registration: { ...registration, adminUrl: 'http://127.0.0.1:4445' } }),
    ).not.toThrow()
  })

  it('registerClient refuses a zero timeout before sending anything', async () => {
    await expect(registerClient({ adminUrl: 'http://127.0.0.1:1', timeout: 0 })).rejects.toThrow(
      'svcauth registration: timeout must be a number of milliseconds above 0',
    )
  })

  it('tokenInterceptor checks its planner and replay cap', () => {
    expect(() => tokenInterceptor(undefined as never, { maxReplayBytes: 1 })).toThrow(
      'svcauth client: tokenInterceptor needs a planner function',
    )
    expect(() => tokenInterceptor(() => undefined, { maxReplayBytes: -1 })).toThrow(
      'svcauth client: maxReplayBytes must be a number from 0 to 67108864',
    )
  })
})
