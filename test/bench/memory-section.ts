/**
 * Section 4: memory. RSS and JS heap (after a forced GC when `--expose-gc` is on) every tenth of
 * the way through verifying MEMORY_TOKENS distinct ES256 tokens with the verified-token cache on at
 * its default size: a bounded cache must leave both flat once it is full.
 */
import process from 'node:process'
import { createAuthenticator } from '@svcauth/core'
import { MEMORY_TOKENS } from './config.js'
import { jwksServer, makeKeys, mint } from './keys.js'
import { fmt, say } from './report.js'
import { median } from './stats.js'

export interface MemoryResults {
  /** MiB: the median of the last three samples minus the median of the three after warm-up. */
  readonly growth: number
  readonly heapGrowth: number
}

export async function memorySection(): Promise<MemoryResults> {
  say('')
  say(
    `## 4. Memory: RSS over ${fmt(MEMORY_TOKENS)} verifications of distinct ES256 tokens (cache on, default size)`,
  )
  say('')
  const keys = makeKeys('ES256')
  const jwks = await jwksServer([keys])
  const issuer = 'https://issuer.bench/'
  const auth = createAuthenticator({
    issuer,
    audience: 'smd',
    jwksUri: jwks.url,
    algorithms: ['ES256'],
  })
  try {
    await auth.ready()
    const gc = (globalThis as { gc?: () => void }).gc
    const samples: { at: number; rss: number; heap: number }[] = []
    const sample = (at: number): void => {
      gc?.()
      const { rss, heapUsed } = process.memoryUsage()
      samples.push({ at, rss: rss / 2 ** 20, heap: heapUsed / 2 ** 20 })
    }
    const step = MEMORY_TOKENS / 10
    const BATCH = 1000
    // Pipelined: the next batch is signed while this one verifies (when the verifier is
    // asynchronous; a synchronous one simply runs the batches in turn).
    let pending: Promise<unknown> = Promise.resolve()
    for (let done = 0; done < MEMORY_TOKENS; done += BATCH) {
      const batch = Array.from({ length: BATCH }, (_, i) => mint(keys, issuer, done + i))
      await pending
      if (done % step === 0 && done > 0) sample(done)
      pending = Promise.all(batch.map((t) => auth.verify(t)))
    }
    await pending
    sample(MEMORY_TOKENS)
    say(`| verifications | ${samples.map((s) => fmt(s.at)).join(' | ')} |`)
    say(`|---|${samples.map(() => '---:').join('|')}|`)
    say(`| RSS MiB | ${samples.map((s) => fmt(s.rss, 1)).join(' | ')} |`)
    say(`| JS heap used MiB | ${samples.map((s) => fmt(s.heap, 1)).join(' | ')} |`)
    // Growth: the last three samples against the three after warm-up (medians, so that one RSS
    // spike from the allocator does not decide the line).
    const early = (key: 'rss' | 'heap') => median(samples.slice(1, 4).map((s) => s[key]))
    const late = (key: 'rss' | 'heap') => median(samples.slice(-3).map((s) => s[key]))
    const growth = late('rss') - early('rss')
    const heapGrowth = late('heap') - early('heap')
    say('')
    say(
      `- growth, median of the last three samples over the three after warm-up: RSS ${fmt(growth, 1)} MiB, JS heap ${fmt(heapGrowth, 1)} MiB (the verified-token cache holds at most 10,000 entries / 32 MiB)`,
    )
    return { growth, heapGrowth }
  } finally {
    auth.close()
    await new Promise((resolve) => jwks.server.close(resolve))
  }
}
