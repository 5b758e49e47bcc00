/**
 * Property-based tests (fast-check) over generated inputs: arbitrary Authorization headers,
 * arbitrary JWS header and claim JSON (types, nesting, duplicate keys, unicode), arbitrary scope
 * strings, and arbitrary token-endpoint answers. The properties: never a 500 or a crash, never a
 * 2xx for a token not signed by a configured issuer's key, scopes granted exactly as the
 * space-separated string says, and a typed error for every bad token response.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createServiceClient, isTokenEndpointError } from '@svcauth/client'
import { createAuthenticator, isAuthError, type Authenticator } from '@svcauth/core'
import * as ex from '@svcauth/express'
import * as ko from '@svcauth/koa'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import express from 'express'
import fc from 'fast-check'
import { base64url, generateKeyPair, SignJWT, type CryptoKey } from 'jose'
import Koa from 'koa'
import { request } from 'undici'
import { afterAll, beforeAll, describe, it } from 'vitest'

let issuer: TestIssuer
let auth: Authenticator
let attacker: CryptoKey
const servers: { name: string; url: string; server: Server }[] = []
const closers: (() => void)[] = []

const options = () => ({
  issuer: issuer.issuer,
  audience: 'smd',
  jwksUri: issuer.jwksUri,
  logger: { warn: () => undefined, error: () => undefined },
})

beforeAll(async () => {
  issuer = await createTestIssuer({ keyCount: 1 })
  auth = createAuthenticator(options())
  attacker = (await generateKeyPair('RS256')).privateKey
  const exApp = express()
  const exAuth = ex.authenticate(options())
  exApp.get('/read', exAuth, ex.requireScopes('smd.read'), (_req, res) => {
    res.json({ ok: true })
  })
  const koApp = new Koa<ko.AuthState>()
  const koAuth = ko.authenticate(options())
  const koGuard = ko.requireScopes('smd.read')
  koApp
    .use(koAuth)
    .use(koGuard)
    .use((ctx) => {
      ctx.body = { ok: true }
    })
  closers.push(
    () => {
      exAuth.authenticator.close()
    },
    () => {
      koAuth.authenticator.close()
    },
    () => {
      auth.close()
    },
  )
  const koCallback = koApp.callback()
  for (const [name, handler] of [
    ['Express', exApp],
    [
      'Koa',
      (req: Parameters<typeof koCallback>[0], res: Parameters<typeof koCallback>[1]) => {
        void koCallback(req, res)
      },
    ],
  ] as const) {
    const server = createServer(handler)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    servers.push({
      name,
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      server,
    })
  }
})
afterAll(async () => {
  for (const close of closers) close()
  for (const { server } of servers) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
  await issuer.close()
})

async function get(url: string, authorization: string): Promise<number> {
  const res = await request(`${url}/read`, { headers: { authorization } })
  await res.body.dump()
  return res.statusCode
}

/** The core's verdict: 'ok', or the HTTP status of the AuthError; anything else is a bug. */
async function verdict(token: string): Promise<'ok' | number> {
  try {
    await auth.verify(token)
    return 'ok'
  } catch (err) {
    if (isAuthError(err)) return err.status
    throw err
  }
}

const now = () => Math.floor(Date.now() / 1000)
const validClaims = () => ({
  iss: issuer.issuer,
  aud: ['smd'],
  sub: 'bss',
  client_id: 'bss',
  iat: now(),
  exp: now() + 600,
  scp: ['smd.read'],
})

/** JSON-ish values with unicode strings, deep nesting and odd numbers. */
const jsonish = fc.jsonValue({ maxDepth: 4, depthSize: 'small' })
const headerValue = fc.oneof(
  // Printable ASCII, the characters an HTTP client lets through.
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) }),
  fc.string().map((s) => `Bearer ${s}`),
  fc
    .tuple(
      fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic', 'DPoP', ''),
      fc.string({ maxLength: 300 }),
    )
    .map(([scheme, rest]) => `${scheme} ${rest}`),
  fc
    .array(fc.base64String({ maxLength: 60 }), { minLength: 1, maxLength: 4 })
    .map((parts) => `Bearer ${parts.join('.')}`),
)

describe('properties: Authorization header values', () => {
  it('the core answers every header with a typed 400/401, never a principal or a crash', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(headerValue, fc.string({ unit: 'binary', maxLength: 200 })),
        async (value) => {
          try {
            await auth.authenticate({
              headers: { authorization: value },
              rawHeaders: ['Authorization', value],
            })
            return false
          } catch (err) {
            return isAuthError(err) && (err.status === 400 || err.status === 401)
          }
        },
      ),
      { numRuns: 400 },
    )
  })

  it('both adapters answer every printable header with 400 or 401 over HTTP', async () => {
    const printable = headerValue.filter((v) => /^[\x20-\x7e]*$/.test(v))
    await fc.assert(
      fc.asyncProperty(printable, async (value) => {
        for (const { url } of servers) {
          const status = await get(url, value)
          if (status !== 400 && status !== 401) return false
        }
        return true
      }),
      { numRuns: 150 },
    )
  })
})

