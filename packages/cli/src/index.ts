/**
 * @svcauth/cli: the `svcauth` command, and `runCli` to run it in process (tests, embeddings).
 * Every public export is listed here by name.
 */
export type { CliIo } from './io.js'
export { runCli } from './run.js'
