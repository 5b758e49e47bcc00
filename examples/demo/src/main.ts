/** `pnpm demo`: runs the walk-through, exits 0 only if every step behaved as expected. */
import process from 'node:process'
import { runDemo } from './demo.js'

const results = await runDemo((line) => {
  process.stdout.write(`${line}\n`)
})
process.exitCode = results.length > 0 && results.every((r) => r.ok) ? 0 : 1
