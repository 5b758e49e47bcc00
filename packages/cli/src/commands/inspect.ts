/**
 * `svcauth inspect`: decode a token and, given the issuer (or a key set), verify it with the same
 * authenticator a service runs (@svcauth/core), so the result is the principal a service would
 * build or the reason, status and code (RFC 6750 §3.1) it would refuse the token with. An opaque
 * token (Hydra's `ory_at_…`) is introspected (RFC 7662) through the core's `introspection`
 * option, at `--introspection-endpoint` or the issuer's discovered `introspection_endpoint`
 * (issue 16, item 7).
 */
import { createAuthenticator, type AuthenticatorOptions } from '@svcauth/core'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { secretFrom, storedClient, type SecretOptions } from '../credentials.js'
import { firstLine, readStdin, type CliIo } from '../io.js'
import { emit, EXIT } from '../output.js'
import { list, parse, UsageError, type Command } from '../parser.js'
import { judge, timingOf } from '../verdict.js'

const HELP = `usage: svcauth inspect [TOKEN | - | --token-file F] [--issuer I] [--audience A] [--jwks-uri U]
       svcauth inspect [TOKEN | - | --token-file F] --issuer I [--introspection-endpoint U] [--client-id ID]

  TOKEN is taken from the argument, stdin (-), --token-file, or SVCAUTH_TOKEN.
  Without --issuer or --jwks-uri the token is only decoded, not verified.
  --issuer I       the issuer to verify against (keys from its discovery document)
  --jwks-uri U     the key set to verify against (the issuer is then the token's own iss)
  --audience A     the audience this service expects (without it, any audience passes)
  --scope S        scopes a route would require (space-separated or repeated)
  --json           print the result as JSON

  An opaque token (not a JWT, e.g. Hydra's ory_at_...) is introspected (RFC 7662) with --issuer:
  --introspection-endpoint U  where (Hydra: {admin}/admin/oauth2/introspect); default: the
                              introspection_endpoint of the issuer's discovery metadata
  --client-id ID              authenticate the introspection call as this client (Hydra's admin
                              API needs none); the secret from --client-secret-file F, the
                              credentials file, or SVCAUTH_CLIENT_SECRET
  --credentials-file F        the file svcauth register wrote: its client id, secret and auth
                              method are the defaults; explicit options win over it
  --auth-method M             client_secret_basic (default) or client_secret_post
`

const INTROSPECTION_METHODS: readonly string[] = ['client_secret_basic', 'client_secret_post']

/** The parsed options the verification helpers read. */
interface Values extends SecretOptions {
  readonly json?: boolean | undefined
  readonly issuer?: string | undefined
  readonly audience?: string[] | undefined
  readonly scope?: string[] | undefined
  readonly 'allow-insecure-http'?: boolean | undefined
  readonly 'introspection-endpoint'?: string | undefined
  readonly 'client-id'?: string | undefined
  readonly 'credentials-file'?: string | undefined
  readonly 'auth-method'?: string | undefined
}

async function run(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parse(
    HELP,
    io,
    args,
    {
      issuer: { type: 'string' },
      audience: { type: 'string', multiple: true },
      'jwks-uri': { type: 'string' },
      scope: { type: 'string', multiple: true },
      'token-file': { type: 'string' },
      'introspection-endpoint': { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret-file': { type: 'string' },
      'client-secret': { type: 'string' },
      'allow-secret-arg': { type: 'boolean' },
      'credentials-file': { type: 'string' },
      'auth-method': { type: 'string' },
    },
    true,
  )
  if (parsed === undefined) return EXIT.ok
  const { values, positionals } = parsed
  const json = values.json === true
  const token = await tokenFrom(positionals, values['token-file'], io)
  let header: Record<string, unknown>
  let claims: Record<string, unknown>
  try {
    header = decodeProtectedHeader(token)
    claims = decodeJwt(token)
  } catch {
    return inspectOpaque(token, values, io)
  }
  const timing = timingOf(typeof claims.exp === 'number' ? claims.exp : undefined)
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
    return EXIT.ok
  }
  const iss = issuer ?? (typeof claims.iss === 'string' ? claims.iss : undefined)
  if (iss === undefined) throw new UsageError('the token has no iss: give --issuer')
  const auth = createAuthenticator({
    ...serviceOptions(iss, values),
    ...(jwksUri === undefined ? {} : { jwksUri }),
  })
  try {
    return await judge(auth, token, { ...context(values), timing, claims, format: 'jwt' }, io)
  } finally {
    auth.close()
  }
}

