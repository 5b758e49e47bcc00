/**
 * One authenticated grant request, shared by the service client's grants and `requestToken`: the
 * grant's target parameters (`scope`, Hydra's space-delimited `audience`, RFC 8707 `resource`
 * once each), and the POST authenticated as the client (RFC 6749 §2.3: a secret, rotated through
 * on `invalid_client`, or a fresh RFC 7523 assertion per request), with a DPoP proof when the
 * client has a DPoP key (RFC 9449 §5; the nonce retry of §8 sends a new proof and, with
 * `private_key_jwt`, a new assertion, since the server has seen the first one's `jti`). With a TLS
 * method (RFC 8705 §2), the request carries `client_id` only: `limits.dispatcher` presents the
 * certificate.
 */
import type { DpopProver } from '../dpop.js'
import { TokenEndpointError } from '../errors.js'
import type { SecretRing } from '../secrets.js'
import {
  authenticateForm,
  clientAssertion,
  isTlsAuthMethod,
  type AssertionKey,
  type AuthMethod,
  type ClientProof,
} from './client-auth.js'
import { postToken, type DpopAnswer, type IssuedToken, type TokenLimits } from './token-request.js'

/** What a grant asks for beyond its grant type. */
export interface GrantTarget {
  readonly scope: readonly string[]
  readonly audience: readonly string[]
  readonly resource: readonly string[]
}

/**
 * How the client authenticates: a secret ring for client_secret_*, a key for private_key_jwt,
 * nothing for the TLS methods (the certificate is the connection's).
 */
export interface GrantAuth {
  readonly method: AuthMethod
  readonly secrets: SecretRing | undefined
  readonly assertionKey: AssertionKey | undefined
  /** `aud` of the assertion; the token endpoint URL when undefined. */
  readonly assertionAudience: string | undefined
}

/** Adds the target's scope, audience and resources to `form`. */
export function withTarget(form: URLSearchParams, target: GrantTarget): URLSearchParams {
  if (target.scope.length > 0) form.set('scope', target.scope.join(' '))
  if (target.audience.length > 0) form.set('audience', target.audience.join(' '))
  for (const r of target.resource) form.append('resource', r)
  return form
}

/** Posts `form` to `url` authenticated as `clientId`, with a DPoP proof when `dpop` is given. */
export async function postGrant(
  url: string,
  form: URLSearchParams,
  clientId: string,
  auth: GrantAuth,
  limits: TokenLimits,
  dpop?: DpopProver,
): Promise<IssuedToken> {
  /** One request (with its nonce retry), the client's proof made by `prove` for each send. */
  const send = (prove: () => ClientProof | Promise<ClientProof>): Promise<IssuedToken> => {
    const post = async (
      extra: Record<string, string>,
      observe?: DpopAnswer['observe'],
    ): Promise<IssuedToken> => {
      const { body, headers } = authenticateForm(clientId, form, await prove())
      return postToken(
        url,
        body,
        { ...headers, ...extra },
        limits,
        observe === undefined ? undefined : { observe },
      )
    }
    return dpop === undefined ? post({}) : dpop.tokenRequest(url, post)
  }
  const { method } = auth
  if (isTlsAuthMethod(method)) return send(() => ({ method }))
  if (auth.secrets === undefined) {
    const key = auth.assertionKey
    if (key === undefined) throw new TokenEndpointError('invalid_client')
    const audience = auth.assertionAudience ?? url
    return send(async () => ({
      method: 'private_key_jwt',
      assertion: await clientAssertion(clientId, audience, key),
    }))
  }
  const secretMethod = method === 'client_secret_post' ? method : 'client_secret_basic'
  return auth.secrets.attempt((secret) => send(() => ({ method: secretMethod, secret })))
}
