/**
 * The bench's knobs. `BENCH_QUICK=1` is a smoke run: every section with 3 rounds and short loops,
 * to check that the harness works, not to measure; a full run takes 8 paired rounds per contender.
 */
import process from 'node:process'

export const QUICK = process.env.BENCH_QUICK === '1'
/** Paired rounds per contender in every section (HTTP rotations, verification and outbound pairs). */
export const ROUNDS = QUICK ? 3 : 8
/** Load per contender per HTTP round. */
export const HTTP_SECONDS = QUICK ? 1 : 2
/** Length of one in-process measurement (a verification or outbound loop). */
export const LOOP_MS = QUICK ? 300 : 600
/** Verifications in flight when the verifier is asynchronous (a server verifies many requests' tokens at once). */
export const VERIFY_PARALLEL = 8
export const MEMORY_TOKENS = QUICK ? 100_000 : 1_000_000
