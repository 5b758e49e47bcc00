/**
 * Differential test of the JWS verification path (issue 17): svcauth verifies signatures with
 * `node:crypto` on KeyObjects it imported once, and checks the header, key selection and
 * registered claims itself; jose is the oracle. A corpus of valid tokens over RS256/384/512,
 * PS256/384/512, ES256/384/512, EdDSA and Ed25519, signed by several keys of one JWKS served on
 * loopback, and well over 10,000 structured mutants of them (`test/support/jws-mutants.ts`, a
 * fixed seed) go through an Authenticator (cache off) and through `jose.jwtVerify` with the same
 * policy. svcauth's own checks that jose never made are applied to jose's result the same way
 * (canonical encoding first, then `crit` and `typ` in the key resolver, then `checkClaims`), so
 * both sides judge by one policy. Every verdict (accept or reject; reasons may differ) must agree.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  AuthError,
  createAuthenticator,
  isAuthError,
  type Algorithm,
  type Authenticator,
} from '@svcauth/core'
import {
  createLocalJWKSet,
  decodeJwt,
  jwtVerify,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from 'jose'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { checkClaims } from '../../packages/core/src/claims.js'
import {
  generateMutants,
  type Mutant,
  type MutantFamily,
  type MutantPolicy,
  type Signer,
} from '../support/jws-mutants.js'

const ISSUER = 'https://as.differential.example/'
const OTHER_ISSUER = 'https://other.example/'
const ALL: Algorithm[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]
const SEED = 0x5eed17
const COUNT = 12_000
/** Verification time, frozen for both verifiers (tolerance edges are exact seconds). */
const NOW = Math.floor(Date.now() / 1000)
const SILENT = { warn: () => undefined, error: () => undefined }

type Pair = { privateKey: KeyObject; publicKey: KeyObject }
const rsa = (bits = 2048): Pair => generateKeyPairSync('rsa', { modulusLength: bits })
const ec = (namedCurve: string): Pair => generateKeyPairSync('ec', { namedCurve })
const jwkOf = (pair: Pair): Record<string, unknown> => pair.publicKey.export({ format: 'jwk' })

/** One policy at run time: the Authenticator under test and the oracle's jose options. */
interface Contender {
  readonly policy: MutantPolicy
  readonly auth: Authenticator
  /** Issuer → jose's options and key resolver for it. */
  readonly oracle: ReadonlyMap<string, { options: JWTVerifyOptions; keys: JWTVerifyGetKey }>
}

let server: Server
let contenders: Contender[] = []
let mutants: Mutant[] = []

