/**
 * The `svcauth` operator CLI: get a token, see what a token says and why a service would refuse
 * it, register a client and rotate its secret, without writing code. No framework: node's
 * `parseArgs`. Secrets come from files or the environment, never from argv unless forced.
 *
 * Exit codes: 0 success; 1 refused (an OAuth error, a rejected token, a failed registration);
 * 2 usage error; 3 the server could not be reached or answered garbage.
 */
import { readFile } from 'node:fs/promises'
import { createPrivateKey, type KeyObject } from 'node:crypto'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import {
  auditRecord,
  createAuthenticator,
  isAuthError,
  requireScopes,
  type Principal,
} from '@svcauth/core'
import { assertDiscoveredUrl, assertUrl, discoverMetadata } from '@svcauth/core/internal'
import { decodeJwt, decodeProtectedHeader, type JWK } from 'jose'
import { isTokenEndpointError, TokenEndpointError } from './errors.js'
import {
  authenticateForm,
  clientAssertion,
  type AuthMethod,
  type ClientProof,
} from './lib/client-auth.js'
import { postToken } from './lib/token-request.js'
import {
  isRegistrationError,
  loadCredentials,
  registerClient,
  rotateClientSecret,
  saveCredentials,
  type ClientMetadata,
} from './registration.js'

/** Where the CLI writes, and what it reads: process streams by default, buffers in tests. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown }
  readonly stderr: { write(text: string): unknown }
  readonly env: Readonly<Record<string, string | undefined>>
  readonly stdin?: () => Promise<string>
}

class UsageError extends Error {}
/** Discovery metadata named an address the discovered-URL rule refuses. */
class UnsafeMetadataError extends Error {}

const HELP = `svcauth: service-to-service auth from a shell

usage: svcauth <command> [options]

commands:
  token          get a client-credentials token (prints the token response)
  inspect        decode a token, verify it against the issuer's keys, and show the principal
                 svcauth would build, or the exact reason and status it would refuse it with
  register       register an OAuth client (RFC 7591 or Hydra's admin API), save its credentials
  rotate-secret  give a registered client a new secret and update its credentials file

every command: --json for JSON output, --help for its options
exit codes: 0 ok, 1 refused, 2 usage error, 3 server unreachable or broken
`

const COMMON = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  'allow-insecure-http': { type: 'boolean' },
  timeout: { type: 'string' },
} as const satisfies ParseArgsConfig['options']

const HELPS: Record<string, string> = {
  token: `usage: svcauth token (--token-endpoint URL | --issuer URL) --client-id ID [options]

  --client-secret-file F     read the secret from a file (first line)
                             default: the SVCAUTH_CLIENT_SECRET environment variable
  --client-secret S          the secret on the command line; refused unless --allow-secret-arg
                             (argv is visible to every user of the machine)
  --private-key-file F       for --auth-method private_key_jwt: a PEM (PKCS#8) or JWK file
  --key-id KID               the kid of that key
  --auth-method M            client_secret_basic (default), client_secret_post, private_key_jwt
  --scope S                  scopes, space-separated or repeated
  --audience A               Hydra-style audience (repeatable)
  --resource R               RFC 8707 resource (repeatable)
  --json                     print the token response as JSON
`,
  inspect: `usage: svcauth inspect [TOKEN | - | --token-file F] [--issuer I] [--audience A] [--jwks-uri U]

  TOKEN is taken from the argument, stdin (-), --token-file, or SVCAUTH_TOKEN.
  Without --issuer or --jwks-uri the token is only decoded, not verified.
  --issuer I       the issuer to verify against (keys from its discovery document)
  --jwks-uri U     the key set to verify against (the issuer is then the token's own iss)
  --audience A     the audience this service expects (without it, any audience passes)
  --scope S        scopes a route would require (space-separated or repeated)
  --json           print the result as JSON
`,
  register: `usage: svcauth register (--registration-endpoint URL | --admin-url URL) --out FILE [options]

  --registration-endpoint U    RFC 7591 dynamic registration (Hydra: {public}/oauth2/register)
  --admin-url U                Hydra's admin API base (e.g. http://hydra:4445)
  --initial-access-token-file F  RFC 7591 initial access token (or SVCAUTH_INITIAL_ACCESS_TOKEN)
  --client-id ID               ask for this id (Hydra's admin API)
  --client-name N
  --scope S                    space-separated or repeated
  --audience A                 Hydra audience allow-list (repeatable)
  --grant-type G               repeatable; default client_credentials
  --auth-method M              token_endpoint_auth_method; default client_secret_basic
  --out FILE                   write the credentials there (mode 0600)
  --show-secret                also print the secret (with --json)
`,
  'rotate-secret': `usage: svcauth rotate-secret --credentials-file FILE [--json]

  Rotates with Hydra's rotate endpoint when the server has it (the old secret keeps working until
  the rotation is finished), otherwise by an update that sets a new secret, and writes the new
  secret to the same file.
`,
}

