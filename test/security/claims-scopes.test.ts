/**
 * Claims validation (catalogue E1–E12), scope guards driven by real tokens (F1–F5) and error
 * responses (H1–H3), through a real Express app on Express 5 and 4. Each rejection is checked for
 * status, challenge and body over HTTP and for its `reason` through the core.
 */
import { createAuthenticator, isAuthError, type AuthenticatorOptions } from '@svcauth/core'
import { authenticate, requireScopes, type AuthenticateOptions } from '@svcauth/express'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import express5 from 'express'
import type { ErrorRequestHandler } from 'express'
import express4 from 'express4'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const AUD = 'https://api.test'
let issuer: TestIssuer
const now = (): number => Math.floor(Date.now() / 1000)

beforeAll(async () => {
  issuer = await createTestIssuer()
})
afterAll(async () => {
  await issuer.close()
})

type Claims = Record<string, unknown>

/** An RFC 9068 token for this issuer; `claims` override the defaults (undefined removes one). */
function token(claims: Claims = {}, header: Claims = {}): Promise<string> {
  return issuer.mintAccessToken({ claims: { aud: AUD, ...claims }, header })
}

async function reasonOf(t: string, options: Partial<AuthenticatorOptions> = {}): Promise<string> {
  const auth = createAuthenticator({
    issuer: issuer.issuer,
    audience: AUD,
    jwksUri: issuer.jwksUri,
    cache: false,
    ...options,
  })
  try {
    await auth.verify(t)
    return 'accepted'
  } catch (err) {
    if (!isAuthError(err)) throw err
    return `${err.status} ${err.reason}`
  } finally {
    auth.close()
  }
}

