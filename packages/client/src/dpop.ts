/**
 * The client's DPoP prover (RFC 9449): one per service client, holding its key (lib/dpop-key.ts)
 * and the latest nonce of each server (lib/dpop-nonces.ts). It signs a fresh proof for every
 * request, retries included (§4.2: `typ: dpop+jwt`, `alg`, the public `jwk`; `jti` (a random
 * UUID, 122 bits), `htm`, `htu` without query and fragment, `iat`, `ath` on calls that present a
 * token (§7.1), and `nonce` once the server gave one (§8, §9)), and runs a token request with the
 * one retry an authorization server's `use_dpop_nonce` asks for (§8: a 400 with a `DPoP-Nonce`).
 * Proofs are built by hand and signed on `node:crypto` (the header, the same for every proof, is
 * encoded once), as each one costs a signature on the call's path.
 */
import { randomUUID } from 'node:crypto'
import { accessTokenHash, type RetryEvent } from '@svcauth/core'
import { retryChannel } from '@svcauth/core/internal'
import { isTokenEndpointError } from './errors.js'
import type { DpopKey } from './lib/dpop-key.js'
import { DpopNonces } from './lib/dpop-nonces.js'

/** What a token request hands back for the prover to read: the answer's headers. */
export type ObserveAnswer = (headers: Record<string, string | string[] | undefined>) => void

export class DpopProver {
  readonly #key: DpopKey
  /** The encoded protected header, then the `.` before the payload. */
  readonly #header: string
  readonly #clientId: () => string
  readonly nonces = new DpopNonces()
  /** The last access token hashed, and its `ath`: a cached token is hashed once. */
  #athToken: string | undefined
  #ath = ''

  constructor(key: DpopKey, clientId: () => string) {
    this.#key = key
    this.#clientId = clientId
    const header = { typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk }
    this.#header = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.`
  }

  /** RFC 7638 thumbprint of the proof key: the `cnf.jkt` of the tokens bound to it. */
  get jkt(): string {
    return this.#key.jkt
  }

  /** A new proof for one request; `accessToken` adds its `ath`. */
  proof(htm: string, htu: string, nonce: string | undefined, accessToken?: string): string {
    const claims: Record<string, string | number> = {
      jti: randomUUID(),
      htm,
      htu,
      iat: Math.floor(Date.now() / 1000),
    }
    if (accessToken !== undefined) claims.ath = this.#hash(accessToken)
    if (nonce !== undefined) claims.nonce = nonce
    const input = this.#header + Buffer.from(JSON.stringify(claims)).toString('base64url')
    return `${input}.${this.#key.sign(Buffer.from(input)).toString('base64url')}`
  }

  /**
   * Runs one token request to `url` with a proof (RFC 9449 §5), `send` adding the `DPoP` header
   * and calling `observe` with every answer's headers. When the server refuses it with
   * `use_dpop_nonce` and gives a nonce other than the one sent (§8), sends it once more, with a
   * new proof carrying that nonce; a second refusal stands.
   */
  async tokenRequest<T>(
    url: string,
    send: (headers: { dpop: string }, observe: ObserveAnswer) => Promise<T>,
  ): Promise<T> {
    const target = new URL(url)
    const { origin } = target
    const htu = `${origin}${target.pathname}`
    let given: string | undefined
    const observe: ObserveAnswer = (headers) => {
      given = this.nonces.update(origin, headers['dpop-nonce']) ?? given
    }
    const sent = this.nonces.get(origin)
    try {
      return await send({ dpop: this.proof('POST', htu, sent) }, observe)
    } catch (err) {
      if (!isTokenEndpointError(err) || err.error !== 'use_dpop_nonce') throw err
      if (given === undefined || given === sent) throw err
      this.publishRetry()
      return send({ dpop: this.proof('POST', htu, given) }, observe)
    }
  }

  /** Counts a nonce retry on `svcauth:outbound:retry`, when someone listens. */
  publishRetry(): void {
    if (retryChannel.hasSubscribers) {
      const event: RetryEvent = { clientId: this.#clientId(), reason: 'use_dpop_nonce' }
      retryChannel.publish(event)
    }
  }

  #hash(token: string): string {
    if (token !== this.#athToken) {
      this.#ath = accessTokenHash(token)
      this.#athToken = token
    }
    return this.#ath
  }
}

/** `htu` of a dispatched call (RFC 9449 §4.2): the origin and path, without query or fragment. */
export function htuOf(origin: string, path: string): string {
  const end = path.search(/[?#]/)
  return origin + (end === -1 ? path : path.slice(0, end))
}
