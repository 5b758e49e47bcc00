/**
 * The named mutations `jws-mutants.ts` applies to a token draft, by family:
 * - header (RFC 7515 §4.1): algorithm swaps including `none` and HS*, `typ`, `crit` and `b64`
 *   (RFC 7797), embedded `jwk`/`jku`/`x5u`/`x5c`, non-object and duplicate-member headers;
 * - key: which published key the token names (`kid` missing, unknown, another key's, shared,
 *   not a string), and tokens signed by another or an unpublished key;
 * - claims (RFC 7519 §4.1): `exp`/`nbf`/`iat` at and around the tolerance edges, wrong types,
 *   `aud` and `iss` variants, missing required claims, malformed claim sets;
 * - signature: bit flips, truncation, DER-encoded ECDSA, high-S, PSS salt lengths, swapped
 *   signatures, MACs keyed with the public key;
 * - encoding (RFC 7515 §2, RFC 4648 §5): padding, spare bits, the `+/` alphabet, extra, missing
 *   and empty segments, whitespace, non-ASCII characters, invalid UTF-8.
 * A mutation that does not apply to a draft (e.g. DER form for an RSA key) calls `skip()`.
 */
import { createHmac } from 'node:crypto'
import { b64u, signAs, type Draft, type MutantFamily, type MutationContext } from './jws-mutants.js'

export interface Mutation {
  readonly family: Exclude<MutantFamily, 'valid'>
  readonly name: string
  /** Edits the draft; calls {@link skip} when the mutation does not apply to it. */
  apply(draft: Draft, context: MutationContext): void
}

/** Thrown by {@link skip}. */
export const NOT_APPLICABLE: unique symbol = Symbol('not applicable')

/** Abandons a mutation that does not apply to this draft (e.g. DER form for an RSA key). */
export function skip(): never {
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- a sentinel, caught by the generator
  throw NOT_APPLICABLE
}

