/** Runs the `svcauth` CLI in process with captured output, a given environment and stdin. */
import { runCli } from '@svcauth/cli'

export interface CliResult {
  readonly code: number
  readonly out: string
  readonly err: string
}

export async function cli(
  args: string[],
  env: Record<string, string> = {},
  stdin = '',
): Promise<CliResult> {
  let out = ''
  let err = ''
  const code = await runCli(args, {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    env,
    stdin: () => Promise.resolve(stdin),
  })
  return { code, out, err }
}
