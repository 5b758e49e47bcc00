/**
 * The security catalogue index (shared/security-catalogue.md, cases A1–L5, and the attack review's
 * findings R1–R12), generated from the tests themselves: every test, suite and conformance
 * scenario whose title carries a case id (`A1: …`, `… (R12)`, `C1/C2 …`) runs that case. Titles are
 * read from the syntax tree of each test file, not by matching text, so a comment or a string that
 * merely mentions an id indexes nothing; renaming or deleting the last test of a case leaves it
 * unindexed, which `catalogue.test.ts` fails on.
 */
import { readdirSync, readFileSync } from 'node:fs'
import ts from 'typescript'

/** A test (or suite, or conformance scenario) that runs a case. */
export interface CaseTest {
  /** Path from the repository root. */
  readonly file: string
  readonly title: string
}

/** Where tests live (as vitest.config.ts includes them). */
const TEST_DIRS = ['test', 'packages']
/** Files whose object literals' `name:` strings are test titles: the conformance table. */
const SCENARIO_TABLES: ReadonlySet<string> = new Set([
  'test/conformance/scenarios.ts',
  'test/conformance/dpop-scenarios.ts',
  'test/conformance/mtls.test.ts',
  'test/conformance/tenant-scenarios.ts',
  'test/conformance/revocation-scenarios.ts',
  'test/conformance/keys-scenarios.ts',
])
/** The functions whose first argument is a test title. */
const TEST_FUNCTIONS: ReadonlySet<string> = new Set(['it', 'test', 'describe'])

/**
 * An id token: a capital letter and one to three digits, standing alone or after `/`, ` ` or `(`,
 * and followed by `:`, `/`, ` `, `,` or `)`. Any letter is matched (not only A–L and R) so that a
 * mistyped id is caught as unknown rather than overlooked.
 */
const ID_TOKEN = /(?:^|[/ (])([A-Z]\d{1,3})(?=[:/ ,)])/g

/** The case ids a title carries, in order. */
export function caseIds(title: string): string[] {
  return [...title.matchAll(ID_TOKEN)].map((m) => m[1] ?? '')
}

/** Every test title under `root` that carries at least one case id, indexed by id. */
export function indexCaseTests(root: URL): ReadonlyMap<string, readonly CaseTest[]> {
  const index = new Map<string, CaseTest[]>()
  for (const file of testFiles(root)) {
    const text = readFileSync(new URL(file, root), 'utf8')
    for (const title of titlesIn(file, text)) {
      for (const id of new Set(caseIds(title))) {
        const tests = index.get(id) ?? []
        tests.push({ file, title })
        index.set(id, tests)
      }
    }
  }
  return index
}

function testFiles(root: URL): string[] {
  return TEST_DIRS.flatMap((dir) =>
    readdirSync(new URL(`${dir}/`, root), { recursive: true, encoding: 'utf8' })
      .filter((path) => path.endsWith('.ts') && !path.split(/[/\\]/).includes('node_modules'))
      .map((path) => `${dir}/${path.replaceAll('\\', '/')}`),
  )
    .filter((file) => file.startsWith('test/') || /^packages\/[^/]+\/test\//.test(file))
    .sort()
}

/** The titles of `it`/`test`/`describe` calls (and their `.each`, `.skip`, … forms) in a file. */
function titlesIn(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false)
  const scenarios = SCENARIO_TABLES.has(file)
  const titles: string[] = []
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && TEST_FUNCTIONS.has(rootName(node.expression) ?? '')) {
      const title = literal(node.arguments[0])
      if (title !== undefined) titles.push(title)
    } else if (
      scenarios &&
      ts.isPropertyAssignment(node) &&
      ts.isIdentifier(node.name) &&
      node.name.text === 'name'
    ) {
      const title = literal(node.initializer)
      if (title !== undefined) titles.push(title)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return titles
}

/** `it` for `it`, `it.skip`, `it.each(rows)`, `describe.concurrent.each(rows)` and the like. */
function rootName(callee: ts.Expression): string | undefined {
  let node = callee
  for (;;) {
    if (ts.isIdentifier(node)) return node.text
    if (ts.isPropertyAccessExpression(node)) node = node.expression
    else if (ts.isCallExpression(node)) node = node.expression
    else return undefined
  }
}

function literal(node: ts.Node | undefined): string | undefined {
  return node !== undefined &&
    (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node))
    ? node.text
    : undefined
}
