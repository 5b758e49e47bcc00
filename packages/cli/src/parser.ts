/**
 * Argument parsing for every command, with node's `parseArgs` (strict: an unknown option is a
 * usage error): the options all commands share (`--json`, `--help`, `--allow-insecure-http`,
 * `--timeout`), the general help, and the command table's shape.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { CliIo } from './io.js'

/** A mistake in the command line: exit 2, with the command's help. */
export class UsageError extends Error {}

/** One `svcauth <command>`. */
export interface Command {
  /** What `svcauth <command> --help` prints, and what follows a usage error. */
  readonly help: string
  /** Runs the command with the arguments after its name; resolves to the exit code. */
  run(args: readonly string[], io: CliIo): Promise<number>
}

export const HELP = `svcauth: service-to-service auth from a shell

usage: svcauth <command> [options]

commands:
  token          get a client-credentials token (prints only the access token, so
                 TOKEN=$(svcauth token ...) works; --json prints the token response)
  inspect        decode a token, verify it against the issuer's keys (or introspect an opaque
                 one), and show the principal svcauth would build, or the exact reason and
                 status it would refuse it with
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

type Options = NonNullable<ParseArgsConfig['options']>

/** What `parse` hands `parseArgs` for a command's own `T` options. */
interface Config<T extends Options> {
  args: string[]
  options: typeof COMMON & T
  allowPositionals: boolean
  strict: true
}

/** Parses a command's options; prints the command's `help` and gives undefined for `--help`. */
export function parse<T extends Options>(
  help: string,
  io: CliIo,
  args: readonly string[],
  options: T,
  positionals = false,
): ReturnType<typeof parseArgs<Config<T>>> | undefined {
  const parsed = parseArgs({
    args: [...args],
    options: { ...COMMON, ...options },
    allowPositionals: positionals,
    strict: true,
  })
  if ((parsed.values as { help?: boolean }).help !== true) return parsed
  io.stdout.write(help)
  return undefined
}

/** A repeatable option whose values may also be space-separated (`--scope 'a b' --scope c`). */
export function list(values: string | string[] | undefined): string[] {
  if (values === undefined) return []
  return [values]
    .flat()
    .flatMap((v) => v.split(' '))
    .filter((v) => v !== '')
}

/** `--timeout` in milliseconds. @default 10000 */
export function timeoutOf(value: string | undefined): number {
  if (value === undefined) return 10_000
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0) throw new UsageError('--timeout takes milliseconds')
  return n
}
