/**
 * A user login without a browser: the OAuth 2.0 authorization-code flow with PKCE (RFC 7636)
 * driven over plain HTTP, the way a CLI such as `ochami login` could do it against the demo's
 * authorization server. Follows each redirect by hand, keeping the cookies oidc-provider sets
 * for the interaction, and posts the username and password to the login interaction.
 */
import { createHash, randomBytes } from 'node:crypto'
import { request } from 'undici'
import { LOOPBACK_REDIRECT } from './authorization-server.js'

export interface LoginOptions {
  readonly issuer: string
  readonly clientId: string
  readonly username: string
  readonly password: string
  readonly scope: string
  /** The RFC 8707 resource the access token is for. */
  readonly resource: string
}

/** Logs in and returns the user's access token. */
export async function loginWithPassword(options: LoginOptions): Promise<string> {
  const verifier = randomBytes(32).toString('base64url')
  const challenge = createHash('sha256').update(verifier).digest('base64url')
  const state = randomBytes(8).toString('hex')
  const jar = new Map<string, string>()
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
  const step = async (url: string, init: { method?: 'GET' | 'POST'; body?: string } = {}) => {
    const res = await request(url, {
      method: init.method ?? 'GET',
      headers: {
        cookie: cookie(),
        ...(init.body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      ...(init.body === undefined ? {} : { body: init.body }),
    })
    await res.body.dump()
    const set = res.headers['set-cookie']
    for (const line of Array.isArray(set) ? set : set === undefined ? [] : [set]) {
      const [pair] = line.split(';')
      const eq = pair?.indexOf('=') ?? -1
      if (pair !== undefined && eq > 0) jar.set(pair.slice(0, eq), pair.slice(eq + 1))
    }
    const location = res.headers.location
    if (res.statusCode < 300 || res.statusCode >= 400 || typeof location !== 'string') {
      throw new Error(`login: ${url.split('?')[0] ?? url} answered ${res.statusCode}`)
    }
    return new URL(location, options.issuer).toString()
  }

  const authorize = new URL(`${options.issuer}/auth`)
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: options.clientId,
    redirect_uri: LOOPBACK_REDIRECT,
    scope: options.scope,
    resource: options.resource,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
  }))
    authorize.searchParams.set(k, v)
  const interaction = await step(authorize.toString())
  const resume = await step(`${interaction}/login`, {
    method: 'POST',
    body: new URLSearchParams({
      username: options.username,
      password: options.password,
    }).toString(),
  })
  const callback = new URL(await step(resume))
  if (callback.searchParams.get('state') !== state)
    throw new Error('login: the authorization server asked for more than a login')
  const code = callback.searchParams.get('code')
  if (code === null) throw new Error(`login: ${callback.searchParams.get('error') ?? 'no code'}`)
  const res = await request(`${options.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: LOOPBACK_REDIRECT,
      code_verifier: verifier,
      client_id: options.clientId,
      resource: options.resource,
    }).toString(),
  })
  const body = (await res.body.json()) as {
    access_token?: unknown
    error?: unknown
    error_description?: unknown
  }
  if (res.statusCode !== 200 || typeof body.access_token !== 'string') {
    throw new Error(
      `login: token endpoint answered ${res.statusCode} ${String(body.error)}: ${String(body.error_description)}`,
    )
  }
  return body.access_token
}
