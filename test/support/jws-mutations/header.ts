/**
 * Header and key mutations (RFC 7515 §4.1): algorithm swaps including `none` and HS*, `typ`,
 * `crit` and `b64` (RFC 7797), embedded `jwk`/`jku`/`x5u`/`x5c`, non-object and duplicate-member
 * headers; which published key the token names (`kid` missing, unknown, another key's, shared,
 * not a string), and tokens signed by another or an unpublished key.
 */
import type { Algorithm } from '@svcauth/core'
import { b64u, signAs, type Draft } from '../jws-draft.js'
import { m, skip, type Mutation } from './mutation.js'

/**
 * Every asymmetric algorithm svcauth can allow-list (RFC 7518 §3.3–3.5, RFC 8037, RFC 9864),
 * written out here rather than read from the package, so the differential test's policy does not
 * follow a change to svcauth's own list.
 */
export const ALGS: readonly Algorithm[] = [
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

const header = (name: string, key: string, value: unknown): Mutation =>
  m('header', name, (d) => {
    d.header[key] = value
  })
const rawHeader = (name: string, text: (d: Draft) => string | Buffer): Mutation =>
  m('header', name, (d) => {
    d.headerBytes = Buffer.from(text(d))
  })

export const headerMutations: Mutation[] = [
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

export const keyMutations: Mutation[] = [
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
