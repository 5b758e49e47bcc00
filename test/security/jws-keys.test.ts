/**
 * JWS structure and encoding (catalogue B1–B10), signature-algorithm attacks (C1–C10) and
 * header-supplied key material, `kid` and `crit` (D1–D10). Every token is a real malicious input.
 * Each rejection is checked twice: its `reason` through the core, and its HTTP answer (status,
 * challenge, generic body, nothing echoed) through Express 5 and Express 4.
 */
import { createHmac, createPublicKey, generateKeyPairSync, sign as nodeSign } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  createAuthenticator,
  isAuthError,
  type Authenticator,
  type AuthenticatorOptions,
} from '@svcauth/core'
import { authenticate, requireScopes, type AuthenticateMiddleware } from '@svcauth/express'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import express5 from 'express'
import express4 from 'express4'
import {
  base64url,
  exportJWK,
  exportPKCS8,
  exportSPKI,
  generateKeyPair,
  importJWK,
  SignJWT,
  type CryptoKey,
  type JWK,
} from 'jose'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { typeError } from '../support/type-error.js'

const AUD = 'smd'
let issuer: TestIssuer
let auth: Authenticator
let rsaOnly: Authenticator
let apps: { name: string; app: express5.Express; mw: AuthenticateMiddleware }[] = []
let attackerServer: Server
let attackerUrl: string
let attackerHits = 0
let es: { privateKey: CryptoKey; pem: string }
let rawKey: { pem: string }
let weakPem: string
const own: Record<string, CryptoKey> = {}

const b64u = (v: unknown): string => base64url.encode(typeof v === 'string' ? v : JSON.stringify(v))
const now = (): number => Math.floor(Date.now() / 1000)
const good = (): Record<string, unknown> => ({
  iss: issuer.issuer,
  aud: [AUD],
  sub: 'bss',
  client_id: 'bss',
  iat: now(),
  exp: now() + 300,
  jti: crypto.randomUUID(),
  scp: ['smd.read'],
})

/** Publishes a public key with extra JWK members; returns its private key for signing. */
async function publish(kid: string, alg: 'RS256' | 'ES256', extra: Record<string, unknown> = {}) {
  const pair = await generateKeyPair(alg, { extractable: true })
  issuer.publishJwk({ ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig', ...extra })
  own[kid] = pair.privateKey
  return pair.privateKey
}

function signWith(
  key: CryptoKey,
  header: Record<string, unknown>,
  claims = good(),
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...header }).sign(key)
}

/** Signs `header.payload` bytes with a PEM key (`ieee` for JOSE ECDSA, DER otherwise). */
function rawSign(
  header: string,
  payload: Buffer | string,
  pem: string,
  ec?: 'ieee' | 'der',
): string {
  const input = `${b64u(header)}.${Buffer.from(payload).toString('base64url')}`
  const signature = nodeSign('sha256', Buffer.from(input), {
    key: pem,
    ...(ec === 'ieee' ? { dsaEncoding: 'ieee-p1363' as const } : {}),
  })
  return `${input}.${signature.toString('base64url')}`
}

