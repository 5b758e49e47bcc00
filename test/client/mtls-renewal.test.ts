/**
 * Certificate renewal without a restart (issue 19, item 2; RFC 8705 §3): short-lived certificates
 * from step-ca are rewritten in place. When the files change, new connections present the new
 * certificate, the tokens bound to the old one are dropped and a token for the new one is fetched;
 * a token bound to the old certificate is never sent over a connection presenting the new one. A
 * reload that fails keeps the current material and logs one error that names the file, never the
 * key. The tests wait for the reload's log line (the reload is asynchronous), then assert.
 */
import { PassThrough } from 'node:stream'
import { writeFile } from 'node:fs/promises'
import { createServiceClient, type ServiceClient } from '@svcauth/client'
import { createTestCa } from '@svcauth/testing'
import { describe, expect, it, vi } from 'vitest'
import { LEVEL } from '../support/log-capture.js'
import { useMtlsWorld, type MtlsTarget } from './mtls-target.js'

const world = useMtlsWorld()

function client(smd: MtlsTarget): ServiceClient {
  const svc = createServiceClient({
    issuer: world.issuer.issuer,
    clientId: 'bss',
    authMethod: 'tls_client_auth',
    tls: {
      certFile: world.files.certFile,
      keyFile: world.files.keyFile,
      caFile: world.files.caFile,
    },
    targets: { [smd.origin]: { scope: 'smd.read', audience: 'smd' } },
    logger: world.logger,
    retry: { minDelay: 10, maxDelay: 20 },
  })
  world.defer(() => svc.close())
  return svc
}

async function get(svc: ServiceClient, url: string): Promise<number> {
  const res = await svc.fetch(url)
  await res.text()
  return res.status
}

/** Waits for the log line of `event` (and `fields`) that an asynchronous reload writes. */
async function logged(event: string, fields: Record<string, unknown> = {}): Promise<void> {
  await vi.waitFor(
    () => {
      expect(world.logs.lines).toContainEqual(expect.objectContaining({ event, ...fields }))
    },
    { timeout: 10_000, interval: 25 },
  )
}

/** No key material and no token in any log line. */
function expectNoSecretsLogged(keys: readonly string[], tokens: readonly string[]): void {
  const text = world.logs.raw.join('')
  expect(text).not.toContain('PRIVATE KEY')
  for (const key of keys) {
    // Any line of the key's base64 body.
    for (const line of key.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))) {
      expect(text).not.toContain(line)
    }
  }
  for (const token of tokens) expect(text).not.toContain(token)
}

describe('a renewed certificate is used without a restart', () => {
  it('new connections present the new certificate, with a new token bound to it', async () => {
    const smd = await world.target()
    const svc = client(smd)
    expect(await get(svc, `${smd.origin}/a`)).toBe(200)
    const first = await svc.getToken(smd.origin)

    const renewed = await world.ca.issueClient({ commonName: 'bss' })
    await world.files.write(renewed)
    await logged('client_certificate_reloaded', {
      x5t_s256: renewed.x5tS256,
      previous_x5t_s256: world.bss.x5tS256,
      subject: 'CN=bss',
    })

    expect(await get(svc, `${smd.origin}/b`)).toBe(200)
    expect(smd.seen.map((s) => [s.presented, s.bound])).toEqual([
      [world.bss.x5tS256, world.bss.x5tS256],
      [renewed.x5tS256, renewed.x5tS256],
    ])
    const second = await svc.getToken(smd.origin)
    expect(second).not.toBe(first)
    expect(smd.seen[1]?.authorization).toBe(`Bearer ${second}`)
    expect(world.issuer.tokenRequests.map((r) => r.certificate)).toEqual([
      world.bss.x5tS256,
      renewed.x5tS256,
    ])
    expectNoSecretsLogged([world.bss.key, renewed.key], [first, second])
  })

  it('a call whose token was chosen before the renewal is sent with a token for the new certificate', async () => {
    const smd = await world.target()
    const svc = client(smd)
    expect(await get(svc, `${smd.origin}/warm`)).toBe(200)

    // The body streams: the call holds its (old) token until the body has been read.
    const body = new PassThrough()
    const pending = svc.request(`${smd.origin}/upload`, { method: 'POST', body })
    body.write('boot script')
    const renewed = await world.ca.issueClient({ commonName: 'bss' })
    await world.files.write(renewed)
    await logged('client_certificate_reloaded', { x5t_s256: renewed.x5tS256 })
    body.end()
    const res = await pending
    expect(res.statusCode).toBe(200)
    await res.body.text()

    expect(smd.seen.at(-1)).toMatchObject({
      path: '/upload',
      body: 'boot script',
      presented: renewed.x5tS256,
      bound: renewed.x5tS256,
    })
    // The target never saw a token for one certificate over a connection presenting another.
    expect(smd.seen.every((s) => s.status === 200 && s.bound === s.presented)).toBe(true)
    expect(world.issuer.tokenRequests).toHaveLength(2)
  })

  it('a reload that fails keeps the current certificate, and logs one error naming the file only', async () => {
    const smd = await world.target()
    const svc = client(smd)
    expect(await get(svc, `${smd.origin}/a`)).toBe(200)
    const token = await svc.getToken(smd.origin)

    // A certificate with another certificate's key: what a half-done renewal leaves.
    const renewed = await world.ca.issueClient({ commonName: 'bss' })
    const stranger = await world.ca.issueClient({ commonName: 'bss' })
    await world.files.write({ cert: renewed.cert, key: stranger.key })
    await logged('client_certificate_reload_failed', { file: world.files.certFile })
    const failed = world.logs.lines.filter((l) => l.event === 'client_certificate_reload_failed')
    expect(failed).toHaveLength(1)
    expect(failed[0]?.level).toBe(LEVEL.error)
    expect(String(failed[0]?.error)).toContain('does not match')

    expect(await get(svc, `${smd.origin}/b`)).toBe(200)
    expect(smd.seen[1]).toMatchObject({ presented: world.bss.x5tS256, bound: world.bss.x5tS256 })
    expect(await svc.getToken(smd.origin)).toBe(token)
    expect(world.issuer.tokenRequests).toHaveLength(1)

    // The renewal completes: the new pair is taken up.
    await world.files.write(renewed)
    await logged('client_certificate_reloaded', { x5t_s256: renewed.x5tS256 })
    expect(await get(svc, `${smd.origin}/c`)).toBe(200)
    expect(smd.seen[2]).toMatchObject({ presented: renewed.x5tS256, bound: renewed.x5tS256 })
    expectNoSecretsLogged([world.bss.key, renewed.key, stranger.key], [token])
  })

  it('the CA file is re-read too: a server trusted only after the change is reached', async () => {
    const smd = await world.target()
    const other = await createTestCa()
    world.defer(() => other.close())
    await writeFile(world.files.caFile, other.cert)
    const svc = client(smd)
    // The test issuer's certificate is from the test CA, not the one in the file.
    await expect(svc.getToken(smd.origin)).rejects.toMatchObject({ error: 'network_error' })

    await writeFile(world.files.caFile, world.ca.cert)
    await logged('tls_ca_reloaded', { file: world.files.caFile })
    await vi.waitFor(
      async () => {
        // Past the backoff of the failed request.
        expect(await get(svc, `${smd.origin}/a`)).toBe(200)
      },
      { timeout: 5000, interval: 25 },
    )
    expect(smd.seen.at(-1)).toMatchObject({ presented: world.bss.x5tS256 })
  })
})
