#!/usr/bin/env node
/** The `svcauth` command (see run.ts). */
import { runCli } from './run.js'

process.exitCode = await runCli(process.argv.slice(2))