beforeAll(async () => {
  issuer = await createTestIssuer()
  attackerServer = createServer((_req, res) => {
    attackerHits++
    res.end('{"keys":[]}')
  })
  await new Promise<void>((resolve) => attackerServer.listen(0, '127.0.0.1', resolve))
  attackerUrl = `http://127.0.0.1:${(attackerServer.address() as AddressInfo).port}`
  const esKey = await publish('es1', 'ES256')
  es = { privateKey: esKey, pem: await exportPKCS8(esKey) }
  rawKey = { pem: await exportPKCS8(await publish('raw', 'RS256')) }
  await publish('enc-use', 'RS256', { use: 'enc' })
  await publish('enc-ops', 'RS256', { key_ops: ['encrypt'] })
  await publish('rs512-only', 'RS256', { alg: 'RS512' })
  const dupA = await generateKeyPair('RS256', { extractable: true })
  const dupB = await generateKeyPair('RS256', { extractable: true })
  for (const pair of [dupA, dupB]) {
    issuer.publishJwk({ ...(await exportJWK(pair.publicKey)), kid: 'dup', alg: 'RS256' })
  }
  own.dupA = dupA.privateKey
  own.dupB = dupB.privateKey
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 })
  issuer.publishJwk({ ...weak.publicKey.export({ format: 'jwk' }), kid: 'weak', alg: 'RS256' })
  weakPem = weak.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
  const base = { issuer: issuer.issuer, audience: AUD, jwksUri: issuer.jwksUri, cache: false }
  auth = createAuthenticator(base as AuthenticatorOptions)
  rsaOnly = createAuthenticator({ ...base, algorithms: ['RS256'] } as AuthenticatorOptions)
  apps = [
    ['Express 5', express5],
    ['Express 4', express4],
  ].map(([name, express]) => {
    const app = (express as typeof express5)()
    const mw = authenticate({ ...base, realm: 'api' } as AuthenticatorOptions)
    app.use(mw)
    app.get('/r', requireScopes('smd.read'), (req, res) => {
      res.json({ sub: req.auth?.sub, admin: ({} as Record<string, unknown>).admin ?? null })
    })
    app.get('/admin', requireScopes('admin'), (_req, res) => {
      res.json({ ok: true })
    })
    return { name: name as string, app, mw }
  })
  await Promise.all([auth, rsaOnly, ...apps.map((a) => a.mw.authenticator)].map((a) => a.ready()))
})

afterAll(async () => {
  auth.close()
  rsaOnly.close()
  for (const a of apps) a.mw.authenticator.close()
  await new Promise((resolve) => attackerServer.close(resolve))
  await issuer.close()
})

async function reasonOf(token: string, verifier = auth): Promise<string> {
  try {
    await verifier.verify(token)
    return 'accepted'
  } catch (err) {
    if (!isAuthError(err)) throw err
    return err.reason
  }
}

/** Asserts the core reason (one of `reasons`) and the 401 answer over HTTP on both frameworks. */
async function expectRejected(token: string, reasons: string | readonly string[], verifier = auth) {
  const allowed = typeof reasons === 'string' ? [reasons] : reasons
  expect(allowed, token.slice(0, 80)).toContain(await reasonOf(token, verifier))
  if (verifier !== auth) return
  for (const { name, app } of apps) {
    const res = await request(app).get('/r').set('Authorization', `Bearer ${token}`)
    const note = `${name}: ${token.slice(0, 60)}`
    if (res.status === 400) {
      // Characters outside b64token never reach the verifier: malformed header.
      expect(res.body.error, note).toBe('invalid_request')
      continue
    }
    expect(res.status, note).toBe(401)
    expect(res.headers['www-authenticate'], note).toMatch(
      /^Bearer realm="api", error="invalid_token", error_description="[^"]*"$/,
    )
    expect(Object.keys(res.body).sort(), note).toEqual(['error', 'error_description'])
    expect(res.body.error).toBe('invalid_token')
    const text = JSON.stringify(res.body) + String(res.headers['www-authenticate'])
    expect(text).not.toMatch(/SyntaxError|Error:|\bat \w|ERR_/)
    for (const part of token.split('.')) if (part.length > 8) expect(text).not.toContain(part)
  }
}

