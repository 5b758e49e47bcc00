/**
 * DPoP for users' tests (RFC 9449, issue 18 item 3): a client key pair whose proofs
 * (`proof()`, §4.2) and thumbprint (`jkt`, RFC 7638) make DPoP-bound tokens and the requests that
 * present them. Mint a bound token with `mintClientToken({ dpop: key })`, which sets `cnf.jkt`
 * (§6.1).
 */
import { createHash, randomUUID } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose'

/** What one proof is for, and anything a test wants to change in it. */
export interface DpopProofOptions {
  /** The request's method (`htm`). */
  readonly method: string
  /** The request's absolute URI (`htu`); query and fragment are dropped as §4.2 requires. */
  readonly url: string
  /** The access token presented with the proof: its SHA-256 becomes `ath`. */
  readonly accessToken?: string
  /** The server's `DPoP-Nonce`, when it asked for one. */
  readonly nonce?: string
  /** `iat` in epoch seconds. @default now */
  readonly iat?: number
  /** @default a random UUID */
  readonly jti?: string
  /** Claims merged over the defaults; a claim set to undefined is removed. */
  readonly claims?: Readonly<Record<string, unknown>>
  /** Header parameters merged over the defaults (`typ`, `alg`, `jwk`). */
  readonly header?: Readonly<Record<string, unknown>>
}

/** A DPoP client key: its public JWK, its thumbprint and a proof builder. */
export interface DpopKey {
  readonly alg: DpopAlgorithm
  /** The public key each proof carries in its `jwk` header. */
  readonly publicJwk: JWK
  /** RFC 7638 SHA-256 thumbprint (base64url): the `cnf.jkt` of tokens bound to this key. */
  readonly jkt: string
  /** A signed proof for one request (a new `jti` each call unless given). */
  proof(options: DpopProofOptions): Promise<string>
}

export type DpopAlgorithm = 'ES256' | 'ES384' | 'EdDSA' | 'RS256' | 'PS256'

/**
 * Generates a DPoP key pair.
 *
 * @example
 * ```ts
 * const key = await createDpopKey()
 * const token = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'], dpop: key })
 * const proof = await key.proof({ method: 'GET', url: 'http://127.0.0.1:27779/hsm/v2/State/Components', accessToken: token })
 * await request(app).get('/hsm/v2/State/Components').set('Authorization', `DPoP ${token}`).set('DPoP', proof)
 * ```
 */
export async function createDpopKey(alg: DpopAlgorithm = 'ES256'): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const publicJwk = await exportJWK(publicKey)
  const jkt = await calculateJwkThumbprint(publicJwk, 'sha256')
  return Object.freeze({
    alg,
    publicJwk,
    jkt,
    proof(options: DpopProofOptions): Promise<string> {
      const target = new URL(options.url)
      const claims: Record<string, unknown> = {
        jti: options.jti ?? randomUUID(),
        htm: options.method,
        htu: `${target.origin}${target.pathname}`,
        iat: options.iat ?? Math.floor(Date.now() / 1000),
        ...(options.accessToken === undefined
          ? {}
          : { ath: createHash('sha256').update(options.accessToken, 'ascii').digest('base64url') }),
        ...(options.nonce === undefined ? {} : { nonce: options.nonce }),
        ...options.claims,
      }
      const payload = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined))
      return new SignJWT(payload)
        .setProtectedHeader({ alg, typ: 'dpop+jwt', jwk: publicJwk, ...options.header })
        .sign(privateKey)
    },
  })
}
