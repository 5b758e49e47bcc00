/**
 * Every case of the security catalogue (A1–L5, 116 cases) and every finding of the attack review
 * (R1–R12) is run by at least one test whose title carries its id, and no test carries an id that
 * is neither. The index is generated from the test files (`catalogue.ts`), so it cannot drift from
 * them. Cases that would not apply are listed with a reason in docs/security.md; today there are
 * none.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { caseIds, indexCaseTests } from './catalogue.js'

const root = new URL('../../', import.meta.url)
const SECTIONS: Record<string, number> = {
  A: 12,
  B: 10,
  C: 10,
  D: 10,
  E: 14,
  F: 10,
  G: 10,
  H: 6,
  I: 6,
  J: 13,
  K: 10,
  L: 5,
}
const ALL_IDS = Object.entries(SECTIONS).flatMap(([section, count]) =>
  Array.from({ length: count }, (_, i) => `${section}${i + 1}`),
)

const REVIEW_IDS = Array.from({ length: 12 }, (_, i) => `R${i + 1}`)
/** Sender-constrained tokens (issue 18, DPoP): docs/security.md lists each case. */
const POSSESSION_IDS = Array.from({ length: 17 }, (_, i) => `P${i + 1}`)
/** Certificate-bound tokens (issue 19, mutual TLS): docs/security.md lists each case. */
const TLS_IDS = Array.from({ length: 6 }, (_, i) => `T${i + 1}`)
/** Many tenants, offline keys, JWT introspection (issue 20): docs/security.md lists each case. */
const TENANT_IDS = Array.from({ length: 8 }, (_, i) => `M${i + 1}`)
/** State shared by a fleet (issue 21): docs/security.md lists each case. */
const SHARED_IDS = Array.from({ length: 6 }, (_, i) => `S${i + 1}`)

const index = indexCaseTests(root)

function expectNamedTests(id: string): void {
  const tests = index.get(id) ?? []
  expect(tests.length, `no test title carries ${id}`).toBeGreaterThan(0)
  for (const { title } of tests) expect(caseIds(title)).toContain(id)
}

describe('the security catalogue', () => {
  it('has 116 cases, A1–L5', () => {
    expect(ALL_IDS).toHaveLength(116)
  })

  it.each(ALL_IDS)('%s is run by a test that names it', (id) => {
    expectNamedTests(id)
  })

  it('no test carries an id outside the catalogue and the review', () => {
    const known = new Set([
      ...ALL_IDS,
      ...REVIEW_IDS,
      ...POSSESSION_IDS,
      ...TLS_IDS,
      ...TENANT_IDS,
      ...SHARED_IDS,
    ])
    const unknown = [...index]
      .filter(([id]) => !known.has(id))
      .flatMap(([id, tests]) => tests.map(({ file, title }) => `${id} in ${file}: ${title}`))
    expect(unknown).toEqual([])
  })

  it('reads titles from test calls and scenario names, not from text', () => {
    // Pins the scanner itself: a scenario name, a test title, and what counts as an id.
    const titles = (id: string) =>
      (index.get(id) ?? []).map(({ file, title }) => `${file}: ${title}`)
    expect(titles('A1')).toContain(
      'test/conformance/scenarios.ts: A1: no token: 401 with a bare challenge',
    )
    expect(titles('A1')).toContain(
      'test/core/bearer.test.ts: A1: returns undefined with no Authorization header',
    )
    expect(titles('R12')).toContain(
      'test/client/interceptor.test.ts: R12: a token the target had accepted and now rejects (revoked) is replaced and retried once, even right after a forced renewal',
    )
    expect(caseIds('C1/C2 (J3), K10: x A1– HS256 E2E')).toEqual(['C1', 'C2', 'J3', 'K10'])
  })
})

describe('the attack review (issue 14)', () => {
  it.each(REVIEW_IDS)('%s is run by a test that names it', (id) => {
    expectNamedTests(id)
  })

  it.each(REVIEW_IDS)('%s is listed in docs/security.md', (id) => {
    const doc = readFileSync(new URL('docs/security.md', root), 'utf8')
    expect(doc).toMatch(new RegExp(`\\*\\*${id}\\b`))
  })
})

describe.each([
  ['sender-constrained tokens: DPoP (issue 18)', POSSESSION_IDS],
  ['sender-constrained tokens: mutual TLS (issue 19)', TLS_IDS],
  ['many tenants, offline keys, JWT introspection (issue 20)', TENANT_IDS],
  ['state shared by a fleet (issue 21)', SHARED_IDS],
])('%s', (_name, ids) => {
  it.each(ids)('%s is run by a test that names it', (id) => {
    expectNamedTests(id)
  })

  it.each(ids)('%s is listed in docs/security.md', (id) => {
    const doc = readFileSync(new URL('docs/security.md', root), 'utf8')
    expect(doc).toMatch(new RegExp(`\\*\\*${id}\\b`))
  })
})
