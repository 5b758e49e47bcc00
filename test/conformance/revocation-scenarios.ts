/**
 * The instant-revocation rows of the conformance table (issue 20, item 3): on /revocable the main
 * issuer's JWTs are verified locally, then introspected on every request (`jwt: 'always'`,
 * RFC 7662 §2), so every framework must refuse a JWT revoked at the authorization server at once,
 * with the answer opaque tokens get, and answer an unreachable endpoint with 503 and Retry-After.
 * The endpoint is broken in one row and restored in the next, as the opaque rows do.
 */
import type { Expectation, Kit, Scenario } from './scenarios.js'

const REALM = 'Bearer realm="smd"'

const client = {
  actorType: 'client',
  actorId: 'bss',
  sub: 'bss',
  clientId: 'bss',
  scopes: ['smd.read'],
}

const ok: Expectation = { status: 200, challenge: null, body: client, reason: null }

const INACTIVE: Expectation = {
  status: 401,
  challenge: `${REALM}, error="invalid_token", error_description="The access token is invalid"`,
  body: { error: 'invalid_token', error_description: 'The access token is invalid' },
  reason: 'token_inactive',
}

const INTROSPECTION_DOWN: Expectation = {
  status: 503,
  challenge: null,
  body: {
    error: 'temporarily_unavailable',
    error_description: 'The authorization server is temporarily unavailable',
  },
  reason: 'introspection_unavailable',
  retryAfter: true,
}

/** A client token of the main issuer for the service, with `smd.read`. */
const token = (k: Kit): Promise<string> => k.client(['smd.read'])

/** The same, revoked at the authorization server before it is sent. */
async function revoked(k: Kit): Promise<string> {
  const t = await token(k)
  k.main.revokeToken(t)
  return `Bearer ${t}`
}

export const revocationScenarios: readonly Scenario[] = [
  {
    name: 'revocation: a JWT the authorization server calls active is accepted',
    path: '/revocable/read',
    authorization: async (k) => `Bearer ${await token(k)}`,
    expect: ok,
  },
  {
    name: 'M7: revocation: a revoked JWT is refused at once: 401 token_inactive',
    path: '/revocable/read',
    authorization: revoked,
    expect: INACTIVE,
  },
  {
    name: 'revocation: a revoked JWT still passes where JWTs are not introspected',
    path: '/api/read',
    authorization: revoked,
    expect: ok,
  },
  {
    name: 'revocation: an active JWT without the scope is refused by the guard (403)',
    path: '/revocable/read',
    authorization: async (k) => `Bearer ${await k.client(['smd.write'])}`,
    expect: {
      status: 403,
      challenge: `${REALM}, error="insufficient_scope", error_description="The access token lacks a required scope", scope="smd.read"`,
      body: {
        error: 'insufficient_scope',
        error_description: 'The access token lacks a required scope',
      },
      reason: 'insufficient_scope',
    },
  },
  {
    name: 'revocation: an expired JWT is refused locally: 401 expired',
    path: '/revocable/read',
    authorization: async (k) => `Bearer ${await k.client(['smd.read'], { ttl: -120 })}`,
    expect: {
      ...INACTIVE,
      challenge: `${REALM}, error="invalid_token", error_description="The access token expired"`,
      body: { error: 'invalid_token', error_description: 'The access token expired' },
      reason: 'expired',
    },
  },
  {
    name: 'M8: revocation: the introspection endpoint down: a JWT is 503 with Retry-After',
    path: '/revocable/read',
    before: (k) => {
      k.main.setIntrospectionMode('5xx')
    },
    authorization: async (k) => `Bearer ${await token(k)}`,
    expect: INTROSPECTION_DOWN,
  },
  {
    name: 'revocation: the introspection endpoint back: JWTs accepted again',
    path: '/revocable/read',
    before: (k) => {
      k.main.setIntrospectionMode('ok')
    },
    authorization: async (k) => `Bearer ${await token(k)}`,
    expect: ok,
  },
]
