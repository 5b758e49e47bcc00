/**
 * Public keys given as PEM text (RFC 7468), for issuers whose keys are distributed offline (issue
 * 20, item 1): SPKI public keys (`PUBLIC KEY`, RFC 7468 §13), PKCS #1 RSA public keys (`RSA PUBLIC
 * KEY`, RFC 8017 §A.1.1) and X.509 certificates (`CERTIFICATE`, RFC 7468 §5, RFC 5280), one or
 * several blocks in one string (a bundle). Each becomes a public JWK (RFC 7517 §4) through
 * `node:crypto`'s export, so it is imported, selected and bound to algorithms exactly as a fetched
 * key is (`key-set.ts`, `verify-keys.ts`).
 *
 * A certificate is only a container for its public key here: its validity dates, issuer and
 * extensions are not checked (the operator who distributes it is the trust anchor, as for a bare
 * public key). Text outside the blocks is ignored, as OpenSSL ignores explanatory text. Private
 * keys (any `… PRIVATE KEY` label) and text without a PEM block (a shared secret) are refused;
 * no message repeats the material.
 */
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto'
import { InvalidKeySetError } from './key-failure.js'

/** One encapsulation boundary pair with the same label (RFC 7468 §2); labels hold no `-`. */
const BLOCK = /-----BEGIN ([^\r\n-]*)-----[\s\S]*?-----END \1-----/g
const BEGIN = /-----BEGIN ([^\r\n-]*)-----/g

/** True when `text` looks like PEM rather than JSON: it has an encapsulation boundary. */
export function looksLikePem(text: string): boolean {
  return text.includes('-----BEGIN')
}

/**
 * The public JWKs of every block of `text`, each with its RFC 7638 thumbprint as `kid` (PEM names
 * no key; the thumbprint lets the verified-token cache tell the keys of two key files apart).
 * Throws an InvalidKeySetError describing the problem, never the material.
 */
export function pemToJwks(text: string): object[] {
  const labels = [...text.matchAll(BEGIN)].map((m) => m[1] ?? '')
  if (labels.length === 0) {
    throw new InvalidKeySetError(
      'not PEM: give a JWKS, PEM public keys or certificates (shared secrets are not accepted)',
    )
  }
  if (labels.some((label) => label.includes('PRIVATE KEY'))) {
    throw new InvalidKeySetError('a private key was given: give only public keys or certificates')
  }
  const blocks = [...text.matchAll(BLOCK)]
  if (blocks.length !== labels.length) {
    throw new InvalidKeySetError('a PEM block has no matching END line')
  }
  return blocks.map((block, i) => publicJwk(block[0], block[1] ?? '', i + 1))
}

function publicJwk(pem: string, label: string, n: number): object {
  const key = publicKeyOf(pem, label, n)
  let jwk: Record<string, unknown>
  try {
    jwk = key.export({ format: 'jwk' })
  } catch {
    // RSA-PSS-only keys (`id-RSASSA-PSS`) and DSA have no JWK form.
    throw new InvalidKeySetError(
      `PEM block ${n}: a ${key.asymmetricKeyType ?? 'unknown'} key has no JWK form`,
    )
  }
  return { ...jwk, kid: thumbprint(jwk) }
}

function publicKeyOf(pem: string, label: string, n: number): KeyObject {
  try {
    switch (label) {
      case 'PUBLIC KEY':
      case 'RSA PUBLIC KEY':
        return createPublicKey(pem)
      case 'CERTIFICATE':
        return new X509Certificate(pem).publicKey
      default:
        break
    }
  } catch {
    throw new InvalidKeySetError(`PEM block ${n} (${label}) cannot be parsed`)
  }
  throw new InvalidKeySetError(
    `PEM block ${n} is a ${label}: only PUBLIC KEY, RSA PUBLIC KEY and CERTIFICATE blocks are read`,
  )
}

/** The RFC 7638 §3 thumbprint: SHA-256 over the required members, in lexicographic order. */
function thumbprint(jwk: Record<string, unknown>): string {
  const required =
    jwk.kty === 'RSA'
      ? ['e', 'kty', 'n']
      : jwk.kty === 'EC'
        ? ['crv', 'kty', 'x', 'y']
        : ['crv', 'kty', 'x']
  const members = Object.fromEntries(required.map((name) => [name, jwk[name]]))
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url')
}
