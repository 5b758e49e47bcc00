/**
 * What the CLI answers: text for a person, or with `--json` one pretty-printed JSON document on
 * stdout (errors too, where a command has a JSON shape for them), and the exit codes.
 */
import type { CliIo } from './io.js'

/**
 * Exit codes: success; refused (an OAuth error, a rejected token, a failed registration); usage
 * error; the server could not be reached or answered garbage.
 */
export const EXIT = Object.freeze({ ok: 0, refused: 1, usage: 2, unreachable: 3 } as const)

/** Writes `value` as JSON in JSON mode, else `text`. */
export function emit(io: CliIo, json: boolean, value: unknown, text: string): void {
  io.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : text)
}
