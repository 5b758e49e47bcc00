/**
 * The conformance table: every request below must get exactly the same status, challenge, body and
 * rejection reason from every adapter and framework version. Expected strings are literal here,
 * not read from the library, so a change in any answer shows up as a failure.
 */
import { createHmac } from 'node:crypto'
import { base64url, exportSPKI, importJWK, type CryptoKey, type JWK } from 'jose'
import type { DpopKey, TestIssuer } from '@svcauth/testing'
import { dpopScenarios } from './dpop-scenarios.js'
import { tenantScenarios } from './tenant-scenarios.js'
import { revocationScenarios } from './revocation-scenarios.js'
import { keysScenarios } from './keys-scenarios.js'
import type { AppIssuers } from './harness.js'
import { revokedJti } from './harness.js'

export interface Kit extends AppIssuers {
  /** A Hydra client-credentials token from the main issuer with `aud: ['smd']`. */
  client(scope?: string[], extra?: MintExtra): Promise<string>
  /** A Hydra user token (sub alice, client ochami-cli) with `aud: ['smd']`. */
  user(scope?: string[], extra?: MintExtra): Promise<string>
  /** The main issuer's default claims, for raw tokens. */
  claims(): Record<string, unknown>
  /** DPoP client keys: the one tokens are bound to (ES256), another ES256 one, an EdDSA one. */
  readonly key: DpopKey
  readonly otherKey: DpopKey
  readonly edKey: DpopKey
}

interface MintExtra {
  dpop?: DpopKey
  claims?: Record<string, unknown>
  header?: Record<string, unknown>
  audience?: string[]
  ttl?: number
  kid?: string
}

export interface Expectation {
  readonly status: number
  /** Exact `WWW-Authenticate`, or null when the header must be absent. */
  readonly challenge: string | null
  /** Exact JSON body; omitted for HEAD requests (no body). */
  readonly body?: unknown
  /** The rejection reason recorded for the request, or null when it was not rejected. */
  readonly reason: string | null
  readonly retryAfter?: boolean
}

export interface Scenario {
  readonly name: string
  readonly method?: 'GET' | 'HEAD' | 'POST'
  readonly path: string
  /** Authorization header value(s); an array sends the header more than once. */
  readonly authorization?: (kit: Kit) => Promise<string | string[]> | string | string[]
  readonly headers?: Readonly<Record<string, string>>
  /** Credentials sent outside Authorization (other headers, the query) that no log line may hold. */
  readonly secrets?: readonly string[]
  /** Runs before the request (e.g. to break the JWKS endpoint). */
  readonly before?: (kit: Kit) => Promise<void> | void
  /**
   * A DPoP request for the app at `origin` (run before the request, so requests it makes itself are
   * not the scenario's): the Authorization value and the `DPoP` header values, one field each.
   */
  readonly dpop?: (
    kit: Kit,
    origin: string,
  ) => Promise<{ authorization: string; proofs: readonly string[] }>
  readonly expect: Expectation
}

const REALM = 'Bearer realm="smd"'
const b64u = (v: unknown): string => base64url.encode(typeof v === 'string' ? v : JSON.stringify(v))
const now = (): number => Math.floor(Date.now() / 1000)

function invalid(reason: string, description = 'The access token is invalid'): Expectation {
  return {
    status: 401,
    challenge: `${REALM}, error="invalid_token", error_description="${description}"`,
    body: { error: 'invalid_token', error_description: description },
    reason,
  }
}

function badRequest(reason: string, description: string): Expectation {
  return {
    status: 400,
    challenge: `${REALM}, error="invalid_request", error_description="${description}"`,
    body: { error: 'invalid_request', error_description: description },
    reason,
  }
}

const MALFORMED_HEADER = badRequest('malformed_header', 'The Authorization header is malformed')
const MULTIPLE = badRequest('multiple_methods', 'More than one credential was presented')

function noCredentials(reason = 'missing_token'): Expectation {
  return {
    status: 401,
    challenge: REALM,
    body: { error: 'unauthorized', error_description: 'Authentication required' },
    reason,
  }
}

