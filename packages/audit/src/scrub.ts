/**
 * Keeping credentials out of log lines. pino's `redact` only reaches object paths, not the inside
 * of the URL string (catalogue I2), and a user's own logger may carry no redaction at all, so the
 * request and response serializers mask secrets themselves: credential headers, token-like query
 * parameters (RFC 6750 §5.3, RFC 6819 §4.6.7), and anything shaped like a JWT or a Hydra token
 * wherever it appears in the URL. Audit event details go through the same header list.
 */

export const REDACTED = '[Redacted]'

/**
 * Headers that carry credentials, the one list the whole audit package masks with: the request and
 * response serializers, the pino `redact` paths, and audit event details. Values are never logged.
 */
export const SENSITIVE_HEADERS: readonly string[] = [
  // HTTP authentication and sessions (RFC 9110 §11.6.2, §11.7.2; RFC 6265).
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  // A proof of possession is replayable within its window (RFC 9449 §4).
  'dpop',
  // The caller's token as proxies and gateways forward it: API gateways and ESPv2
  // (X-Forwarded-Authorization), oauth2-proxy, AWS ALB, Google IAP, Azure App Service.
  'x-forwarded-authorization',
  'x-forwarded-access-token',
  'x-auth-request-access-token',
  'x-amzn-oidc-accesstoken',
  'x-amzn-oidc-data',
  'x-goog-iap-jwt-assertion',
  'x-ms-token-aad-access-token',
  'x-ms-token-aad-id-token',
  'x-ms-token-aad-refresh-token',
  // API keys and vendor tokens.
  'x-api-key',
  'api-key',
  'x-auth-token',
  'x-access-token',
  'x-id-token',
  'x-amz-security-token',
  'x-vault-token',
  // Anti-CSRF tokens are per-session secrets.
  'x-csrf-token',
  'x-xsrf-token',
]

/**
 * Query parameters whose values are never logged. Names are compared case-insensitively after
 * percent-decoding, and every part of a bracketed name counts: `access_token[]`,
 * `access_token[0]`, `access%5Ftoken%5B%5D` and `user[password]` are all masked.
 */
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
 * scrubUrl('/x?access_token[]=abc') // '/x?access_token[]=[Redacted]'
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
        if (eq !== -1 && isSensitiveParam(name, rules)) return `${name}=${REDACTED}`
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
    out[name] = isSensitiveParam(name, rules) ? REDACTED : scrubValue(value, rules)
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

/**
 * A copy of audit event details with the values of keys named like credential headers masked
 * (`{ headers: req.headers }` included) and token-shaped text masked in strings, at any depth.
 * Query-parameter names are not used here: `code` or `key` are ordinary business fields.
 */
export function scrubDetails(
  details: Readonly<Record<string, unknown>>,
  rules: ScrubRules = DEFAULT_RULES,
): Record<string, unknown> {
  return scrubTree(details, rules, new WeakSet()) as Record<string, unknown>
}

function scrubTree(value: unknown, rules: ScrubRules, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return value.replace(TOKEN_SHAPED, REDACTED)
  if (value === null || typeof value !== 'object') return value
  // Only plain data is copied; a Date, Buffer or class instance is left for pino to serialise.
  const proto: unknown = Object.getPrototypeOf(value)
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return value
  if (seen.has(value)) return '[Circular]'
  seen.add(value)
  if (Array.isArray(value)) return value.map((v: unknown) => scrubTree(v, rules, seen))
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    out[key] = rules.headers.has(key.toLowerCase()) ? REDACTED : scrubTree(v, rules, seen)
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

// `[`-delimited parts of a parameter name: `a[b][]` → `a`, `b`, ``.
const NAME_PARTS = /[[\]]+/

/**
 * True when a query parameter name (as sent, or as a parser keyed it) is sensitive: decoded,
 * lower-cased, and judged by its base name and by every bracketed part (qs-style nesting).
 */
function isSensitiveParam(name: string, rules: ScrubRules): boolean {
  const decoded = (name.includes('%') || name.includes('+') ? decodeName(name) : name).toLowerCase()
  if (rules.params.has(decoded)) return true
  if (!decoded.includes('[')) return false
  return decoded.split(NAME_PARTS).some((part) => part !== '' && rules.params.has(part))
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '))
  } catch {
    return name
  }
}
