/**
 * The client's side of the core's one bounded HTTP exchange (`httpRequest`: one deadline, a byte
 * cap, no redirects): token requests (RFC 6749 §4.4, RFC 8693 §2.1) and registration (RFC 7591,
 * RFC 7592) send through it. A 3xx is read as an answer like any other refusal (its OAuth error,
 * its `Retry-After`), never followed. A transport failure becomes the caller's typed error:
 * `network_error` when no complete answer came (refused, reset, past the deadline), with the
 * status when the headers had arrived; `invalid_response` for an answer over the byte cap. Both
 * name the endpoint's origin (issue 16, item 4), never its path or query.
 */
import {
  HttpError,
  httpRequest,
  type HttpLimits,
  type HttpRequest,
  type HttpResponse,
} from '@svcauth/core/internal'

/** Builds the caller's typed error (TokenEndpointError, RegistrationError) for a failed exchange. */
export type ExchangeError = (
  code: 'invalid_response' | 'network_error',
  options: { status?: number; description?: string; origin: string; cause?: unknown },
) => Error

/** Sends `req` to `url` within `limits`; any status is an answer, failures come from `toError`. */
export async function exchange(
  url: string,
  req: HttpRequest,
  limits: HttpLimits,
  toError: ExchangeError,
): Promise<HttpResponse> {
  try {
    return await httpRequest(url, { ...req, redirects: 'answer' }, limits)
  } catch (err) {
    if (!(err instanceof HttpError)) throw err
    const status = err.status === undefined ? {} : { status: err.status }
    const { origin } = new URL(url)
    if (err.kind === 'timeout' || err.kind === 'network') {
      // The transport's own error is the cause, as before the exchange was shared: the HttpError
      // around it adds nothing a caller branches on.
      throw toError('network_error', { ...status, origin, cause: err.cause })
    }
    // too_large; a redirect, status or bad_json failure cannot happen here (a 3xx is an answer,
    // no `expect`, no JSON parsing), but would be an invalid response too.
    const description =
      err.kind === 'too_large'
        ? `response larger than ${String(limits.maxBytes)} bytes`
        : err.message
    throw toError('invalid_response', { ...status, origin, description })
  }
}
