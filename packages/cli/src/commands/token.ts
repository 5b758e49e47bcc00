/**
 * `svcauth token`: one client-credentials token (RFC 6749 §4.4) with `client_secret_basic`,
 * `client_secret_post` or `private_key_jwt` (RFC 7523), from a configured or a discovered token
 * endpoint, by the client library's `requestToken`. The secret comes from a file or the
 * environment; on the command line only when forced. OAuth errors are explained in plain words.
 * stdout carries only the access token (issue 16, item 7), so `TOKEN=$(svcauth token …)` works;
 * the details go to stderr, or everything to stdout as JSON with `--json`.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import {
  isTokenEndpointError,
  requestToken,
  type AuthMethod,
  type TokenEndpointError,
} from '@svcauth/client'
import type { JWK } from 'jose'
import { secretFrom, storedClient, type StoredClient } from '../credentials.js'
import type { CliIo } from '../io.js'
import { emit, EXIT } from '../output.js'
import { list, parse, timeoutOf, UsageError, type Command } from '../parser.js'

const HELP = `usage: svcauth token (--token-endpoint URL | --issuer URL) (--client-id ID | --credentials-file F) [options]

  Prints only the access token on stdout (TOKEN=$(svcauth token ...) works); the token type,
  lifetime and scope go to stderr. With --json the whole token response goes to stdout.

  --credentials-file F       the file svcauth register wrote: its client id, secret and auth
                             method are the defaults; --client-id, --client-secret-file and
                             --auth-method given explicitly win over it
  --client-secret-file F     read the secret from a file (first line)
                             default: the credentials file, then the SVCAUTH_CLIENT_SECRET
                             environment variable
  --client-secret S          the secret on the command line; refused unless --allow-secret-arg
                             (argv is visible to every user of the machine)
  --private-key-file F       for --auth-method private_key_jwt: a PEM (PKCS#8) or JWK file
  --key-id KID               the kid of that key
  --auth-method M            client_secret_basic (default), client_secret_post, private_key_jwt
  --scope S                  scopes, space-separated or repeated
  --audience A               Hydra-style audience (repeatable)
  --resource R               RFC 8707 resource (repeatable)
  --json                     print the token response as JSON
`

const METHODS: readonly string[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt']

/** What each token endpoint error usually means, in plain words. */
const TOKEN_HINTS: Readonly<Record<string, string>> = {
  invalid_client:
    'the server refused the client credentials: a wrong secret, an unknown client id, or an auth method this client is not registered for (try --auth-method client_secret_post or client_secret_basic)',
  invalid_scope:
    'a requested scope is unknown or not allowed for this client (check the client registration scope list)',
  invalid_target:
    'the audience or resource is not allowed for this client (Hydra: the client audience allow-list)',
  invalid_grant: 'the grant was refused (expired or invalid credentials or assertion)',
  unauthorized_client: 'this client may not use the client_credentials grant (check grant_types)',
  unsupported_grant_type: 'the server does not offer the client_credentials grant',
  invalid_request: 'the server found the request malformed (a missing or repeated parameter)',
  server_error: 'the authorization server failed; try again later',
  temporarily_unavailable: 'the authorization server is overloaded or down; try again later',
  invalid_response: 'the answer was not a usable token response',
  network_error: 'the token endpoint could not be reached',
}

/** The library names its options; the operator typed flags. */
const FLAGS: Readonly<Record<string, string>> = {
  tokenEndpoint: '--token-endpoint',
  issuer: '--issuer',
}

