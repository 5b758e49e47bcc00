/**
 * What the CLI reads and writes: the process streams and environment by default, buffers in
 * tests and embeddings. Secrets and tokens may come from files named by options (first line) or
 * from stdin, never only from argv, which every user of the machine can read.
 */
import { readFile } from 'node:fs/promises'
import { UsageError } from './parser.js'

/** Where the CLI writes, and what it reads: process streams by default, buffers in tests. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown }
  readonly stderr: { write(text: string): unknown }
  readonly env: Readonly<Record<string, string | undefined>>
  readonly stdin?: () => Promise<string>
}

/** The running process's streams and environment. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, stdin: readStdin }
}

/** All of stdin, as text. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk)
  return Buffer.concat(chunks).toString('utf8')
}

/** The first line of `file`, trimmed; a missing, unreadable or empty file is a usage error. */
export async function firstLine(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => {
    throw new UsageError(`cannot read ${file}`)
  })
  const line = text.split(/\r?\n/)[0]?.trim() ?? ''
  if (line === '') throw new UsageError(`${file} is empty`)
  return line
}