/**
 * Runs the CLI with `argv` (without `node` and the script) and returns the exit code.
 *
 * @example
 * ```ts
 * const code = await runCli(['inspect', token, '--issuer', 'https://hydra.example/'])
 * ```
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo = {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    stdin: readStdin,
  },
): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case 'token':
        return await tokenCommand(rest, io)
      case 'inspect':
        return await inspectCommand(rest, io)
      case 'register':
        return await registerCommand(rest, io)
      case 'rotate-secret':
        return await rotateCommand(rest, io)
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(HELP)
        return command === undefined ? 2 : 0
      default:
        throw new UsageError(`unknown command: ${command}`)
    }
  } catch (err) {
    if (
      err instanceof UsageError ||
      (err as { code?: unknown }).code?.toString().startsWith('ERR_PARSE_ARGS')
    ) {
      io.stderr.write(`svcauth: ${(err as Error).message}\n\n${HELPS[command ?? ''] ?? HELP}`)
      return 2
    }
    if (err instanceof TypeError) {
      io.stderr.write(`svcauth: ${err.message}\n`)
      return 2
    }
    throw err
  }
}

/** Parses a command's options; prints the command's help and gives undefined for `--help`. */
function parse<T extends ParseArgsConfig['options']>(
  command: string,
  io: CliIo,
  args: readonly string[],
  options: T,
  positionals = false,
) {
  const parsed = parseArgs({
    args: [...args],
    options: { ...COMMON, ...options },
    allowPositionals: positionals,
    strict: true,
  })
  if ((parsed.values as { help?: boolean }).help !== true) return parsed
  io.stdout.write(HELPS[command] ?? HELP)
  return undefined
}

function list(values: string | string[] | undefined): string[] {
  if (values === undefined) return []
  return [values]
    .flat()
    .flatMap((v) => v.split(' '))
    .filter((v) => v !== '')
}

function emit(io: CliIo, json: boolean, value: unknown, text: string): void {
  io.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : text)
}

function timeoutOf(value: string | undefined): number {
  if (value === undefined) return 10_000
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0) throw new UsageError('--timeout takes milliseconds')
  return n
}

async function firstLine(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => {
    throw new UsageError(`cannot read ${file}`)
  })
  const line = text.split(/\r?\n/)[0]?.trim() ?? ''
  if (line === '') throw new UsageError(`${file} is empty`)
  return line
}

// ------------------------------------------------------------------------------ token

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

