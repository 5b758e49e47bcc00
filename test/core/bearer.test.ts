/**
 * Bearer extraction (RFC 6750 §2.1; catalogue A1–A10) on plain request-like objects.
 */
import { extractBearer, isAuthError, type RequestLike } from '@svcauth/core'
import { describe, expect, it } from 'vitest'

const opts = { maxTokenBytes: 8192 }
const tok = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'

function reasonOf(req: RequestLike): string | undefined {
  try {
    extractBearer(req, opts)
    return undefined
  } catch (err) {
    if (!isAuthError(err)) throw err
    return `${err.status} ${err.code} ${err.reason}`
  }
}

describe('extractBearer', () => {
  it('A1: returns undefined with no Authorization header', () => {
    expect(extractBearer({ headers: {} }, opts)).toBeUndefined()
  })

  it('A2: treats other schemes as no bearer credentials', () => {
    for (const value of ['Basic dXNlcjpwYXNz', 'Digest username="x"', 'Token abc']) {
      expect(extractBearer({ headers: { authorization: value } }, opts), value).toBeUndefined()
    }
  })

  it('A3: matches the scheme case-insensitively', () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      expect(extractBearer({ headers: { authorization: `${scheme} ${tok}` } }, opts)).toBe(tok)
    }
  })

  it('A4: refuses malformed bearer credentials with 400 invalid_request', () => {
    for (const value of [
      'Bearer',
      'Bearer ',
      'Bearer a b',
      `Bearer\t${tok}`,
      `Bearer ${tok},x`,
      `Bearer ${tok}"`,
      '',
      ' ',
      `Bearer ${tok} `,
    ]) {
      expect(reasonOf({ headers: { authorization: value } }), JSON.stringify(value)).toBe(
        '400 invalid_request malformed_header',
      )
    }
  })

  it('A5: accepts several spaces after the scheme (the grammar says 1*SP)', () => {
    expect(extractBearer({ headers: { authorization: `Bearer   ${tok}` } }, opts)).toBe(tok)
  })

  it('accepts every b64token character and trailing padding', () => {
    const t = 'Az09-._~+/abc=='
    expect(extractBearer({ headers: { authorization: `Bearer ${t}` } }, opts)).toBe(t)
    expect(reasonOf({ headers: { authorization: 'Bearer ab=c' } })).toBe(
      '400 invalid_request malformed_header',
    )
  })

  it('A6: ignores a query token alone, refuses it beside a header token', () => {
    expect(extractBearer({ headers: {}, url: `/x?access_token=${tok}` }, opts)).toBeUndefined()
    expect(
      reasonOf({ headers: { authorization: `Bearer ${tok}` }, url: `/x?a=1&access_token=${tok}` }),
    ).toBe('400 invalid_request multiple_methods')
    expect(
      extractBearer({ headers: { authorization: `Bearer ${tok}` }, url: '/x?token=1' }, opts),
    ).toBe(tok)
  })

  it('A7: ignores a parsed body token alone, refuses it beside a header token', () => {
    expect(extractBearer({ headers: {}, body: { access_token: tok } }, opts)).toBeUndefined()
    expect(
      reasonOf({ headers: { authorization: `Bearer ${tok}` }, body: { access_token: tok } }),
    ).toBe('400 invalid_request multiple_methods')
  })

  it('A8: refuses two Authorization headers, detected from rawHeaders', () => {
    const req = {
      headers: { authorization: `Bearer ${tok}` },
      rawHeaders: ['Host', 'x', 'Authorization', `Bearer ${tok}`, 'authorization', 'Bearer other'],
    }
    expect(reasonOf(req)).toBe('400 invalid_request multiple_methods')
    expect(reasonOf({ headers: { authorization: [`Bearer ${tok}`, 'Bearer x'] } })).toBe(
      '400 invalid_request multiple_methods',
    )
  })

  it('A9: refuses a token over maxTokenBytes with 401 before decoding it', () => {
    const big = 'A'.repeat(9 * 1024)
    expect(reasonOf({ headers: { authorization: `Bearer ${big}` } })).toBe(
      '401 invalid_token token_too_large',
    )
    // Over the cap but malformed too: the size check comes first and costs no regex run.
    expect(reasonOf({ headers: { authorization: `Bearer ${big} ${big}` } })).toBe(
      '401 invalid_token token_too_large',
    )
    expect(
      extractBearer({ headers: { authorization: `Bearer ${'A'.repeat(8192)}` } }, opts),
    ).toHaveLength(8192)
  })

  it('A10: never reads cookies', () => {
    expect(
      extractBearer({ headers: { cookie: `access_token=${tok}; jwt=${tok}` } }, opts),
    ).toBeUndefined()
  })

  it('puts the configured realm in the challenge of its errors', () => {
    try {
      extractBearer({ headers: { authorization: 'Bearer' } }, { maxTokenBytes: 8192, realm: 'smd' })
      expect.unreachable()
    } catch (err) {
      expect(isAuthError(err) && err.headers['WWW-Authenticate']).toMatch(
        /^Bearer realm="smd", error="invalid_request"/,
      )
    }
  })
})
