/**
 * The token grant client: sends one grant (client credentials, RFC 6749 §4.4, or a token
 * exchange, RFC 8693 §2.1) to the current token endpoint, authenticated as the client
 * (`client_secret_basic`, `client_secret_post` with secret rotation through the SecretRing, or a
 * `private_key_jwt` assertion, RFC 7523). A failure that suggests the endpoint moved gets one more
 * try at a newly discovered endpoint (issue 14, R11). Every grant is logged with the client id,
 * the target, scope and audience, never a token or a secret: `token_fetched` (info), and
 * `token_refresh_failed` (warn: a valid token is still in use) or `token_fetch_failed` (error).
 * Each grant is published on `svcauth:outbound:token_request` (result, duration) when someone
 * listens (core's `diagnostics.ts`); a cached token makes no grant, so costs nothing. With the
 * client's `tls`, each grant goes out on the connections of the current certificate, taken once
 * per grant, and the token is recorded as bound to that certificate (RFC 8705 §3).
 */
import type { TokenRequestEvent } from '@svcauth/core'
import { tokenRequestChannel } from '@svcauth/core/internal'
import type { ClientIdentity } from './client-identity.js'
import type { DpopProver } from './dpop.js'
import { isTokenEndpointError, TokenEndpointError } from './errors.js'
import { postGrant, type GrantAuth } from './lib/grant-request.js'
import type { IssuedToken } from './lib/token-request.js'
import type { ResolvedOptions } from './resolve-options.js'
import type { ResolvedTarget } from './targets.js'
import type { TlsTransport } from './tls-transport.js'
import type { TokenEndpoints } from './token-endpoint.js'

/** Sends one grant for `target`; `refresh` when a still-valid token is being replaced. */
export type Grant = (
  form: URLSearchParams,
  target: ResolvedTarget,
  refresh: boolean,
) => Promise<IssuedToken>

/**
 * The grant client of one service client; with `dpop`, every grant carries a proof (RFC 9449 §5);
 * with `tls`, every grant presents the client certificate (RFC 8705 §2, §3).
 */
export function createGrant(
  options: ResolvedOptions,
  identity: ClientIdentity,
  endpoints: TokenEndpoints,
  dpop: DpopProver | undefined,
  tls: TlsTransport | undefined,
): Grant {
  const { authMethod, assertionKey, assertionAudience, limits, logger } = options
  const auth: GrantAuth = {
    method: authMethod,
    secrets: identity.secrets,
    assertionKey,
    assertionAudience,
  }
  const authenticated = async (url: string, form: URLSearchParams): Promise<IssuedToken> => {
    if (tls === undefined) return postGrant(url, form, identity.id, auth, limits, dpop)
    // One set of connections for the whole grant: the token is bound to what they present.
    const { agent, certificate } = tls.current()
    const issued = await postGrant(
      url,
      form,
      identity.id,
      auth,
      { ...limits, dispatcher: agent },
      dpop,
    )
    return { ...issued, certificate }
  }

  const grant: Grant = async (form, target, refresh) => {
    try {
      // Inside the try: a failed first discovery is logged like any failed request (issue 16).
      const url = await endpoints.current()
      await identity.ready()
      const issued = await authenticated(url, form).catch(async (err: unknown) => {
        // R11: an endpoint that stopped answering may have moved; if discovery names another, one
        // more try there (the failure stands when it names the same one, or fails).
        const moved = isTokenEndpointError(err) ? await endpoints.moved(url, err) : undefined
        if (moved === undefined) throw err
        return authenticated(moved, form)
      })
      logger?.info?.(
        {
          event: 'token_fetched',
          client_id: identity.id,
          grant_type: form.get('grant_type'),
          ...target.logFields,
          expires_in: issued.expiresIn,
          ...(dpop === undefined ? {} : { token_type: issued.dpop ? 'DPoP' : 'Bearer' }),
          ...(issued.certificate === undefined ? {} : { x5t_s256: issued.certificate }),
        },
        'svcauth: service token fetched',
      )
      return issued
    } catch (err) {
      const e =
        err instanceof TokenEndpointError
          ? err
          : new TokenEndpointError('network_error', { cause: err })
      const fields = {
        event: refresh ? 'token_refresh_failed' : 'token_fetch_failed',
        client_id: identity.id,
        grant_type: form.get('grant_type'),
        ...target.logFields,
        error: e.error,
        status: e.status,
        error_description: e.description,
      }
      // A failed refresh ahead of expiry still has a valid token in use: a warning, not an outage.
      if (refresh)
        logger?.warn(fields, 'svcauth: token refresh failed; the current token stays in use')
      else logger?.error(fields, 'svcauth: token request failed')
      throw e
    }
  }

  /** The grant, timed and published; the clock is read only when someone listens. */
  const observed: Grant = async (form, target, refresh) => {
    const start = performance.now()
    const event = (result: 'ok' | 'error', error?: string): TokenRequestEvent => ({
      clientId: identity.id,
      grantType: form.get('grant_type') ?? 'unknown',
      result,
      ...(error === undefined ? {} : { error }),
      duration: (performance.now() - start) / 1000,
    })
    try {
      const issued = await grant(form, target, refresh)
      tokenRequestChannel.publish(event('ok'))
      return issued
    } catch (err) {
      tokenRequestChannel.publish(event('error', (err as TokenEndpointError).error))
      throw err
    }
  }

  return (form, target, refresh) =>
    tokenRequestChannel.hasSubscribers
      ? observed(form, target, refresh)
      : grant(form, target, refresh)
}
