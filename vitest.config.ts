import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: {
    // Resolve workspace packages to their TypeScript sources (see each package's exports map).
    conditions: ['@svcauth/source'],
  },
  ssr: {
    resolve: {
      conditions: ['@svcauth/source'],
    },
  },
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/bench/**'],
    testTimeout: 15_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Type tests of every package's public API (test/types/*.test-d.ts): checked by tsc, not run.
    typecheck: {
      enabled: true,
      include: ['test/types/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
    },
  },
})
