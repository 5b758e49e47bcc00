/**
 * Keys and tokens for the offline-keys tests (issue 20, item 1): key pairs of every supported
 * type made by `node:crypto`, their public halves in each form a site distributes (SPKI and
 * PKCS #1 PEM, JWK), and tokens signed by them.
 */
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto'
import { expect } from 'vitest'
import type { Authenticator } from '@svcauth/core'
import { isAuthError } from '@svcauth/core'

export const ISSUER = 'https://as.offline.test/'

export type PairType = 'rsa' | 'rsa1024' | 'ec' | 'ed25519'

export interface Pair {
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
  /** The JWS algorithm it signs with. */
  readonly alg: 'RS256' | 'ES256' | 'EdDSA'
  /** SPKI PEM. */
  readonly pem: string
  /** The public JWK (no kid, no alg). */
  readonly jwk: Record<string, unknown>
}

export function pair(type: PairType = 'rsa'): Pair {
  const { privateKey, publicKey } =
    type === 'rsa' || type === 'rsa1024'
      ? generateKeyPairSync('rsa', { modulusLength: type === 'rsa' ? 2048 : 1024 })
      : type === 'ec'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519')
  return {
    privateKey,
    publicKey,
    alg: type === 'ec' ? 'ES256' : type === 'ed25519' ? 'EdDSA' : 'RS256',
    pem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    jwk: publicKey.export({ format: 'jwk' }),
  }
}

/** The RSA public key as PKCS #1 PEM (`-----BEGIN RSA PUBLIC KEY-----`). */
export function pkcs1(p: Pair): string {
  return p.publicKey.export({ type: 'pkcs1', format: 'pem' }) as string
}

/**
 * A service token from {@link ISSUER} for audience `smd`, signed by `p` with `node:crypto` (jose
 * refuses to sign with an RSA key under 2048 bits, which some tests need).
 */
export function mint(
  p: Pair,
  header: Record<string, unknown> = {},
  claims: Record<string, unknown> = {},
): string {
  const now = Math.floor(Date.now() / 1000)
  const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')
  const input = `${b64({ alg: p.alg, typ: 'JWT', ...header })}.${b64({
    iss: ISSUER,
    aud: ['smd'],
    sub: 'bss',
    client_id: 'bss',
    iat: now,
    nbf: now,
    exp: now + 600,
    jti: randomUUID(),
    scp: ['smd.read'],
    ...claims,
  })}`
  const data = Buffer.from(input)
  const signature =
    p.alg === 'EdDSA'
      ? sign(null, data, p.privateKey)
      : p.alg === 'ES256'
        ? sign('sha256', data, { key: p.privateKey, dsaEncoding: 'ieee-p1363' })
        : sign('sha256', data, p.privateKey)
  return `${input}.${signature.toString('base64url')}`
}

/** 'accepted', or the reason the authenticator refused the token. */
export async function outcome(auth: Authenticator, token: string): Promise<string> {
  try {
    await auth.verify(token)
    return 'accepted'
  } catch (err) {
    if (!isAuthError(err)) throw err
    return err.reason
  }
}

/** The TypeError a constructor threw, checked not to repeat any of `secrets`. */
export function startupError(build: () => unknown, secrets: readonly string[] = []): string {
  let thrown: unknown
  try {
    build()
  } catch (err) {
    thrown = err
  }
  expect(thrown).toBeInstanceOf(TypeError)
  const message = (thrown as TypeError).message
  for (const secret of secrets) {
    // The material itself, and any long piece of it (a PEM line, a base64 member).
    for (const piece of [secret, ...secret.split(/[\s"]+/)].filter((p) => p.length >= 16)) {
      expect(message).not.toContain(piece)
    }
  }
  return message
}
