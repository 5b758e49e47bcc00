/**
 * `svcauth register`: register an OAuth client by RFC 7591 dynamic registration (optionally with
 * an initial access token) or Hydra's admin API, and save its credentials (mode 0600) with the
 * client library's `registerClient` and `saveCredentials`. The secret is printed only on request.
 */
import { registerClient, saveCredentials, type ClientMetadata } from '@svcauth/client'
import { firstLine, type CliIo } from '../io.js'
import { emit, EXIT } from '../output.js'
import { list, parse, timeoutOf, UsageError, type Command } from '../parser.js'
import { registrationFailure } from '../registration-failure.js'

const HELP = `usage: svcauth register (--registration-endpoint URL | --admin-url URL) --out FILE [options]

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
`

async function run(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parse(HELP, io, args, {
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
  if (parsed === undefined) return EXIT.ok
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
    return EXIT.ok
  } catch (err) {
    return registrationFailure(err, io)
  }
}

export const registerCommand: Command = { help: HELP, run }
