/**
 * The rows of issuers resolved at request time (issue 20, item 2) on /tenant, whose resolver
 * accepts the main issuer, refuses every other one and fails for `BROKEN_TENANT`: every framework
 * gives the same answer to a tenant's token, a stranger's, a token naming no usable issuer, and a
 * lookup that fails.
 */
import { BROKEN_TENANT } from './harness.js'
import type { Expectation, Kit, Scenario } from './scenarios.js'

const REALM = 'Bearer realm="smd"'
const INVALID = 'The access token is invalid'

const ISS_INVALID: Expectation = {
  status: 401,
  challenge: `${REALM}, error="invalid_token", error_description="${INVALID}"`,
  body: { error: 'invalid_token', error_description: INVALID },
  reason: 'iss_invalid',
}

/** A token signed by the main issuer's key, claiming `iss` (or none). */
async function claiming(k: Kit, iss: string | undefined): Promise<string> {
  const { iss: _own, ...claims } = k.claims()
  const token = await k.main.signRaw(
    { alg: 'RS256', typ: 'JWT', kid: k.main.signingKid },
    iss === undefined ? claims : { ...claims, iss },
  )
  return `Bearer ${token}`
}

export const tenantScenarios: readonly Scenario[] = [
  {
    name: "tenant: the resolver returns the token's issuer: 200",
    path: '/tenant/read',
    authorization: async (k) => `Bearer ${await k.client(['smd.read'])}`,
    expect: {
      status: 200,
      challenge: null,
      body: {
        actorType: 'client',
        actorId: 'bss',
        sub: 'bss',
        clientId: 'bss',
        scopes: ['smd.read'],
      },
      reason: null,
    },
  },
  {
    name: 'tenant: a resolved issuer, a scope missing: 403',
    path: '/tenant/read',
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
    name: 'M1: tenant: an issuer the resolver refuses: 401 iss_invalid',
    path: '/tenant/read',
    authorization: async (k) =>
      `Bearer ${await k.outage.mintClientToken({ clientId: 'bss', scope: ['smd.read'], audience: ['smd'] })}`,
    expect: ISS_INVALID,
  },
  {
    name: 'tenant: no iss claim: 401 iss_invalid',
    path: '/tenant/read',
    authorization: (k) => claiming(k, undefined),
    expect: ISS_INVALID,
  },
  {
    name: 'M2: tenant: an iss that is no issuer URL: 401 iss_invalid',
    path: '/tenant/read',
    authorization: (k) => claiming(k, 'smd-admin'),
    expect: ISS_INVALID,
  },
  {
    name: "M4: tenant: the resolver fails for the token's issuer: 503 with Retry-After",
    path: '/tenant/read',
    authorization: (k) => claiming(k, BROKEN_TENANT),
    expect: {
      status: 503,
      challenge: null,
      body: {
        error: 'temporarily_unavailable',
        error_description: 'The issuer configuration is temporarily unavailable',
      },
      reason: 'issuer_unavailable',
      retryAfter: true,
    },
  },
]