const ALGS = [
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

const m = (family: Mutation['family'], name: string, apply: Mutation['apply']): Mutation => ({
  family,
  name,
  apply,
})

/** Shorthands over the draft. */
type Time = (draft: Draft, now: number) => unknown
const header = (name: string, key: string, value: unknown): Mutation =>
  m('header', name, (d) => {
    d.header[key] = value
  })
const rawHeader = (name: string, text: (d: Draft) => string | Buffer): Mutation =>
  m('header', name, (d) => {
    d.headerBytes = Buffer.from(text(d))
  })
const claim = (name: string, key: string, value: Time): Mutation =>
  m('claims', name, (d, c) => {
    const v = value(d, c.options.now)
    if (v === undefined) Reflect.deleteProperty(d.claims, key)
    else d.claims[key] = v
  })
const rawClaims = (name: string, text: (d: Draft, now: number) => string | Buffer): Mutation =>
  m('claims', name, (d, c) => {
    d.claimsBytes = Buffer.from(text(d, c.options.now))
  })
const post = (family: Mutation['family'], name: string, edit: (t: string) => string): Mutation =>
  m(family, name, (d) => {
    d.post.push(edit)
  })

/** The draft's claims as JSON text without the closing brace, to append raw members. */
const openClaims = (d: Draft): string => JSON.stringify(d.claims).slice(0, -1)
const tol = (d: Draft): number => d.policy.clockTolerance
const maxAge = (d: Draft): number => d.policy.maxTokenAge ?? 3600

const headerMutations: Mutation[] = [
  ...[...ALGS, 'none', 'None', 'HS256', 'HS512', 'rs256', 'RS256 ', '', 'ML-DSA-44'].map((alg) =>
    m('header', `alg=${JSON.stringify(alg)}`, (d) => {
      if (alg === d.signer.alg) skip()
      d.header.alg = alg
    }),
  ),
  ...[null, 7, ['RS256'], {}, true].map((alg) => header(`alg=${JSON.stringify(alg)}`, 'alg', alg)),
  m('header', 'alg missing', (d) => {
    delete d.header.alg
  }),
  ...[
    'JWT',
    'jwt',
    'at+jwt',
    'AT+JWT',
    'application/at+jwt',
    'application/jwt',
    'Application/AT+JWT',
    'dpop+jwt',
    'logout+jwt',
    'at+jwt; charset=utf-8',
    '',
    7,
    null,
  ].map((typ) => header(`typ=${JSON.stringify(typ)}`, 'typ', typ)),
  m('header', 'typ missing', (d) => {
    delete d.header.typ
  }),
  m('header', 'crit=["b64"], b64=false', (d) => {
    Object.assign(d.header, { crit: ['b64'], b64: false })
  }),
  m('header', 'crit=["b64"], b64=true', (d) => {
    Object.assign(d.header, { crit: ['b64'], b64: true })
  }),
  header('crit=["exp"]', 'crit', ['exp']),
  header('crit=[]', 'crit', []),
  header('crit="b64"', 'crit', 'b64'),
  header('crit=null', 'crit', null),
  m('header', 'crit=["x-ext"], x-ext=1', (d) => {
    Object.assign(d.header, { crit: ['x-ext'], 'x-ext': 1 })
  }),
  header('b64=false without crit', 'b64', false),
  header('b64=true without crit', 'b64', true),
  header('b64="no" without crit', 'b64', 'no'),
  header('jku to a loopback JWKS', 'jku', 'http://127.0.0.1:9/jwks.json'),
  header('x5u to a loopback certificate', 'x5u', 'http://127.0.0.1:9/cert.pem'),
  header('x5c garbage', 'x5c', ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA']),
  header('cty=JWT', 'cty', 'JWT'),
  header('zip=DEF', 'zip', 'DEF'),
  header('extra nested member', 'x-extra', { a: [1, { b: null }] }),
  header('lone surrogate in a member', 'x-extra', '\ud800'),
  ...['[]', 'null', '1', '"RS256"', 'true', '{}', '{', ''].map((text) =>
    rawHeader(`header text ${JSON.stringify(text)}`, () => text),
  ),
  rawHeader('duplicate alg, the real one last', (d) =>
    JSON.stringify(d.header).replace('{', '{"alg":"none",'),
  ),
  rawHeader('duplicate alg, none last', (d) =>
    JSON.stringify(d.header).replace(/}$/, ',"alg":"none"}'),
  ),
  rawHeader('duplicate kid, an unknown one last', (d) =>
    JSON.stringify(d.header).replace(/}$/, ',"kid":"kid-unknown"}'),
  ),
  rawHeader('duplicate kid, the real one last', (d) =>
    d.header.kid === undefined
      ? JSON.stringify(d.header)
      : JSON.stringify(d.header).replace('{', '{"kid":"kid-unknown",'),
  ),
  rawHeader('byte-order mark before the header', (d) => `\ufeff${JSON.stringify(d.header)}`),
  rawHeader('whitespace around the header', (d) => ` \n\t${JSON.stringify(d.header)}\r\n `),
  rawHeader('alg spelled with a unicode escape', (d) =>
    JSON.stringify(d.header).replace(/"alg":"(.)/, (_, c: string) => {
      return `"alg":"\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
    }),
  ),
  rawHeader('invalid UTF-8 in a header member', (d) =>
    Buffer.concat([
      Buffer.from(JSON.stringify(d.header).slice(0, -1) + ',"x":"a'),
      Buffer.from([0xc0, 0xaf]),
      Buffer.from('"}'),
    ]),
  ),
  rawHeader('__proto__ member with alg none', (d) =>
    JSON.stringify(d.header).replace('{', '{"__proto__":{"alg":"none"},'),
  ),
  rawHeader('alg only inside __proto__', (d) => {
    const { alg, ...rest } = d.header
    return JSON.stringify(rest).replace('{', `{"__proto__":{"alg":${JSON.stringify(alg)}},`)
  }),
  rawHeader('trailing garbage after the header', (d) => `${JSON.stringify(d.header)}x`),
]

const keyMutations: Mutation[] = [
  m('key', 'kid missing', (d) => {
    if (d.header.kid === undefined) skip()
    delete d.header.kid
  }),
  ...['kid-unknown', '', 'dup', 'rsa-a ', 'RSA-A'].map((kid) =>
    m('key', `kid=${JSON.stringify(kid)}`, (d) => {
      if (kid === d.header.kid) skip()
      d.header.kid = kid
    }),
  ),
  ...[null, 7, ['rsa-a'], {}].map((kid) =>
    m('key', `kid=${JSON.stringify(kid)}`, (d) => {
      d.header.kid = kid
    }),
  ),
  m('key', "another published key's kid", (d, c) => {
    const others = c.options.signers.filter((s) => s.kid !== undefined && s.kid !== d.signer.kid)
    const other = others[Math.floor(c.random() * others.length)]
    if (other === undefined) skip()
    d.header.kid = other.kid
  }),
  m('key', 'signed by an unpublished key of the same type, same kid', (d, c) => {
    const stranger = c.options.strangers.find((s) => s.alg.slice(0, 2) === d.signer.alg.slice(0, 2))
    if (stranger === undefined) skip()
    d.signature = (input) => b64u(signAs(d.signer.alg, stranger.privateKey, input))
  }),
  m('key', 'embedded jwk of the signing stranger', (d, c) => {
    const stranger = c.options.strangers.find((s) => s.alg.slice(0, 2) === d.signer.alg.slice(0, 2))
    if (stranger === undefined) skip()
    d.header.jwk = stranger.publicJwk
    d.signature = (input) => b64u(signAs(d.signer.alg, stranger.privateKey, input))
  }),
  m('key', 'embedded jwk and kid of a stranger', (d, c) => {
    const stranger = c.options.strangers[Math.floor(c.random() * c.options.strangers.length)]
    if (stranger === undefined) skip()
    Object.assign(d.header, { alg: stranger.alg, kid: stranger.kid, jwk: stranger.publicJwk })
    d.signature = (input) => b64u(signAs(stranger.alg, stranger.privateKey, input))
  }),
  m('key', 'signed by another published key under this kid', (d, c) => {
    const other = c.options.signers.find(
      (s) => s.alg === d.signer.alg && s.privateKey !== d.signer.privateKey,
    )
    if (other === undefined) skip()
    d.signature = (input) => b64u(signAs(d.signer.alg, other.privateKey, input))
  }),
]

const claimMutations: Mutation[] = [
  ...(
    [
      ['exp = now - tolerance - 1', (d, n) => n - tol(d) - 1],
      ['exp = now - tolerance', (d, n) => n - tol(d)],
      ['exp = now - tolerance + 1', (d, n) => n - tol(d) + 1],
      ['exp = now - tolerance + 0.5', (d, n) => n - tol(d) + 0.5],
      ['exp = now', (_, n) => n],
      ['exp = now + 1', (_, n) => n + 1],
      ['exp = -1', () => -1],
      ['exp = 0', () => 0],
      ['exp = iat + 24 h', (_, n) => n - 10 + 86_400],
      ['exp = iat + 24 h + 1', (_, n) => n - 10 + 86_401],
      ['exp as a string', (_, n) => String(n + 300)],
      ['exp = null', () => null],
      ['exp = true', () => true],
      ['exp = [now + 300]', (_, n) => [n + 300]],
      ['exp missing', () => undefined],
      ['nbf = now + tolerance - 1', (d, n) => n + tol(d) - 1],
      ['nbf = now + tolerance', (d, n) => n + tol(d)],
      ['nbf = now + tolerance + 1', (d, n) => n + tol(d) + 1],
      ['nbf = now + tolerance + 0.5', (d, n) => n + tol(d) + 0.5],
      ['nbf as a string', (_, n) => String(n)],
      ['nbf = null', () => null],
      ['nbf = {}', () => ({})],
      ['nbf missing', () => undefined],
      ['iat = now + tolerance - 1', (d, n) => n + tol(d) - 1],
      ['iat = now + tolerance', (d, n) => n + tol(d)],
      ['iat = now + tolerance + 1', (d, n) => n + tol(d) + 1],
      ['iat = now + tolerance + 0.5', (d, n) => n + tol(d) + 0.5],
      ['iat = now - maxTokenAge - tolerance - 1', (d, n) => n - maxAge(d) - tol(d) - 1],
      ['iat = now - maxTokenAge - tolerance', (d, n) => n - maxAge(d) - tol(d)],
      ['iat = now - maxTokenAge - tolerance + 1', (d, n) => n - maxAge(d) - tol(d) + 1],
      ['iat = now - maxTokenAge - tolerance - 0.5', (d, n) => n - maxAge(d) - tol(d) - 0.5],
      ['iat = -1', () => -1],
      ['iat as a string', (_, n) => String(n)],
      ['iat = null', () => null],
      ['iat missing', () => undefined],
    ] satisfies [string, Time][]
  ).map(([name, value]) => claim(name, name.split(' ')[0] as string, value)),
  ...(
    [
      ['aud = the string', (d) => d.policy.audience[0]],
      ['aud = the second accepted audience', (d) => d.policy.audience[1] ?? 'other'],
      ['aud = [other, accepted]', (d) => ['other', d.policy.audience[0]]],
      ['aud = [other]', () => ['other']],
      ['aud = "other"', () => 'other'],
      ['aud = []', () => []],
      ['aud = 123', () => 123],
      ['aud = [1]', () => [1]],
      ['aud = [accepted, 1]', (d) => [d.policy.audience[0], 1]],
      ['aud = null', () => null],
      ['aud = {}', () => ({})],
      ['aud = [[accepted]]', (d) => [[d.policy.audience[0]]]],
      ['aud with a trailing space', (d) => `${String(d.policy.audience[0])} `],
      ['aud upper-cased', (d) => String(d.policy.audience[0]).toUpperCase()],
      ['aud missing', () => undefined],
      ['iss with a trailing slash', (d) => `${d.policy.issuer}/`],
      ['iss without its trailing slash', (d) => d.policy.issuer.replace(/\/$/, '')],
      ['iss upper-cased', (d) => d.policy.issuer.toUpperCase()],
      ['iss = [issuer]', (d) => [d.policy.issuer]],
      ['iss = 123', () => 123],
      ['iss = null', () => null],
      ['iss of another issuer', () => 'https://other.example/'],
      ['iss missing', () => undefined],
      ['sub missing', () => undefined],
      ['sub = 123', () => 123],
      ['sub = ""', () => ''],
      ['client_id missing', () => undefined],
      ['client_id = null', () => null],
      ['jti missing', () => undefined],
      ['jti = 7', () => 7],
      ['azp = 1', () => 1],
      ['scope = ["a"]', () => ['a']],
      ['scope = "a  b"', () => 'a  b'],
      ['scp = "x y"', () => 'x y'],
      ['scp = [1]', () => [1]],
      ['cnf present', () => ({ jkt: 'abc' })],
      ['act = {sub}', () => ({ sub: 'svc-b' })],
      ['act = {}', () => ({})],
      ['auth_time present', (_, n) => n - 60],
    ] satisfies [string, Time][]
  ).map(([name, value]) => claim(name, name.split(' ')[0] as string, value)),
  ...['[]', 'null', '1', '"claims"', 'true', '{', ''].map((text) =>
    rawClaims(`claims text ${JSON.stringify(text)}`, () => text),
  ),
  rawClaims('exp = 1e400', (d) => `${openClaims(d)},"exp":1e400}`),
  rawClaims('exp = -1e400', (d) => `${openClaims(d)},"exp":-1e400}`),
  rawClaims('nbf = 1e400', (d) => `${openClaims(d)},"nbf":1e400}`),
  rawClaims('duplicate exp, an expired one last', (d, n) => `${openClaims(d)},"exp":${n - 3600}}`),
  rawClaims('duplicate exp, a valid one last', (d, n) =>
    JSON.stringify(d.claims).replace('{', `{"exp":${n - 3600},`),
  ),
  rawClaims('byte-order mark before the claims', (d) => `\ufeff${JSON.stringify(d.claims)}`),
  rawClaims(
    'two byte-order marks before the claims',
    (d) => `\ufeff\ufeff${JSON.stringify(d.claims)}`,
  ),
  rawClaims('whitespace around the claims', (d) => `\n ${JSON.stringify(d.claims)}\t`),
  rawClaims('trailing garbage after the claims', (d) => `${JSON.stringify(d.claims)}x`),
  rawClaims(
    '__proto__ claim granting a scope',
    (d) => `${openClaims(d)},"__proto__":{"scope":"admin","exp":1}}`,
  ),
  rawClaims(
    'deeply nested claim',
    (d) => `${openClaims(d)},"x":${'['.repeat(200)}${']'.repeat(200)}}`,
  ),
  rawClaims('invalid UTF-8 in a claim', (d) =>
    Buffer.concat([
      Buffer.from(`${openClaims(d)},"x":"a`),
      Buffer.from([0xed, 0xa0, 0x80]),
      Buffer.from('"}'),
    ]),
  ),
  rawClaims('overlong UTF-8 in a claim', (d) =>
    Buffer.concat([
      Buffer.from(`${openClaims(d)},"x":"a`),
      Buffer.from([0xc0, 0xaf]),
      Buffer.from('"}'),
    ]),
  ),
  rawClaims('non-ASCII claim value', (d) => `${openClaims(d)},"name":"Zoë 🚀"}`),
  rawClaims('escaped lone surrogate in a claim', (d) => `${openClaims(d)},"x":"\\ud800"}`),
]