async function run(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parse(HELP, io, args, {
    'token-endpoint': { type: 'string' },
    issuer: { type: 'string' },
    'client-id': { type: 'string' },
    'credentials-file': { type: 'string' },
    'client-secret-file': { type: 'string' },
    'client-secret': { type: 'string' },
    'allow-secret-arg': { type: 'boolean' },
    'private-key-file': { type: 'string' },
    'key-id': { type: 'string' },
    'auth-method': { type: 'string' },
    scope: { type: 'string', multiple: true },
    audience: { type: 'string', multiple: true },
    resource: { type: 'string', multiple: true },
  })
  if (parsed === undefined) return EXIT.ok
  const { values } = parsed
  const json = values.json === true
  const timeout = timeoutOf(values.timeout)
  const file = values['credentials-file']
  const stored = file === undefined ? undefined : await storedClient(file)
  const clientId = values['client-id'] ?? stored?.clientId
  if (clientId === undefined) throw new UsageError('--client-id is required')
  const method = (values['auth-method'] ?? storedMethod(stored, clientId)) as AuthMethod
  if (!METHODS.includes(method)) throw new UsageError(`unknown --auth-method ${method}`)
  const tokenEndpoint = values['token-endpoint']
  const issuer = values.issuer
  if (tokenEndpoint === undefined && issuer === undefined) {
    throw new UsageError('give --token-endpoint or --issuer')
  }
  let signing: { key: KeyObject | JWK; alg: string } | undefined
  if (method === 'private_key_jwt') {
    const keyFile = values['private-key-file']
    if (keyFile === undefined) throw new UsageError('private_key_jwt needs --private-key-file')
    signing = await privateKeyFrom(keyFile)
  }
  // Set once the token endpoint is known: a TokenEndpointError before that is discovery's.
  const endpoint = { known: false }
  try {
    const issued = await requestToken({
      ...(tokenEndpoint === undefined ? {} : { tokenEndpoint }),
      ...(issuer === undefined ? {} : { issuer }),
      clientId,
      authMethod: method,
      ...(signing === undefined
        ? { clientSecret: () => secretFrom(values, io, clientId, stored) }
        : {
            privateKey: signing.key,
            privateKeyAlg: signing.alg,
            ...(values['key-id'] === undefined ? {} : { privateKeyId: values['key-id'] }),
          }),
      scope: list(values.scope),
      audience: values.audience ?? [],
      resource: values.resource ?? [],
      timeout,
      allowInsecureHttp: values['allow-insecure-http'] === true,
      onTokenEndpoint: () => {
        endpoint.known = true
      },
    })
    const response = issued.response
    const expires =
      issued.expiresIn === undefined
        ? ''
        : ` (expires ${new Date(Date.now() + issued.expiresIn * 1000).toISOString()})`
    emit(io, json, response, `${issued.accessToken}\n`)
    // Details for the person at the terminal; a command substitution captures stdout alone.
    if (!json) {
      io.stderr.write(
        `token_type: ${String(response.token_type)}\n` +
          `expires_in: ${String(issued.expiresIn ?? 'not given')}${expires}\n` +
          (typeof response.scope === 'string' ? `scope: ${response.scope}\n` : ''),
      )
    }
    return EXIT.ok
  } catch (err) {
    if (err instanceof TypeError) throw new TypeError(flagged(err.message), { cause: err })
    if (!isTokenEndpointError(err)) throw err
    return endpoint.known ? refused(err, json, io) : discoveryFailed(err, io)
  }
}

/** A token request that failed: the OAuth error, the server's detail and what it usually means. */
function refused(err: TokenEndpointError, json: boolean, io: CliIo): number {
  const hint = TOKEN_HINTS[err.error] ?? 'see the server logs for this error'
  if (json) {
    emit(
      io,
      true,
      { error: err.error, status: err.status, error_description: err.description, hint },
      '',
    )
  } else {
    io.stderr.write(
      `svcauth: token request refused: ${err.error}${err.status === undefined ? '' : ` (HTTP ${String(err.status)})`}\n` +
        // The server's error_description, or svcauth's account of an answer that had none.
        (err.description === undefined ? '' : `  detail: ${err.description}\n`) +
        `  meaning: ${hint}\n`,
    )
  }
  // Refusals (bad credentials, scope, target) are 1; an unreachable or failing server is 3.
  return err.retryable ? EXIT.unreachable : EXIT.refused
}

/**
 * Discovery failed before anything was sent: the metadata could not be had, or (invalid_response)
 * it named a token endpoint the library's rule for discovered addresses refuses (catalogue L2), so
 * the secret never goes to a metadata service or, from a remote issuer, to this machine. A hostile
 * or broken server is exit 3, not a usage error.
 */
function discoveryFailed(err: TokenEndpointError, io: CliIo): number {
  const cause = err.cause instanceof Error ? err.cause.message : (err.description ?? err.message)
  if (err.error === 'invalid_response') {
    const problem = cause.replace(/^svcauth: (discovered )?/, '')
    io.stderr.write(`svcauth: discovery refused: the issuer's ${problem}; nothing was sent to it\n`)
  } else {
    io.stderr.write(`svcauth: discovery failed: ${cause}\n`)
  }
  return EXIT.unreachable
}

function flagged(message: string): string {
  return message.replace(
    /^svcauth: (tokenEndpoint|issuer) /,
    (whole, name: string) => `svcauth: ${FLAGS[name] ?? whole} `,
  )
}

/** The credentials file's auth method for its own client, when it is one this command speaks. */
function storedMethod(stored: StoredClient | undefined, clientId: string): string {
  const method = stored?.clientId === clientId ? stored.authMethod : undefined
  return method !== undefined && METHODS.includes(method) ? method : 'client_secret_basic'
}

async function privateKeyFrom(file: string): Promise<{ key: KeyObject | JWK; alg: string }> {
  const text = await readFile(file, 'utf8').catch(() => {
    throw new UsageError(`cannot read ${file}`)
  })
  if (text.trimStart().startsWith('{')) {
    const jwk = JSON.parse(text) as JWK
    return {
      key: jwk,
      alg: jwk.alg ?? (jwk.kty === 'EC' ? 'ES256' : jwk.kty === 'OKP' ? 'EdDSA' : 'RS256'),
    }
  }
  const key = createPrivateKey(text)
  const type = key.asymmetricKeyType
  return { key, alg: type === 'ec' ? 'ES256' : type === 'ed25519' ? 'EdDSA' : 'RS256' }
}

export const tokenCommand: Command = { help: HELP, run }
