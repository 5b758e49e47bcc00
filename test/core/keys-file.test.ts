/**
 * Issue 20, item 1: an issuer's keys read from a file (`keysFile`) that configuration management
 * replaces. Read at start-up (every bad file a TypeError naming the option, the path and why),
 * then followed: a new version renamed over the file and a Kubernetes `..data` symlink swap are
 * picked up by the directory watch; an unknown kid checks the file at once; truncation, garbage
 * and an unreadable file keep the last good keys, are logged once per change and shown in
 * `status()`; a reload that drops a key drops the tokens cached under it. No network call.
 *
 * "Unreadable" is simulated by deleting the file, by a directory in its place and by a dangling
 * symlink, not by `chmod 000`: these tests may run as root, who reads a file whatever its mode.
 */
import { execFile } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import {
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import {
  createAuthenticator,
  createWarningLogger,
  type Authenticator,
  type AuthenticatorOptions,
} from '@svcauth/core'
import { createTestIssuer } from '@svcauth/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { ISSUER, mint, outcome, pair, startupError, type Pair } from '../support/offline-keys.js'

const closers: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'svcauth-keys-'))
  closers.push(() => {
    rmSync(dir, { recursive: true, force: true })
  })
  return dir
}

/** A JWKS text with each pair under its kid. */
function jwks(entries: Record<string, Pair>): string {
  return JSON.stringify({
    keys: Object.entries(entries).map(([kid, p]) => ({ ...p.jwk, kid, alg: p.alg })),
  })
}

interface Logged {
  readonly level: 'warn' | 'error'
  readonly [field: string]: unknown
}

function fileAuth(
  keysFile: string,
  extra: Partial<AuthenticatorOptions> = {},
): { auth: Authenticator; logs: Logged[] } {
  const logs: Logged[] = []
  const auth = createAuthenticator({
    issuer: ISSUER,
    audience: 'smd',
    keysFile,
    logger: {
      warn: (o) => logs.push({ ...o, level: 'warn' }),
      error: (o) => logs.push({ ...o, level: 'error' }),
    },
    ...extra,
  })
  closers.push(() => {
    auth.close()
  })
  return { auth, logs }
}

/** Polls `check` until it holds (the directory watch is asynchronous); fails after 10 s. */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const fetchedAt = (auth: Authenticator): number => auth.status()[0]?.fetchedAt?.getTime() ?? 0

const a = pair('rsa')
const b = pair('rsa')
const c = pair('ec')
/** A token whose kid no file publishes: with `jwks.cooldown: 0` it makes the source check the file. */
const probe = (auth: Authenticator) => outcome(auth, mint(a, { kid: 'probe-no-such-kid' }))

/** Watch only: no interval check and no unknown-kid check within the test. */
const WATCH_ONLY = { jwks: { cooldown: 3_600_000, refreshInterval: 3_600_000 } }

