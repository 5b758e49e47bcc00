/**
 * Compact JWS (RFC 7515 §7.1) on `node:crypto`: the three segments of a token, decoded once; the
 * protected header and the JWT claims set read the way jose reads them (strict UTF-8 with a
 * leading byte-order mark dropped, as `TextDecoder` does, then `JSON.parse`: the last of duplicate
 * members wins; only a top-level object is accepted, RFC 7515 §4, RFC 7519 §7.2); and the
 * signature over `header.payload` checked against an imported key (RFC 7515 §5.2).
 *
 * Precondition: the pipeline (`verifier.ts`) has already refused every token that is not three
 * segments of canonical unpadded base64url (`canonical.ts`, RFC 7515 §2, RFC 4648 §3.5), before
 * the cache lookup. So `Buffer`'s base64url decoder, lenient on other input, decodes exactly here,
 * and the scan is not repeated on this path.
 */
import { isAscii, isUtf8 } from 'node:buffer'
import { verify } from 'node:crypto'
import type { JwsAlgorithm } from './jws-algorithms.js'
import type { KeyInput } from './verify-keys.js'

/** Where the segments of a compact JWS end: `token[0, header)`, `(header, payload)`, `(payload, …)`. */
export interface Segments {
  readonly header: number
  readonly payload: number
}

/** The segment boundaries of a three-part compact JWS; undefined for any other count of dots. */
export function splitCompact(token: string): Segments | undefined {
  const header = token.indexOf('.')
  const payload = header < 0 ? -1 : token.indexOf('.', header + 1)
  if (payload < 0 || token.indexOf('.', payload + 1) >= 0) return undefined
  return { header, payload }
}

/**
 * The JSON object in `token[start, end)`; undefined when it is not UTF-8, not JSON or not an
 * object (arrays, `null` and scalars included).
 */
export function decodeJsonObject(
  token: string,
  start: number,
  end: number,
): Record<string, unknown> | undefined {
  const bytes = Buffer.from(token.slice(start, end), 'base64url')
  let text: string
  if (isAscii(bytes)) {
    text = bytes.toString('latin1') // the common case: no UTF-8 decoding needed
  } else if (isUtf8(bytes)) {
    // TextDecoder (what jose uses) drops one leading UTF-8 byte-order mark; JSON.parse would not.
    const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf
    text = bytes.toString('utf8', bom ? 3 : 0)
  } else {
    return undefined
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined
}

/**
 * Checks the signature segment over the signing input `token[0, payloadEnd)`. Never throws: a
 * signature of the wrong length for the curve, or anything OpenSSL refuses, is simply invalid.
 */
export function signatureValid(
  alg: JwsAlgorithm,
  key: KeyInput,
  token: string,
  payloadEnd: number,
): boolean {
  const signature = Buffer.from(token.slice(payloadEnd + 1), 'base64url')
  // ECDSA in JWS is fixed-length r || s (RFC 7518 §3.4); DER or truncated forms never verify.
  if (alg.signatureLength !== undefined && signature.length !== alg.signatureLength) return false
  try {
    return verify(alg.hash, Buffer.from(token.slice(0, payloadEnd), 'latin1'), key, signature)
  } catch {
    return false
  }
}