describe('E: claims validation (core reasons)', () => {
  it('E1: typ accepts at+jwt, application/at+jwt, JWT or none by default and refuses other types', async () => {
    for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT', 'JWT', 'application/jwt']) {
      expect(await reasonOf(await token({}, { typ })), typ).toBe('accepted')
    }
    expect(await reasonOf(await token({}, { typ: undefined }))).toBe('accepted')
    for (const typ of [
      'dpop+jwt',
      'logout+jwt',
      'secevent+jwt',
      'at+jwt ',
      'jwt+at',
      1,
      ['at+jwt'],
    ]) {
      expect(await reasonOf(await token({}, { typ })), String(typ)).toBe('401 typ_invalid')
    }
  })

  it('E1: strict mode requires at+jwt', async () => {
    for (const typ of ['JWT', 'application/jwt', undefined]) {
      expect(await reasonOf(await token({}, { typ }), { strict: true }), String(typ)).toBe(
        '401 typ_invalid',
      )
    }
    expect(await reasonOf(await token({}, { typ: 'application/at+jwt' }), { strict: true })).toBe(
      'accepted',
    )
  })

  it('E2: an ID token (aud = the client) is not an access token', async () => {
    const t = await token({ aud: 'cli-1', nonce: 'n', at_hash: 'x' }, { typ: 'JWT' })
    expect(await reasonOf(t)).toBe('401 aud_invalid')
  })

  it('E3: a token for a sibling API is refused', async () => {
    expect(await reasonOf(await token({ aud: 'https://other-api.test' }))).toBe('401 aud_invalid')
  })

  it('E4: aud must contain the configured audience exactly, as a string or an array of strings', async () => {
    expect(await reasonOf(await token({ aud: AUD }))).toBe('accepted')
    expect(await reasonOf(await token({ aud: ['x', AUD] }))).toBe('accepted')
    for (const aud of [['x'], [], '', undefined, `${AUD}/`, AUD.toUpperCase(), `${AUD}.evil`, {}]) {
      expect(await reasonOf(await token({ aud })), JSON.stringify(aud)).toMatch(
        /^401 (aud_invalid|claim_missing)$/,
      )
    }
    expect(await reasonOf(await token({ aud: [AUD, 1] }))).toBe('401 claim_type_invalid')
  })

  it('E4: several configured audiences accept any one of them; audience false skips the check', async () => {
    const opts = { audience: ['smd', AUD] }
    expect(await reasonOf(await token({ aud: 'smd' }), opts)).toBe('accepted')
    const quiet = { warn: () => undefined, error: () => undefined }
    expect(await reasonOf(await token({ aud: [] }), { audience: false, logger: quiet })).toBe(
      'accepted',
    )
    expect(await reasonOf(await token({ aud: 7 }), { audience: false, logger: quiet })).toBe(
      '401 claim_type_invalid',
    )
  })

  it('E5: iss must match exactly', async () => {
    const iss = issuer.issuer
    for (const bad of [`${iss}/`, `${iss}//`, iss.toUpperCase(), `${iss} `, [iss], undefined]) {
      expect(await reasonOf(await token({ iss: bad })), JSON.stringify(bad)).toMatch(
        /^401 (iss_invalid|claim_missing|claim_type_invalid)$/,
      )
    }
  })

  it('E7: exp is required, numeric and in the future, with the clock tolerance', async () => {
    expect(await reasonOf(await token({ exp: undefined }))).toBe('401 claim_missing')
    expect(await reasonOf(await token({ exp: now() - 120 }))).toBe('401 expired')
    expect(await reasonOf(await token({ exp: now() }), { clockTolerance: 0 })).toBe('401 expired')
    expect(await reasonOf(await token({ exp: now() - 4 }), { clockTolerance: 5 })).toBe('accepted')
    expect(await reasonOf(await token({ exp: '9999999999' }))).toBe('401 claim_type_invalid')
    expect(await reasonOf(await token({ exp: null }))).toBe('401 claim_type_invalid')
  })

  it('E8: a non-finite or absurd lifetime is refused', async () => {
    const payload = `{"iss":"${issuer.issuer}","aud":"${AUD}","sub":"u","iat":${now()},"exp":1e400}`
    const infinite = await issuer.signRaw({ typ: 'at+jwt' }, payload)
    expect(await reasonOf(infinite)).toBe('401 lifetime_too_long')
    expect(await reasonOf(await token({ exp: now() + 10 * 365 * 86400 }))).toBe(
      '401 lifetime_too_long',
    )
    expect(await reasonOf(await token({ exp: now() + 7200 }), { maxLifetime: 3600 })).toBe(
      '401 lifetime_too_long',
    )
    // Without iat the remaining lifetime is bounded instead.
    expect(await reasonOf(await token({ iat: undefined, exp: now() + 2 * 86400 }))).toBe(
      '401 lifetime_too_long',
    )
  })

  it('E9: nbf in the future is refused beyond the tolerance', async () => {
    expect(await reasonOf(await token({ nbf: now() + 120 }))).toBe('401 not_yet_valid')
    expect(await reasonOf(await token({ nbf: now() + 3 }), { clockTolerance: 5 })).toBe('accepted')
    expect(await reasonOf(await token({ nbf: 'x' }))).toBe('401 claim_type_invalid')
  })

  it('E10: iat may not be in the future, is required in strict mode, and obeys maxTokenAge', async () => {
    expect(await reasonOf(await token({ iat: now() + 3600 }))).toBe('401 iat_invalid')
    expect(await reasonOf(await token({ iat: undefined }), { strict: true })).toBe(
      '401 claim_missing',
    )
    expect(await reasonOf(await token({ iat: now() - 2 * 86400 }), { maxTokenAge: 86400 })).toBe(
      '401 token_too_old',
    )
    expect(await reasonOf(await token({ iat: 'yesterday' }))).toBe('401 claim_type_invalid')
  })

  it('E11: identity claims are non-empty strings; strict mode requires them', async () => {
    for (const claim of ['sub', 'client_id', 'jti']) {
      expect(await reasonOf(await token({ [claim]: undefined }), { strict: true }), claim).toBe(
        '401 claim_missing',
      )
    }
    for (const bad of [{ sub: 123 }, { sub: '' }, { client_id: 42 }, { jti: {} }, { azp: [] }]) {
      expect(await reasonOf(await token(bad)), JSON.stringify(bad)).toBe('401 claim_type_invalid')
    }
  })

  it('E12: a sender-constrained token presented as Bearer is refused', async () => {
    const jkt = { jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiGQA4I' }
    expect(await reasonOf(await token({ cnf: jkt }))).toBe('401 sender_constrained')
    expect(await reasonOf(await token({ cnf: { 'x5t#S256': 'abc' } }))).toBe(
      '401 sender_constrained',
    )
  })

  it('F5: a scope claim of the wrong type is a malformed token (401), not an empty scope set', async () => {
    for (const scope of [['read'], 1, {}, null, true]) {
      expect(await reasonOf(await token({ scope })), JSON.stringify(scope)).toBe(
        '401 claim_type_invalid',
      )
    }
    for (const scp of [1, [1], [''], {}]) {
      expect(await reasonOf(await token({ scp })), JSON.stringify(scp)).toBe(
        '401 claim_type_invalid',
      )
    }
  })
})

