/**
 * Differential test of the JWS verification path (issue 17): svcauth verifies signatures with
 * `node:crypto` on KeyObjects it imported once, and checks the header, key selection and
 * registered claims itself; jose is the oracle. A corpus of valid tokens over RS256/384/512,
 * PS256/384/512, ES256/384/512, EdDSA and Ed25519, signed by several keys of one JWKS served on
 * loopback (`test/support/jws-keyring.ts`), and well over 10,000 structured mutants of them
 * (`test/support/jws-mutants.ts`, a fixed seed) go through an Authenticator (cache off) and
 * through `jose.jwtVerify` with the same policy. svcauth's own checks that jose never made are
 * applied to jose's result the same way (canonical encoding first, then `crit` and `typ` in the
 * key resolver, then `checkClaims`), so both sides judge by one policy. Every verdict (accept or
 * reject; reasons may differ) must agree.
 */
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
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from 'jose'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { checkClaims } from '../../packages/core/src/claims.js'
import { createKeyring } from '../support/jws-keyring.js'
import { ALGS } from '../support/jws-mutations/index.js'
import {
  generateMutants,
  type Mutant,
  type MutantFamily,
  type MutantPolicy,
} from '../support/jws-mutants.js'

const ISSUER = 'https://as.differential.example/'
const OTHER_ISSUER = 'https://other.example/'
const ALL = [...ALGS]
const SEED = 0x5eed17
const COUNT = 12_000
/** Verification time, frozen for both verifiers (tolerance edges are exact seconds). */
const NOW = Math.floor(Date.now() / 1000)
const SILENT = { warn: () => undefined, error: () => undefined }

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
  const { jwks, signers, strangers, publicSecrets } = createKeyring()
  const body = JSON.stringify(jwks)
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json')
    res.end(req.url === '/other' ? '{"keys":[]}' : body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

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
