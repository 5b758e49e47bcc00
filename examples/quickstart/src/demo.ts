/**
 * `pnpm demo`: runs the walk-through and prints what happened. Exits 0 only if every step behaved.
 */
import { run } from './walkthrough.js'

const results = await run()
const width = Math.max(...results.map((r) => r.step.length))
process.stdout.write(
  `\nsvcauth quick start: an SMD-style service behind authenticate() and requireScopes()\n\n`,
)
process.stdout.write(`${'step'.padEnd(width)}  expected  got   ok   detail\n`)
for (const r of results) {
  process.stdout.write(
    `${r.step.padEnd(width)}  ${String(r.expected).padEnd(8)}  ${String(r.status).padEnd(4)}  ${r.ok ? 'yes' : 'NO '}  ${r.detail}\n`,
  )
}
const failed = results.filter((r) => !r.ok).length
process.stdout.write(
  `\n${results.length - failed} of ${results.length} steps behaved as expected\n`,
)
process.exitCode = failed === 0 ? 0 : 1