describe.each([
  ['Express 5', express5],
  ['Express 4', express4],
] as const)('E/F/H over HTTP on %s', (_name, express) => {
  function app(options: Partial<AuthenticateOptions> = {}) {
    const a = express()
    const auth = authenticate({
      issuer: issuer.issuer,
      audience: AUD,
      jwksUri: issuer.jwksUri,
      ...options,
    })
    a.use(auth)
    a.get('/write', requireScopes('write'), (req, res) => {
      res.json({ scopes: [...(req.auth?.scopes ?? [])] })
    })
    a.get('/orders', requireScopes(['read:orders', 'write:orders']), (_req, res) => {
      res.json({ ok: true })
    })
    return {
      app: a,
      close: () => {
        auth.authenticator.close()
      },
    }
  }

  it('E7: an expired token gets the invalid_token challenge and a generic body', async () => {
    const { app: a, close } = app()
    try {
      const t = await token({ exp: now() - 120, scope: 'write' })
      const res = await request(a).get('/write').set('Authorization', `Bearer ${t}`)
      expect(res.status).toBe(401)
      expect(res.headers['www-authenticate']).toBe(
        'Bearer realm="api", error="invalid_token", error_description="The access token expired"',
      )
      expect(res.body).toEqual({
        error: 'invalid_token',
        error_description: 'The access token expired',
      })
    } finally {
      close()
    }
  })

  it('F1/F4: scope delimiters are single spaces (runs tolerated); tabs and commas are not', async () => {
    const { app: a, close } = app()
    try {
      for (const scope of ['read  write', ' read write ', 'write']) {
        const res = await request(a)
          .get('/write')
          .set('Authorization', `Bearer ${await token({ scope })}`)
        expect(res.status, JSON.stringify(scope)).toBe(200)
      }
      for (const scope of ['read\twrite', 'read,write', '', undefined]) {
        const res = await request(a)
          .get('/write')
          .set('Authorization', `Bearer ${await token({ scope })}`)
        expect(res.status, JSON.stringify(scope)).toBe(403)
        expect(res.headers['www-authenticate']).toContain('scope="write"')
      }
    } finally {
      close()
    }
  })

  it('F: scp (Hydra) and scope are unioned, and scopeClaims adds claims such as permissions', async () => {
    const { app: a, close } = app({ scopeClaims: ['permissions'] })
    try {
      const t = await token({ scope: 'read', scp: ['a'], permissions: ['write'] })
      const res = await request(a).get('/write').set('Authorization', `Bearer ${t}`)
      expect(res.status).toBe(200)
      expect(res.body.scopes.sort()).toEqual(['a', 'read', 'write'])
    } finally {
      close()
    }
  })

  it('F8: a 403 names every required scope once', async () => {
    const { app: a, close } = app()
    try {
      const res = await request(a)
        .get('/orders')
        .set('Authorization', `Bearer ${await token({ scope: 'read:orders' })}`)
      expect(res.status).toBe(403)
      expect(res.headers['www-authenticate']).toBe(
        'Bearer realm="api", error="insufficient_scope", error_description="The access token lacks a required scope", scope="read:orders write:orders"',
      )
    } finally {
      close()
    }
  })

  it('H1: a kid with CR/LF and an iss with quotes still give one valid challenge', async () => {
    const { app: a, close } = app()
    try {
      const evilKid = await token({}, { kid: '"\r\nSet-Cookie: a=1' })
      const evilIss = await token({ iss: 'https://as"evil\\' })
      for (const t of [evilKid, evilIss]) {
        const res = await request(a).get('/write').set('Authorization', `Bearer ${t}`)
        expect(res.status).toBe(401)
        expect(res.headers['set-cookie']).toBeUndefined()
        expect(res.headers['www-authenticate']).toMatch(
          /^Bearer realm="api", error="invalid_token", error_description="[\x20\x21\x23-\x5b\x5d-\x7e]*"$/,
        )
      }
    } finally {
      close()
    }
  })

  it('H2: rejection bodies are only the code and a fixed description', async () => {
    const { app: a, close } = app()
    try {
      const cases = [
        await token({ exp: now() - 120 }),
        await token({ aud: 'x' }),
        `${(await token()).slice(0, -4)}AAAA`,
        'a.b.c',
      ]
      for (const t of cases) {
        const res = await request(a).get('/write').set('Authorization', `Bearer ${t}`)
        expect(Object.keys(res.body).sort()).toEqual(['error', 'error_description'])
        const text = JSON.stringify(res.body)
        expect(text).not.toMatch(/SyntaxError|at .*\.js|ERR_|jose/i)
        for (const part of t.split('.')) if (part.length > 3) expect(text).not.toContain(part)
      }
    } finally {
      close()
    }
  })

  it('H3: with respond: false, a rejected verification reaches the error handler without an unhandled rejection', async () => {
    const { app: a, close } = app({ respond: false })
    const seen: unknown[] = []
    const onUnhandled = (reason: unknown): void => {
      seen.push(reason)
    }
    process.on('unhandledRejection', onUnhandled)
    const handler: ErrorRequestHandler = (err, _req, res, _next) => {
      res
        .status(isAuthError(err) ? err.status : 500)
        .set(isAuthError(err) ? err.headers : {})
        .end()
    }
    a.use(handler)
    try {
      const bad = `${(await token({ scope: 'write' })).slice(0, -4)}AAAA`
      const res = await request(a).get('/write').set('Authorization', `Bearer ${bad}`).timeout(1000)
      expect(res.status).toBe(401)
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"')
      expect(seen).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
      close()
    }
  })
})