describe('keysFile at start-up', () => {
  it('a JWKS file: its keys verify; status() names the file and no JWKS address', async () => {
    const path = join(tempDir(), 'jwks.json')
    writeFileSync(path, jwks({ a, c }))
    const before = Date.now()
    const { auth, logs } = fileAuth(path)
    expect(await auth.ready()).toBe(true)
    expect(await outcome(auth, mint(a, { kid: 'a' }))).toBe('accepted')
    expect(await outcome(auth, mint(c, { kid: 'c' }))).toBe('accepted')
    expect(await outcome(auth, mint(a))).toBe('accepted') // one RS256 key: no kid needed
    const [status] = auth.status()
    expect(status).toMatchObject({ issuer: ISSUER, jwksUri: undefined, keysFile: path, keys: 2 })
    expect(status?.fetchedAt?.getTime()).toBeGreaterThanOrEqual(before)
    expect(status?.lastFailure).toBeUndefined()
    expect(logs).toEqual([])
  })

  it('a PEM file: a bundle whose keys match any kid', async () => {
    const path = join(tempDir(), 'keys.pem')
    writeFileSync(path, `${a.pem}${b.pem}`)
    const { auth } = fileAuth(path)
    expect(await outcome(auth, mint(a, { kid: 'whatever' }))).toBe('accepted')
    expect(await outcome(auth, mint(b, { kid: 'whatever' }))).toBe('accepted')
  })

  it('a relative path is resolved against the working directory once', async () => {
    const path = join(tempDir(), 'jwks.json')
    writeFileSync(path, jwks({ a }))
    const { auth } = fileAuth(relative(process.cwd(), path))
    await auth.ready()
    expect(auth.status()[0]?.keysFile).toBe(path)
  })

  it('every bad file is a TypeError naming the option, the path and why, never the contents', () => {
    const dir = tempDir()
    const path = join(dir, 'jwks.json')
    const build =
      (file: unknown, extra: Partial<AuthenticatorOptions> = {}) =>
      () =>
        createAuthenticator({ issuer: ISSUER, audience: 'smd', keysFile: file as string, ...extra })
    const at = `svcauth: keysFile ${path}: `

    expect(startupError(build(path))).toBe(`${at}cannot be read (ENOENT)`)
    mkdirSync(path)
    expect(startupError(build(path))).toBe(`${at}not a regular file`)
    rmSync(path, { recursive: true })

    const cases: [string, string | RegExp][] = [
      ['', 'neither JSON nor PEM'],
      ['not json', 'neither JSON nor PEM'],
      ['[1]', 'not a JWKS (a JSON object with a "keys" array)'],
      ['{"keys": 1}', 'JWKS has no "keys" array'],
      ['{"keys": []}', 'no key given'],
      [jwks({ weak: pair('rsa1024') }), /^no key can verify RS256, PS256, ES256, EdDSA /],
    ]
    for (const [text, why] of cases) {
      writeFileSync(path, text)
      const message = startupError(build(path))
      expect(message.slice(0, at.length)).toBe(at)
      if (typeof why === 'string') expect(message.slice(at.length)).toBe(why)
      else expect(message.slice(at.length)).toMatch(why)
    }

    // D10: a private key in the file.
    const secret = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string
    writeFileSync(path, secret)
    expect(startupError(build(path), [secret])).toBe(
      `${at}a private key was given: give only public keys or certificates`,
    )
    const jwk = JSON.stringify({
      keys: [generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' })],
    })
    writeFileSync(path, jwk)
    expect(startupError(build(path), [jwk])).toBe(`${at}JWKS members must be public keys`)

    // G6: the byte cap and the key-count cap.
    writeFileSync(path, JSON.stringify({ keys: [{ ...a.jwk }], pad: 'x'.repeat(2000) }))
    expect(startupError(build(path, { jwks: { maxBytes: 1024 } }))).toMatch(
      /: \d+ bytes, over the jwks\.maxBytes cap of 1024$/,
    )
    writeFileSync(path, jwks({ a, b, c }))
    expect(startupError(build(path, { jwks: { maxKeys: 2 } }))).toMatch(
      /: JWKS has 3 keys, over the cap of 2$/,
    )

    for (const value of ['', 42, {}]) {
      expect(startupError(build(value))).toBe('svcauth: keysFile must be a path')
    }
  })

  it('no network call is ever made for keys: no discovery, no JWKS request', async () => {
    const issuer = await createTestIssuer()
    closers.push(() => issuer.close())
    const path = join(tempDir(), 'jwks.json')
    writeFileSync(path, JSON.stringify(issuer.publicKeys()))
    const auth = createAuthenticator({
      issuer: issuer.issuer,
      audience: 'smd',
      keysFile: path,
      jwks: { cooldown: 0 },
    })
    closers.push(() => {
      auth.close()
    })
    const good = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    const unknown = await issuer.mintClientToken({
      clientId: 'bss',
      audience: ['smd'],
      header: { kid: 'rotated-in' },
    })
    expect(await outcome(auth, good)).toBe('accepted')
    expect(await outcome(auth, unknown)).toBe('key_not_found')
    expect(issuer.hits).toMatchObject({ jwks: 0, discovery: 0 })
  })
})

describe('keysFile followed when it changes', () => {
  it('a new version renamed over the file is installed; tokens cached under a key it dropped are dropped', async () => {
    const dir = tempDir()
    const path = join(dir, 'jwks.json')
    writeFileSync(path, jwks({ a }))
    const { auth, logs } = fileAuth(path, WATCH_ONLY)
    const cachedA = mint(a, { kid: 'a' })
    await auth.ready()
    expect(await outcome(auth, cachedA)).toBe('accepted')
    const installed = fetchedAt(auth)

    // Configuration management writes a new file beside it and renames it into place.
    writeFileSync(join(dir, '.jwks.json.tmp'), jwks({ b }))
    renameSync(join(dir, '.jwks.json.tmp'), path)
    await until(() => fetchedAt(auth) > installed, 'the renamed file was installed')

    expect(await outcome(auth, mint(b, { kid: 'b' }))).toBe('accepted')
    expect(await outcome(auth, cachedA)).toBe('key_not_found')
    expect(auth.status()[0]).toMatchObject({ keys: 1, keysFile: path })
    expect(auth.status()[0]?.lastFailure).toBeUndefined()
    expect(logs).toEqual([])
  })

  it('a new version that keeps a key keeps the tokens cached under it', async () => {
    const dir = tempDir()
    const path = join(dir, 'jwks.json')
    writeFileSync(path, jwks({ a }))
    const { auth } = fileAuth(path, WATCH_ONLY)
    const token = mint(a, { kid: 'a' })
    const first = await auth.verify(token)
    const installed = fetchedAt(auth)
    writeFileSync(join(dir, 'next'), jwks({ a, b }))
    renameSync(join(dir, 'next'), path)
    await until(() => fetchedAt(auth) > installed, 'the new version was installed')
    expect(auth.status()[0]?.keys).toBe(2)
    // The very same principal: answered from the cache, not verified again.
    expect(await auth.verify(token)).toBe(first)
  })

  it('a PEM file: a reload that drops a key drops the tokens cached under it, and keeps the others', async () => {
    const path = join(tempDir(), 'keys.pem')
    writeFileSync(path, `${a.pem}${b.pem}`)
    const { auth } = fileAuth(path, { jwks: { cooldown: 0 } })
    const byA = mint(a, { kid: 'hydra-kid' })
    const byB = mint(b, { kid: 'hydra-kid' })
    expect(await outcome(auth, byA)).toBe('accepted')
    const cachedB = await auth.verify(byB)

    writeFileSync(path, b.pem)
    // An ES256 token: no PEM key fits it, so the source checks the file (cooldown 0).
    expect(await outcome(auth, mint(c))).toBe('key_not_found')
    expect(auth.status()[0]?.keys).toBe(1)
    expect(await outcome(auth, byA)).toBe('signature_invalid')
    expect(await auth.verify(byB)).toBe(cachedB)
  })

  it('a Kubernetes ConfigMap ..data symlink swap is followed', async () => {
    const dir = tempDir()
    mkdirSync(join(dir, '..2026_01_01_v1'))
    writeFileSync(join(dir, '..2026_01_01_v1', 'jwks.json'), jwks({ a }))
    symlinkSync('..2026_01_01_v1', join(dir, '..data'))
    symlinkSync(join('..data', 'jwks.json'), join(dir, 'jwks.json'))
    const { auth, logs } = fileAuth(join(dir, 'jwks.json'), WATCH_ONLY)
    expect(await outcome(auth, mint(a, { kid: 'a' }))).toBe('accepted')
    const installed = fetchedAt(auth)

    // The kubelet's atomic writer: a new timestamped directory, a new symlink renamed over ..data.
    mkdirSync(join(dir, '..2026_01_02_v2'))
    writeFileSync(join(dir, '..2026_01_02_v2', 'jwks.json'), jwks({ b }))
    symlinkSync('..2026_01_02_v2', join(dir, '..data_tmp'))
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'))
    rmSync(join(dir, '..2026_01_01_v1'), { recursive: true })
    await until(() => fetchedAt(auth) > installed, 'the swapped version was installed')

    expect(await outcome(auth, mint(b, { kid: 'b' }))).toBe('accepted')
    expect(await outcome(auth, mint(a, { kid: 'a' }))).toBe('key_not_found')
    expect(logs).toEqual([])
  })

  it('an unknown kid checks the file at once, before the watch has settled', async () => {
    const path = join(tempDir(), 'jwks.json')
    writeFileSync(path, jwks({ a }))
    const { auth } = fileAuth(path)
    await auth.ready()
    writeFileSync(path, jwks({ a, b }))
    // No event-loop turn between the write and the lookup: only the on-demand check can see it.
    expect(await outcome(auth, mint(b, { kid: 'b' }))).toBe('accepted')
  })

  it('truncation and garbage keep the last good keys, are logged once per change and shown in status(); a good file recovers', async () => {
    const path = join(tempDir(), 'jwks.json')
    writeFileSync(path, jwks({ a }))
    const { auth, logs } = fileAuth(path, { jwks: { cooldown: 0 } })
    const tokenA = mint(a, { kid: 'a' })
    expect(await outcome(auth, tokenA)).toBe('accepted')

    writeFileSync(path, '') // truncated mid-deployment
    expect(await probe(auth)).toBe('key_not_found')
    expect(await outcome(auth, tokenA)).toBe('accepted')
    expect(logs).toEqual([
      {
        level: 'error',
        event: 'keys_file_invalid',
        code: 'SVCAUTH_KEYS_FILE_INVALID',
        reason: 'keys_file_invalid',
        issuer: ISSUER,
        keys_file: path,
        error: 'neither JSON nor PEM',
        serving_last_good_keys: true,
      },
    ])
    const [status] = auth.status()
    expect(status).toMatchObject({ keys: 1, keysFile: path })
    expect(status?.lastFailure).toMatchObject({
      reason: 'keys_file_invalid',
      message: 'neither JSON nor PEM',
    })
    const failedAt = status?.lastFailure?.at.getTime() ?? 0

    expect(await probe(auth)).toBe('key_not_found') // the same version: not logged again
    expect(logs).toHaveLength(1)

    const garbage = '{"keys": [{"kty": "RSA", "n": "AQAB'
    writeFileSync(path, garbage)
    expect(await probe(auth)).toBe('key_not_found')
    expect(logs).toHaveLength(2)
    writeFileSync(path, garbage) // rewritten with the same bytes: the same condition
    expect(await probe(auth)).toBe('key_not_found')
    expect(logs).toHaveLength(2)

    const secret = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string
    writeFileSync(path, secret)
    expect(await probe(auth)).toBe('key_not_found')
    expect(logs).toHaveLength(3)
    expect(logs[2]).toMatchObject({
      error: 'a private key was given: give only public keys or certificates',
    })
    const text = JSON.stringify(logs)
    for (const line of secret.split('\n').filter((l) => l.length >= 16)) {
      expect(text).not.toContain(line)
    }
    expect(await outcome(auth, tokenA)).toBe('accepted')

    writeFileSync(path, jwks({ a, b }))
    expect(await outcome(auth, mint(b, { kid: 'b' }))).toBe('accepted')
    const [recovered] = auth.status()
    expect(recovered?.keys).toBe(2)
    // The failure is kept, older than the keys now installed.
    expect(recovered?.lastFailure?.reason).toBe('keys_file_invalid')
    expect(recovered?.lastFailure?.at.getTime()).toBeGreaterThanOrEqual(failedAt)
    expect(recovered?.fetchedAt?.getTime()).toBeGreaterThanOrEqual(
      recovered?.lastFailure?.at.getTime() ?? Infinity,
    )
    expect(logs).toHaveLength(3)
  })

  it('an unreadable file keeps the last good keys: deleted, a directory in its place, a dangling symlink', async () => {
    const path = join(tempDir(), 'jwks.json')
    const good = jwks({ a })
    writeFileSync(path, good)
    const { auth, logs } = fileAuth(path, { jwks: { cooldown: 0 } })
    const tokenA = mint(a, { kid: 'a' })
    expect(await outcome(auth, tokenA)).toBe('accepted')

    unlinkSync(path)
    expect(await probe(auth)).toBe('key_not_found')
    expect(await outcome(auth, tokenA)).toBe('accepted')
    expect(logs).toEqual([
      expect.objectContaining({
        level: 'error',
        event: 'keys_file_unreadable',
        code: 'SVCAUTH_KEYS_FILE_UNREADABLE',
        keys_file: path,
        error: 'cannot be read (ENOENT)',
        serving_last_good_keys: true,
      }),
    ])
    expect(auth.status()[0]?.lastFailure).toMatchObject({
      reason: 'keys_file_unreadable',
      message: 'cannot be read (ENOENT)',
    })
    expect(await probe(auth)).toBe('key_not_found')
    expect(logs).toHaveLength(1) // still missing: not logged again

    mkdirSync(path)
    expect(await probe(auth)).toBe('key_not_found')
    expect(logs).toHaveLength(2)
    expect(logs[1]).toMatchObject({ event: 'keys_file_unreadable', error: 'not a regular file' })
    rmSync(path, { recursive: true })
    symlinkSync(join(tempDir(), 'gone.json'), path)
    expect(await probe(auth)).toBe('key_not_found')
    expect(logs).toHaveLength(3)
    expect(await outcome(auth, tokenA)).toBe('accepted')

    // The same good version is back: nothing new to import, but a good read after the failure.
    const failedAt = auth.status()[0]?.lastFailure?.at.getTime() ?? 0
    unlinkSync(path)
    writeFileSync(path, good)
    expect(await probe(auth)).toBe('key_not_found')
    expect(fetchedAt(auth)).toBeGreaterThanOrEqual(failedAt)
    expect(auth.status()[0]?.lastFailure?.reason).toBe('keys_file_unreadable')
    expect(logs).toHaveLength(3)
  })

  it('without a logger, a bad version is a process warning naming the file', async () => {
    const path = join(tempDir(), 'jwks.json')
    writeFileSync(path, jwks({ a }))
    const warnings: (Error & { code?: string })[] = []
    const listen = (w: Error & { code?: string }) => warnings.push(w)
    process.on('warning', listen)
    closers.push(() => {
      process.off('warning', listen)
    })
    const { auth } = fileAuth(path, { jwks: { cooldown: 0 }, logger: createWarningLogger() })
    await auth.ready()
    writeFileSync(path, '{')
    expect(await probe(auth)).toBe('key_not_found')
    await until(() => warnings.some((w) => w.code === 'SVCAUTH_KEYS_FILE_INVALID'), 'a warning')
    const warning = warnings.find((w) => w.code === 'SVCAUTH_KEYS_FILE_INVALID')
    expect(warning?.message).toContain(`keys_file=${path}`)
    expect(warning?.message).toContain('error=neither JSON nor PEM')
  })

  it('close() stops following the file', async () => {
    const dir = tempDir()
    const path = join(dir, 'jwks.json')
    writeFileSync(path, jwks({ a }))
    const { auth } = fileAuth(path, WATCH_ONLY)
    await auth.ready()
    const installed = fetchedAt(auth)
    auth.close()
    writeFileSync(join(dir, 'next'), jwks({ b }))
    renameSync(join(dir, 'next'), path)
    // Several settle periods (100 ms each) pass: an open source would have installed it.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(fetchedAt(auth)).toBe(installed)
    expect(auth.status()[0]?.keys).toBe(1)
  })

  it('the watch and its timers never keep a process alive', async () => {
    const path = join(tempDir(), 'jwks.json')
    writeFileSync(path, jwks({ a }))
    const script = [
      "import { createAuthenticator } from '@svcauth/core'",
      `const auth = createAuthenticator({ issuer: '${ISSUER}', audience: 'smd', keysFile: ${JSON.stringify(path)}, jwks: { refreshInterval: 1000 } })`,
      "console.log(await auth.ready() ? 'ready' : 'not ready')",
    ].join('\n')
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--conditions=@svcauth/source', '--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: fileURLToPath(new URL('../../', import.meta.url)), timeout: 20_000 },
    )
    expect(stdout).toBe('ready\n')
  })
})
