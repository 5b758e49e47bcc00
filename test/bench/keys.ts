/**
 * Keys, tokens and a JWKS endpoint for the in-process sections. Tokens are signed with
 * node:crypto directly, fast enough to make a million distinct ones (RFC 7515 §5.1, compact
 * serialization; RFC 7518 §3.3 and §3.4, RFC 8037 §3.1 for the signatures).
 */
import { generateKeyPairSync, sign as nodeSign, type KeyObject } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK } from 'jose'

export interface Keys {
  readonly alg: 'RS256' | 'ES256' | 'EdDSA'
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
  readonly kid: string
}

export function makeKeys(alg: Keys['alg']): Keys {
  const pair =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519')
  return { alg, privateKey: pair.privateKey, publicKey: pair.publicKey, kid: `bench-${alg}` }
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')

/** Token number `n` for `issuer`: distinct `jti` each, valid for an hour. */
export function mint(keys: Keys, issuer: string, n: number): string {
  const now = Math.floor(Date.now() / 1000)
  const input = `${b64({ alg: keys.alg, kid: keys.kid, typ: 'JWT' })}.${b64({
    iss: issuer,
    aud: ['smd'],
    sub: 'bss',
    client_id: 'bss',
    iat: now,
    nbf: now,
    exp: now + 3600,
    jti: `j${n}`,
    scp: ['smd.read'],
  })}`
  const signature =
    keys.alg === 'RS256'
      ? nodeSign('sha256', Buffer.from(input), keys.privateKey)
      : keys.alg === 'ES256'
        ? nodeSign('sha256', Buffer.from(input), {
            key: keys.privateKey,
            dsaEncoding: 'ieee-p1363',
          })
        : nodeSign(null, Buffer.from(input), keys.privateKey)
  return `${input}.${signature.toString('base64url')}`
}

/** A JWKS server for the given keys, on loopback. */
export async function jwksServer(keys: readonly Keys[]): Promise<{ url: string; server: Server }> {
  const jwks = {
    keys: await Promise.all(
      keys.map(async (k) => ({
        ...(await exportJWK(k.publicKey)),
        kid: k.kid,
        alg: k.alg,
        use: 'sig',
      })),
    ),
  }
  const body = JSON.stringify(jwks)
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`, server }
}
