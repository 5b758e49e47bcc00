/**
 * Claim mutations (RFC 7519 §4.1): `exp`/`nbf`/`iat` at and around the tolerance and
 * `maxTokenAge` edges, wrong types, `aud` and `iss` variants, missing required claims, and
 * malformed claim sets (not JSON, not an object, byte-order marks, invalid UTF-8, duplicates).
 */
import type { Draft } from '../jws-draft.js'
import { m, type Mutation } from './mutation.js'

type Time = (draft: Draft, now: number) => unknown
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

/** The draft's claims as JSON text without the closing brace, to append raw members. */
const openClaims = (d: Draft): string => JSON.stringify(d.claims).slice(0, -1)
const tol = (d: Draft): number => d.policy.clockTolerance
const maxAge = (d: Draft): number => d.policy.maxTokenAge ?? 3600

export const claimMutations: Mutation[] = [
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
