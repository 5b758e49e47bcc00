/**
 * `pnpm demo` end to end, as a user runs it: a child process with a real oidc-provider, SMD, BSS
 * and the billing worker on loopback. It must print every step, the audit lines that prove who
 * called, the summary table, and exit 0; and it must leave nothing running behind.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const demoDir = fileURLToPath(new URL('../../examples/demo/', import.meta.url))

function runDemo(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@svcauth/source', '--import', 'tsx', 'src/main.ts'],
      { cwd: demoDir, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.on('error', reject)
    child.on('close', (code) => {
      resolve({ code, stdout, stderr })
    })
  })
}

describe('pnpm demo', () => {
  it('walks through every step, shows the audit lines, exits 0 and cleans up', async () => {
    const started = performance.now()
    const { code, stdout } = await runDemo()
    expect(stdout).toContain('all 11 steps behaved as expected')
    expect(code).toBe(0)
    // It exits on its own: every server, client and timer it started was closed.
    expect(performance.now() - started).toBeLessThan(60_000)
    for (const step of [
      'node boot: BSS reads SMD with its own client-credentials token',
      'admin call: BSS forwards the user token to SMD',
      'missing scope: the worker tries to write to SMD',
      'forged token (real kid, attacker key)',
      'expired token',
      'stolen DPoP token: useless as Bearer or with the thief’s own proof',
      'authorization server down: node boot still works (cached token and keys)',
      'authorization server back: the worker’s retry pays',
    ]) {
      expect(stdout).toContain(`✔ ${step}`)
    }
    expect(stdout).toContain(
      'audit  smd: actor_type=user actor_id=alice GET /hsm/v2/State/Components/:xname → 200',
    )
    expect(stdout).toContain(
      'audit  smd: actor_type=client actor_id=bss GET /hsm/v2/State/Components → 200',
    )
    expect(stdout).toContain('event=invoice_paid')
    expect(stdout).not.toContain('✘')
  }, 90_000)
})
