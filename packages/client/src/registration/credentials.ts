/**
 * The credentials file: a registered client's id, secret and registration token, kept for later
 * starts. Written with mode 0600 through the private-file writer (lib/private-file.ts, issue 14
 * R3), read back as a RegisteredClient; and loadOrRegister, which registers a client only when the
 * file holds none.
 */
import { readFile } from 'node:fs/promises'
import { writePrivateFile } from '../lib/private-file.js'
import { isRegistrationError, RegistrationError } from './errors.js'
import { registerClient } from './protocol.js'
import {
  nonEmpty,
  recordToClient,
  type RegisteredClient,
  type RegistrationOptions,
} from './types.js'

/**
 * Writes the credentials to `file` with mode 0600 (atomically: a temporary file with a random
 * name created exclusively, then a rename), creating its directory with mode 0700 when missing.
 * A symlink or file planted at a temporary name is never followed or reused, and a symlink at
 * `file` is replaced, not written through.
 *
 * @example
 * ```ts
 * await saveCredentials('/var/lib/bss/client.json', client)
 * ```
 */
export async function saveCredentials(file: string, client: RegisteredClient): Promise<void> {
  const json = `${JSON.stringify(
    {
      client_id: client.clientId,
      client_secret: client.clientSecret,
      registration_access_token: client.registrationAccessToken,
      registration_client_uri: client.registrationClientUri,
      token_endpoint_auth_method: client.tokenEndpointAuthMethod,
      client_secret_expires_at: client.clientSecretExpiresAt,
      mode: client.mode,
      admin_url: client.adminUrl,
      metadata: client.metadata,
    },
    null,
    2,
  )}\n`
  try {
    await writePrivateFile(file, json)
  } catch (cause) {
    throw new RegistrationError('storage_error', {
      description: `cannot write ${file}`,
      cause,
    })
  }
}

/**
 * Reads credentials written by {@link saveCredentials}; undefined when the file does not exist.
 *
 * @example
 * ```ts
 * const stored = await loadCredentials('/var/lib/bss/client.json')
 * ```
 */
export async function loadCredentials(file: string): Promise<RegisteredClient | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (cause) {
    if ((cause as { code?: unknown }).code === 'ENOENT') return undefined
    throw new RegistrationError('storage_error', { description: `cannot read ${file}`, cause })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (cause) {
    throw new RegistrationError('storage_error', { description: `${file} is not JSON`, cause })
  }
  const o = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>
  if (typeof o.client_id !== 'string' || o.client_id === '') {
    throw new RegistrationError('storage_error', { description: `${file} has no client_id` })
  }
  return recordToClient(o, o.client_id, {
    mode: o.mode === 'hydra-admin' ? 'hydra-admin' : 'dcr',
    adminUrl: nonEmpty(o.admin_url),
    metadata: (typeof o.metadata === 'object' && o.metadata !== null ? o.metadata : {}) as Record<
      string,
      unknown
    >,
  })
}

/**
 * The credentials in `file`, or, when there are none yet, a new registration saved there.
 * A registration that conflicts with an existing client (409: another replica registered the same
 * `client_id` first) uses the file if it has appeared meanwhile, and fails otherwise: the secret
 * of an existing client is only in the answer that created it.
 *
 * @example
 * ```ts
 * const { clientId, clientSecret } = await loadOrRegister('/var/lib/bss/client.json', { adminUrl, metadata })
 * ```
 */
export async function loadOrRegister(
  file: string,
  options: RegistrationOptions,
): Promise<RegisteredClient> {
  const stored = await loadCredentials(file)
  if (stored !== undefined) return stored
  let client: RegisteredClient
  try {
    client = await registerClient(options)
  } catch (err) {
    if (isRegistrationError(err) && err.error === 'conflict') {
      const appeared = await loadCredentials(file)
      if (appeared !== undefined) return appeared
    }
    throw err
  }
  await saveCredentials(file, client)
  return client
}