function forbidden(reason: string, scopes?: string): Expectation {
  const description =
    reason === 'insufficient_scope'
      ? 'The access token lacks a required scope'
      : 'This caller is not allowed here'
  const scope = scopes === undefined ? '' : `, scope="${scopes}"`
  return {
    status: 403,
    challenge: `${REALM}, error="insufficient_scope", error_description="${description}"${scope}`,
    body: { error: 'insufficient_scope', error_description: description },
    reason,
  }
}

function ok(body: unknown, status = 200): Expectation {
  return { status, challenge: null, body, reason: null }
}

const UNAVAILABLE: Expectation = {
  status: 503,
  challenge: null,
  body: {
    error: 'temporarily_unavailable',
    error_description: 'The authorization server keys are temporarily unavailable',
  },
  reason: 'jwks_unavailable',
  retryAfter: true,
}

const client = (scopes: string[], id = 'bss') => ({
  actorType: 'client',
  actorId: id,
  sub: id,
  clientId: id,
  scopes: [...scopes].sort(),
})
const alice = (scopes: string[]) => ({
  actorType: 'user',
  actorId: 'alice',
  sub: 'alice',
  clientId: 'ochami-cli',
  scopes: [...scopes].sort(),
})

const bearer = async (t: Promise<string>): Promise<string> => `Bearer ${await t}`

