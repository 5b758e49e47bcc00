/**
 * The quick-start example (`pnpm demo`) behaves as it says: each step's status is asserted here,
 * so the demo cannot drift into printing a table that no longer matches the code.
 */
import { run } from '@svcauth/example-quickstart'
import { describe, expect, it } from 'vitest'

describe('quick-start walk-through', () => {
  it('answers every step with the documented status', async () => {
    const results = await run()
    expect(results.map((r) => [r.step, r.status])).toEqual([
      ['BSS reads components with its client-credentials token', 200],
      ['no token', 401],
      ['BSS writes without smd.write', 403],
      ['forged token (attacker key, real kid)', 401],
      ['expired token', 401],
      ["Hydra's default aud: [] (audience not requested)", 401],
      ['JWKS endpoint down: last good keys keep serving', 200],
      ['JWKS down and no keys yet (cold start)', 503],
    ])
    expect(results.every((r) => r.ok)).toBe(true)
    expect(results[1]?.detail).toBe('Bearer realm="api"')
    expect(results[2]?.detail).toContain('scope="smd.write"')
  })
})