describe('properties: JWS header and claim JSON', () => {
  const header = fc.oneof(
    fc
      .dictionary(fc.string({ maxLength: 8 }), jsonish, { maxKeys: 5 })
      .map((h) => ({ alg: 'RS256', ...h })),
    fc.record(
      {
        alg: fc.constantFrom('RS256', 'none', 'HS256', 'ES256', 'PS256'),
        typ: fc.oneof(fc.constant('JWT'), fc.string()),
        kid: fc.oneof(fc.constant(undefined), fc.string()),
      },
      { requiredKeys: ['alg'] },
    ),
  )
  const payload = fc.oneof(
    jsonish,
    fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), jsonish, { maxKeys: 8 }),
    fc
      .dictionary(
        fc.constantFrom(
          'iss',
          'aud',
          'sub',
          'client_id',
          'exp',
          'nbf',
          'iat',
          'scp',
          'scope',
          'cnf',
          'act',
          '__proto__',
        ),
        jsonish,
        { maxKeys: 6 },
      )
      .map((over) => ({ ...validClaims(), ...over })),
  )
  const duplicateKeys = fc
    .tuple(fc.constantFrom('aud', 'iss', 'exp', 'scp', 'sub'), jsonish)
    .map(([key, value]) => {
      const text = JSON.stringify(validClaims())
      return `${text.slice(0, -1)},${JSON.stringify(key)}:${JSON.stringify(value)}}`
    })

  it('a token signed with an unknown key is never accepted, whatever it says', async () => {
    await fc.assert(
      fc.asyncProperty(header, fc.oneof(payload, duplicateKeys), async (h, p) => {
        const text = typeof p === 'string' ? p : JSON.stringify(p)
        const protectedHeader = base64url.encode(JSON.stringify({ ...h, kid: issuer.signingKid }))
        const body = base64url.encode(text)
        const signature = await new SignJWT(validClaims())
          .setProtectedHeader({ alg: 'RS256', kid: issuer.signingKid })
          .sign(attacker)
        const forged = `${protectedHeader}.${body}.${signature.split('.')[2] ?? ''}`
        const result = await verdict(forged)
        return result !== 'ok' && result >= 400 && result < 500
      }),
      { numRuns: 300 },
    )
  })

  it('a token signed by the issuer with arbitrary claims is answered, never crashes; accepted only when its claims are valid', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(payload, duplicateKeys), async (p) => {
        const text = typeof p === 'string' ? p : JSON.stringify(p)
        const token = await issuer.signRaw({ typ: 'JWT' }, text)
        const result = await verdict(token)
        if (result !== 'ok') return result >= 400 && result < 500
        // Accepted: then the claims really are acceptable ones.
        const claims = JSON.parse(text) as Record<string, unknown>
        const aud = claims.aud
        return (
          claims.iss === issuer.issuer &&
          (aud === 'smd' || (Array.isArray(aud) && aud.includes('smd'))) &&
          typeof claims.exp === 'number' &&
          claims.exp > now() - 30
        )
      }),
      { numRuns: 300 },
    )
  })
})

describe('properties: scope strings', () => {
  it('requireScopes grants exactly when the space-separated scope contains the exact scope', async () => {
    const scopeText = fc.oneof(
      fc
        .array(
          fc.constantFrom(
            'smd.read',
            'smd.READ',
            'smd.read.x',
            'smd',
            'read',
            'smd.write',
            ' ',
            '\t',
            ',',
            'smd.read,smd.write',
            '\u00a0smd.read',
          ),
          { maxLength: 6 },
        )
        .map((parts) => parts.join(' ')),
      fc.string({ maxLength: 40 }),
    )
    await fc.assert(
      fc.asyncProperty(scopeText, async (scope) => {
        const token = await issuer.mintAccessToken({ claims: { aud: 'smd', scope } })
        const expected = scope.split(' ').includes('smd.read') ? 200 : 403
        for (const { url } of servers) {
          if ((await get(url, `Bearer ${token}`)) !== expected) return false
        }
        return true
      }),
      { numRuns: 120 },
    )
  })
})

describe('properties: token-endpoint answers', () => {
  it('every answer gives a usable b64token or a typed TokenEndpointError, nothing else', async () => {
    const body = fc.oneof(
      jsonish.map((v) => JSON.stringify(v)),
      fc
        .record(
          {
            access_token: fc.oneof(
              fc.string(),
              fc.base64String({ minLength: 4, maxLength: 40 }),
              jsonish,
            ),
            token_type: fc.oneof(
              fc.constantFrom('Bearer', 'bearer', 'BEARER', 'DPoP', 'mac', ''),
              jsonish,
            ),
            expires_in: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(undefined)),
          },
          { requiredKeys: [] },
        )
        .map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 100 }),
    )
    const status = fc.constantFrom(200, 200, 200, 400, 401, 429, 500, 503)
    await fc.assert(
      fc.asyncProperty(status, body, async (code, text) => {
        issuer.setTokenMode({ status: code, body: text })
        const svc = createServiceClient({
          tokenEndpoint: issuer.tokenEndpoint,
          clientId: 'bss',
          clientSecret: 's',
          targets: { 'http://127.0.0.1:9': { scope: ['smd.read'] } },
          retry: { minDelay: 1, maxDelay: 2 },
        })
        try {
          const token = await svc.getToken('http://127.0.0.1:9')
          return code === 200 && /^[A-Za-z0-9\-._~+/]+=*$/.test(token)
        } catch (err) {
          return isTokenEndpointError(err)
        } finally {
          await svc.close()
        }
      }),
      { numRuns: 200 },
    )
    issuer.setTokenMode('ok')
  })
})
