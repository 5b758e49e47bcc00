#!/usr/bin/env node
/** The `svcauth` command (see cli.ts). */
import { runCli } from './cli.js'

process.exitCode = await runCli(process.argv.slice(2))
