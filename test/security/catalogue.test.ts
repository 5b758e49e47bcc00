/**
 * Every case of the security catalogue (A1–L5, 116 cases) has at least one test, named by its id,
 * and the index in `catalogue.ts` points at tests that exist. Cases that would not apply are listed
 * with a reason in docs/security.md; today there are none.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { CATALOGUE, REVIEW } from './catalogue.js'

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

function expectNamedTests(id: string, tests: readonly { file: string; title: string }[]): void {
  expect(tests.length).toBeGreaterThan(0)
  for (const { file, title } of tests) {
    expect(title).toMatch(new RegExp(`(^|[/ (])${id}(?=[:/ ,)])`))
    const source = readFileSync(new URL(file, root), 'utf8')
    expect(source.includes(title), `${file} has no test "${title}"`).toBe(true)
  }
}

describe('the security catalogue', () => {
  it('has all 116 cases indexed, and nothing else', () => {
    expect(ALL_IDS).toHaveLength(116)
    expect(Object.keys(CATALOGUE).sort()).toEqual([...ALL_IDS].sort())
  })

  it.each(ALL_IDS)('%s is run by a test that names it', (id) => {
    expectNamedTests(id, CATALOGUE[id] ?? [])
  })
})

describe('the attack review (issue 14)', () => {
  it('has all 12 findings indexed, and nothing else', () => {
    expect(Object.keys(REVIEW).sort()).toEqual([...REVIEW_IDS].sort())
  })

  it.each(REVIEW_IDS)('%s is run by a test that names it', (id) => {
    expectNamedTests(id, REVIEW[id] ?? [])
  })

  it.each(REVIEW_IDS)('%s is listed in docs/security.md', (id) => {
    const doc = readFileSync(new URL('docs/security.md', root), 'utf8')
    expect(doc).toMatch(new RegExp(`\\*\\*${id}\\b`))
  })
})
