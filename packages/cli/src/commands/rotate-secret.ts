/**
 * `svcauth rotate-secret`: give a registered client a new secret, by Hydra's rotate endpoint where
 * the server has it or else an RFC 7592 update that sets one, with the client library's
 * `rotateClientSecret`, and write it to the same credentials file.
 */
import { loadCredentials, rotateClientSecret, saveCredentials } from '@svcauth/client'
import type { CliIo } from '../io.js'
import { emit, EXIT } from '../output.js'
import { parse, timeoutOf, UsageError, type Command } from '../parser.js'
import { registrationFailure } from '../registration-failure.js'

const HELP = `usage: svcauth rotate-secret --credentials-file FILE [--json]

  Rotates with Hydra's rotate endpoint when the server has it (the old secret keeps working until
  the rotation is finished), otherwise by an update that sets a new secret, and writes the new
  secret to the same file.
`

async function run(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parse(HELP, io, args, { 'credentials-file': { type: 'string' } })
  if (parsed === undefined) return EXIT.ok
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
    return EXIT.ok
  } catch (err) {
    if (err instanceof UsageError) throw err
    return registrationFailure(err, io, 'secret rotation')
  }
}

export const rotateSecretCommand: Command = { help: HELP, run }
