/**
 * One accepted spelling per token: a compact JWS (RFC 7515 §7.1) is three base64url segments
 * (RFC 7515 §2: no padding), and each must be the canonical encoding of its bytes (RFC 4648 §3.5:
 * the spare bits of the last character are zero). Lenient decoders (Node's `atob`, `Buffer`)
 * also accept `=` padding, non-zero spare bits and a dangling sixth bit group, so one signed
 * token would otherwise have up to 32 accepted spellings, each its own cache entry.
 */

/** 6-bit value of each base64url character by char code; -1 for anything else. */
const VALUES = new Int8Array(128).fill(-1)
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i

/**
 * Exactly three runs of `[A-Za-z0-9_-]` (`\w` without the `u` flag) separated by dots. One
 * compiled regular expression scans a 600-character token several times faster than a char-code
 * loop in JavaScript, which matters on the path of every token not in the cache (issue 17).
 */
const SHAPE = /^[\w-]*\.[\w-]*\.[\w-]*$/

/**
 * True when `token` is exactly three segments of canonical unpadded base64url: only
 * `[A-Za-z0-9_-]`, no segment whose length is 1 mod 4, and zero spare bits in each segment's
 * last character. No allocation.
 */
export function isCanonicalCompactJws(token: string): boolean {
  if (!SHAPE.test(token)) return false
  const first = token.indexOf('.')
  const second = token.indexOf('.', first + 1)
  return (
    canonicalTail(token, 0, first) &&
    canonicalTail(token, first + 1, second) &&
    canonicalTail(token, second + 1, token.length)
  )
}

/** The segment `token[start, end)` (already known to be in the alphabet) ends canonically. */
function canonicalTail(token: string, start: number, end: number): boolean {
  const rest = (end - start) & 3
  if (rest === 0) return true
  // One character carries 6 bits, less than a byte: no encoder produces it.
  if (rest === 1) return false
  // 2 chars encode 1 byte (4 spare bits), 3 chars encode 2 bytes (2 spare bits).
  const last = VALUES[token.charCodeAt(end - 1)] as number
  return (last & (rest === 2 ? 0x0f : 0x03)) === 0
}