describe('B: JWS structure, encoding and JSON', () => {
  it('B1: refuses the wrong number of segments without fetching keys', async () => {
    const hits = issuer.hits.jwks
    for (const t of ['abc.def', 'abc.def.ghi.jkl', '.....', 'abc']) {
      await expectRejected(t, 'malformed_jws')
    }
    expect(await reasonOf('')).toBe('malformed_jws')
    expect(issuer.hits.jwks).toBe(hits)
  })

  it('B2: refuses a JWE (five segments, PBES2 with a huge p2c) at once; there is no decrypt path', async () => {
    const header = b64u({
      alg: 'PBES2-HS256+A128KW',
      enc: 'A128GCM',
      p2c: 2147483647,
      p2s: 'AAAAAAAAAAAAAAAAAAAAAA',
    })
    const jwe = `${header}.AAAA.AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA`
    const started = performance.now()
    await expectRejected(jwe, 'malformed_jws')
    expect(performance.now() - started).toBeLessThan(500)
  })

  it('B2: no package source imports a JWE decryption API', async () => {
    const { readdir, readFile } = await import('node:fs/promises')
    const files = await readdir(new URL('../../packages', import.meta.url), { recursive: true })
    for (const file of files.filter((f) => f.endsWith('.ts') && f.includes('/src/'))) {
      const text = await readFile(new URL(`../../packages/${file}`, import.meta.url), 'utf8')
      expect(text, file).not.toMatch(/jwtDecrypt|compactDecrypt|flattenedDecrypt|generalDecrypt/)
    }
  })

  it('B3: a broken protected header is malformed, never a SyntaxError', async () => {
    const p = b64u(good())
    for (const h of ['{', '[]', 'null', '"x"', '']) {
      await expectRejected(`${b64u(h)}.${p}.c2ln`, 'malformed_jws')
    }
    expect(await reasonOf('!!!notbase64!!!.payload.signature')).toBe('malformed_jws')
  })

  it('B4: a validly signed payload that is not a JSON object is malformed', async () => {
    for (const payload of ['[]', 'null', '1', '"s"', '{', 'not json']) {
      await expectRejected(await issuer.signRaw({ typ: 'JWT' }, payload), 'malformed_jws')
    }
  })

  it('B5: invalid UTF-8 in the claims set is refused', async () => {
    const bytes = Buffer.concat([
      Buffer.from(`{"iss":"${issuer.issuer}","aud":"smd","exp":${now() + 60},"sub":"a`),
      Buffer.from([0xc0, 0xaf]),
      Buffer.from('b"}'),
    ])
    const t = rawSign(JSON.stringify({ alg: 'RS256', kid: 'raw', typ: 'JWT' }), bytes, rawKey.pem)
    await expectRejected(t, ['malformed_jws', 'claim_type_invalid'])
  })

  it('B6: a deeply nested header is stopped by the size cap before parsing', async () => {
    const header = b64u(`{"alg":"RS256","x":${'['.repeat(1e5)}${']'.repeat(1e5)}}`)
    const t = `${header}.${b64u(good())}.c2ln`
    const started = performance.now()
    expect(await reasonOf(t)).toBe('token_too_large')
    expect(performance.now() - started).toBeLessThan(100)
    // Under a generous cap it is still only a malformed token.
    const big = createAuthenticator({
      issuer: issuer.issuer,
      audience: AUD,
      jwksUri: issuer.jwksUri,
      maxTokenBytes: 1 << 20,
    })
    try {
      expect(await reasonOf(t, big)).toMatch(
        /^(malformed_jws|signature_invalid|key_not_found|jwks_ambiguous)$/,
      )
    } finally {
      big.close()
    }
  })

  it('B7: duplicate claim names resolve to the last one, everywhere', async () => {
    const claims = JSON.stringify(good()).slice(0, -1)
    const t = await issuer.signRaw({ typ: 'JWT' }, `${claims},"sub":"victim","sub":"attacker"}`)
    const principal = await auth.verify(t)
    expect(principal.sub).toBe('attacker')
    expect(principal.claims.sub).toBe('attacker')
    for (const { app } of apps) {
      const res = await request(app).get('/r').set('Authorization', `Bearer ${t}`)
      expect(res.body.sub).toBe('attacker')
    }
  })

  it('B8: a malleated ES256 signature is a different token; revocation keys on iss and jti', async () => {
    const t = await signWith(es.privateKey, { alg: 'ES256', kid: 'es1' })
    const [h, p, s] = t.split('.') as [string, string, string]
    const sig = Buffer.from(s, 'base64url')
    const n = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551')
    const sValue = BigInt(`0x${sig.subarray(32).toString('hex')}`)
    const flipped = Buffer.from((n - sValue).toString(16).padStart(64, '0'), 'hex')
    const malleated = `${h}.${p}.${Buffer.concat([sig.subarray(0, 32), flipped]).toString('base64url')}`
    expect(malleated).not.toBe(t)
    const revoked = new Set<string>()
    const guarded = createAuthenticator({
      issuer: issuer.issuer,
      audience: AUD,
      jwksUri: issuer.jwksUri,
      isRevoked: (pr) => revoked.has(`${pr.issuer} ${pr.tokenId ?? ''}`),
    })
    try {
      const principal = await guarded.verify(t)
      expect((await guarded.verify(malleated)).tokenId).toBe(principal.tokenId)
      revoked.add(`${principal.issuer} ${principal.tokenId ?? ''}`)
      expect(await reasonOf(t, guarded)).toBe('revoked')
      expect(await reasonOf(malleated, guarded)).toBe('revoked')
    } finally {
      guarded.close()
    }
  })

  it('B9: an unencoded payload (b64: false) is refused', async () => {
    const t = await issuer.signRaw({ typ: 'JWT', crit: ['b64'], b64: false }, good())
    await expectRejected(t, ['crit_unsupported', 'malformed_jws'])
  })

  it('B10: a __proto__ claim grants nothing and pollutes nothing', async () => {
    const claims = JSON.stringify(good()).slice(0, -1)
    const t = await issuer.signRaw(
      { typ: 'JWT' },
      `${claims},"__proto__":{"admin":true,"scope":"admin"}}`,
    )
    const principal = await auth.verify(t)
    expect(principal.scopes.has('admin')).toBe(false)
    expect(Object.getPrototypeOf(principal.claims)).toBeNull()
    expect(Object.prototype.hasOwnProperty.call(principal.claims, '__proto__')).toBe(true)
    for (const { app } of apps) {
      const res = await request(app).get('/admin').set('Authorization', `Bearer ${t}`)
      expect(res.status).toBe(403)
      const r = await request(app).get('/r').set('Authorization', `Bearer ${t}`)
      expect(r.body.admin).toBeNull()
    }
    expect(({} as Record<string, unknown>).admin).toBeUndefined()
  })
})

