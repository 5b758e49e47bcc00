/**
 * Issue 17, item 1: the verified-token cache answers a repeated `Authorization` header from a few
 * recent header values, before parsing the header or hashing the token. What that path skips must
 * not change an answer: the request around the header is still checked (RFC 6750 §2: one method
 * only), and a recent header's entry is checked like any cache hit (expiry, age, closing).
 */
import {
  createAuthenticator,
  isAuthError,
  type Authenticator,
  type RequestLike,
} from '@svcauth/core'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'

let issuer: TestIssuer
const open: Authenticator[] = []
beforeAll(async () => {
  issuer = await createTestIssuer({ keyCount: 1 })
})
afterAll(async () => {
  await issuer.close()
})
afterEach(() => {
  vi.useRealTimers()
  for (const a of open.splice(0)) a.close()
})

function auth(options: { clockTolerance?: number; maxTokenAge?: number } = {}): Authenticator {
  const a = createAuthenticator({
    issuer: issuer.issuer,
    audience: 'smd',
    jwksUri: issuer.jwksUri,
    ...options,
  })
  open.push(a)
  return a
}

/** A request as Node parses it: `headers` keeps the first Authorization, `rawHeaders` all. */
function req(header: string, extra: Partial<RequestLike> & { second?: string } = {}): RequestLike {
  const raw = ['Host', 'smd', 'Authorization', header]
  if (extra.second !== undefined) raw.push('authorization', extra.second)
  return {
    headers: { host: 'smd', authorization: header },
    rawHeaders: raw,
    url: extra.url ?? '/hsm/v2/State/Components',
    body: extra.body,
  }
}

async function outcome(a: Authenticator, request: RequestLike): Promise<string> {
  const cached = a.authenticateCached(request)
  if (cached !== undefined) return `cached ${cached.actorId}`
  try {
    return `verified ${(await a.authenticate(request))?.actorId ?? 'anonymous'}`
  } catch (err) {
    if (isAuthError(err)) return `${err.status} ${err.reason}`
    throw err
  }
}

describe('recent Authorization headers in front of the cache (issue 17)', () => {
  it('answers the same header byte for byte from the cache, each scheme spelling on its own', async () => {
    const a = auth()
    const t = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    expect(await outcome(a, req(`Bearer ${t}`))).toBe('verified bss')
    for (let i = 0; i < 3; i++) expect(await outcome(a, req(`Bearer ${t}`))).toBe('cached bss')
    expect(await outcome(a, req(`bearer  ${t}`))).toBe('cached bss')
    expect(await outcome(a, req(`bearer  ${t}`))).toBe('cached bss')
    // Another token in a header of the same length and prefix is not a recent header's.
    const other = `${t.slice(0, -2)}${t.endsWith('AA') ? 'AQ' : 'AA'}`
    expect(await outcome(a, req(`Bearer ${other}`))).toMatch(/^401 /)
  })

  it('still refuses a recent header when the request also carries a second Authorization header or a token in the query or body', async () => {
    const a = auth()
    const t = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    const header = `Bearer ${t}`
    for (let i = 0; i < 3; i++)
      expect(await outcome(a, req(header))).toMatch(/^(verified|cached) bss$/)
    expect(await outcome(a, req(header, { second: header }))).toBe('400 multiple_methods')
    expect(await outcome(a, req(header, { second: 'Bearer other' }))).toBe('400 multiple_methods')
    expect(await outcome(a, req(header, { url: `/x?access_token=${t}` }))).toBe(
      '400 multiple_methods',
    )
    // Percent-encoded name: the query parser decodes it, so must the check.
    expect(await outcome(a, req(header, { url: `/x?a=1&%61ccess%5Ftoken=${t}` }))).toBe(
      '400 multiple_methods',
    )
    expect(await outcome(a, req(header, { body: { access_token: t } }))).toBe(
      '400 multiple_methods',
    )
    // Lookalike names and plain queries are not credentials.
    expect(await outcome(a, req(header, { url: '/x?type=Node&access_tokens=1' }))).toBe(
      'cached bss',
    )
    expect(await outcome(a, req(header, { url: '/x?type=Node' }))).toBe('cached bss')
    expect(await outcome(a, req(header))).toBe('cached bss')
  })

  it('stops answering a recent header once its token has expired or grown too old', async () => {
    const a = auth({ clockTolerance: 0, maxTokenAge: 120 })
    const short = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'], ttl: 60 })
    const long = await issuer.mintClientToken({ clientId: 'billing', audience: ['smd'], ttl: 600 })
    for (let i = 0; i < 3; i++) {
      expect(await outcome(a, req(`Bearer ${short}`))).toMatch(/^(verified|cached) bss$/)
      expect(await outcome(a, req(`Bearer ${long}`))).toMatch(/^(verified|cached) billing$/)
    }
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 61_000)
    expect(await outcome(a, req(`Bearer ${short}`))).toBe('401 expired')
    expect(await outcome(a, req(`Bearer ${long}`))).toBe('cached billing')
    vi.setSystemTime(Date.now() + 60_000)
    expect(await outcome(a, req(`Bearer ${long}`))).toBe('401 token_too_old')
  })

  it('forgets its recent headers when the authenticator closes', async () => {
    const a = auth()
    const t = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    for (let i = 0; i < 3; i++) await outcome(a, req(`Bearer ${t}`))
    expect(a.authenticateCached(req(`Bearer ${t}`))?.actorId).toBe('bss')
    a.close()
    expect(a.authenticateCached(req(`Bearer ${t}`))).toBeUndefined()
  })

  it('keeps answering many callers: more distinct headers than recent slots fall back to the cache', async () => {
    const a = auth()
    const tokens = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        issuer.mintClientToken({ clientId: `svc-${i}`, audience: ['smd'] }),
      ),
    )
    for (const t of tokens) await outcome(a, req(`Bearer ${t}`))
    for (let round = 0; round < 3; round++) {
      for (const [i, t] of tokens.entries()) {
        expect(await outcome(a, req(`Bearer ${t}`))).toBe(`cached svc-${i}`)
      }
    }
  })
})