beforeAll(async () => {
  const [rsaA, rsaB, rsaPss, rsaC] = [rsa(), rsa(), rsa(), rsa()] as [Pair, Pair, Pair, Pair]
  const weak = rsa(1024)
  const [ec256, ec256b, ec384, ec521, ecMis] = [
    ec('P-256'),
    ec('P-256'),
    ec('P-384'),
    ec('P-521'),
    ec('P-256'),
  ]
  const ed = generateKeyPairSync('ed25519')
  const ed2 = generateKeyPairSync('ed25519')
  const x25519 = generateKeyPairSync('x25519')
  // Every kind of key selection has to agree: usable keys, keys no algorithm may select, a key
  // whose import fails, a shared kid, kid-less keys, and members of odd types.
  const jwks: JSONWebKeySet = {
    keys: [
      { ...jwkOf(rsaA), kid: 'rsa-a', alg: 'RS256', use: 'sig' },
      { ...jwkOf(rsaB), kid: 'rsa-b' },
      { ...jwkOf(rsaPss), kid: 'rsa-pss', alg: 'PS256' },
      { ...jwkOf(rsaC), alg: 'RS512' },
      { ...jwkOf(weak), kid: 'weak', alg: 'RS256' },
      { ...jwkOf(rsaA), kid: 'enc', use: 'enc' },
      { ...jwkOf(rsaA), kid: 'ops-enc', key_ops: ['encrypt'] },
      { ...jwkOf(rsaB), kid: 'ops-sign', alg: 'RS256', key_ops: ['verify', 'sign'] },
      { ...jwkOf(rsaB), kid: 'ops-ok', alg: 'RS256', key_ops: ['verify'] },
      { ...jwkOf(rsaA), kid: 'dup', alg: 'RS256' },
      { ...jwkOf(rsaB), kid: 'dup', alg: 'RS256' },
      { ...jwkOf(ec256), kid: 'ec256', alg: 'ES256', use: 'sig' },
      { ...jwkOf(ec384), kid: 'ec384' },
      { ...jwkOf(ec521), kid: 'ec521', alg: 'ES512' },
      { ...jwkOf(ecMis), kid: 'ec-mis', alg: 'ES384' },
      { ...jwkOf(ec256b), kid: 'ext-bad', ext: 'yes' },
      { ...jwkOf(ec256b), kid: 'use-SIG', use: 'SIG' },
      { ...jwkOf(ec256b), kid: 7 },
      { ...jwkOf(ed), kid: 'ed', alg: 'EdDSA' },
      { ...jwkOf(ed2), kid: 'ed2' },
      { ...jwkOf(ed), kid: 'ext-false', alg: 'EdDSA', ext: false },
      { ...jwkOf(x25519), kid: 'x25519' },
    ] as JSONWebKeySet['keys'],
  }
  const body = JSON.stringify(jwks)
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json')
    res.end(req.url === '/other' ? '{"keys":[]}' : body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const s = (
    name: string,
    alg: string,
    kid: string | undefined,
    pair: Pair,
    stride = 1,
  ): Signer => ({
    name,
    alg,
    kid,
    privateKey: pair.privateKey,
    publicJwk: jwkOf(pair),
    stride,
  })
  const signers: Signer[] = [
    // Every mutation, under every policy.
    s('rsa-a/RS256', 'RS256', 'rsa-a', rsaA),
    s('rsa-b/PS384', 'PS384', 'rsa-b', rsaB),
    s('rsa-pss/PS256', 'PS256', 'rsa-pss', rsaPss),
    s('ec256/ES256', 'ES256', 'ec256', ec256),
    s('ed/EdDSA', 'EdDSA', 'ed', ed),
    s('ed2/Ed25519', 'Ed25519', 'ed2', ed2),
    // Every third mutation.
    ...['RS256', 'RS384', 'RS512', 'PS256', 'PS512'].map((alg) =>
      s(`rsa-b/${alg}`, alg, 'rsa-b', rsaB, 3),
    ),
    s('kid-less rsa-c/RS512', 'RS512', undefined, rsaC, 3),
    s('ops-ok/RS256', 'RS256', 'ops-ok', rsaB, 3),
    s('ed2/EdDSA', 'EdDSA', 'ed2', ed2, 3),
    s('ext-false/EdDSA', 'EdDSA', 'ext-false', ed, 3),
    s('kid-less ed2/Ed25519', 'Ed25519', undefined, ed2, 3),
    // Slow curves: every fifteenth.
    s('ec384/ES384', 'ES384', 'ec384', ec384, 15),
    s('ec521/ES512', 'ES512', 'ec521', ec521, 15),
    s('kid-less ec384/ES384', 'ES384', undefined, ec384, 15),
    s('kid-less ec521/ES512', 'ES512', undefined, ec521, 15),
    // Keys that never verify (weak, wrong use or key_ops, shared kid, ambiguous, mismatched alg).
    s('weak/RS256', 'RS256', 'weak', weak, 12),
    s('enc/RS256', 'RS256', 'enc', rsaA, 12),
    s('ops-enc/RS256', 'RS256', 'ops-enc', rsaA, 12),
    s('ops-sign/RS256', 'RS256', 'ops-sign', rsaB, 12),
    s('dup/RS256', 'RS256', 'dup', rsaA, 12),
    s('kid-less rsa-a/RS256', 'RS256', undefined, rsaA, 12),
    s('ec-mis/ES256', 'ES256', 'ec-mis', ecMis, 12),
    s('ext-bad/ES256', 'ES256', 'ext-bad', ec256b, 12),
    s('use-SIG/ES256', 'ES256', 'use-SIG', ec256b, 12),
    s('kid-less ec256/ES256', 'ES256', undefined, ec256, 12),
  ]
  const strangers = [
    s('stranger/RS256', 'RS256', 'rsa-x', rsa()),
    s('stranger/ES256', 'ES256', 'ec-x', ec('P-256')),
    s('stranger/EdDSA', 'EdDSA', 'ed-x', generateKeyPairSync('ed25519')),
  ]
  const rsaAJwk = jwkOf(rsaA)
  const publicSecrets = [
    rsaA.publicKey.export({ type: 'spki', format: 'pem' }),
    rsaA.publicKey.export({ type: 'pkcs1', format: 'pem' }),
    rsaA.publicKey.export({ type: 'spki', format: 'der' }),
    JSON.stringify(rsaAJwk),
    Buffer.from(String(rsaAJwk.n), 'base64url'),
    ec256.publicKey.export({ type: 'spki', format: 'pem' }),
  ]

  const policies: MutantPolicy[] = [
    policy('default', ['smd', 'smd-alt'], ALL, 30, undefined, false),
    policy('strict', ['smd'], ['RS256', 'PS256', 'ES256', 'EdDSA'], 5, 600, true),
    policy('two issuers', ['smd'], ALL, 30, undefined, false),
  ]
  const localSet = createLocalJWKSet(jwks)
  const emptySet = createLocalJWKSet({ keys: [] })
  contenders = policies.map((p) => {
    const options = {
      cache: false as const,
      clockTolerance: p.clockTolerance,
      strict: p.strict,
      logger: SILENT,
      ...(p.maxTokenAge === undefined ? {} : { maxTokenAge: p.maxTokenAge }),
    }
    const mine = {
      issuer: ISSUER,
      audience: [...p.audience],
      jwksUri: `${origin}/jwks`,
      algorithms: p.algorithms as Algorithm[],
    }
    const auth =
      p.name === 'two issuers'
        ? createAuthenticator({
            ...options,
            issuers: [mine, { issuer: OTHER_ISSUER, audience: 'smd', jwksUri: `${origin}/other` }],
          })
        : createAuthenticator({ ...options, ...mine })
    const oracle = new Map([[ISSUER, { options: joseOptions(p, ISSUER), keys: localSet }]])
    if (p.name === 'two issuers') {
      const other = { ...p, audience: ['smd'], algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'] }
      oracle.set(OTHER_ISSUER, { options: joseOptions(other, OTHER_ISSUER), keys: emptySet })
    }
    return { policy: p, auth, oracle }
  })
  await Promise.all(contenders.map((c) => c.auth.ready()))
  // Both verifiers read the clock through Date; freeze it mid-second at NOW.
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(NOW * 1000 + 500)
  mutants = generateMutants({
    seed: SEED,
    count: COUNT,
    now: NOW,
    signers,
    strangers,
    publicSecrets,
    policies,
  })
}, 60_000)

afterAll(async () => {
  vi.useRealTimers()
  for (const c of contenders) c.auth.close()
  await new Promise((resolve) => server.close(resolve))
})

function policy(
  name: string,
  audience: string[],
  algorithms: string[],
  clockTolerance: number,
  maxTokenAge: number | undefined,
  strict: boolean,
): MutantPolicy {
  return { name, issuer: ISSUER, audience, algorithms, clockTolerance, maxTokenAge, strict }
}

/** jose's options for a policy: what svcauth gave jose before issue 17. */
function joseOptions(p: MutantPolicy, issuer: string): JWTVerifyOptions {
  return {
    issuer,
    audience: [...p.audience],
    algorithms: [...p.algorithms],
    clockTolerance: p.clockTolerance,
    ...(p.maxTokenAge === undefined ? {} : { maxTokenAge: p.maxTokenAge }),
    requiredClaims: p.strict ? ['exp', 'iat', 'sub', 'client_id', 'jti'] : ['exp'],
  }
}

/** RFC 7515 §2, RFC 4648 §5: three segments, each the canonical unpadded base64url of its bytes. */
function canonical(token: string): boolean {
  const parts = token.split('.')
  return (
    parts.length === 3 &&
    parts.every(
      (p) => /^[A-Za-z0-9_-]*$/.test(p) && Buffer.from(p, 'base64url').toString('base64url') === p,
    )
  )
}

/** The `typ` policy of docs/design.md (RFC 9068 §4, RFC 8725 §3.11). */
function typAllowed(typ: unknown, strict: boolean): boolean {
  if (typ === undefined) return !strict
  if (typeof typ !== 'string') return false
  const t = typ.toLowerCase().replace(/^application\//, '')
  return t === 'at+jwt' || (!strict && t === 'jwt')
}

/** The oracle: the canonical-encoding rule, jose with the header policy, then `checkClaims`. */
async function joseVerdict(token: string, c: Contender): Promise<boolean> {
  if (!canonical(token)) return false
  let issuer = ISSUER
  if (c.oracle.size > 1) {
    let iss: unknown
    try {
      iss = decodeJwt(token).iss
    } catch {
      return false
    }
    if (typeof iss !== 'string' || !c.oracle.has(iss)) return false
    issuer = iss
  }
  const { options, keys } = c.oracle.get(issuer) as {
    options: JWTVerifyOptions
    keys: JWTVerifyGetKey
  }
  try {
    const { payload } = await jwtVerify(
      token,
      (header, input) => {
        if (header.crit !== undefined) throw new Error('crit is not understood')
        if (!typAllowed(header.typ, c.policy.strict)) throw new Error('typ refused')
        return keys(header, input)
      },
      options,
    )
    const claimPolicy = {
      clockTolerance: c.policy.clockTolerance,
      maxLifetime: 86_400,
      scopeClaims: [],
    }
    checkClaims(payload, claimPolicy, NOW, (reason) => new AuthError(reason))
    return true
  } catch {
    return false
  }
}

/** svcauth's verdict; anything thrown that is not a 401 AuthError is reported as such. */
async function svcauthVerdict(token: string, c: Contender): Promise<boolean | string> {
  try {
    await c.auth.verify(token)
    return true
  } catch (err) {
    if (isAuthError(err) && err.status === 401) return false
    return `threw ${isAuthError(err) ? `${err.status} ${err.reason}` : String(err)}`
  }
}

describe('node:crypto verification against jose.jwtVerify (issue 17)', () => {
  it('gives the same accept/reject verdict as jose on every valid token and structured mutant', async () => {
    const byName = new Map(contenders.map((c) => [c.policy.name, c]))
    const mismatches: string[] = []
    const verdicts = { accepted: 0, rejected: 0 }
    const families = new Map<MutantFamily, { accepted: number; rejected: number }>()
    for (const mutant of mutants) {
      const c = byName.get(mutant.policy.name) as Contender
      const [mine, oracle] = [
        await svcauthVerdict(mutant.token, c),
        await joseVerdict(mutant.token, c),
      ]
      if (mine !== oracle) {
        mismatches.push(`${mutant.name}: svcauth ${String(mine)}, jose ${String(oracle)}`)
      }
      const tally = families.get(mutant.family) ?? { accepted: 0, rejected: 0 }
      tally[oracle ? 'accepted' : 'rejected']++
      families.set(mutant.family, tally)
      verdicts[oracle ? 'accepted' : 'rejected']++
    }
    expect(mismatches.slice(0, 25), `${mismatches.length} mismatches`).toEqual([])
    expect(mutants.length).toBeGreaterThanOrEqual(10_000)
    // Both verdicts occur often, so agreement is not trivial; every family rejects many times,
    // and header, key and claim mutations that jose accepts are accepted too.
    const summary = JSON.stringify({
      total: mutants.length,
      ...verdicts,
      ...Object.fromEntries(families),
    })
    expect(verdicts.accepted, summary).toBeGreaterThan(1_000)
    expect(verdicts.rejected, summary).toBeGreaterThan(5_000)
    for (const family of ['header', 'key', 'claims', 'signature', 'encoding'] as const) {
      expect(families.get(family)?.rejected, `${family}: ${summary}`).toBeGreaterThan(200)
    }
    for (const family of ['header', 'key', 'claims'] as const) {
      expect(families.get(family)?.accepted, `${family}: ${summary}`).toBeGreaterThan(5)
    }
  }, 120_000)
})
