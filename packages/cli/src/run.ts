/**
 * The `svcauth` operator CLI: get a token, see what a token says and why a service would refuse
 * it, register a client and rotate its secret, without writing code. It is built only on the
 * public APIs of @svcauth/client and @svcauth/core, so it does what a service would do.
 *
 * Exit codes: 0 success; 1 refused (an OAuth error, a rejected token, a failed registration);
 * 2 usage error; 3 the server could not be reached or answered garbage.
 */
import { inspectCommand } from './commands/inspect.js'
import { registerCommand } from './commands/register.js'
import { rotateSecretCommand } from './commands/rotate-secret.js'
import { tokenCommand } from './commands/token.js'
import { processIo, type CliIo } from './io.js'
import { EXIT } from './output.js'
import { HELP, UsageError, type Command } from './parser.js'

// A Map, so that a command name like `constructor` finds nothing rather than Object's own.
const COMMANDS: ReadonlyMap<string, Command> = new Map([
  ['token', tokenCommand],
  ['inspect', inspectCommand],
  ['register', registerCommand],
  ['rotate-secret', rotateSecretCommand],
])

const HELP_WORDS: ReadonlySet<string> = new Set(['help', '--help', '-h'])

/**
 * Runs the CLI with `argv` (without `node` and the script) and returns the exit code.
 *
 * @example
 * ```ts
 * const code = await runCli(['inspect', token, '--issuer', 'https://hydra.example/'])
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv
  const command = name === undefined ? undefined : COMMANDS.get(name)
  try {
    if (command !== undefined) return await command.run(rest, io)
    if (name === undefined || HELP_WORDS.has(name)) {
      io.stdout.write(HELP)
      return name === undefined ? EXIT.usage : EXIT.ok
    }
    throw new UsageError(`unknown command: ${name}`)
  } catch (err) {
    if (
      err instanceof UsageError ||
      (err as { code?: unknown }).code?.toString().startsWith('ERR_PARSE_ARGS')
    ) {
      io.stderr.write(`svcauth: ${(err as Error).message}\n\n${command?.help ?? HELP}`)
      return EXIT.usage
    }
    // Options the libraries refuse (a URL without TLS, say) are mistakes in the command line too.
    if (err instanceof TypeError) {
      io.stderr.write(`svcauth: ${err.message}\n`)
      return EXIT.usage
    }
    throw err
  }
}