/**
 * A token that is not a JWT: only its issuer can say what it means. With `--issuer`, the core's
 * introspection decides, exactly as for a service configured with `introspection`; the issuer is
 * required because a service checks the answer's `iss` against it.
 */
async function inspectOpaque(token: string, values: Values, io: CliIo): Promise<number> {
  const issuer = values.issuer
  const endpoint = values['introspection-endpoint']
  if (issuer === undefined) {
    if (endpoint !== undefined) {
      throw new UsageError('--introspection-endpoint needs --issuer (the answer iss is checked)')
    }
    const result = {
      verified: false,
      format: 'opaque',
      note: 'not a JWT: only the issuer can say what it means (introspection: give --issuer)',
    }
    emit(
      io,
      values.json === true,
      result,
      'not a JWT (an opaque token?): only introspection at the issuer can tell what it means;\n' +
        'give --issuer (and --introspection-endpoint unless the issuer metadata names one)\n',
    )
    return EXIT.refused
  }
  const auth = createAuthenticator({
    ...serviceOptions(issuer, values),
    introspection: {
      ...(endpoint === undefined ? {} : { endpoint }),
      ...(await introspectionClient(values, io)),
      // One look, no reuse: the CLI runs once.
      cacheTtl: 0,
    },
  })
  try {
    return await judge(auth, token, { ...context(values), format: 'opaque' }, io)
  } finally {
    auth.close()
  }
}

/** The options a service would have: the issuer, the audience (or none), silent logs. */
function serviceOptions(issuer: string, values: Values): AuthenticatorOptions {
  const audience = values.audience ?? []
  return {
    issuer,
    audience: audience.length === 0 ? false : audience,
    allowInsecureHttp: values['allow-insecure-http'] === true,
    logger: { warn() {}, error() {} },
  }
}

function context(values: Values): { required: string[]; audienceChecked: boolean; json: boolean } {
  return {
    required: list(values.scope),
    audienceChecked: (values.audience ?? []).length > 0,
    json: values.json === true,
  }
}

/**
 * Client authentication for the introspection call: none unless a client id is given or a
 * credentials file names one (Hydra's admin API has none; oidc-provider requires it).
 */
async function introspectionClient(
  values: Values,
  io: CliIo,
): Promise<NonNullable<AuthenticatorOptions['introspection']>> {
  const file = values['credentials-file']
  const stored = file === undefined ? undefined : await storedClient(file)
  const clientId = values['client-id'] ?? stored?.clientId
  if (clientId === undefined) return {}
  const fromFile = stored?.clientId === clientId ? stored.authMethod : undefined
  const method =
    values['auth-method'] ??
    (fromFile !== undefined && INTROSPECTION_METHODS.includes(fromFile)
      ? fromFile
      : 'client_secret_basic')
  if (!INTROSPECTION_METHODS.includes(method)) {
    throw new UsageError(
      `unknown --auth-method ${method} (introspection: ${INTROSPECTION_METHODS.join(', ')})`,
    )
  }
  return {
    clientId,
    clientSecret: await secretFrom(values, io, clientId, stored),
    authMethod: method as 'client_secret_basic' | 'client_secret_post',
  }
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

export const inspectCommand: Command = { help: HELP, run }
