/**
 * Reading a target's `WWW-Authenticate` (RFC 9110 §11.6.1): the challenges, each an auth-scheme
 * with a token68 or auth-params, in one or several header fields. A DPoP target answers
 * `DPoP error="use_dpop_nonce"` or `DPoP error="invalid_token"`, often beside a Bearer challenge
 * (RFC 9449 §7.1, §9), so the client must find the DPoP challenge's `error` wherever it is. A
 * malformed header yields the challenges read before the fault; an oversized one (over 16 KiB)
 * none.
 */

/** `tchar` (RFC 9110 §5.6.2) plus `/`, so that a token68 reads as one token. */
const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z/]/
const MAX_HEADER = 16_384

export interface Challenge {
  /** The auth-scheme, lower-cased (schemes compare case-insensitively). */
  readonly scheme: string
  /** Auth-params by lower-cased name; the first of a repeated name wins. */
  readonly params: ReadonlyMap<string, string>
}

/** The challenges of the header field(s), in order. */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const text = Array.isArray(header) ? header.join(', ') : (header ?? '')
  if (text.length > MAX_HEADER) return []
  const out: { scheme: string; params: Map<string, string> }[] = []
  const n = text.length
  let i = 0
  let afterComma = true
  const spaces = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++
  }
  const token = (): string => {
    const start = i
    while (i < n && TOKEN_CHAR.test(text[i] ?? '')) i++
    return text.slice(start, i)
  }
  const quoted = (): string | undefined => {
    let value = ''
    for (i++; i < n; i++) {
      const c = text[i]
      if (c === '"') {
        i++
        return value
      }
      if (c === '\\') i++
      value += text[i] ?? ''
    }
    return undefined
  }
  while (i < n) {
    spaces()
    if (text[i] === ',') {
      i++
      afterComma = true
      continue
    }
    if (i >= n) break
    const name = token()
    if (name === '') break
    spaces()
    const current = out.at(-1)
    if (text[i] === '=') {
      let j = i + 1
      while (j < n && (text[j] === ' ' || text[j] === '\t')) j++
      const next = text[j] ?? ''
      if (current !== undefined && (next === '"' || TOKEN_CHAR.test(next))) {
        // auth-param = token BWS "=" BWS ( token / quoted-string )
        i = j
        const value = next === '"' ? quoted() : token()
        if (value === undefined) break
        const key = name.toLowerCase()
        if (!current.params.has(key)) current.params.set(key, value)
        afterComma = false
        continue
      }
      // A token68 with its padding: nothing the client reads.
      while (i < n && text[i] === '=') i++
      afterComma = false
      continue
    }
    if (afterComma || current === undefined) {
      out.push({ scheme: name.toLowerCase(), params: new Map() })
      afterComma = false
    }
    // Otherwise a token68 right after its scheme: nothing the client reads.
  }
  return out
}

/**
 * The `error` of the header's challenge for `scheme` (lower-case): undefined when there is no
 * such challenge, null when it has no `error`.
 */
export function challengeError(
  header: string | string[] | undefined,
  scheme: string,
): string | null | undefined {
  const challenge = parseChallenges(header).find((c) => c.scheme === scheme)
  return challenge === undefined ? undefined : (challenge.params.get('error') ?? null)
}
