/**
 * The report: each line goes to stdout as soon as it is measured and is kept, so that the whole
 * run can also be saved as markdown under `test/bench/results/` for the lead to compare and
 * commit (formatted with the repository's prettier settings, so a committed run passes
 * `prettier --check`).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import process from 'node:process'
import { fileURLToPath } from 'node:url'
import { format, resolveConfig } from 'prettier'
import type { Summary } from './stats.js'

const lines: string[] = []

export function say(line = ''): void {
  lines.push(line)
  process.stdout.write(`${line}\n`)
}

export const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits }) : 'n/a'

export const ratio = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : 'n/a')

/** `median (p25–p75)`: how every repeated measurement is printed. */
export function fmtSummary(s: Summary, digits = 0): string {
  return `${fmt(s.median, digits)} (${fmt(s.p25, digits)}–${fmt(s.p75, digits)})`
}

/** A ratio summary, two decimals: `0.97 (0.95–0.99)`. */
export function fmtRatio(s: Summary): string {
  return `${ratio(s.median)} (${ratio(s.p25)}–${ratio(s.p75)})`
}

/**
 * Writes the report to `results/<start time>.md` and returns its path. The name is the ISO 8601
 * basic format (`20261206T125959Z`): sortable, and free of the colons some file systems refuse.
 */
export async function writeReport(started: Date): Promise<string> {
  const dir = new URL('results/', import.meta.url)
  await mkdir(dir, { recursive: true })
  const stamp = started
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
  const file = fileURLToPath(new URL(`${stamp}.md`, dir))
  const options = (await resolveConfig(file)) ?? {}
  await writeFile(file, await format(`${lines.join('\n')}\n`, { ...options, filepath: file }))
  return file
}