async function tokenCommand(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parse('token', io, args, {
    'token-endpoint': { type: 'string' },
    issuer: { type: 'string' },
    'client-id': { type: 'string' },
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
  if (parsed === undefined) return 0
  const { values } = parsed
  const json = values.json === true
  const allowHttp = values['allow-insecure-http'] === true
  const timeout = timeoutOf(values.timeout)
  const clientId = values['client-id']
  if (clientId === undefined) throw new UsageError('--client-id is required')
  const method = (values['auth-method'] ?? 'client_secret_basic') as AuthMethod
  if (!['client_secret_basic', 'client_secret_post', 'private_key_jwt'].includes(method)) {
    throw new UsageError(`unknown --auth-method ${method}`)
  }
  const limits = { timeout, maxBytes: 65_536, dispatcher: undefined }
  let endpoint: string
  try {
    endpoint = await tokenEndpointOf(values['token-endpoint'], values.issuer, allowHttp, timeout)
  } catch (err) {
    if (err instanceof UnsafeMetadataError) {
      io.stderr.write(`svcauth: discovery refused: ${err.message}; nothing was sent to it\n`)
      return 3
    }
    if (err instanceof UsageError || err instanceof TypeError) throw err
    io.stderr.write(`svcauth: discovery failed: ${(err as Error).message}\n`)
    return 3
  }
  const form = new URLSearchParams({ grant_type: 'client_credentials' })
  const scope = list(values.scope)
  if (scope.length > 0) form.set('scope', scope.join(' '))
  const audience = values.audience ?? []
  if (audience.length > 0) form.set('audience', audience.join(' '))
  for (const r of values.resource ?? []) form.append('resource', r)
  let proof: ClientProof
  if (method === 'private_key_jwt') {
    const file = values['private-key-file']
    if (file === undefined) throw new UsageError('private_key_jwt needs --private-key-file')
    const { key, alg } = await privateKeyFrom(file)
    const assertion = await clientAssertion(clientId, endpoint, { key, alg, kid: values['key-id'] })
    proof = { method, assertion }
  } else {
    proof = { method, secret: await secretFrom(values, io) }
  }
  const { body, headers } = authenticateForm(clientId, form, proof)
  try {
    const issued = await postToken(endpoint, body, headers, limits)
    const response = issued.response
    const expires =
      issued.expiresIn === undefined
        ? ''
        : ` (expires ${new Date(Date.now() + issued.expiresIn * 1000).toISOString()})`
    emit(
      io,
      json,
      response,
      `${issued.accessToken}\n` +
        `token_type: ${String(response.token_type)}\n` +
        `expires_in: ${String(issued.expiresIn ?? 'not given')}${expires}\n` +
        (typeof response.scope === 'string' ? `scope: ${response.scope}\n` : ''),
    )
    return 0
  } catch (err) {
    if (!isTokenEndpointError(err)) throw err
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
    return err.retryable ? 3 : 1
  }
}

async function tokenEndpointOf(
  tokenEndpoint: string | undefined,
  issuer: string | undefined,
  allowHttp: boolean,
  timeout: number,
): Promise<string> {
  if (tokenEndpoint !== undefined)
    return assertUrl('--token-endpoint', tokenEndpoint, allowHttp, false)
  if (issuer === undefined) throw new UsageError('give --token-endpoint or --issuer')
  const meta = await discoverMetadata(
    assertUrl('--issuer', issuer, allowHttp, false),
    { timeout, maxBytes: 262_144, dispatcher: undefined },
    allowHttp,
  )
  if (typeof meta.token_endpoint !== 'string') {
    throw new TokenEndpointError('invalid_response', {
      description: 'no token_endpoint in metadata',
    })
  }
  // The library's rule for discovered addresses (catalogue L2), so the secret is never sent to a
  // metadata service or, from a remote issuer, to this machine. A hostile or broken server is
  // exit 3, not a usage error.
  try {
    return assertDiscoveredUrl('token_endpoint', issuer, meta.token_endpoint, allowHttp)
  } catch (err) {
    throw new UnsafeMetadataError(
      `the issuer's ${(err as Error).message.replace(/^svcauth: /, '')}`,
    )
  }
}

async function secretFrom(
  values: { 'client-secret-file'?: string; 'client-secret'?: string; 'allow-secret-arg'?: boolean },
  io: CliIo,
): Promise<string> {
  if (values['client-secret'] !== undefined) {
    if (values['allow-secret-arg'] !== true) {
      throw new UsageError(
        'a secret on the command line is visible to every user of this machine: use --client-secret-file or SVCAUTH_CLIENT_SECRET (or add --allow-secret-arg)',
      )
    }
    return values['client-secret']
  }
  if (values['client-secret-file'] !== undefined) return firstLine(values['client-secret-file'])
  const env = io.env.SVCAUTH_CLIENT_SECRET
  if (env !== undefined && env !== '') return env
  throw new UsageError('no client secret: give --client-secret-file or set SVCAUTH_CLIENT_SECRET')
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

// ------------------------------------------------------------------------------ inspect

/** What each rejection reason means for an operator. */
const REASON_HINTS: Readonly<Partial<Record<string, string>>> = {
  expired: 'the token is past its exp (with the clock tolerance): get a new one',
  not_yet_valid: 'nbf is in the future: a clock is wrong, here or at the issuer',
  iat_invalid: 'iat is in the future: a clock is wrong, here or at the issuer',
  aud_invalid:
    'the token is not for this audience: request it with this service audience (Hydra: audience=..., and the client audience allow-list)',
  iss_invalid: 'the token comes from another issuer than the one this service trusts',
  signature_invalid: 'the signature does not match the issuer keys: a forged or altered token',
  key_not_found:
    'the token kid is not in the issuer key set (a key from elsewhere, or a removed key)',
  alg_not_allowed: 'the token algorithm is not allowed (none, HS*, or outside the allow-list)',
  malformed_jws: 'not a well-formed JWT',
  typ_invalid: 'the token typ header is not an access-token type (an ID token?)',
  lifetime_too_long: 'exp is too far after iat',
  claim_missing: 'a required claim is missing',
  claim_type_invalid: 'a claim has the wrong type',
  sender_constrained: 'a sender-constrained (cnf) token presented as a plain bearer token',
  insufficient_scope:
    'the token lacks a scope the route requires (the client may not be allowed it)',
  jwks_unavailable: 'the issuer keys could not be fetched',
  crit_unsupported: 'the token has critical header parameters svcauth does not process',
}

async function inspectCommand(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parse(
    'inspect',
    io,
    args,
    {
      issuer: { type: 'string' },
      audience: { type: 'string', multiple: true },
      'jwks-uri': { type: 'string' },
      scope: { type: 'string', multiple: true },
      'token-file': { type: 'string' },
    },
    true,
  )
  if (parsed === undefined) return 0
  const { values, positionals } = parsed
  const json = values.json === true
  const token = await tokenFrom(positionals, values['token-file'], io)
  let header: Record<string, unknown>
  let claims: Record<string, unknown>
  try {
    header = decodeProtectedHeader(token)
    claims = decodeJwt(token)
  } catch {
    const result = {
      verified: false,
      format: 'opaque',
      note: 'not a JWT: only the issuer can say what it means (introspection)',
    }
    emit(
      io,
      json,
      result,
      `not a JWT (an opaque token?): only introspection at the issuer can tell what it means\n`,
    )
    return 1
  }
  const now = Math.floor(Date.now() / 1000)
  const exp = typeof claims.exp === 'number' ? claims.exp : undefined
  const timing =
    exp === undefined
      ? 'no exp'
      : exp <= now
        ? `expired ${human(now - exp)} ago`
        : `expires in ${human(exp - now)}`
  const issuer = values.issuer
  const jwksUri = values['jwks-uri']
  if (issuer === undefined && jwksUri === undefined) {
    const result = { verified: false, header, claims, expiry: timing }
    emit(
      io,
      json,
      result,
      `header: ${JSON.stringify(header)}\nclaims: ${JSON.stringify(claims, null, 2)}\n${timing}\n` +
        'NOT VERIFIED: give --issuer (or --jwks-uri) and --audience to check it as a service would\n',
    )
    return 0
  }
  const allowHttp = values['allow-insecure-http'] === true
  const audience = values.audience ?? []
  const iss = issuer ?? (typeof claims.iss === 'string' ? claims.iss : undefined)
  if (iss === undefined) throw new UsageError('the token has no iss: give --issuer')
  const silent = { info() {}, warn() {}, error() {} }
  const auth = createAuthenticator({
    issuer: iss,
    audience: audience.length === 0 ? false : audience,
    ...(jwksUri === undefined ? {} : { jwksUri }),
    allowInsecureHttp: allowHttp,
    logger: silent,
  })
  try {
    const principal = await auth.verify(token)
    const required = list(values.scope)
    if (required.length > 0) requireScopes(...required)(principal)
    const result = {
      verified: true,
      result: 'accepted',
      status: 200,
      principal: describe(principal),
      expiry: timing,
      audienceChecked: audience.length > 0,
    }
    emit(
      io,
      json,
      result,
      `accepted (a service would answer 200)\n${principalText(principal)}  ${timing}\n` +
        (audience.length === 0
          ? 'note: no --audience given, so the audience was not checked\n'
          : ''),
    )
    return 0
  } catch (err) {
    if (!isAuthError(err)) throw err
    const e = err
    const hint = REASON_HINTS[e.reason] ?? ''
    const result = {
      verified: true,
      result: 'rejected',
      status: e.status,
      error: e.code,
      reason: e.reason,
      hint,
      claims,
      expiry: timing,
    }
    emit(
      io,
      json,
      result,
      `rejected: ${e.reason} (a service would answer ${String(e.status)} ${e.code})\n` +
        (hint === '' ? '' : `  meaning: ${hint}\n`) +
        `  ${timing}\n`,
    )
    return e.reason === 'jwks_unavailable' ? 3 : 1
  } finally {
    auth.close()
  }
}

function describe(p: Principal): Record<string, unknown> {
  return {
    ...auditRecord(p),
    scopes: [...p.scopes],
    issuer: p.issuer,
    audience: p.audience,
    expires_at: p.expiresAt.toISOString(),
  }
}

function principalText(p: Principal): string {
  const r = auditRecord(p) as unknown as Record<string, unknown>
  const lines = [
    `  actor_type: ${String(r.actor_type)}`,
    `  actor_id:   ${String(r.actor_id)}`,
    `  sub:        ${String(r.sub)}`,
    `  client_id:  ${String(r.client_id)}`,
    `  scopes:     ${[...p.scopes].join(' ')}`,
    `  issuer:     ${p.issuer}`,
    `  audience:   ${p.audience.join(' ')}`,
    ...(r.act === undefined ? [] : [`  act:        ${JSON.stringify(r.act)}`]),
    `  expires_at: ${p.expiresAt.toISOString()}`,
  ]
  return `${lines.join('\n')}\n`
}

function human(seconds: number): string {
  if (seconds < 120) return `${String(seconds)} s`
  if (seconds < 7200) return `${String(Math.round(seconds / 60))} min`
  return `${String(Math.round(seconds / 3600))} h`
}

async function tokenFrom(
  positionals: readonly string[],
  file: string | undefined,
  io: CliIo,
): Promise<string> {
  let token: string | undefined
  if (file !== undefined) token = await firstLine(file)
  else if (positionals[0] === '-') token = (await (io.stdin ?? readStdin)()).trim()
  else if (positionals[0] !== undefined) token = positionals[0]
  else token = io.env.SVCAUTH_TOKEN
  if (token === undefined || token === '')
    throw new UsageError('no token: give TOKEN, -, --token-file or SVCAUTH_TOKEN')
  return token.replace(/^bearer\s+/i, '')
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk)
  return Buffer.concat(chunks).toString('utf8')
}

// ------------------------------------------------------------------------------ register

async function registerCommand(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parse('register', io, args, {
    'registration-endpoint': { type: 'string' },
    'admin-url': { type: 'string' },
    'initial-access-token-file': { type: 'string' },
    'client-id': { type: 'string' },
    'client-name': { type: 'string' },
    scope: { type: 'string', multiple: true },
    audience: { type: 'string', multiple: true },
    'grant-type': { type: 'string', multiple: true },
    'auth-method': { type: 'string' },
    out: { type: 'string' },
    'show-secret': { type: 'boolean' },
  })
  if (parsed === undefined) return 0
  const { values } = parsed
  const json = values.json === true
  const endpoint = values['registration-endpoint']
  const adminUrl = values['admin-url']
  if ((endpoint === undefined) === (adminUrl === undefined)) {
    throw new UsageError('give one of --registration-endpoint and --admin-url')
  }
  const out = values.out
  if (out === undefined && values['show-secret'] !== true) {
    throw new UsageError('give --out FILE to keep the credentials (or --show-secret to print them)')
  }
  const initial =
    values['initial-access-token-file'] === undefined
      ? io.env.SVCAUTH_INITIAL_ACCESS_TOKEN
      : await firstLine(values['initial-access-token-file'])
  const scope = list(values.scope)
  const metadata: ClientMetadata = {
    ...(values['client-id'] === undefined ? {} : { client_id: values['client-id'] }),
    ...(values['client-name'] === undefined ? {} : { client_name: values['client-name'] }),
    ...(scope.length === 0 ? {} : { scope: scope.join(' ') }),
    ...(values.audience === undefined ? {} : { audience: values.audience }),
    ...(values['grant-type'] === undefined ? {} : { grant_types: values['grant-type'] }),
    token_endpoint_auth_method: (values['auth-method'] ?? 'client_secret_basic') as NonNullable<
      ClientMetadata['token_endpoint_auth_method']
    >,
  }
  try {
    const client = await registerClient({
      ...(endpoint === undefined
        ? { adminUrl: adminUrl ?? '' }
        : { registrationEndpoint: endpoint }),
      ...(initial === undefined || initial === '' ? {} : { initialAccessToken: initial }),
      metadata,
      allowInsecureHttp: values['allow-insecure-http'] === true,
      timeout: timeoutOf(values.timeout),
    })
    if (out !== undefined) await saveCredentials(out, client)
    const show = values['show-secret'] === true
    emit(
      io,
      json,
      {
        client_id: client.clientId,
        ...(show ? { client_secret: client.clientSecret } : {}),
        token_endpoint_auth_method: client.tokenEndpointAuthMethod,
        registration_client_uri: client.registrationClientUri,
        ...(out === undefined ? {} : { credentials_file: out }),
      },
      `registered client ${client.clientId}\n` +
        (out === undefined ? '' : `credentials saved to ${out} (mode 0600)\n`) +
        (show ? `client_secret: ${client.clientSecret ?? '(none)'}\n` : ''),
    )
    return 0
  } catch (err) {
    return registrationFailure(err, io)
  }
}

async function rotateCommand(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parse('rotate-secret', io, args, { 'credentials-file': { type: 'string' } })
  if (parsed === undefined) return 0
  const { values } = parsed
  const file = values['credentials-file']
  if (file === undefined) throw new UsageError('--credentials-file is required')
  try {
    const stored = await loadCredentials(file)
    if (stored === undefined) throw new UsageError(`${file} does not exist`)
    const rotated = await rotateClientSecret(stored, {
      allowInsecureHttp: values['allow-insecure-http'] === true,
      timeout: timeoutOf(values.timeout),
    })
    await saveCredentials(file, rotated)
    emit(
      io,
      values.json === true,
      { client_id: rotated.clientId, rotated: true, credentials_file: file },
      `new secret for ${rotated.clientId} saved to ${file}\n`,
    )
    return 0
  } catch (err) {
    if (err instanceof UsageError) throw err
    return registrationFailure(err, io, 'secret rotation')
  }
}

const REGISTRATION_HINTS: Readonly<Record<string, string>> = {
  invalid_token:
    'the server wants an initial access token (or a valid registration access token) for this',
  conflict:
    'a client with this id exists already; its secret was only in the answer that created it',
  invalid_client_metadata: 'the server refused the client metadata',
  not_found: 'no such client (or the server does not offer this operation)',
  network_error: 'the server could not be reached',
  storage_error: 'the credentials file could not be read or written',
  unsupported_operation:
    'this server does not issue a new secret on update (RFC 7592 allows it, does not require it): rotate the secret at the server and put it in the file',
}

function registrationFailure(err: unknown, io: CliIo, what = 'registration'): number {
  if (!isRegistrationError(err)) throw err
  io.stderr.write(
    `svcauth: ${what} failed: ${err.error}${err.status === undefined ? '' : ` (HTTP ${String(err.status)})`}\n` +
      (err.description === undefined ? '' : `  server says: ${err.description}\n`) +
      (REGISTRATION_HINTS[err.error] === undefined
        ? ''
        : `  meaning: ${REGISTRATION_HINTS[err.error] ?? ''}\n`),
  )
  return err.error === 'network_error' ||
    err.error === 'server_error' ||
    err.error === 'invalid_response'
    ? 3
    : 1
}