/** The signature segment, decoded, edited and encoded again. */
const editSignature = (edit: (s: Buffer, t: string) => Buffer) => (token: string) => {
  const dot = token.lastIndexOf('.')
  return `${token.slice(0, dot)}.${b64u(edit(Buffer.from(token.slice(dot + 1), 'base64url'), token))}`
}

/** ECDSA r || s (P1363) to DER: SEQUENCE { INTEGER r, INTEGER s } (RFC 3279 §2.2.3). */
function derFromP1363(sig: Buffer): Buffer {
  const int = (b: Buffer): Buffer => {
    let i = 0
    while (i < b.length - 1 && b[i] === 0) i++
    const v = b.subarray(i)
    const body = (v[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v
    return Buffer.concat([Buffer.from([0x02, body.length]), body])
  }
  const half = sig.length / 2
  const body = Buffer.concat([int(sig.subarray(0, half)), int(sig.subarray(half))])
  const len = body.length < 128 ? Buffer.from([body.length]) : Buffer.from([0x81, body.length])
  return Buffer.concat([Buffer.from([0x30]), len, body])
}

const ORDERS: Readonly<Record<string, bigint>> = {
  ES256: BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551'),
  ES384: BigInt(
    '0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973',
  ),
  ES512: BigInt(
    '0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409',
  ),
}
const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n

const isEc = (d: Draft): boolean => d.signer.alg.startsWith('ES')
const isEd = (d: Draft): boolean => d.signer.alg === 'EdDSA' || d.signer.alg === 'Ed25519'

const signatureMutations: Mutation[] = [
  ...[0, 1, 2, 3].map((k) =>
    m('signature', `bit flip #${k}`, (d, c) => {
      const at = c.random()
      const bit = 1 << Math.floor(c.random() * 8)
      d.post.push(
        editSignature((s) => {
          const out = Buffer.from(s)
          const i = Math.floor(at * out.length)
          if (out.length > 0) out[i] = (out[i] as number) ^ bit
          return out
        }),
      )
    }),
  ),
  post(
    'signature',
    'truncated by one byte',
    editSignature((s) => s.subarray(0, -1)),
  ),
  post(
    'signature',
    'truncated to half',
    editSignature((s) => s.subarray(0, s.length >> 1)),
  ),
  post(
    'signature',
    'empty',
    editSignature(() => Buffer.alloc(0)),
  ),
  post(
    'signature',
    'a zero byte prepended',
    editSignature((s) => Buffer.concat([Buffer.from([0]), s])),
  ),
  post(
    'signature',
    'a zero byte appended',
    editSignature((s) => Buffer.concat([s, Buffer.from([0])])),
  ),
  post(
    'signature',
    'all zero',
    editSignature((s) => Buffer.alloc(s.length)),
  ),
  post(
    'signature',
    'all ones',
    editSignature((s) => Buffer.alloc(s.length, 0xff)),
  ),
  m('signature', 'from another token of the same key', (d, c) => {
    const other = c.sibling(d)
    d.signature = () => other.slice(other.lastIndexOf('.') + 1)
  }),
  m('signature', 'a character of the payload changed', (d, c) => {
    const at = c.random()
    d.post.push((t) => {
      const [h, p, s] = t.split('.') as [string, string, string]
      const i = Math.floor(at * (p.length - 1))
      const swapped = p[i] === 'A' ? 'B' : 'A'
      return `${h}.${p.slice(0, i)}${swapped}${p.slice(i + 1)}.${s}`
    })
  }),
  m('signature', 'DER-encoded ECDSA', (d) => {
    if (!isEc(d)) skip()
    d.post.push(editSignature((s) => derFromP1363(s)))
  }),
  m('signature', 'ECDSA high-S (n - s)', (d) => {
    const n = ORDERS[d.signer.alg]
    if (n === undefined) skip()
    d.post.push(
      editSignature((sig) => {
        const half = sig.length / 2
        const s = BigInt(`0x${sig.subarray(half).toString('hex')}`)
        const high = Buffer.from((n - s).toString(16).padStart(half * 2, '0'), 'hex')
        return Buffer.concat([sig.subarray(0, half), high])
      }),
    )
  }),
  m('signature', 'Ed25519 S + L (non-canonical S)', (d) => {
    if (!isEd(d)) skip()
    d.post.push(
      editSignature((sig) => {
        const s = BigInt(`0x${Buffer.from(sig.subarray(32)).reverse().toString('hex')}`) + ED25519_L
        const bytes = Buffer.from(s.toString(16).padStart(64, '0'), 'hex').reverse()
        return Buffer.concat([sig.subarray(0, 32), bytes.subarray(0, 32)])
      }),
    )
  }),
  ...[0, 20, 48, 64].map((saltLength) =>
    m('signature', `PSS salt length ${saltLength}`, (d) => {
      if (!d.signer.alg.startsWith('PS')) skip()
      if (saltLength === Number(d.signer.alg.slice(2)) / 8) skip()
      d.signature = (input) =>
        b64u(signAs(d.signer.alg, d.signer.privateKey, input, { saltLength }))
    }),
  ),
  m('signature', 'RSA signed with PSS under an RS header (and the reverse)', (d) => {
    const alg = d.signer.alg
    if (!/^(RS|PS)/.test(alg)) skip()
    const other = `${alg.startsWith('RS') ? 'PS' : 'RS'}${alg.slice(2)}`
    d.signature = (input) => b64u(signAs(other, d.signer.privateKey, input))
  }),
  m('signature', 'signed with another digest', (d) => {
    const alg = d.signer.alg
    if (!/^(RS|PS|ES)/.test(alg)) skip()
    const other = `${alg.slice(0, 2)}${alg.endsWith('256') ? '384' : '256'}`
    d.signature = (input) => b64u(signAs(other, d.signer.privateKey, input))
  }),
  ...['HS256', 'HS384'].map((alg) =>
    m('signature', `${alg} keyed with public key material`, (d, c) => {
      const secrets = c.options.publicSecrets
      const secret = secrets[Math.floor(c.random() * secrets.length)] ?? ''
      d.header.alg = alg
      d.signature = (input) =>
        createHmac(`sha${alg.slice(2)}`, secret)
          .update(input)
          .digest('base64url')
    }),
  ),
  m('signature', 'alg none, no signature', (d) => {
    d.header.alg = 'none'
    d.signature = () => ''
  }),
]

/** Spare bits of the last character of a segment whose length is 2 or 3 mod 4, set. */
function spareBits(segment: string): string {
  const rest = segment.length & 3
  if (rest !== 2 && rest !== 3) skip()
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const value = alphabet.indexOf(segment.slice(-1))
  return segment.slice(0, -1) + alphabet.charAt(value | 1)
}

/** An edit of one segment of the final string; one that changes nothing does not apply. */
const segmentEdit = (name: string, part: 0 | 1 | 2, edit: (s: string) => string) =>
  m('encoding', `${name} (segment ${part})`, (d) => {
    d.post.push((t) => {
      const parts = t.split('.')
      const edited = edit(parts[part] ?? '')
      if (edited === parts[part]) skip()
      parts[part] = edited
      return parts.join('.')
    })
  })

const encodingMutations: Mutation[] = [
  ...([0, 1, 2] as const).flatMap((part) => [
    segmentEdit('"=" padding', part, (s) => `${s}=`),
    segmentEdit('"==" padding', part, (s) => `${s}==`),
    segmentEdit('non-zero spare bits', part, spareBits),
    segmentEdit('"+" for "-"', part, (s) =>
      s.includes('-') ? s.replace('-', '+') : `+${s.slice(1)}`,
    ),
    segmentEdit('"/" for "_"', part, (s) =>
      s.includes('_') ? s.replace('_', '/') : `/${s.slice(1)}`,
    ),
    segmentEdit('a dangling character', part, (s) => `${s}A`),
    segmentEdit('a space inside', part, (s) => `${s.slice(0, 4)} ${s.slice(4)}`),
    segmentEdit('a newline inside', part, (s) => `${s.slice(0, 4)}\n${s.slice(4)}`),
    segmentEdit('a non-ASCII character', part, (s) => `${s.slice(0, 4)}é${s.slice(4)}`),
    segmentEdit('emptied', part, () => ''),
  ]),
  post('encoding', 'an extra segment', (t) => `${t}.AAAA`),
  post('encoding', 'an extra empty segment', (t) => `${t}.`),
  post('encoding', 'a leading dot', (t) => `.${t}`),
  post('encoding', 'signature segment missing', (t) => t.slice(0, t.lastIndexOf('.'))),
  post('encoding', 'payload segment missing', (t) =>
    t
      .split('.')
      .filter((_, i) => i !== 1)
      .join('.'),
  ),
  post('encoding', 'a doubled dot', (t) => t.replace('.', '..')),
  post('encoding', 'leading whitespace', (t) => ` ${t}`),
  post('encoding', 'trailing newline', (t) => `${t}\n`),
  post('encoding', 'a NUL character appended', (t) => `${t}\u0000`),
  post('encoding', 'standard base64 payload', (t) => {
    const [h, p, s] = t.split('.') as [string, string, string]
    const standard = Buffer.from(p, 'base64url').toString('base64')
    if (standard === p) skip()
    return `${h}.${standard}.${s}`
  }),
  m('encoding', 'payload re-signed in standard base64 with padding', (d) => {
    const signature = d.signature
    d.post.push((t) => {
      const [h, p] = t.split('.') as [string, string, string]
      const standard = Buffer.from(p, 'base64url').toString('base64')
      if (standard === p) skip()
      return `${h}.${standard}.${signature(`${h}.${standard}`)}`
    })
  }),
  m('encoding', 'payload re-signed with "=" padding', (d) => {
    const signature = d.signature
    d.post.push((t) => {
      const [h, p] = t.split('.') as [string, string, string]
      const padded = p.padEnd(Math.ceil(p.length / 4) * 4, '=')
      if (padded === p) skip()
      return `${h}.${padded}.${signature(`${h}.${padded}`)}`
    })
  }),
]

/** Every mutation, in a fixed order (systematic runs walk it; random mixes draw from it). */
export const MUTATIONS: readonly Mutation[] = Object.freeze([
  ...headerMutations,
  ...keyMutations,
  ...claimMutations,
  ...signatureMutations,
  ...encodingMutations,
])
