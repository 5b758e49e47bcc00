/**
 * Section 2: verification in process, on one core, against the limit. The limit is a bare loop
 * of `node:crypto.verify` with the same KeyObject over each token's signing input and its
 * signature, base64url-decoded per call as any verifier must (RFC 7515 §5.2 steps 7–8): RS256 is
 * RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3), ES256 a 64-byte R ‖ S over P-256 (RFC 7518
 * §3.4, IEEE P1363), EdDSA Ed25519 (RFC 8037 §3.1). Nothing else a verifier does (splitting the
 * token, parsing the header and claims, checking them) is in it, so no verifier can reach it.
 *
 * The whole process, every thread of it, is pinned to one core for this section: WebCrypto's
 * work on the libuv pool then competes with the main thread, as it does on a one-core server,
 * instead of borrowing a second core that a synchronous verifier cannot use.
 */
import { verify as cryptoVerify } from 'node:crypto'
import { createAuthenticator } from '@svcauth/core'
import { jwtVerify } from 'jose'
import { ROUNDS, VERIFY_PARALLEL } from './config.js'
import { jwksServer, makeKeys, mint, type Keys } from './keys.js'
import { opsPerSecond, pairRounds, type Paired } from './loops.js'
import { CAN_PIN, pinSelf, unpinSelf } from './pin.js'
import { fmtRatio, fmtSummary, say } from './report.js'
import { perRound, summarize } from './stats.js'

/**
 * Per-round ratios, keyed `<alg>/<contender>/<baseline>`: `<alg>/off/limit` (svcauth with the
 * cache off ÷ the limit), `<alg>/off/jose`, `<alg>/jose/limit`.
 */
export type VerifyRatios = Record<string, readonly number[]>

const ALGS = ['RS256', 'ES256', 'EdDSA'] as const

/** `crypto.verify` for `keys.alg`, with the options bound once as a verifier would. */
function rawVerify(keys: Keys): (input: Buffer, signature: Buffer) => boolean {
  switch (keys.alg) {
    case 'RS256':
      // PKCS#1 v1.5 is Node's default padding for an RSA KeyObject.
      return (input, signature) => cryptoVerify('sha256', input, keys.publicKey, signature)
    case 'ES256': {
      const key = { key: keys.publicKey, dsaEncoding: 'ieee-p1363' as const }
      return (input, signature) => cryptoVerify('sha256', input, key, signature)
    }
    case 'EdDSA':
      return (input, signature) => cryptoVerify(null, input, keys.publicKey, signature)
  }
}

/** The limit loop's body over `tokens`: signing inputs as bytes up front, signatures decoded per call. */
function limitLoop(keys: Keys, tokens: readonly string[]): (i: number) => void {
  const verify = rawVerify(keys)
  const parts = tokens.map((t) => {
    const dot = t.lastIndexOf('.')
    return { input: Buffer.from(t.slice(0, dot)), signature: t.slice(dot + 1) }
  })
  return (i) => {
    const p = parts[i % parts.length]
    // Checked, so that the loop is known to verify real signatures (and cannot be optimised away).
    if (p === undefined || !verify(p.input, Buffer.from(p.signature, 'base64url')))
      throw new Error(`limit loop: a ${keys.alg} signature did not verify`)
  }
}

interface Row {
  readonly name: string
  readonly pair: Paired
}

async function measureAlg(alg: (typeof ALGS)[number], out: Record<string, readonly number[]>) {
  const keys = makeKeys(alg)
  const jwks = await jwksServer([keys])
  const issuer = 'https://issuer.bench/'
  const tokens = Array.from({ length: 4000 }, (_, i) => mint(keys, issuer, i))
  const options = { issuer, audience: 'smd', jwksUri: jwks.url, algorithms: [alg] }
  const off = createAuthenticator({ ...options, cache: false })
  // A cache smaller than the token cycle: every distinct token misses, is verified and stored
  // (evicting another), which is what a stream of never-repeated tokens costs.
  const on = createAuthenticator({ ...options, cache: { max: 1000 } })
  try {
    await off.ready()
    await on.ready()
    const verifyOptions = { issuer, audience: 'smd', algorithms: [alg] }
    const limitBody = limitLoop(keys, tokens)
    const limit = () => opsPerSecond(limitBody)
    const pick = (i: number) => tokens[i % tokens.length] ?? ''
    let offset = 0
    const one = pick(0)
    const jose = await pairRounds(limit, () =>
      opsPerSecond((i) => jwtVerify(pick(i), keys.publicKey, verifyOptions)),
    )
    const cacheOff = await pairRounds(limit, () => opsPerSecond((i) => off.verify(pick(i))))
    const distinct = await pairRounds(limit, () => opsPerSecond(() => on.verify(pick(offset++))))
    const repeated = await pairRounds(limit, () => opsPerSecond(() => on.verify(one)))
    // svcauth ÷ jose: both are measured against the limit in their own rounds; the quotient of
    // those two within-round ratios cancels a drift of the machine between the rounds.
    const offVsJose = perRound(cacheOff.ratios, jose.ratios)
    out[`${alg}/off/limit`] = cacheOff.ratios
    out[`${alg}/off/jose`] = offVsJose
    out[`${alg}/jose/limit`] = jose.ratios
    const limits = [jose, cacheOff, distinct, repeated].flatMap((p) => p.a)
    say(
      `| ${alg} | **limit**: crypto.verify loop | ${fmtSummary(summarize(limits))} | 1 | ${fmtRatio(summarize(jose.ratios.map((r) => 1 / r)))} |`,
    )
    const rows: Row[] = [
      { name: 'jose.jwtVerify', pair: jose },
      { name: 'svcauth, cache off', pair: cacheOff },
      { name: 'svcauth, cache on, distinct tokens', pair: distinct },
      { name: 'svcauth, cache on, repeated token', pair: repeated },
    ]
    for (const { name, pair } of rows) {
      const vsJose = pair === jose ? '1' : pair === cacheOff ? fmtRatio(summarize(offVsJose)) : '–'
      say(
        `| ${alg} | ${name} | ${fmtSummary(summarize(pair.b))} | ${fmtRatio(summarize(pair.ratios))} | ${vsJose} |`,
      )
    }
  } finally {
    off.close()
    on.close()
    await new Promise((resolve) => jwks.server.close(resolve))
  }
}

export async function verifySection(): Promise<VerifyRatios> {
  say('')
  say(
    `## 2. Verification in process (verifications/s; ${CAN_PIN ? 'the process and all its threads pinned to one core' : 'not pinned: taskset is missing'}; ${VERIFY_PARALLEL} in flight for an asynchronous verifier; each contender paired with the limit loop in ${ROUNDS} alternating rounds; median (p25–p75))`,
  )
  say('')
  say(
    "The limit is `crypto.verify` with the same KeyObject over each token's signing input and its signature, base64url-decoded per call. Ratios are taken within each round; svcauth ÷ jose is the quotient of their two ratios to the limit, round by round.",
  )
  say('')
  say('| alg | verifier | verifications/s | ÷ limit | ÷ jose.jwtVerify |')
  say('|---|---|---:|---:|---:|')
  const out: Record<string, readonly number[]> = {}
  pinSelf('0')
  try {
    for (const alg of ALGS) await measureAlg(alg, out)
  } finally {
    unpinSelf()
  }
  return out
}