describe('C: signature algorithms', () => {
  it('C1: alg none in every casing is refused without fetching keys', async () => {
    const hits = issuer.hits.jwks
    const real = await issuer.mintClientToken({
      clientId: 'bss',
      audience: [AUD],
      scope: ['smd.read'],
    })
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      const header = b64u({ alg, typ: 'JWT' })
      await expectRejected(`${header}.${b64u(good())}.`, ['alg_not_allowed', 'malformed_jws'])
      expect(await reasonOf(`${header}.${b64u(good())}.`)).toBe('alg_not_allowed')
      // Keeping a real RS256 signature does not help.
      await expectRejected(`${header}.${b64u(good())}.${real.split('.')[2]!}`, 'alg_not_allowed')
    }
    expect(issuer.hits.jwks).toBe(hits)
  })

  it('C2: a missing or empty alg is refused', async () => {
    for (const header of [
      { typ: 'JWT', kid: issuer.signingKid },
      { alg: '' },
      { alg: null },
      { alg: ['RS256'] },
    ]) {
      const t = `${b64u(header)}.${b64u(good())}.c2ln`
      await expectRejected(t, ['malformed_jws', 'alg_not_allowed'])
    }
  })

  it('C3: HS256 signed with the public key, in every encoding, is refused', async () => {
    const jwk = (await fetch(issuer.jwksUri).then((r) => r.json())) as { keys: JWK[] }
    const pub = jwk.keys.find((k) => k.kid === issuer.signingKid)!
    const spki = await exportSPKI(
      (await importJWK(pub, 'RS256', { extractable: true })) as CryptoKey,
    )
    const keyObject = createPublicKey({ key: pub as never, format: 'jwk' })
    const secrets: (string | Buffer)[] = [
      spki,
      `\n${spki}`,
      `  ${spki}`,
      `\t${spki}`,
      keyObject.export({ type: 'pkcs1', format: 'pem' }),
      keyObject.export({ type: 'spki', format: 'der' }),
      JSON.stringify(pub),
      Buffer.from(pub.n!, 'base64url'),
    ]
    for (const secret of secrets) {
      const input = `${b64u({ alg: 'HS256', typ: 'JWT', kid: issuer.signingKid })}.${b64u(good())}`
      const t = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
      await expectRejected(t, 'alg_not_allowed')
    }
  })

  it('C4: an algorithm outside the allow-list is refused, whatever the key type', async () => {
    expect(
      await reasonOf(await issuer.signRaw({ alg: 'PS256', typ: 'JWT' }, good()), rsaOnly),
    ).toBe('alg_not_allowed')
    for (const alg of ['rs256', 'RS256 ']) {
      const t = await issuer.signRaw({ alg, typ: 'JWT' }, good())
      expect(await reasonOf(t, rsaOnly), alg).toBe('alg_not_allowed')
      await expectRejected(t, 'alg_not_allowed')
    }
  })

  it('C5: an ES256 header naming an RSA kid finds no key', async () => {
    const t = `${b64u({ alg: 'ES256', kid: issuer.signingKid, typ: 'JWT' })}.${b64u(good())}.${'A'.repeat(86)}`
    await expectRejected(t, 'key_not_found')
  })

  it('C6: psychic ECDSA signatures (r = s = 0) are refused', async () => {
    const base = `${b64u({ alg: 'ES256', kid: 'es1', typ: 'JWT' })}.${b64u(good())}`
    await expectRejected(`${base}.${'A'.repeat(86)}`, 'signature_invalid')
    await expectRejected(`${base}.MAYCAQACAQA`, 'signature_invalid')
  })

  it('C7: a DER-encoded ECDSA signature is refused; only raw r||s verifies', async () => {
    const header = JSON.stringify({ alg: 'ES256', kid: 'es1', typ: 'JWT' })
    const payload = JSON.stringify(good())
    expect(await reasonOf(rawSign(header, payload, es.pem, 'ieee'))).toBe('accepted')
    await expectRejected(rawSign(header, payload, es.pem, 'der'), 'signature_invalid')
  })

  it('C8: null, stripped, truncated and tampered signatures are refused', async () => {
    const t = await issuer.mintClientToken({
      clientId: 'bss',
      audience: [AUD],
      scope: ['smd.read'],
    })
    const [h, p] = t.split('.') as [string, string]
    const tampered = `${h}.${b64u({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'admin' })}.${t.split('.')[2]!}`
    for (const bad of [`${h}.${p}.`, `${h}.${p}.AA`, t.slice(0, -3), tampered]) {
      await expectRejected(bad, ['signature_invalid', 'malformed_jws'])
    }
  })

  it('C9: not applicable: there is no shared-secret mode (HS* is a start-up error, see options tests)', () => {
    expect(() =>
      createAuthenticator({
        issuer: issuer.issuer,
        audience: AUD,
        algorithms: ['HS256' as 'RS256'],
      }),
    ).toThrow(typeError(/HS256 is a shared-secret algorithm and cannot be used with a JWKS/))
  })

  it('C10: a 1024-bit RSA key in the JWKS is refused with 401, not a 500', async () => {
    const t = rawSign(
      JSON.stringify({ alg: 'RS256', kid: 'weak', typ: 'JWT' }),
      JSON.stringify(good()),
      weakPem,
    )
    await expectRejected(t, ['key_invalid', 'signature_invalid'])
  })
})

