/**
 * Where `token` and `inspect` get client credentials: the credentials file `svcauth register`
 * writes (the client library's `loadCredentials`), a secret file (first line), the
 * `SVCAUTH_CLIENT_SECRET` environment variable, or, only when forced, argv, which every user of
 * the machine can read. Explicit options win over the file; the file wins over the environment,
 * since naming it is explicit and a variable may be left over from another client.
 */
import { isRegistrationError, loadCredentials } from '@svcauth/client'
import { firstLine, type CliIo } from './io.js'
import { UsageError } from './parser.js'

/** What a credentials file gives as defaults. */
export interface StoredClient {
  readonly clientId: string
  readonly clientSecret: string | undefined
  readonly authMethod: string | undefined
}

/** The secret-bearing options `token` and `inspect` share. */
export interface SecretOptions {
  'client-secret-file'?: string | undefined
  'client-secret'?: string | undefined
  'allow-secret-arg'?: boolean | undefined
}

/** The client in a credentials file; a missing or unreadable file is a usage error. */
export async function storedClient(file: string): Promise<StoredClient> {
  let stored
  try {
    stored = await loadCredentials(file)
  } catch (err) {
    if (!isRegistrationError(err)) throw err
    throw new UsageError(err.description ?? `cannot read ${file}`)
  }
  if (stored === undefined) throw new UsageError(`${file} does not exist`)
  return {
    clientId: stored.clientId,
    clientSecret: stored.clientSecret,
    authMethod: stored.tokenEndpointAuthMethod,
  }
}

/**
 * The client secret: `--client-secret` (only with `--allow-secret-arg`), `--client-secret-file`,
 * the credentials file's (when `clientId` is the file's: another client's secret is never sent),
 * then `SVCAUTH_CLIENT_SECRET`; none is a usage error.
 */
export async function secretFrom(
  values: SecretOptions,
  io: CliIo,
  clientId: string,
  stored: StoredClient | undefined,
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
  if (
    stored?.clientId === clientId &&
    stored.clientSecret !== undefined &&
    stored.clientSecret !== ''
  )
    return stored.clientSecret
  const env = io.env.SVCAUTH_CLIENT_SECRET
  if (env !== undefined && env !== '') return env
  throw new UsageError(
    'no client secret: give --client-secret-file or --credentials-file, or set SVCAUTH_CLIENT_SECRET',
  )
}
