/**
 * Keeping credentials out of log lines. pino's `redact` only reaches object paths, not the inside
 * of the URL string (catalogue I2), and a user's own logger may carry no redaction at all, so the
 * request and response serializers mask secrets themselves: credential headers, token-like query
 * parameters, and anything shaped like a JWT or a Hydra token wherever it appears in the URL.
 */

export const REDACTED = '[Redacted]'

/** Request and response headers whose values are never logged. */
export const SENSITIVE_HEADERS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'x-auth-token',
  'x-access-token',
  'x-id-token',
  'x-forwarded-access-token',
  'x-amz-security-token',
]

/** Query parameters whose values are never logged (compared case-insensitively). */
export const SENSITIVE_PARAMS: readonly string[] = [
  'access_token',
  'id_token',
  'refresh_token',
  'token',
  'code',
  'client_secret',
  'client_assertion',
  'assertion',
  'subject_token',
  'actor_token',
  'password',
  'secret',
  'api_key',
  'apikey',
  'key',
  'signature',
  'sig',
  'jwt',
  'session',
  'x-amz-signature',
  'x-amz-credential',
]

// A compact JWS/JWE (header starts with `{"` → `eyJ`), or an Ory (Hydra) token.
const TOKEN_SHAPED = /eyJ[\w-]*\.[\w-]*\.[\w.-]*|ory_(?:at|rt|ac|pat|ht)_[\w.~+/-]+/g

export interface ScrubRules {
  readonly headers: ReadonlySet<string>
  readonly params: ReadonlySet<string>
}

export function scrubRules(
  extraHeaders: readonly string[] = [],
  extraParams: readonly string[] = [],
): ScrubRules {
  return {
    headers: new Set([...SENSITIVE_HEADERS, ...extraHeaders].map((h) => h.toLowerCase())),
    params: new Set([...SENSITIVE_PARAMS, ...extraParams].map((p) => p.toLowerCase())),
  }
}

const DEFAULT_RULES = scrubRules()

/**
 * The URL with sensitive query values and token-shaped text replaced by `[Redacted]`.
 *
 * @example
 * ```ts
 * scrubUrl('/x?access_token=abc&page=2') // '/x?access_token=[Redacted]&page=2'
 * ```
 */
export function scrubUrl(url: string, rules: ScrubRules = DEFAULT_RULES): string {
  const q = url.indexOf('?')
  const path = q === -1 ? url : url.slice(0, q)
  let out = path.replace(TOKEN_SHAPED, REDACTED)
  if (q !== -1) {
    const pairs = url
      .slice(q + 1)
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=')
        const name = eq === -1 ? pair : pair.slice(0, eq)
        if (eq !== -1 && rules.params.has(decodeName(name).toLowerCase()))
          return `${name}=${REDACTED}`
        return pair.replace(TOKEN_SHAPED, REDACTED)
      })
    out += `?${pairs.join('&')}`
  }
  return out
}

/** A copy of a parsed query object with sensitive values masked (Express's `req.query`). */
export function scrubQuery(query: unknown, rules: ScrubRules = DEFAULT_RULES): unknown {
  if (query === null || typeof query !== 'object') return query
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(query as Record<string, unknown>)) {
    out[name] = rules.params.has(name.toLowerCase()) ? REDACTED : scrubValue(value, rules)
  }
  return out
}

/** A copy of a header object with credential headers and token-shaped values masked. */
export function scrubHeaders(
  headers: unknown,
  rules: ScrubRules = DEFAULT_RULES,
): Record<string, unknown> | undefined {
  if (headers === null || typeof headers !== 'object') return undefined
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    out[name] = rules.headers.has(name.toLowerCase()) ? REDACTED : scrubValue(value, rules)
  }
  return out
}

/** Strings lose token-shaped text; nested query objects (`?a[token]=x`) are scrubbed too. */
function scrubValue(value: unknown, rules: ScrubRules): unknown {
  if (typeof value === 'string') return value.replace(TOKEN_SHAPED, REDACTED)
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, rules))
  if (value !== null && typeof value === 'object') return scrubQuery(value, rules)
  return value
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '))
  } catch {
    return name
  }
}
