/**
 * DPoP on an authenticated request (RFC 9449 §7): the token came under the DPoP scheme and has
 * been verified; here its binding (`cnf.jkt`) is checked against the request's one proof, for
 * this method and URI, with the server nonce when one is required. Proof failures become the
 * AuthErrors of §7.1: `invalid_dpop_proof`, `use_dpop_nonce` (with a fresh `DPoP-Nonce`), or
 * `invalid_token` for a token that is not bound, or bound to another key.
 *
 * The URI the proof must name is `publicOrigin` (when configured) or the request's origin as the
 * adapter read it (the framework's trust-proxy setting decides whether forwarded headers count),
 * then the request path without query and fragment (§4.3 step 9). A Host that is not a host name
 * (or IP literal) with an optional port is refused outright, never parsed into a URL.
 */
import { dpopHeader, REPEATED, type RequestLike } from './bearer.js'
import type { ResolvedDpopOptions } from './dpop-options.js'
import { DpopProofError, verifyDpopProof, type DpopProofReason } from './dpop-proof.js'
import type { AuthErrorReason, Reject } from './errors.js'
import type { Logger } from './logger.js'
import type { Principal } from './principal.js'

/** Where a successful response can be given a header: Node's ServerResponse fits. */
export interface HeaderSink {
  setHeader(name: string, value: string): unknown
}

/** What the check needs of the verifier's resolved options. */
export interface DpopPolicy {
  readonly clockTolerance: number
  readonly publicOrigin: string | undefined
  readonly logger: Logger
}

/**
 * RFC 3986 `host [ ":" port ]`: a reg-name of unreserved characters or a bracketed IPv6 literal,
 * and a port up to 65535.
 */
const HOST =
  /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?$/
const ORIGIN = /^(https?):\/\/(.+)$/i

/** Proof refusals with a reason of their own; every other one is `dpop_proof_invalid`. */
const REASONS: Partial<Record<DpopProofReason, AuthErrorReason>> = {
  replayed: 'dpop_proof_replayed',
  htu_mismatch: 'dpop_htu_mismatch',
  nonce_missing: 'dpop_nonce_required',
  nonce_invalid: 'dpop_nonce_required',
  jkt_mismatch: 'dpop_key_mismatch',
  replay_store_failed: 'dpop_replay_unavailable',
}

/**
 * Checks the request's DPoP proof for `principal`, verified from `token`; resolves, or rejects
 * with the AuthError to answer. On success with a nonce about to rotate, `response` is given the
 * new one (`DPoP-Nonce`, §9).
 */
export async function checkDpopRequest(
  req: RequestLike,
  token: string,
  principal: Principal,
  dpop: ResolvedDpopOptions,
  policy: DpopPolicy,
  reject: Reject,
  response?: HeaderSink,
): Promise<void> {
  const jkt = principal.confirmation?.jkt
  // A token without a key binding under the DPoP scheme (§7.1): the token is the problem.
  if (jkt === undefined) throw reject('dpop_unbound')
  const proof = dpopHeader(req)
  if (proof === undefined || proof === REPEATED) {
    throw reject('dpop_proof_invalid', {
      cause: new DpopProofError(proof === undefined ? 'proof_missing' : 'proof_repeated'),
    })
  }
  const url = requestUri(req, policy.publicOrigin)
  const { method } = req
  if (url === undefined || method === undefined) throw reject('request_uri_invalid')

  const { nonces } = dpop
  let nonce: string | undefined
  try {
    await verifyDpopProof(
      {
        proof,
        method,
        url,
        accessToken: token,
        jkt,
        nonce:
          nonces === undefined
            ? undefined
            : (value: string): boolean => {
                nonce = value
                return nonces.accepts(value)
              },
      },
      {
        algorithms: dpop.algorithms,
        maxAge: dpop.proofMaxAge,
        clockTolerance: policy.clockTolerance,
        replay: dpop.replay,
      },
    )
  } catch (err) {
    if (!(err instanceof DpopProofError)) throw err
    const reason = REASONS[err.reason] ?? 'dpop_proof_invalid'
    if (reason === 'dpop_replay_unavailable') {
      // An infrastructure failure is never silent: the store's error, never the proof.
      policy.logger.error(
        {
          event: 'dpop_replay_failed',
          error: err.cause instanceof Error ? err.cause.message : 'error',
        },
        'svcauth: the DPoP replay store failed',
      )
    }
    if (reason === 'dpop_nonce_required' && nonces !== undefined) {
      throw reject(reason, {
        cause: err,
        dpop: { ...dpop.challenges.dpop, nonce: nonces.current() },
      })
    }
    throw reject(reason, { cause: err })
  }
  if (nonce !== undefined && nonces !== undefined && nonces.stale(nonce)) {
    response?.setHeader('DPoP-Nonce', nonces.current())
  }
}

/**
 * The absolute URI the client addressed, without query and fragment; undefined when it cannot be
 * told (no origin, a Host that is not one, a request target that is not a path).
 */
function requestUri(req: RequestLike, publicOrigin: string | undefined): string | undefined {
  const target = req.url ?? '/'
  if (!target.startsWith('/')) return undefined
  const end = target.search(/[?#]/)
  const path = end === -1 ? target : target.slice(0, end)
  if (publicOrigin !== undefined) return publicOrigin + path
  const origin = req.origin === undefined ? null : ORIGIN.exec(req.origin)
  const scheme = origin?.[1]
  const host = origin?.[2]
  if (scheme === undefined || host === undefined || !HOST.test(host)) return undefined
  return `${scheme}://${host}${path}`
}
