/**
 * The DPoP rows of the conformance table (RFC 9449, issue 18): every framework must give the same
 * answer to each DPoP-bound request, good or broken. Proofs are real: signed by the kit's client
 * keys for the app's own origin, then broken one rule at a time: the catalogue's DPoP section
 * P1–P13 (docs/security.md), each row named by its id.
 */
import { createHash, createHmac } from 'node:crypto'
import type { DpopKey } from '@svcauth/testing'
import type { Expectation, Kit, Scenario } from './scenarios.js'

const REALM = 'Bearer realm="smd"'
/** The algorithms /dpop accepts, and every one svcauth verifies (the default, on /dpop-only). */
const ALGS = 'algs="ES256 EdDSA"'
const ALL_ALGS = 'algs="ES256 ES384 ES512 EdDSA Ed25519 PS256 PS384 PS512 RS256 RS384 RS512"'
const now = (): number => Math.floor(Date.now() / 1000)
const b64u = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')
const ath = (token: string): string => createHash('sha256').update(token).digest('base64url')

/** A refusal answered on the DPoP challenge, with the Bearer one offered beside it. */
function dpopError(code: string, description: string, reason: string, algs = ALGS): Expectation {
  const attributes = `error="${code}", error_description="${description}"`
  return {
    status: 401,
    challenge: `${REALM}, DPoP ${attributes}, ${algs}`,
    body: { error: code, error_description: description },
    reason,
  }
}

const proofInvalid = (reason = 'dpop_proof_invalid', description = 'The DPoP proof is invalid') =>
  dpopError('invalid_dpop_proof', description, reason)

/** A DPoP-bound token sent as Bearer: the error on the Bearer challenge, DPoP offered beside. */
const BOUND_AS_BEARER: Expectation = {
  status: 401,
  challenge: `${REALM}, error="invalid_token", error_description="The access token is invalid", DPoP ${ALGS}`,
  body: { error: 'invalid_token', error_description: 'The access token is invalid' },
  reason: 'sender_constrained',
}

/** /dpop-only's answer to a proof without its nonce: only the DPoP challenge, as required. */
const NONCE_REQUIRED: Expectation = {
  status: 401,
  challenge: `DPoP error="use_dpop_nonce", error_description="The resource server requires a nonce in the DPoP proof", ${ALL_ALGS}`,
  body: {
    error: 'use_dpop_nonce',
    error_description: 'The resource server requires a nonce in the DPoP proof',
  },
  reason: 'dpop_nonce_required',
}

const ok = (body: unknown, status = 200): Expectation => ({
  status,
  challenge: null,
  body,
  reason: null,
})

const boundClient = (scopes: string[]) => ({
  actorType: 'client',
  actorId: 'bss',
  sub: 'bss',
  clientId: 'bss',
  scopes: [...scopes].sort(),
  bound: true,
})

/** A DPoP-bound client token for `key` (the kit's client key unless another is given). */
function boundToken(k: Kit, scope = ['smd.read'], key: DpopKey = k.key): Promise<string> {
  return k.client(scope, { dpop: key })
}

/**
 * A request with the DPoP scheme: `token` and one proof from `key` for `method` and `path` on the
 * app's origin, with `change` applied to the proof options.
 */
async function dpopRequest(
  k: Kit,
  origin: string,
  path: string,
  options: {
    token?: string
    key?: DpopKey
    method?: string
    proofPath?: string
    claims?: Record<string, unknown>
    header?: Record<string, unknown>
    iat?: number
    nonce?: string
  } = {},
) {
  const token = options.token ?? (await boundToken(k))
  const key = options.key ?? k.key
  const proof = await key.proof({
    method: options.method ?? 'GET',
    url: `${origin}${options.proofPath ?? path}`,
    accessToken: token,
    ...(options.claims === undefined ? {} : { claims: options.claims }),
    ...(options.header === undefined ? {} : { header: options.header }),
    ...(options.iat === undefined ? {} : { iat: options.iat }),
    ...(options.nonce === undefined ? {} : { nonce: options.nonce }),
  })
  return { authorization: `DPoP ${token}`, proofs: [proof] }
}

/** An unsigned-looking proof: `alg` and a signature of our choosing over the kit key's header. */
function forgedProof(k: Kit, origin: string, path: string, token: string, alg: string): string {
  const header = b64u({ typ: 'dpop+jwt', alg, jwk: k.key.publicJwk })
  const claims = b64u({
    jti: crypto.randomUUID(),
    htm: 'GET',
    htu: `${origin}${path}`,
    iat: now(),
    ath: ath(token),
  })
  const input = `${header}.${claims}`
  if (alg === 'none') return `${input}.`
  // HS256 keyed with the public key's own JSON: the classic algorithm-confusion attempt.
  const mac = createHmac('sha256', JSON.stringify(k.key.publicJwk)).update(input)
  return `${input}.${mac.digest('base64url')}`
}