describe('D: header-supplied keys, kid and crit', () => {
  it('D1: an embedded jwk header is never used', async () => {
    const atk = await generateKeyPair('RS256', { extractable: true })
    const jwk = await exportJWK(atk.publicKey)
    await expectRejected(
      await signWith(atk.privateKey, { jwk, kid: issuer.signingKid }),
      'signature_invalid',
    )
    await expectRejected(await signWith(atk.privateKey, { jwk }), [
      'jwks_ambiguous',
      'signature_invalid',
    ])
  })

  it('D2/D3: jku, x5u and x5c are never followed or trusted', async () => {
    const atk = (await generateKeyPair('RS256')).privateKey
    const hits = attackerHits
    await expectRejected(
      await signWith(atk, { kid: 'atk', jku: `${attackerUrl}/jwks` }),
      'key_not_found',
    )
    await expectRejected(
      await signWith(atk, { kid: 'atk', x5u: `${attackerUrl}/cert.pem` }),
      'key_not_found',
    )
    await expectRejected(
      await signWith(atk, { kid: issuer.signingKid, x5c: ['MIIBIjAN'] }),
      'signature_invalid',
    )
    expect(attackerHits).toBe(hits)
  })

  it('D4: kid injection payloads find no key and touch nothing', async () => {
    const atk = (await generateKeyPair('RS256')).privateKey
    const hits = attackerHits
    const kids = [
      '',
      '../../../../../../dev/null',
      '/dev/null',
      '/invalid_path',
      '|sleep 10',
      `| curl ${attackerUrl}/`,
      "x' UNION SELECT '1';--",
    ]
    for (const kid of kids) {
      const started = performance.now()
      await expectRejected(await signWith(atk, { kid }), 'key_not_found')
      expect(performance.now() - started, kid).toBeLessThan(500)
      const hs = `${b64u({ alg: 'HS256', kid, typ: 'JWT' })}.${b64u(good())}`
      await expectRejected(
        `${hs}.${createHmac('sha256', '').update(hs).digest('base64url')}`,
        'alg_not_allowed',
      )
    }
    await expectRejected(await signWith(atk, { kid: 'k'.repeat(10_000) }), 'token_too_large')
    expect(attackerHits).toBe(hits)
  })

  it('D5: a non-string kid finds no key', async () => {
    for (const kid of [1, {}, [issuer.signingKid], null]) {
      const t = await issuer.signRaw({ typ: 'JWT', kid }, good())
      await expectRejected(t, 'key_not_found')
    }
  })

  it('D6: a token without kid is accepted only when exactly one key fits', async () => {
    const noKid = `{"alg":"RS256","typ":"JWT"}`
    await expectRejected(await issuer.signRaw(noKid, good()), 'jwks_ambiguous')
    const single = await createTestIssuer({ keyCount: 1 })
    const a = createAuthenticator({ issuer: single.issuer, audience: AUD, jwksUri: single.jwksUri })
    try {
      const claims = { ...good(), iss: single.issuer }
      expect(await reasonOf(await single.signRaw(noKid, claims), a)).toBe('accepted')
    } finally {
      a.close()
      await single.close()
    }
  })

  it('D7: a duplicated kid in the JWKS is ambiguous for either key', async () => {
    await expectRejected(await signWith(own.dupA!, { kid: 'dup' }), 'jwks_ambiguous')
    await expectRejected(await signWith(own.dupB!, { kid: 'dup' }), 'jwks_ambiguous')
  })

  it('D8: any crit header is refused', async () => {
    for (const header of [{ crit: ['x-policy'], 'x-policy': 1 }, { crit: ['exp'] }, { crit: [] }]) {
      await expectRejected(await issuer.signRaw({ typ: 'JWT', ...header }, good()), [
        'crit_unsupported',
        'malformed_jws',
      ])
    }
    expect(
      await reasonOf(
        await issuer.signRaw({ typ: 'JWT', crit: ['x-policy'], 'x-policy': 1 }, good()),
      ),
    ).toBe('crit_unsupported')
  })

  it('D9: forced-error values in every header field and claim never give a 500', async () => {
    const values: unknown[] = ['jwt_tool', 0, -1, true, [], {}, null]
    const headerFields = ['alg', 'kid', 'typ', 'jku', 'crit', 'b64']
    const claimFields = ['iss', 'aud', 'exp', 'nbf', 'iat', 'sub', 'client_id', 'jti', 'scope']
    const statuses = new Set<number>()
    for (const value of values) {
      const tokens = [
        ...headerFields.map((f) => issuer.signRaw({ typ: 'JWT', [f]: value }, good())),
        ...claimFields.map((f) => issuer.signRaw({ typ: 'JWT' }, { ...good(), [f]: value })),
      ]
      for (const t of await Promise.all(tokens)) {
        const res = await request(apps[0]!.app).get('/r').set('Authorization', `Bearer ${t}`)
        statuses.add(res.status)
        expect([200, 401, 403], t.slice(0, 60)).toContain(res.status)
        expect(JSON.stringify(res.body)).not.toMatch(/Error:|\bat \w/)
      }
    }
    expect(statuses.has(401)).toBe(true)
  })

  it('D10: keys constrained to encryption or another algorithm are not selected', async () => {
    for (const kid of ['enc-use', 'enc-ops', 'rs512-only']) {
      await expectRejected(await signWith(own[kid]!, { kid }), 'key_not_found')
    }
  })
})
