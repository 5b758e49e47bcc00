/**
 * Token minting for the test issuer: Hydra's JWT access tokens (hydra-openchami.md §4.2: `typ: JWT`,
 * `scp`, `aud: []` unless asked, `ext: {}`, `nbf = iat`), RFC 9068 `at+jwt` tokens, forgeries
 * signed by a key the JWKS does not hold, and raw signatures over any header and payload text.
 */
import { randomUUID } from 'node:crypto'
import { generateKeyPair, SignJWT } from 'jose'
import type { DpopKey } from './dpop.js'
import type { TestCertificate } from './tls.js'
import type { KeySet } from './jwks.js'
import { signRawWith } from './keys.js'

/** What a minted token carries beyond the issuer's defaults. */
export interface MintOptions {
  scope?: readonly string[]
  audience?: readonly string[]
  /** Lifetime in seconds; negative values mint already-expired tokens. */
  ttl?: number
  /** Extra claims merged over the defaults; a claim set to undefined is removed. */
  claims?: Record<string, unknown>
  /** Extra header parameters merged over the defaults. */
  header?: Record<string, unknown>
  /** Sign with this (possibly unpublished) key. */
  kid?: string
  /** Bind the token to a DPoP key (RFC 9449 §6.1): sets `cnf.jkt` to its thumbprint. */
  dpop?: Pick<DpopKey, 'jkt'>
  /** Bind the token to a client certificate (RFC 8705 §3.1): sets `cnf["x5t#S256"]`. */
  mtls?: Pick<TestCertificate, 'x5tS256'>
}

/** The `cnf` claim of a bound token (RFC 7800), or nothing. */
export function confirmation(opts: {
  readonly dpop?: Pick<DpopKey, 'jkt'> | undefined
  readonly mtls?: Pick<TestCertificate, 'x5tS256'> | undefined
}): { cnf?: Record<string, string> } {
  const cnf: Record<string, string> = {}
  if (opts.dpop !== undefined) cnf.jkt = opts.dpop.jkt
  if (opts.mtls !== undefined) cnf['x5t#S256'] = opts.mtls.x5tS256
  return Object.keys(cnf).length === 0 ? {} : { cnf }
}

export class Minter {
  readonly #issuer: string
  readonly #keys: KeySet
  readonly #ttl: number
  readonly #modulusLength: number

  constructor(issuer: string, keys: KeySet, ttl: number, modulusLength: number) {
    this.#issuer = issuer
    this.#keys = keys
    this.#ttl = ttl
    this.#modulusLength = modulusLength
  }

  /** A Hydra token for `sub` (the client itself for client credentials, else the user). */
  hydra(sub: string, clientId: string, opts: MintOptions): Promise<string> {
    return this.#sign(
      this.#hydraClaims(sub, clientId, opts),
      { typ: 'JWT', ...opts.header },
      opts.kid,
    )
  }

  /** A Hydra client-credentials token signed by a fresh key claiming the current signing kid. */
  async forge(clientId: string, opts: MintOptions): Promise<string> {
    const attacker = await generateKeyPair('RS256', { modulusLength: this.#modulusLength })
    return new SignJWT(this.#hydraClaims(clientId, clientId, opts))
      .setProtectedHeader({
        alg: 'RS256',
        kid: opts.kid ?? this.#keys.signingKid,
        typ: 'JWT',
        ...opts.header,
      })
      .sign(attacker.privateKey)
  }

  /** An RFC 9068 token: `typ: at+jwt`, `scope` as a space-delimited string. */
  accessToken(opts: Omit<MintOptions, 'scope' | 'audience'>): Promise<string> {
    const iat = Math.floor(Date.now() / 1000)
    const claims = {
      iss: this.#issuer,
      sub: 'user-1',
      client_id: 'cli-1',
      aud: 'https://api.test',
      iat,
      exp: iat + this.#ttl,
      jti: randomUUID(),
      scope: 'read write',
      ...confirmation(opts),
      ...opts.claims,
    }
    return this.#sign(claims, { typ: 'at+jwt', ...opts.header }, opts.kid)
  }

  /** Signs header and payload text as given; an object header gets `alg` and `kid` defaults. */
  raw(
    header: Record<string, unknown> | string,
    payload: Record<string, unknown> | string,
    kid: string | undefined,
  ): string {
    const key = this.#keys.key(kid)
    const h = typeof header === 'string' ? header : { alg: 'RS256', kid: key.kid, ...header }
    return signRawWith(key, h, payload)
  }

  async #sign(
    claims: Record<string, unknown>,
    header: Record<string, unknown>,
    kid: string | undefined,
  ): Promise<string> {
    const key = this.#keys.key(kid)
    const payload: Record<string, unknown> = {}
    for (const [name, value] of Object.entries(claims))
      if (value !== undefined) payload[name] = value
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, ...header })
      .sign(key.privateKey)
  }

  #hydraClaims(sub: string, clientId: string, opts: MintOptions): Record<string, unknown> {
    const iat = Math.floor(Date.now() / 1000)
    const ttl = opts.ttl ?? this.#ttl
    // An expired token was also issued in the past, so that only `exp` is wrong with it.
    const issued = ttl < 0 ? iat + ttl - 60 : iat
    return {
      aud: [...(opts.audience ?? [])],
      client_id: clientId,
      exp: iat + ttl,
      ext: {},
      iat: issued,
      iss: this.#issuer,
      jti: randomUUID(),
      nbf: issued,
      scp: [...(opts.scope ?? [])],
      sub,
      ...confirmation(opts),
      ...opts.claims,
    }
  }
}