/** A bound token on /dpop/read with a proof forged under `alg`. */
async function forgedRequest(k: Kit, origin: string, alg: string) {
  const token = await boundToken(k)
  return {
    authorization: `DPoP ${token}`,
    proofs: [forgedProof(k, origin, '/dpop/read', token, alg)],
  }
}

/** The nonce /dpop-only hands out now: learnt the way a client learns it, by being refused. */
async function currentNonce(k: Kit, origin: string): Promise<string> {
  const request = await dpopRequest(k, origin, '/dpop-only/read')
  const res = await fetch(`${origin}/dpop-only/read`, {
    headers: { authorization: request.authorization, dpop: request.proofs[0] ?? '' },
  })
  // No nonce offered: the scenario then sends none and fails visibly.
  return res.headers.get('dpop-nonce') ?? 'no-nonce-was-offered'
}

export const dpopScenarios: readonly Scenario[] = [
  {
    name: 'DPoP: a bound client token with a valid proof is accepted',
    path: '/dpop/read',
    dpop: (k, origin) => dpopRequest(k, origin, '/dpop/read'),
    expect: ok(boundClient(['smd.read'])),
  },
  {
    name: 'DPoP: a proof for POST on a POST route is accepted',
    method: 'POST',
    path: '/dpop/write',
    dpop: async (k, origin) =>
      dpopRequest(k, origin, '/dpop/write', {
        method: 'POST',
        token: await boundToken(k, ['smd.write']),
      }),
    expect: ok({ written: true }, 201),
  },
  {
    name: 'DPoP: an EdDSA proof is accepted',
    path: '/dpop/whoami',
    dpop: async (k, origin) =>
      dpopRequest(k, origin, '/dpop/whoami', {
        key: k.edKey,
        token: await boundToken(k, ['smd.read'], k.edKey),
      }),
    expect: ok(boundClient(['smd.read'])),
  },
  {
    name: 'DPoP: the htu may differ in scheme case, unreserved escapes, query and fragment',
    path: '/dpop/read',
    dpop: async (k, origin) => {
      const token = await boundToken(k)
      const proof = await k.key.proof({
        method: 'GET',
        url: `${origin}/dpop/read`,
        accessToken: token,
        claims: { htu: `${origin.replace('http://', 'HTTP://')}/dpop/%72ead?q=1#f` },
      })
      return { authorization: `DPoP ${token}`, proofs: [proof] }
    },
    expect: ok(boundClient(['smd.read'])),
  },
  {
    name: 'DPoP: a plain Bearer token is still accepted as Bearer',
    path: '/dpop/read',
    authorization: async (k) => `Bearer ${await k.client(['smd.read'])}`,
    expect: ok({
      actorType: 'client',
      actorId: 'bss',
      sub: 'bss',
      clientId: 'bss',
      scopes: ['smd.read'],
    }),
  },
  {
    name: 'DPoP: no credentials get both challenges',
    path: '/dpop/read',
    expect: {
      status: 401,
      challenge: `${REALM}, DPoP ${ALGS}`,
      body: { error: 'unauthorized', error_description: 'Authentication required' },
      reason: 'missing_token',
    },
  },
  {
    name: 'P1: DPoP: a replayed proof is refused',
    path: '/dpop/read',
    dpop: async (k, origin) => {
      const request = await dpopRequest(k, origin, '/dpop/read')
      const first = await fetch(`${origin}/dpop/read`, {
        headers: { authorization: request.authorization, dpop: request.proofs[0] ?? '' },
      })
      if (first.status !== 200) throw new Error(`the first use was refused: ${first.status}`)
      return request
    },
    expect: proofInvalid('dpop_proof_replayed', 'The DPoP proof was already used'),
  },
  {
    name: 'P2: DPoP: a proof for another method is refused',
    path: '/dpop/read',
    dpop: (k, origin) => dpopRequest(k, origin, '/dpop/read', { method: 'POST' }),
    expect: proofInvalid(),
  },
  {
    name: 'P3: DPoP: a proof for another path is refused',
    path: '/dpop/read',
    dpop: (k, origin) => dpopRequest(k, origin, '/dpop/read', { proofPath: '/dpop/whoami' }),
    expect: proofInvalid('dpop_htu_mismatch', 'The DPoP proof is for another URI'),
  },
  {
    name: 'P3: DPoP: a proof for another host is refused',
    path: '/dpop/read',
    dpop: (k, origin) =>
      dpopRequest(k, origin, '/dpop/read', {
        claims: { htu: 'http://smd.other.example/dpop/read' },
      }),
    expect: proofInvalid('dpop_htu_mismatch', 'The DPoP proof is for another URI'),
  },
  {
    name: 'P4: DPoP: a stale proof (iat 10 minutes ago) is refused',
    path: '/dpop/read',
    dpop: (k, origin) => dpopRequest(k, origin, '/dpop/read', { iat: now() - 600 }),
    expect: proofInvalid(),
  },
  {
    name: 'P4: DPoP: a proof from the future (iat in 2 minutes) is refused',
    path: '/dpop/read',
    dpop: (k, origin) => dpopRequest(k, origin, '/dpop/read', { iat: now() + 120 }),
    expect: proofInvalid(),
  },
  {
    name: 'P5: DPoP: a proof without ath is refused',
    path: '/dpop/read',
    dpop: (k, origin) => dpopRequest(k, origin, '/dpop/read', { claims: { ath: undefined } }),
    expect: proofInvalid(),
  },
  {
    name: 'P5: DPoP: a proof whose ath is another token’s is refused',
    path: '/dpop/read',
    dpop: async (k, origin) =>
      dpopRequest(k, origin, '/dpop/read', { claims: { ath: ath(await boundToken(k)) } }),
    expect: proofInvalid(),
  },
  {
    name: 'P6: DPoP: a proof by another key than the token is bound to is refused',
    path: '/dpop/read',
    dpop: (k, origin) => dpopRequest(k, origin, '/dpop/read', { key: k.otherKey }),
    expect: dpopError('invalid_token', 'Invalid DPoP key binding', 'dpop_key_mismatch'),
  },
  {
    name: 'P6: DPoP: a proof naming the bound key but signed by another is refused',
    path: '/dpop/read',
    dpop: (k, origin) =>
      dpopRequest(k, origin, '/dpop/read', {
        key: k.otherKey,
        header: { jwk: k.key.publicJwk },
      }),
    expect: proofInvalid(),
  },
  {
    name: 'P7: DPoP: a proof carrying private key material is refused',
    path: '/dpop/read',
    dpop: (k, origin) =>
      dpopRequest(k, origin, '/dpop/read', {
        header: { jwk: { ...k.key.publicJwk, d: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } },
      }),
    expect: proofInvalid(),
  },
  {
    name: 'P8: DPoP: an alg none proof is refused',
    path: '/dpop/read',
    dpop: (k, origin) => forgedRequest(k, origin, 'none'),
    expect: proofInvalid(),
  },
  {
    name: 'P8: DPoP: an HS256 proof keyed with the public key is refused',
    path: '/dpop/read',
    dpop: (k, origin) => forgedRequest(k, origin, 'HS256'),
    expect: proofInvalid(),
  },
  {
    name: 'DPoP: a proof typed JWT is refused',
    path: '/dpop/read',
    dpop: (k, origin) => dpopRequest(k, origin, '/dpop/read', { header: { typ: 'JWT' } }),
    expect: proofInvalid(),
  },
  {
    name: 'P9: DPoP: two DPoP headers are refused',
    path: '/dpop/read',
    dpop: async (k, origin) => {
      const one = await dpopRequest(k, origin, '/dpop/read')
      const two = await k.key.proof({ method: 'GET', url: `${origin}/dpop/read` })
      return { authorization: one.authorization, proofs: [...one.proofs, two] }
    },
    expect: proofInvalid(),
  },
  {
    name: 'DPoP: the DPoP scheme without a proof is refused',
    path: '/dpop/read',
    dpop: async (k) => ({ authorization: `DPoP ${await boundToken(k)}`, proofs: [] }),
    expect: proofInvalid(),
  },
  {
    name: 'P12: DPoP: an oversized proof is refused unread',
    path: '/dpop/read',
    dpop: (k, origin) =>
      dpopRequest(k, origin, '/dpop/read', { claims: { pad: 'x'.repeat(9000) } }),
    expect: proofInvalid(),
  },
  {
    name: 'P11: DPoP: a token without cnf under the DPoP scheme is refused',
    path: '/dpop/read',
    dpop: async (k, origin) =>
      dpopRequest(k, origin, '/dpop/read', { token: await k.client(['smd.read']) }),
    expect: dpopError(
      'invalid_token',
      'The access token is not bound to a DPoP key',
      'dpop_unbound',
    ),
  },
  {
    name: 'P13: DPoP: a bound token sent as Bearer is refused',
    path: '/dpop/read',
    authorization: async (k) => `Bearer ${await boundToken(k)}`,
    expect: BOUND_AS_BEARER,
  },
  {
    name: 'DPoP: a Bearer token with a DPoP proof beside it is refused',
    path: '/dpop/read',
    dpop: async (k, origin) => {
      const request = await dpopRequest(k, origin, '/dpop/read')
      return { ...request, authorization: `Bearer ${await k.client(['smd.read'])}` }
    },
    expect: {
      status: 400,
      challenge: `${REALM}, error="invalid_request", error_description="A DPoP proof needs the DPoP authorization scheme", DPoP ${ALGS}`,
      body: {
        error: 'invalid_request',
        error_description: 'A DPoP proof needs the DPoP authorization scheme',
      },
      reason: 'dpop_scheme_mismatch',
    },
  },
  {
    name: 'DPoP: an expired bound token with a valid proof is refused on the DPoP challenge',
    path: '/dpop/read',
    dpop: async (k, origin) =>
      dpopRequest(k, origin, '/dpop/read', {
        token: await k.client(['smd.read'], { dpop: k.key, ttl: -120 }),
      }),
    expect: dpopError('invalid_token', 'The access token expired', 'expired'),
  },
  {
    name: 'DPoP: a guard refuses a bound token on the DPoP challenge',
    path: '/dpop/read',
    dpop: async (k, origin) =>
      dpopRequest(k, origin, '/dpop/read', { token: await boundToken(k, ['smd.write']) }),
    expect: {
      status: 403,
      challenge: `${REALM}, DPoP error="insufficient_scope", error_description="The access token lacks a required scope", scope="smd.read", ${ALGS}`,
      body: {
        error: 'insufficient_scope',
        error_description: 'The access token lacks a required scope',
      },
      reason: 'insufficient_scope',
    },
  },
  {
    name: 'DPoP: the DPoP scheme where DPoP is off is no credentials',
    path: '/api/read',
    dpop: (k, origin) => dpopRequest(k, origin, '/api/read'),
    expect: {
      status: 401,
      challenge: REALM,
      body: { error: 'unauthorized', error_description: 'Authentication required' },
      reason: 'missing_token',
    },
  },
  // Required, with server nonces (RFC 9449 §8, §9).
  {
    name: 'DPoP required: a plain Bearer token is refused with the DPoP challenge only',
    path: '/dpop-only/read',
    authorization: async (k) => `Bearer ${await k.client(['smd.read'])}`,
    expect: {
      status: 401,
      challenge: `DPoP ${ALL_ALGS}`,
      body: {
        error: 'unauthorized',
        error_description: 'A DPoP-bound access token and a DPoP proof are required',
      },
      reason: 'dpop_required',
    },
  },
  {
    name: 'P10: DPoP required: a proof without the server nonce is answered use_dpop_nonce',
    path: '/dpop-only/read',
    dpop: (k, origin) => dpopRequest(k, origin, '/dpop-only/read'),
    expect: NONCE_REQUIRED,
  },
  {
    name: 'P10: DPoP required: a proof with a stale or foreign nonce is answered use_dpop_nonce',
    path: '/dpop-only/read',
    dpop: (k, origin) =>
      dpopRequest(k, origin, '/dpop-only/read', {
        nonce: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      }),
    expect: NONCE_REQUIRED,
  },
  {
    name: 'DPoP required: a proof with the server nonce is accepted',
    path: '/dpop-only/read',
    dpop: async (k, origin) =>
      dpopRequest(k, origin, '/dpop-only/read', { nonce: await currentNonce(k, origin) }),
    expect: ok(boundClient(['smd.read'])),
  },
  // Opaque tokens whose introspection answer carries cnf.jkt (RFC 9449 §6.2).
  {
    name: 'DPoP: a bound opaque token with a valid proof is accepted through introspection',
    path: '/dpop-opaque/read',
    dpop: (k, origin) =>
      dpopRequest(k, origin, '/dpop-opaque/read', {
        token: k.main.mintOpaqueToken({
          clientId: 'bss',
          scope: ['smd.read'],
          audience: ['smd'],
          dpop: k.key,
        }),
      }),
    expect: ok(boundClient(['smd.read'])),
  },
  {
    name: 'P13: DPoP: a bound opaque token sent as Bearer is refused',
    path: '/dpop-opaque/read',
    authorization: (k) =>
      `Bearer ${k.main.mintOpaqueToken({ clientId: 'bss', scope: ['smd.read'], audience: ['smd'], dpop: k.key })}`,
    expect: BOUND_AS_BEARER,
  },
  {
    name: 'P6: DPoP: a bound opaque token with a proof by another key is refused',
    path: '/dpop-opaque/read',
    dpop: (k, origin) =>
      dpopRequest(k, origin, '/dpop-opaque/read', {
        key: k.otherKey,
        token: k.main.mintOpaqueToken({
          clientId: 'bss',
          scope: ['smd.read'],
          audience: ['smd'],
          dpop: k.key,
        }),
      }),
    expect: dpopError('invalid_token', 'Invalid DPoP key binding', 'dpop_key_mismatch'),
  },
]
