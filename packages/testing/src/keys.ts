/**
 * Signing keys for the test issuer: RSA keys with UUID kids, as Hydra generates them
 * (`hydra.jwt.access-token` key set; Hydra uses RSA-4096, the default here is 2048 for speed).
 */
import { createPublicKey, randomUUID, sign as nodeSign } from 'node:crypto'
import { exportJWK, exportPKCS8, generateKeyPair, type CryptoKey, type JWK } from 'jose'

export interface SigningKey {
  readonly kid: string
  readonly privateKey: CryptoKey
  readonly publicJwk: JWK
  readonly pkcs8: string
  /** The public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`). */
  readonly spki: string
}

export async function createSigningKey(modulusLength: number): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', {
    modulusLength,
    extractable: true,
  })
  const kid = randomUUID()
  const jwk = await exportJWK(publicKey)
  const pkcs8 = await exportPKCS8(privateKey)
  return {
    kid,
    privateKey,
    publicJwk: { kty: jwk.kty, n: jwk.n, e: jwk.e, kid, alg: 'RS256', use: 'sig' } as JWK,
    pkcs8,
    spki: createPublicKey(pkcs8).export({ type: 'spki', format: 'pem' }) as string,
  }
}

const encode = (value: string): string => Buffer.from(value, 'utf8').toString('base64url')

/**
 * Signs arbitrary header and payload text with RSA (RS256 by default, PS256 when the header says
 * so), for tokens jose refuses to produce: duplicate keys, `1e400`, non-JSON payloads, odd headers.
 */
export function signRawWith(
  key: SigningKey,
  header: Record<string, unknown> | string,
  payload: Record<string, unknown> | string,
): string {
  const headerText = typeof header === 'string' ? header : JSON.stringify(header)
  const payloadText = typeof payload === 'string' ? payload : JSON.stringify(payload)
  const input = `${encode(headerText)}.${encode(payloadText)}`
  const alg = typeof header === 'string' ? 'RS256' : header.alg
  const pss = alg === 'PS256'
  const signature = nodeSign('sha256', Buffer.from(input), {
    key: key.pkcs8,
    ...(pss ? { padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 } : {}),
  })
  return `${input}.${signature.toString('base64url')}`
}
