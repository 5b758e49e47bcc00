/**
 * Type tests of @svcauth/cli's public API: `runCli` runs the `svcauth` command in process with
 * the streams and environment it is given, and resolves the exit code.
 */
import { runCli, type CliIo } from '@svcauth/cli'
import { expectTypeOf, test } from 'vitest'

test('runCli(argv, io?) resolves the exit code', () => {
  expectTypeOf(runCli).parameter(0).toEqualTypeOf<readonly string[]>()
  expectTypeOf(runCli).parameter(1).toEqualTypeOf<CliIo | undefined>()
  expectTypeOf(runCli).returns.toEqualTypeOf<Promise<number>>()
  expectTypeOf(runCli).toBeCallableWith(['token', '--help'])
})

test('CliIo is streams and an environment', () => {
  expectTypeOf<CliIo>().toHaveProperty('env')
  expectTypeOf<CliIo['stdout']>().toHaveProperty('write')
  expectTypeOf<CliIo['stderr']>().toHaveProperty('write')
})