async function hmacWithPublicKey(issuer: TestIssuer, claims: Record<string, unknown>) {
  const jwks = (await fetch(issuer.jwksUri).then((r) => r.json())) as { keys: JWK[] }
  const jwk = jwks.keys.find((k) => k.kid === issuer.signingKid)!
  const pem = await exportSPKI((await importJWK(jwk, 'RS256', { extractable: true })) as CryptoKey)
  const input = `${b64u({ alg: 'HS256', typ: 'JWT', kid: issuer.signingKid })}.${b64u(claims)}`
  return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/**
 * The same token with the spare bits of its signature's last character set: the same signature
 * bytes to a lenient decoder, another string (RSA-2048 signatures are 342 characters, 4 spare bits).
 */
function spareBitsSet(token: string): string {
  const last = B64URL.indexOf(token.at(-1) ?? 'A')
  return token.slice(0, -1) + B64URL.charAt(last | 0x0f)
}

export const scenarios: readonly Scenario[] = [
  // Transport and header parsing (RFC 6750 §2.1)
  { name: 'a public route needs no token', path: '/public', expect: ok({ public: true }) },
  { name: 'A1: no token: 401 with a bare challenge', path: '/api/read', expect: noCredentials() },
  {
    name: 'A2: Basic credentials are not bearer credentials',
    path: '/api/read',
    authorization: () => 'Basic dXNlcjpwYXNz',
    expect: noCredentials(),
  },
  {
    name: 'A2: Digest credentials are not bearer credentials',
    path: '/api/read',
    authorization: () => 'Digest username="x"',
    expect: noCredentials(),
  },
  {
    name: 'A3: a lowercase scheme is accepted',
    path: '/api/read',
    authorization: async (k) => `bearer ${await k.client(['smd.read'])}`,
    expect: ok(client(['smd.read'])),
  },
  {
    name: 'A3: an uppercase scheme is accepted',
    path: '/api/read',
    authorization: async (k) => `BEARER ${await k.client(['smd.read'])}`,
    expect: ok(client(['smd.read'])),
  },
  {
    name: 'A5: several spaces after the scheme are accepted',
    path: '/api/read',
    authorization: async (k) => `Bearer   ${await k.client(['smd.read'])}`,
    expect: ok(client(['smd.read'])),
  },
  {
    name: 'A4: the scheme alone is malformed',
    path: '/api/read',
    authorization: () => 'Bearer',
    expect: MALFORMED_HEADER,
  },
  {
    name: 'A4: two tokens in one header are malformed',
    path: '/api/read',
    authorization: () => 'Bearer abc def',
    expect: MALFORMED_HEADER,
  },
  {
    name: 'A4: a tab after the scheme is malformed',
    path: '/api/read',
    authorization: async (k) => `Bearer\t${await k.client(['smd.read'])}`,
    expect: MALFORMED_HEADER,
  },
  {
    name: 'A4: a comma after the token is malformed',
    path: '/api/read',
    authorization: async (k) => `Bearer ${await k.client(['smd.read'])},x`,
    expect: MALFORMED_HEADER,
  },
  {
    name: 'A4: a quote in the token is malformed',
    path: '/api/read',
    authorization: () => 'Bearer abc"def',
    expect: MALFORMED_HEADER,
  },
  {
    name: 'A8: two Authorization headers are refused even when both are valid',
    path: '/api/read',
    authorization: async (k) => [
      `Bearer ${await k.client(['smd.read'])}`,
      `Bearer ${await k.user(['smd.read'])}`,
    ],
    expect: MULTIPLE,
  },
  {
    name: 'A6: a header token beside an access_token query parameter is refused',
    path: '/api/read?access_token=abc',
    authorization: (k) => bearer(k.client(['smd.read'])),
    expect: MULTIPLE,
  },
  {
    name: 'A6: a query token alone is not read',
    path: '/api/read?access_token=abc.def.ghi',
    expect: noCredentials(),
  },
  {
    name: 'A10: a cookie token is not read',
    path: '/api/read',
    headers: { cookie: 'access_token=abc.def.ghi; jwt=abc.def.ghi' },
    expect: noCredentials(),
  },
  {
    name: 'R8: X-Forwarded-Authorization, DPoP and array-form query tokens are not read, and never logged',
    path: '/api/read?access_token[]=R8QUERYCANARY01&access_token%5B0%5D=R8QUERYCANARY02&page=1',
    headers: { 'x-forwarded-authorization': 'Bearer R8FORWARDEDCANARY', dpop: 'R8DPOPCANARY.X.Y' },
    secrets: ['R8QUERYCANARY', 'R8FORWARDEDCANARY', 'R8DPOPCANARY'],
    expect: noCredentials(),
  },
  {
    name: 'A9: a token over 8 KiB is refused before decoding',
    path: '/api/read',
    authorization: () => `Bearer ${'A'.repeat(9 * 1024)}`,
    expect: invalid('token_too_large', 'The access token is too large'),
  },
  // Accepted tokens
  {
    name: 'a Hydra client-credentials token is a client whose actorId is its client_id',
    path: '/api/read',
    authorization: (k) => bearer(k.client(['smd.read', 'openid'])),
    expect: ok(client(['smd.read', 'openid'])),
  },
  {
    name: 'a user token is a user whose actorId is its sub',
    path: '/api/read',
    authorization: (k) => bearer(k.user(['smd.read'])),
    expect: ok(alice(['smd.read'])),
  },
  {
    name: 'E1: an RFC 9068 at+jwt token with a scope string is accepted',
    path: '/api/read',
    authorization: (k) =>
      bearer(
        k.main.mintAccessToken({
          claims: { aud: 'smd', scope: 'smd.read x', sub: 'svc', client_id: 'svc' },
        }),
      ),
    expect: ok(client(['smd.read', 'x'], 'svc')),
  },
  {
    name: 'E1: a token with no typ is accepted',
    path: '/api/read',
    authorization: (k) => bearer(k.client(['smd.read'], { header: { typ: undefined } })),
    expect: ok(client(['smd.read'])),
  },
  {
    name: 'R9: a token with sub === client_id and auth_time is a user, as the route sees it',
    path: '/api/whoami',
    authorization: (k) => bearer(k.client(['smd.read'], { claims: { auth_time: now() - 60 } })),
    expect: ok({ ...client(['smd.read']), actorType: 'user' }),
  },
  {
    name: 'R9: such a token passes requireActor(user)',
    path: '/api/users',
    authorization: (k) => bearer(k.client([], { claims: { amr: ['pwd'] } })),
    expect: ok({ ...client([]), actorType: 'user' }),
  },
  {
    name: 'R9: an introspected token with sub === client_id and acr is a user',
    path: '/opaque/whoami',
    authorization: (k) =>
      `Bearer ${k.main.mintOpaqueToken({ clientId: 'bss', scope: ['smd.read'], audience: ['smd'], claims: { acr: '1' } })}`,
    expect: ok({ ...client(['smd.read']), actorType: 'user' }),
  },
  {
    name: 'B7: duplicate claim names: the last one counts',
    path: '/api/whoami',
    authorization: async (k) => {
      const claims = JSON.stringify({ ...k.claims(), sub: 'victim' }).slice(0, -1)
      return `Bearer ${await k.main.signRaw({ typ: 'JWT' }, `${claims},"sub":"attacker"}`)}`
    },
    expect: ok({
      actorType: 'user',
      actorId: 'attacker',
      sub: 'attacker',
      clientId: 'bss',
      scopes: ['smd.read'],
    }),
  },
  // Lifetime and claims
  {
    name: 'E7: an expired token',
    path: '/api/read',
    authorization: (k) => bearer(k.client(['smd.read'], { ttl: -120 })),
    expect: invalid('expired', 'The access token expired'),
  },
  {
    name: 'E9: a token not valid yet',
    path: '/api/read',
    authorization: (k) => bearer(k.client(['smd.read'], { claims: { nbf: now() + 600 } })),
    expect: invalid('not_yet_valid', 'The access token is not valid yet'),
  },
  {
    name: 'E10: a token issued in the future',
    path: '/api/read',
    authorization: (k) => bearer(k.client(['smd.read'], { claims: { iat: now() + 3600 } })),
    expect: invalid('iat_invalid'),
  },
  {
    name: 'E7: a token without exp',
    path: '/api/read',
    authorization: (k) => bearer(k.client(['smd.read'], { claims: { exp: undefined } })),
    expect: invalid('claim_missing'),
  },
  {
    name: 'E8: exp 1e400 (Infinity) is an unbounded lifetime',
    path: '/api/read',
    authorization: async (k) => {
      const body = JSON.stringify({ ...k.claims(), exp: 0 }).replace('"exp":0', '"exp":1e400')
      return `Bearer ${await k.main.signRaw({ typ: 'JWT' }, body)}`
    },
    expect: invalid('lifetime_too_long'),
  },
  {
    name: 'E8: a ten-year token is too long-lived',
    path: '/api/read',
    authorization: (k) => bearer(k.client(['smd.read'], { ttl: 10 * 365 * 86400 })),
    expect: invalid('lifetime_too_long'),
  },
  {
    name: 'E3: a token for another audience',
    path: '/api/read',
    authorization: (k) => bearer(k.client(['smd.read'], { audience: ['bss'] })),
    expect: invalid('aud_invalid'),
  },
  {
    name: "E4: Hydra's default aud: [] when an audience is required",
    path: '/api/read',
    authorization: (k) => bearer(k.client(['smd.read'], { audience: [] })),
    expect: invalid('aud_invalid'),
  },
  {
    name: 'E5: another issuer',
    path: '/api/read',
    authorization: (k) =>
      bearer(k.client(['smd.read'], { claims: { iss: 'https://other.test/' } })),
    expect: invalid('iss_invalid'),
  },
  {
    name: 'E5: the issuer with a trailing slash added',
    path: '/api/read',
    authorization: (k) => bearer(k.client(['smd.read'], { claims: { iss: `${k.main.issuer}/` } })),
    expect: invalid('iss_invalid'),
  },
  {
    name: 'E11: a numeric sub',
    path: '/api/read',
    authorization: (k) => bearer(k.client(['smd.read'], { claims: { sub: 123 } })),
    expect: invalid('claim_type_invalid'),
  },
  {
    name: 'E11: a numeric client_id',
    path: '/api/read',
    authorization: (k) => bearer(k.client(['smd.read'], { claims: { client_id: 42 } })),
    expect: invalid('claim_type_invalid'),
  },
  {
    name: 'F5: a scope claim that is an array',
    path: '/api/read',
    authorization: (k) => bearer(k.client([], { claims: { scope: ['smd.read'] } })),
    expect: invalid('claim_type_invalid'),
  },
  {
    name: 'E12: a sender-constrained (cnf) token presented as Bearer',
    path: '/api/read',
    authorization: (k) => bearer(k.client(['smd.read'], { claims: { cnf: { jkt: 'abc' } } })),
    expect: invalid('sender_constrained'),
  },
  {
    name: 'a revoked token (isRevoked hook)',
    path: '/api/read',
    authorization: (k) => bearer(k.client(['smd.read'], { claims: { jti: revokedJti } })),
    expect: invalid('revoked'),
  },
  // Structure, algorithms and keys
  {
    name: 'B1: two segments',
    path: '/api/read',
    authorization: () => 'Bearer abc.def',
    expect: invalid('malformed_jws', 'The access token is malformed'),
  },
  {
    name: 'B2: a five-segment JWE',
    path: '/api/read',
    authorization: () =>
      `Bearer ${b64u({ alg: 'PBES2-HS256+A128KW', enc: 'A128GCM', p2c: 2147483647 })}.AAAA.AAAA.AAAA.AAAA`,
    expect: invalid('malformed_jws', 'The access token is malformed'),
  },
  {
    name: 'B4: a signed payload that is not JSON',
    path: '/api/read',
    authorization: async (k) => `Bearer ${await k.main.signRaw({ typ: 'JWT' }, 'not json')}`,
    expect: invalid('malformed_jws', 'The access token is malformed'),
  },
  {
    name: 'R5: a token whose signature segment ends in "=" is refused (401 malformed_jws)',
    path: '/api/read',
    authorization: async (k) => `Bearer ${await k.client(['smd.read'])}==`,
    expect: invalid('malformed_jws', 'The access token is malformed'),
  },
  {
    name: 'R5: non-zero spare bits in the signature’s last character are refused (401 malformed_jws)',
    path: '/api/read',
    authorization: async (k) => `Bearer ${spareBitsSet(await k.client(['smd.read']))}`,
    expect: invalid('malformed_jws', 'The access token is malformed'),
  },
  {
    name: 'C8: a forged signature (attacker key, real kid)',
    path: '/api/read',
    authorization: (k) =>
      bearer(k.main.forgeClientToken({ clientId: 'bss', scope: ['smd.read'], audience: ['smd'] })),
    expect: invalid('signature_invalid'),
  },
  {
    name: 'C8: a tampered payload under the original signature',
    path: '/api/read',
    authorization: async (k) => {
      const [h, , s] = (await k.client(['smd.read'])).split('.')
      return `Bearer ${h!}.${b64u({ ...k.claims(), scp: ['smd.read', 'admin'] })}.${s!}`
    },
    expect: invalid('signature_invalid'),
  },
  {
    name: 'C1: alg none',
    path: '/api/read',
    authorization: (k) => `Bearer ${b64u({ alg: 'none', typ: 'JWT' })}.${b64u(k.claims())}.`,
    expect: invalid('alg_not_allowed'),
  },
  {
    name: 'C1: alg nOnE',
    path: '/api/read',
    authorization: (k) => `Bearer ${b64u({ alg: 'nOnE', typ: 'JWT' })}.${b64u(k.claims())}.`,
    expect: invalid('alg_not_allowed'),
  },
  {
    name: 'C3: HS256 signed with the public key (key confusion)',
    path: '/api/read',
    authorization: async (k) => `Bearer ${await hmacWithPublicKey(k.main, k.claims())}`,
    expect: invalid('alg_not_allowed'),
  },
  {
    name: 'G1: an unknown kid',
    path: '/api/read',
    authorization: (k) =>
      bearer(k.main.forgeClientToken({ clientId: 'bss', audience: ['smd'], kid: 'unknown-kid' })),
    expect: invalid('key_not_found'),
  },
  {
    name: 'D2: a jku header pointing elsewhere is never followed',
    path: '/api/read',
    authorization: (k) =>
      bearer(
        k.main.forgeClientToken({
          clientId: 'bss',
          audience: ['smd'],
          kid: 'atk',
          header: { jku: 'http://127.0.0.1:9/jwks' },
        }),
      ),
    expect: invalid('key_not_found'),
  },
  {
    name: 'E1: typ dpop+jwt',
    path: '/api/read',
    authorization: (k) => bearer(k.client(['smd.read'], { header: { typ: 'dpop+jwt' } })),
    expect: invalid('typ_invalid'),
  },
  {
    name: 'E1: typ logout+jwt',
    path: '/api/read',
    authorization: (k) => bearer(k.client(['smd.read'], { header: { typ: 'logout+jwt' } })),
    expect: invalid('typ_invalid'),
  },
  {
    name: 'D8: a crit header',
    path: '/api/read',
    authorization: async (k) =>
      `Bearer ${await k.main.signRaw({ typ: 'JWT', crit: ['x-policy'], 'x-policy': 1 }, k.claims())}`,
    expect: invalid('crit_unsupported'),
  },
  // Guards
  {
    name: 'F1: a token without the required scope',
    path: '/api/read',
    authorization: (k) => bearer(k.client(['smd.write'])),
    expect: forbidden('insufficient_scope', 'smd.read'),
  },
  {
    name: 'F1: a token with no scopes at all',
    path: '/api/read',
    authorization: (k) => bearer(k.client([])),
    expect: forbidden('insufficient_scope', 'smd.read'),
  },
  {
    name: 'F2: scopes are not matched by prefix',
    path: '/api/read',
    authorization: (k) => bearer(k.client(['smd.reader', 'smd.read:all'])),
    expect: forbidden('insufficient_scope', 'smd.read'),
  },
  {
    name: 'F3: scopes are case-sensitive',
    path: '/api/read',
    authorization: (k) => bearer(k.client(['SMD.READ'])),
    expect: forbidden('insufficient_scope', 'smd.read'),
  },
  {
    name: 'F7: requireScopes needs every scope',
    path: '/api/both',
    authorization: (k) => bearer(k.client(['smd.read'])),
    expect: forbidden('insufficient_scope', 'smd.read smd.write'),
  },
  {
    name: 'F7: requireScopes passes with every scope',
    path: '/api/both',
    authorization: (k) => bearer(k.client(['smd.write', 'smd.read'])),
    expect: ok(client(['smd.read', 'smd.write'])),
  },
  {
    name: 'F7: requireAnyScope passes with one of them',
    path: '/api/any',
    authorization: (k) => bearer(k.client(['smd.admin'])),
    expect: ok(client(['smd.admin'])),
  },
  {
    name: 'F7: requireAnyScope refuses none of them',
    path: '/api/any',
    authorization: (k) => bearer(k.client(['smd.write'])),
    expect: forbidden('insufficient_scope', 'smd.read smd.admin'),
  },
  {
    name: 'a POST route requiring smd.write',
    method: 'POST',
    path: '/api/write',
    authorization: (k) => bearer(k.client(['smd.write'])),
    expect: ok({ written: true }, 201),
  },
  {
    name: 'a POST route refuses a read-only token',
    method: 'POST',
    path: '/api/write',
    authorization: (k) => bearer(k.client(['smd.read'])),
    expect: forbidden('insufficient_scope', 'smd.write'),
  },
  {
    name: 'F10: requireActor(user) refuses a client token',
    path: '/api/users',
    authorization: (k) => bearer(k.client(['smd.read'])),
    expect: forbidden('actor_not_allowed'),
  },
  {
    name: 'requireActor(user) accepts a user token',
    path: '/api/users',
    authorization: (k) => bearer(k.user([])),
    expect: ok(alice([])),
  },
  {
    name: 'requireClaim passes when the predicate holds',
    path: '/api/operators',
    authorization: (k) => bearer(k.user([], { claims: { role: 'operator' } })),
    expect: ok(alice([])),
  },
  {
    name: 'requireClaim refuses when the predicate fails',
    path: '/api/operators',
    authorization: (k) => bearer(k.user([], { claims: { role: 'viewer' } })),
    expect: forbidden('claim_check_failed'),
  },
  {
    name: 'requireClaim by value passes on an equal claim',
    path: '/api/role',
    authorization: (k) => bearer(k.user([], { claims: { role: 'operator' } })),
    expect: ok(alice([])),
  },
  {
    name: 'requireClaim by value refuses another value',
    path: '/api/role',
    authorization: (k) => bearer(k.user([], { claims: { role: 'operators' } })),
    expect: forbidden('claim_check_failed'),
  },
  {
    name: 'requireClaim by value is strict: the value inside an array is not equal',
    path: '/api/role',
    authorization: (k) => bearer(k.user([], { claims: { role: ['operator'] } })),
    expect: forbidden('claim_check_failed'),
  },
  {
    name: 'requireClaim by value refuses a missing claim',
    path: '/api/role',
    authorization: (k) => bearer(k.user([])),
    expect: forbidden('claim_check_failed'),
  },
  {
    name: 'requireClaimIncludes passes on an array claim with every value',
    path: '/api/groups',
    authorization: (k) => bearer(k.user([], { claims: { groups: ['users', 'ops', 'hpc'] } })),
    expect: ok(alice([])),
  },
  {
    name: 'requireClaimIncludes reads a string claim as space-delimited words',
    path: '/api/groups',
    authorization: (k) => bearer(k.user([], { claims: { groups: 'hpc  ops' } })),
    expect: ok(alice([])),
  },
  {
    name: 'requireClaimIncludes refuses a claim missing one value, or matching only a substring',
    path: '/api/groups',
    authorization: (k) => bearer(k.user([], { claims: { groups: 'hpc operators' } })),
    expect: forbidden('claim_check_failed'),
  },
  {
    name: 'requireClaimIncludes refuses a claim of another type',
    path: '/api/groups',
    authorization: (k) => bearer(k.user([], { claims: { groups: { hpc: true, ops: true } } })),
    expect: forbidden('claim_check_failed'),
  },
  {
    name: 'B10: a __proto__ claim grants no scope',
    path: '/api/admin',
    authorization: async (k) => {
      const claims = JSON.stringify(k.claims()).slice(0, -1)
      return `Bearer ${await k.main.signRaw({ typ: 'JWT' }, `${claims},"__proto__":{"scope":"admin","admin":true}}`)}`
    },
    expect: forbidden('insufficient_scope', 'admin'),
  },
  {
    name: 'A12: HEAD on a guarded GET route without a token',
    method: 'HEAD',
    path: '/api/read',
    expect: { status: 401, challenge: REALM, reason: 'missing_token' },
  },
  {
    name: 'A12: HEAD on a guarded GET route without the scope',
    method: 'HEAD',
    path: '/api/read',
    authorization: (k) => bearer(k.client(['smd.write'])),
    expect: {
      status: 403,
      challenge: `${REALM}, error="insufficient_scope", error_description="The access token lacks a required scope", scope="smd.read"`,
      reason: 'insufficient_scope',
    },
  },
  {
    name: 'A12: HEAD on a guarded GET route with the scope',
    method: 'HEAD',
    path: '/api/read',
    authorization: (k) => bearer(k.client(['smd.read'])),
    expect: { status: 200, challenge: null, reason: null },
  },
  {
    name: 'F9: a guard mounted without authenticate() fails closed',
    path: '/unauth/read',
    authorization: (k) => bearer(k.client(['smd.read'])),
    // No authenticate() ran, so the configured realm is unknown here: the default realm is used.
    expect: { ...noCredentials('auth_not_configured'), challenge: 'Bearer realm="api"' },
  },
  // Optional authentication
  {
    name: 'H4: optional: no token continues anonymously',
    path: '/opt/whoami',
    expect: ok({ anonymous: true }),
  },
  {
    name: 'optional: a valid token is used',
    path: '/opt/whoami',
    authorization: (k) => bearer(k.user(['smd.read'])),
    expect: ok(alice(['smd.read'])),
  },
  {
    name: 'H4: optional: an invalid token is still refused',
    path: '/opt/whoami',
    authorization: (k) => bearer(k.client([], { ttl: -120 })),
    expect: invalid('expired', 'The access token expired'),
  },
  {
    name: 'H4: optional: a malformed header is still refused',
    path: '/opt/whoami',
    authorization: () => 'Bearer a b',
    expect: MALFORMED_HEADER,
  },
  {
    name: 'optional: a guard refuses an anonymous caller with a bare challenge',
    path: '/opt/read',
    expect: noCredentials(),
  },
  // Opaque tokens (Hydra's default strategy) by RFC 7662 introspection
  {
    name: 'a Hydra opaque client token is accepted through introspection',
    path: '/opaque/read',
    authorization: (k) =>
      `Bearer ${k.main.mintOpaqueToken({ clientId: 'bss', scope: ['smd.read'], audience: ['smd'] })}`,
    expect: ok(client(['smd.read'])),
  },
  {
    name: 'a Hydra opaque user token is a user',
    path: '/opaque/whoami',
    authorization: (k) =>
      `Bearer ${k.main.mintOpaqueToken({ clientId: 'ochami-cli', sub: 'alice', scope: ['smd.read'], audience: ['smd'] })}`,
    expect: ok(alice(['smd.read'])),
  },
  {
    name: 'an unknown opaque token is inactive',
    path: '/opaque/read',
    authorization: () => 'Bearer ory_at_bm90LWlzc3VlZA.c2lnbmF0dXJl',
    expect: invalid('token_inactive'),
  },
  {
    name: 'a revoked opaque token is inactive',
    path: '/opaque/read',
    authorization: (k) => {
      const token = k.main.mintOpaqueToken({
        clientId: 'bss',
        scope: ['smd.read'],
        audience: ['smd'],
      })
      k.main.revokeToken(token)
      return `Bearer ${token}`
    },
    expect: invalid('token_inactive'),
  },
  {
    name: 'an opaque token without the service in aud (Hydra aud: [])',
    path: '/opaque/read',
    authorization: (k) =>
      `Bearer ${k.main.mintOpaqueToken({ clientId: 'bss', scope: ['smd.read'] })}`,
    expect: invalid('aud_invalid'),
  },
  {
    name: 'an opaque refresh token is not an access token',
    path: '/opaque/read',
    authorization: (k) =>
      `Bearer ${k.main.mintOpaqueToken({ clientId: 'bss', scope: ['smd.read'], audience: ['smd'], claims: { token_use: 'refresh_token' } })}`,
    expect: invalid('typ_invalid'),
  },
  {
    name: 'an opaque token without the required scope',
    path: '/opaque/read',
    authorization: (k) =>
      `Bearer ${k.main.mintOpaqueToken({ clientId: 'bss', scope: ['smd.write'], audience: ['smd'] })}`,
    expect: forbidden('insufficient_scope', 'smd.read'),
  },
  {
    name: 'the introspection endpoint down: 503 with Retry-After',
    path: '/opaque/read',
    before: (k) => {
      k.main.setIntrospectionMode('5xx')
    },
    authorization: (k) =>
      `Bearer ${k.main.mintOpaqueToken({ clientId: 'bss', scope: ['smd.read'], audience: ['smd'] })}`,
    expect: {
      status: 503,
      challenge: null,
      body: {
        error: 'temporarily_unavailable',
        error_description: 'The authorization server is temporarily unavailable',
      },
      reason: 'introspection_unavailable',
      retryAfter: true,
    },
  },
  {
    name: 'the introspection endpoint back: opaque tokens accepted again',
    path: '/opaque/read',
    before: (k) => {
      k.main.setIntrospectionMode('ok')
    },
    authorization: (k) =>
      `Bearer ${k.main.mintOpaqueToken({ clientId: 'bss', scope: ['smd.read'], audience: ['smd'] })}`,
    expect: ok(client(['smd.read'])),
  },
  // JWKS outage and recovery
  {
    name: 'JWKS warm: a valid token passes',
    path: '/outage/read',
    authorization: (k) =>
      bearer(k.outage.mintClientToken({ clientId: 'bss', scope: ['smd.read'], audience: ['smd'] })),
    expect: ok(client(['smd.read'])),
  },
  {
    name: 'G3: JWKS down after warm-up: the last good keys keep serving',
    path: '/outage/read',
    before: (k) => {
      k.outage.setJwksMode('fail')
    },
    authorization: (k) =>
      bearer(k.outage.mintClientToken({ clientId: 'bss', scope: ['smd.read'], audience: ['smd'] })),
    expect: ok(client(['smd.read'])),
  },
  {
    name: 'G9: JWKS down after warm-up: a rotated-in key cannot be fetched (503)',
    path: '/outage/read',
    before: async () => {
      await new Promise((resolve) => setTimeout(resolve, 120)) // let the refetch cooldown pass
    },
    authorization: (k) =>
      bearer(
        k.outage.forgeClientToken({
          clientId: 'bss',
          scope: ['smd.read'],
          audience: ['smd'],
          kid: 'rotated-in',
        }),
      ),
    expect: UNAVAILABLE,
  },
  {
    name: 'G3: JWKS down on a cold start: 503 with Retry-After',
    path: '/cold/read',
    authorization: (k) =>
      bearer(k.cold.mintClientToken({ clientId: 'bss', scope: ['smd.read'], audience: ['smd'] })),
    expect: UNAVAILABLE,
  },
  {
    name: 'JWKS recovered: the cold service accepts tokens',
    path: '/cold/read',
    before: async (k) => {
      k.cold.setJwksMode('ok')
      await new Promise((resolve) => setTimeout(resolve, 120)) // let the retry cooldown pass
    },
    authorization: (k) =>
      bearer(k.cold.mintClientToken({ clientId: 'bss', scope: ['smd.read'], audience: ['smd'] })),
    expect: ok(client(['smd.read'])),
  },
  ...dpopScenarios,
  ...tenantScenarios,
  ...revocationScenarios,
  ...keysScenarios,
]
