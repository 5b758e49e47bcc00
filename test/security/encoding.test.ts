/**
 * One accepted spelling per token (issue 14, R5; RFC 7515 §2 and §7.1, RFC 4648 §3.5). Node's
 * lenient base64 decoding accepts `=` padding, non-zero spare bits in a segment's last character,
 * a dangling sixth bit group, the standard alphabet and whitespace, so a signed token had many
 * accepted spellings, each its own cache entry. Every respelling here decodes (leniently) to the
 * bytes of a token the issuer really signed, and must be refused as `malformed_jws`.
 */
import { createAuthenticator, isAuthError, type Authenticator } from '@svcauth/core'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

let issuer: TestIssuer
let auth: Authenticator
/** Valid tokens whose header and payload segments cover every length residue (0, 2, 3 mod 4). */
let tokens: string[] = []

beforeAll(async () => {
  issuer = await createTestIssuer({ keyCount: 1 })
  auth = createAuthenticator({
    issuer: issuer.issuer,
    audience: 'smd',
    jwksUri: issuer.jwksUri,
    logger: { warn: () => undefined, error: () => undefined },
  })
  const minted: Promise<string>[] = []
  for (let h = 0; h < 3; h++) {
    for (let p = 0; p < 3; p++) {
      minted.push(
        issuer.mintClientToken({
          clientId: 'bss',
          audience: ['smd'],
          scope: ['smd.read'],
          header: { pad: 'x'.repeat(h) },
          claims: { pad: 'y'.repeat(p) },
        }),
      )
    }
  }
  tokens = await Promise.all(minted)
})
afterAll(async () => {
  auth.close()
  await issuer.close()
})

type Parts = [string, string, string]
const split = (t: string): Parts => t.split('.') as Parts
const value = (c: string): number => ALPHABET.indexOf(c)

/** The reason a token is refused, or 'accepted'. */
async function verdict(a: Authenticator, token: string): Promise<string> {
  try {
    await a.verify(token)
    return 'accepted'
  } catch (err) {
    if (isAuthError(err)) return `${err.status} ${err.code} ${err.reason}`
    throw err
  }
}
const MALFORMED = '401 invalid_token malformed_jws'

/** The last character with `bits` (non-zero) added to its spare bits, or undefined. */
function spareBits(segment: string, bits: number): string | undefined {
  const rest = segment.length % 4
  if (rest !== 2 && rest !== 3) return undefined
  const mask = rest === 2 ? 0x0f : 0x03
  const last = value(segment.at(-1) ?? 'A')
  const flipped = (last & ~mask) | (bits & mask || 1)
  return segment.slice(0, -1) + ALPHABET.charAt(flipped)
}

const respellings = {
  spare: (s: string, n: number) => spareBits(s, n),
  standardAlphabet: (s: string) =>
    /[-_]/.test(s) ? s.replace(/-/g, '+').replace(/_/g, '/') : undefined,
  dangling: (s: string, n: number) =>
    s.length % 4 === 0 ? s + ALPHABET.charAt(n % 64) : undefined,
  padded: (s: string, n: number) => s + '='.repeat(1 + (n % 3)),
  whitespace: (s: string, n: number) => {
    const at = 1 + (n % Math.max(1, s.length - 1))
    return `${s.slice(0, at)}${n % 2 === 0 ? ' ' : '\n'}${s.slice(at)}`
  },
} as const

describe('R5: one accepted encoding per token', () => {
  it('R5: refuses a token whose segment ends in "=" with 401 invalid_token', async () => {
    const [h, p, s] = split(tokens[0] ?? '')
    expect(await verdict(auth, tokens[0] ?? '')).toBe('accepted')
    // The signature segment is 342 characters: "==" makes it correctly padded base64.
    expect(await verdict(auth, `${h}.${p}.${s}==`)).toBe(MALFORMED)
    expect(await verdict(auth, `${h}.${p}=.${s}`)).toBe(MALFORMED)
    expect(await verdict(auth, `${h}==.${p}.${s}`)).toBe(MALFORMED)
  })

  it('R5: refuses non-zero spare bits in the last character of any segment', async () => {
    // The tokens cover every length residue a canonical encoder produces (0, 2, 3 mod 4).
    const residues = (i: number) => new Set(tokens.map((t) => (split(t)[i] ?? '').length % 4))
    expect([...residues(0)].sort()).toEqual([0, 2, 3])
    expect([...residues(1)].sort()).toEqual([0, 2, 3])
    let checked = 0
    for (const token of tokens) {
      const parts = split(token)
      for (let i = 0; i < 3; i++) {
        const respelled = spareBits(parts[i] ?? '', 1)
        if (respelled === undefined) continue
        const copy = [...parts]
        copy[i] = respelled
        const t = copy.join('.')
        // Really a respelling: the same bytes under a lenient decoder.
        expect(Buffer.from(respelled, 'base64url')).toEqual(
          Buffer.from(parts[i] ?? '', 'base64url'),
        )
        expect(await verdict(auth, t), `segment ${i}`).toBe(MALFORMED)
        checked++
      }
    }
    expect(checked).toBeGreaterThanOrEqual(9)
  })

  it('R5: a respelling of a cached token is not a cache hit, on either path', async () => {
    const token = tokens[1] ?? ''
    const [h, p, s] = split(token)
    const request = (t: string) => ({
      headers: { authorization: `Bearer ${t}` },
      rawHeaders: ['Authorization', `Bearer ${t}`],
    })
    const principal = await auth.authenticate(request(token))
    expect(auth.authenticateCached(request(token))).toBe(principal)
    for (const respelled of [`${h}.${p}.${s}==`, `${h}.${p}.${spareBits(s, 3) ?? ''}`]) {
      expect(auth.authenticateCached(request(respelled))).toBeUndefined()
      await expect(auth.authenticate(request(respelled))).rejects.toMatchObject({
        status: 401,
        code: 'invalid_token',
        reason: 'malformed_jws',
      })
      // Refused, so never stored: the fast path still has nothing for it.
      expect(auth.authenticateCached(request(respelled))).toBeUndefined()
    }
    expect(auth.authenticateCached(request(token))).toBe(principal)
  })

  it('R5: every non-canonical respelling of a valid token is refused (property)', async () => {
    const kinds = Object.keys(respellings) as (keyof typeof respellings)[]
    const mutation = fc.record({
      segment: fc.integer({ min: 0, max: 2 }),
      kind: fc.constantFrom(...kinds),
      n: fc.nat(),
    })
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: tokens.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        async (index, mutations) => {
          const original = tokens[index] ?? ''
          const parts = split(original)
          // In the order of `respellings`, so each one sees the length residue of the original.
          const ordered = [...mutations].sort(
            (a, b) => kinds.indexOf(a.kind) - kinds.indexOf(b.kind),
          )
          for (const { segment, kind, n } of ordered) {
            const next = respellings[kind](parts[segment] ?? '', n)
            if (next !== undefined) parts[segment] = next
          }
          const respelled = parts.join('.')
          fc.pre(respelled !== original)
          // Every mutation keeps the decoded bytes: these are spellings of the signed token.
          const bytes = (t: string) => split(t).map((x) => Buffer.from(x, 'base64url'))
          expect(bytes(respelled)).toEqual(bytes(original))
          return (await verdict(auth, respelled)) === MALFORMED
        },
      ),
      { numRuns: 300 },
    )
    // The originals still pass: the check refuses spellings, not tokens.
    for (const t of tokens) expect(await verdict(auth, t)).toBe('accepted')
  })
})
