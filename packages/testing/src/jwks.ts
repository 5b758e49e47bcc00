/**
 * The test issuer's signing keys and its JWKS endpoint (RFC 7517 §5): RSA keys with UUID kids as
 * Hydra publishes them, key rotation and removal, extra JWKs published verbatim, and switches that
 * make the endpoint fail, hang, stall mid-body, redirect or answer garbage. A redirect points at
 * `/evil`, which serves the same key set and counts its hits, so a test can prove that a verifier
 * never followed it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose'
import { internalError, playFault, send, type FaultAnswers } from './http.js'
import { createSigningKey, type SigningKey } from './keys.js'

/** How the JWKS endpoint answers. */
export type JwksMode =
  | 'ok'
  | 'fail'
  | 'hang'
  | 'garbage'
  | 'stall-body'
  | 'redirect'
  | { status: number; body: string; headers?: Record<string, string> }

/** A request the JWKS endpoint received. */
export interface JwksRequest {
  readonly headers: Record<string, string | string[] | undefined>
}

export const JWKS_PATH = '/.well-known/jwks.json'
const EVIL_PATH = '/evil'

export class KeySet {
  readonly requests: JwksRequest[] = []
  mode: JwksMode = 'ok'
  hits = 0
  /** Requests that followed the redirect of mode `redirect`. */
  evilHits = 0
  signingKid = ''
  readonly #keys = new Map<string, SigningKey>()
  readonly #published: string[] = []
  readonly #extra: Record<string, unknown>[] = []
  readonly #modulusLength: number

  private constructor(modulusLength: number) {
    this.#modulusLength = modulusLength
  }

  /** `count` published keys, signing with the last (a fresh one when `count` is 0). */
  static async create(count: number, modulusLength: number): Promise<KeySet> {
    const set = new KeySet(modulusLength)
    for (let i = 0; i < count; i++) await set.add()
    set.signingKid = set.#published[set.#published.length - 1] ?? (await set.add())
    return set
  }

  /** The published kids, oldest first. */
  get kids(): string[] {
    return [...this.#published]
  }

  /** Adds and publishes a new key; returns its kid. */
  async add(): Promise<string> {
    const key = await createSigningKey(this.#modulusLength)
    this.#keys.set(key.kid, key)
    this.#published.push(key.kid)
    return key.kid
  }

  /** Stops publishing a key; it can still sign. */
  remove(kid: string): void {
    const i = this.#published.indexOf(kid)
    if (i !== -1) this.#published.splice(i, 1)
  }

  publish(jwk: Record<string, unknown>): void {
    this.#extra.push(jwk)
  }

  /** The key set as published now (published keys and extra JWKs), a copy. */
  publicKeys(): { keys: Record<string, unknown>[] } {
    return JSON.parse(this.#body()) as { keys: Record<string, unknown>[] }
  }

  /** The SPKI PEM of every published key, oldest first. */
  publicKeyPems(): string[] {
    return this.#published.map((kid) => this.key(kid).spki)
  }

  /** The key `kid`, or the signing key. */
  key(kid: string | undefined): SigningKey {
    const key = this.#keys.get(kid ?? this.signingKid)
    if (key === undefined) throw new Error(`test issuer: no key ${String(kid)}`)
    return key
  }

  /** Resolves keys from the key set as published now, for verifying the issuer's own tokens. */
  readonly verifier: JWTVerifyGetKey = (header, token) =>
    createLocalJWKSet(JSON.parse(this.#body()) as JSONWebKeySet)(header, token)

  /** True when this endpoint answers `path`. */
  handles(path: string): boolean {
    return path === JWKS_PATH || path === EVIL_PATH
  }

  handle(req: IncomingMessage, res: ServerResponse, path: string): void {
    if (path === EVIL_PATH) {
      this.evilHits++
      send(res, 200, this.#body(), { 'content-type': 'application/json' })
      return
    }
    this.hits++
    this.requests.push({ headers: { ...req.headers } })
    if (playFault(this.mode, FAULTS, req, res)) return
    send(res, 200, this.#body(), { 'content-type': 'application/jwk-set+json' })
  }

  #body(): string {
    return JSON.stringify({
      keys: [...this.#published.map((kid) => this.#keys.get(kid)?.publicJwk), ...this.#extra],
    })
  }
}

/** The JWKS endpoint's own faults (`hang` and scripted answers are shared). */
const FAULTS: FaultAnswers<Exclude<JwksMode, object>> = {
  fail: internalError,
  garbage: (res) => {
    send(res, 200, '{', { 'content-type': 'application/json' })
  },
  redirect: (res) => res.writeHead(302, { location: EVIL_PATH }).end(),
  'stall-body': (res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.write('{"keys":[')
  },
}
