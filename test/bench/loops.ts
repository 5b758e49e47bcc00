/**
 * In-process measurement loops: operations per second of one function, and alternating pairs of
 * two loops with a ratio per round.
 */
import { LOOP_MS, ROUNDS, VERIFY_PARALLEL } from './config.js'

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as { then?: unknown } | null)?.then === 'function'

/**
 * Operations per second of `fn` run back to back for `ms`, up to `parallel` in flight. A
 * synchronous `fn` (one that returns no promise) runs as a plain loop with no await between
 * calls, so a synchronous verifier is not charged a microtask per call; an asynchronous one keeps
 * `parallel` calls in flight (WebCrypto runs them on the thread pool).
 */
export async function opsPerSecond(
  fn: (i: number) => unknown,
  ms = LOOP_MS,
  parallel = VERIFY_PARALLEL,
): Promise<number> {
  let done = 0
  const started = performance.now()
  const deadline = started + ms
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (performance.now() < deadline) {
        const result = fn(done++)
        if (isThenable(result)) await result
      }
    }),
  )
  return done / ((performance.now() - started) / 1000)
}

/** Per-round figures of a pair: `ratios[i]` is `b[i] / a[i]`, taken within round i. */
export interface Paired {
  readonly a: readonly number[]
  readonly b: readonly number[]
  readonly ratios: readonly number[]
}

/**
 * Runs baseline A and contender B back to back `rounds` times, alternating which goes first
 * (so neither always gets the warmer or the quieter slot), after one warm-up of each (JIT, key
 * import, caches).
 */
export async function pairRounds(
  a: () => Promise<number>,
  b: () => Promise<number>,
  rounds = ROUNDS,
): Promise<Paired> {
  const as: number[] = []
  const bs: number[] = []
  await a()
  await b()
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      as.push(await a())
      bs.push(await b())
    } else {
      bs.push(await b())
      as.push(await a())
    }
  }
  return { a: as, b: bs, ratios: bs.map((v, i) => v / (as[i] ?? Number.NaN)) }
}
