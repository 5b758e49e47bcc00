/**
 * One token request (RFC 6749 §4.4, RFC 8693 §2.1): a form POST through the bounded exchange
 * (exchange.ts: one deadline, a response byte cap, no redirects), and strict checks of the answer
 * (RFC 6749 §5.1): `access_token` a non-empty b64token, `token_type` Bearer in any case (or DPoP,
 * RFC 9449 §5, when the client sent a proof), `expires_in` a number or a digit string. A 401 or
 * 403 without a usable OAuth error body is taken as `invalid_client` (the credentials were
 * refused), whatever the server's body.
 */
import type { Dispatcher } from 'undici'
import { TokenEndpointError } from '../errors.js'
import { B64TOKEN } from './b64token.js'
import { exchange, type ExchangeError } from './exchange.js'

export interface TokenLimits {
  readonly timeout: number
  readonly maxBytes: number
  readonly dispatcher: Dispatcher | undefined
}

export interface IssuedToken {
  readonly accessToken: string
  /** Seconds, as the server said; undefined when it said nothing. */
  readonly expiresIn: number | undefined
  /**
   * The server said `token_type: DPoP` (RFC 9449 §5): the token is bound to the client's DPoP key
   * and presented with `Authorization: DPoP` and a proof.
   */
  readonly dpop: boolean
  /**
   * `x5t#S256` of the client certificate the request's connection presented (RFC 8705 §3): the
   * token is taken as bound to it. Undefined when none was presented.
   */
  readonly certificate?: string | undefined
  /**
   * Read from the fleet's shared token cache (issue 21) rather than issued for a request of this
   * replica; `sentAt` is then when the replica that requested it sent its request.
   */
  readonly shared?: boolean
  /** `performance.now()` when the request was sent: lifetimes count from here. */
  readonly sentAt: number
  /** The whole answer (for the CLI; never logged). */
  readonly response: Readonly<Record<string, unknown>>
}

/** What a token request with a DPoP proof adds. */
export interface DpopAnswer {
  /** Called with the headers of every answer (the server's `DPoP-Nonce`, RFC 9449 §8). */
  readonly observe: (headers: Record<string, string | string[] | undefined>) => void
}

const tokenError: ExchangeError = (code, options) => new TokenEndpointError(code, options)

/**
 * Posts `form` with `headers`. With `dpop` (the request carries a proof), `token_type: DPoP` is
 * accepted besides Bearer; without it, a DPoP token is an invalid response, as any type the
 * client cannot present.
 */
export async function postToken(
  endpoint: string,
  form: URLSearchParams,
  headers: Record<string, string>,
  limits: TokenLimits,
  dpop?: DpopAnswer,
): Promise<IssuedToken> {
  const sentAt = performance.now()
  const res = await exchange(
    endpoint,
    {
      method: 'POST',
      headers: {
        ...headers,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: form.toString(),
    },
    limits,
    tokenError,
  )
  dpop?.observe(res.headers)
  const retryAfter = parseRetryAfter(res.headers['retry-after'])
  let json: unknown
  try {
    json = JSON.parse(res.body.toString('utf8'))
  } catch {
    json = undefined
  }
  const obj = (
    typeof json === 'object' && json !== null && !Array.isArray(json) ? json : {}
  ) as Record<string, unknown>
  if (res.status !== 200 || obj.error !== undefined) {
    const error =
      typeof obj.error === 'string' && /^[\x20-\x7e]{1,64}$/.test(obj.error) ? obj.error : undefined
    if (error === undefined && (res.status === 401 || res.status === 403)) {
      // RFC 6749 §5.2 asks for a JSON invalid_client here, but some servers (and proxies in front
      // of them) answer a wrong secret with a bare 401/403. It is a refusal of the credentials,
      // not a broken server: not retried, and the next secret of a rotation is tried.
      throw new TokenEndpointError('invalid_client', {
        status: res.status,
        description: 'the server refused the client credentials without an OAuth error body',
      })
    }
    throw new TokenEndpointError(
      error ?? (res.status >= 500 ? 'server_error' : 'invalid_response'),
      {
        status: res.status,
        ...(typeof obj.error_description === 'string'
          ? { description: obj.error_description }
          : {}),
        ...(retryAfter === undefined ? {} : { retryAfter }),
      },
    )
  }
  return { ...checkSuccess(obj, res.status, dpop !== undefined), sentAt }
}

function checkSuccess(
  obj: Record<string, unknown>,
  status: number,
  dpop: boolean,
): Omit<IssuedToken, 'sentAt'> {
  const invalid = (description: string): never => {
    throw new TokenEndpointError('invalid_response', { status, description })
  }
  const token = obj.access_token
  if (typeof token !== 'string' || !B64TOKEN.test(token))
    invalid('access_token is missing or not a b64token')
  // Token types compare case-insensitively (RFC 6749 §5.1; Hydra sends `bearer`).
  const type = typeof obj.token_type === 'string' ? obj.token_type.toLowerCase() : undefined
  const bound = dpop && type === 'dpop'
  if (type !== 'bearer' && !bound)
    invalid(dpop ? 'token_type is neither Bearer nor DPoP' : 'token_type is not Bearer')
  const expiresIn = parseExpiresIn(obj.expires_in)
  if (expiresIn === null) invalid('expires_in is not a number')
  return {
    accessToken: token as string,
    expiresIn: expiresIn ?? undefined,
    dpop: bound,
    response: obj,
  }
}

/** A number, or a string of digits (Azure AD sends strings); null for anything else. */
function parseExpiresIn(value: unknown): number | undefined | null {
  if (value === undefined) return undefined
  if (typeof value === 'number' && Number.isFinite(value)) return Math.floor(value)
  if (typeof value === 'string' && /^\d{1,10}$/.test(value)) return Number(value)
  return null
}

function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value
  if (text === undefined) return undefined
  if (/^\d+$/.test(text)) return Number(text)
  const date = Date.parse(text)
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000))
}
