/**
 * The `svcauth` CLI (issue 10) against the test issuer: `token` (all three auth methods, OAuth
 * errors explained, secrets never from argv unless forced), `inspect` (an expired, a
 * wrong-audience, a forged, a scope-lacking and a valid token, as a service would judge them),
 * `register` and `rotate-secret`; exit codes and JSON output. One run of the built bin checks the
 * executable itself.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { loadCredentials } from '@svcauth/client'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { cli } from '../support/run-cli.js'
import { startBareRefusalServer } from '../client/bare-refusal-server.js'

const SECRET = 'CLI-s3cret-Zq9+/x'
let issuer: TestIssuer
let dir: string

beforeEach(async () => {
  issuer = await createTestIssuer({ keyCount: 1 })
  issuer.addClient({ clientId: 'bss', secrets: [SECRET], scope: ['smd.read'], audience: ['smd'] })
  dir = await mkdtemp(join(tmpdir(), 'svcauth-cli-'))
})
afterEach(async () => {
  await issuer.close()
  await rm(dir, { recursive: true, force: true })
})

const tokenArgs = () => [
  'token',
  '--token-endpoint',
  issuer.tokenEndpoint,
  '--client-id',
  'bss',
  '--scope',
  'smd.read',
  '--audience',
  'smd',
]

describe('svcauth token', () => {
  it('prints only the token on stdout (details on stderr), or the token response with --json, with the secret from the environment or a file', async () => {
    const r = await cli([...tokenArgs(), '--json'], { SVCAUTH_CLIENT_SECRET: SECRET })
    expect(r.code).toBe(0)
    const body = JSON.parse(r.out) as Record<string, unknown>
    expect(body).toMatchObject({ token_type: 'bearer', expires_in: 3599 })
    expect(issuer.tokenRequests.at(-1)?.headers.authorization).toMatch(/^Basic /)

    const file = join(dir, 'secret')
    await writeFile(file, `${SECRET}\n`)
    issuer.addClient({ clientId: 'poster', secrets: [SECRET], authMethod: 'client_secret_post' })
    const plain = await cli([
      'token',
      '--token-endpoint',
      issuer.tokenEndpoint,
      '--client-id',
      'poster',
      '--client-secret-file',
      file,
      '--auth-method',
      'client_secret_post',
    ])
    expect(plain.code).toBe(0)
    expect(plain.out).toMatch(/^ey[\w-]+\.[\w-]+\.[\w-]+\n$/)
    expect(plain.err).toMatch(/^token_type: bearer\nexpires_in: 3599/)
    expect(issuer.tokenRequests.at(-1)?.form.client_secret).toBe(SECRET)
  })

  it('signs a private_key_jwt assertion from a key file', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
    issuer.addClient({
      clientId: 'signer',
      authMethod: 'private_key_jwt',
      jwks: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }],
    })
    const pem = join(dir, 'key.pem')
    await writeFile(pem, await exportPKCS8(privateKey))
    const r = await cli([
      'token',
      '--token-endpoint',
      issuer.tokenEndpoint,
      '--client-id',
      'signer',
      '--auth-method',
      'private_key_jwt',
      '--private-key-file',
      pem,
      '--key-id',
      'k1',
    ])
    expect(r.code).toBe(0)
    expect(issuer.tokenRequests.at(-1)?.form.client_assertion_type).toContain('jwt-bearer')
  })

  it('explains invalid_client and invalid_scope, with exit code 1', async () => {
    const wrong = await cli(tokenArgs(), { SVCAUTH_CLIENT_SECRET: 'wrong' })
    expect(wrong.code).toBe(1)
    expect(wrong.err).toContain('invalid_client (HTTP 401)')
    expect(wrong.err).toMatch(/wrong secret.*auth method/)
    expect(wrong.err).not.toContain('wrong\n')
    const scope = await cli([...tokenArgs(), '--scope', 'admin'], {
      SVCAUTH_CLIENT_SECRET: SECRET,
    })
    expect(scope.code).toBe(1)
    expect(scope.err).toContain('invalid_scope')
    const json = await cli([...tokenArgs(), '--json'], { SVCAUTH_CLIENT_SECRET: 'wrong' })
    expect(JSON.parse(json.out)).toMatchObject({ error: 'invalid_client', status: 401 })
  })

  it('R10: says the credentials were refused when the server answers a wrong secret with an empty 401', async () => {
    const server = await startBareRefusalServer('bss', SECRET)
    try {
      const args = ['token', '--token-endpoint', server.tokenEndpoint, '--client-id', 'bss']
      const wrong = await cli(args, { SVCAUTH_CLIENT_SECRET: 'wrong' })
      expect(wrong.code).toBe(1)
      expect(wrong.err).toContain('token request refused: invalid_client (HTTP 401)')
      expect(wrong.err).toContain('refused the client credentials')
      expect(wrong.err).not.toMatch(/invalid_response|usable token response|wrong\n/)
      const json = await cli([...args, '--json'], { SVCAUTH_CLIENT_SECRET: 'wrong' })
      expect(json.code).toBe(1)
      expect(JSON.parse(json.out)).toMatchObject({
        error: 'invalid_client',
        status: 401,
        hint: expect.stringContaining('refused the client credentials') as unknown,
      })
      const right = await cli(args, { SVCAUTH_CLIENT_SECRET: SECRET })
      expect(right.code).toBe(0)
      expect(right.out).toBe('bare-1\n')
    } finally {
      await server.close()
    }
  })

  it('refuses a secret on argv unless forced, and reports an unreachable server with exit 3', async () => {
    const argv = await cli([...tokenArgs(), '--client-secret', SECRET])
    expect(argv.code).toBe(2)
    expect(argv.err).toContain('visible to every user')
    const forced = await cli([...tokenArgs(), '--client-secret', SECRET, '--allow-secret-arg'])
    expect(forced.code).toBe(0)
    issuer.setTokenMode('down')
    const down = await cli(tokenArgs(), { SVCAUTH_CLIENT_SECRET: SECRET })
    expect(down.code).toBe(3)
    expect(down.err).toContain('network_error')
  })

  it('discovers the token endpoint from --issuer', async () => {
    const r = await cli(
      ['token', '--issuer', issuer.issuer, '--client-id', 'bss', '--scope', 'smd.read'],
      { SVCAUTH_CLIENT_SECRET: SECRET },
    )
    expect(r.code).toBe(0)
  })

  it('R2: refuses a discovered token_endpoint at an unspecified address, however spelled, with exit 3, sending the secret nowhere', async () => {
    const received: string[] = []
    const listener = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk: Buffer) => (body += chunk.toString()))
      req.on('end', () => {
        received.push(`${req.headers.authorization ?? ''} ${body}`)
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end('{"access_token":"stolen","token_type":"bearer","expires_in":60}')
      })
    })
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
    const { port } = listener.address() as AddressInfo
    try {
      // connect() to an unspecified address reaches this host, so each of these would land on the
      // listener (never off the machine) if the CLI sent the request.
      for (const endpoint of [
        `http://[::ffff:0.0.0.0]:${port}/token`,
        `http://[0:0:0:0:0:ffff:0:0]:${port}/token`,
        `http://0.0.0.0:${port}/token`,
        `http://0:${port}/token`,
        `http://[::]:${port}/token`,
      ]) {
        issuer.setDiscoveryOverrides({ token_endpoint: endpoint })
        const args = ['token', '--issuer', issuer.issuer, '--client-id', 'bss', '--json']
        const r = await cli([...args, '--allow-insecure-http'], { SVCAUTH_CLIENT_SECRET: SECRET })
        expect(r, endpoint).toEqual({
          code: 3,
          out: '',
          err: "svcauth: discovery refused: the issuer's token_endpoint points at an unspecified address; nothing was sent to it\n",
        })
      }
      expect(received).toEqual([])
      expect(issuer.tokenRequests).toHaveLength(0)
    } finally {
      listener.closeAllConnections()
      await new Promise((resolve) => listener.close(resolve))
    }
  })

  it('answers usage errors with exit 2 and the command help', async () => {
    const r = await cli(['token', '--token-endpoint', issuer.tokenEndpoint])
    expect(r.code).toBe(2)
    expect(r.err).toContain('--client-id is required')
    expect(r.err).toContain('usage: svcauth token')
    expect((await cli(['frobnicate'])).code).toBe(2)
    expect((await cli(['--help'])).code).toBe(0)
  })
})

describe('svcauth inspect', () => {
  const verify = (token: string, ...extra: string[]) =>
    cli(['inspect', token, '--issuer', issuer.issuer, '--audience', 'smd', ...extra])

  it('shows the principal of a valid token', async () => {
    const token = await issuer.mintClientToken({
      clientId: 'bss',
      scope: ['smd.read'],
      audience: ['smd'],
    })
    const r = await verify(token)
    expect(r.code).toBe(0)
    expect(r.out).toContain('accepted (a service would answer 200)')
    expect(r.out).toMatch(/actor_type: client\n\s+actor_id:\s+bss/)
    const json = await verify(token, '--json')
    expect(JSON.parse(json.out)).toMatchObject({
      result: 'accepted',
      principal: { actor_type: 'client', actor_id: 'bss', client_id: 'bss', scopes: ['smd.read'] },
    })
  })

  it('explains an expired token, a wrong audience, a forgery and a missing scope', async () => {
    const expired = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'], ttl: -120 })
    const e = await verify(expired)
    expect(e.code).toBe(1)
    expect(e.out).toContain('rejected: expired (a service would answer 401 invalid_token)')
    expect(e.out).toMatch(/expired \d+ s ago|expired \d+ min ago/)

    const other = await issuer.mintClientToken({ clientId: 'bss', audience: ['bss'] })
    const a = await verify(other, '--json')
    expect(a.code).toBe(1)
    expect(JSON.parse(a.out)).toMatchObject({
      result: 'rejected',
      reason: 'aud_invalid',
      status: 401,
    })

    const forged = await issuer.forgeClientToken({ clientId: 'bss', audience: ['smd'] })
    const f = await verify(forged)
    expect(f.out).toContain('rejected: signature_invalid')

    const weak = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'], scope: [] })
    const w = await verify(weak, '--scope', 'smd.write')
    expect(w.out).toContain('rejected: insufficient_scope (a service would answer 403')
  })

  it('verifies against a key set alone with --jwks-uri (the issuer then is the token own)', async () => {
    const token = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    const ok = await cli(['inspect', token, '--jwks-uri', issuer.jwksUri, '--audience', 'smd'])
    expect(ok.code).toBe(0)
    expect(ok.out).toContain('accepted')
    const forged = await issuer.forgeClientToken({ clientId: 'bss', audience: ['smd'] })
    const bad = await cli(['inspect', forged, '--jwks-uri', issuer.jwksUri, '--json'])
    expect(bad.code).toBe(1)
    expect(JSON.parse(bad.out)).toMatchObject({ result: 'rejected', status: 401 })
  })

  it('decodes without verifying when no issuer is given, and reads the token from stdin', async () => {
    const token = await issuer.mintUserToken({
      sub: 'alice',
      clientId: 'portal',
      audience: ['smd'],
    })
    const r = await cli(['inspect', '-'], {}, `Bearer ${token}\n`)
    expect(r.code).toBe(0)
    expect(r.out).toContain('"sub": "alice"')
    expect(r.out).toContain('NOT VERIFIED')
    const opaque = await cli(['inspect', 'ory_at_abc.def'])
    expect(opaque.code).toBe(1)
    expect(opaque.out).toContain('not a JWT')
  })
})

describe('svcauth register and rotate-secret', () => {
  it('registers through Hydra admin or RFC 7591, saves 0600 credentials, and rotates the secret', async () => {
    const out = join(dir, 'bss.json')
    const r = await cli([
      'register',
      '--admin-url',
      issuer.adminUrl,
      '--client-id',
      'bss-2',
      '--scope',
      'smd.read',
      '--audience',
      'smd',
      '--out',
      out,
    ])
    expect(r.code).toBe(0)
    expect(r.out).toContain('registered client bss-2')
    expect((await stat(out)).mode & 0o777).toBe(0o600)
    const stored = await loadCredentials(out)
    expect(r.out).not.toContain(stored?.clientSecret ?? '?')

    const conflict = await cli([
      'register',
      '--admin-url',
      issuer.adminUrl,
      '--client-id',
      'bss-2',
      '--out',
      join(dir, 'x.json'),
    ])
    expect(conflict.code).toBe(1)
    expect(conflict.err).toContain('conflict (HTTP 409)')

    const rot = await cli(['rotate-secret', '--credentials-file', out])
    expect(rot.code).toBe(0)
    const after = await loadCredentials(out)
    expect(after?.clientSecret).not.toBe(stored?.clientSecret)
    const token = await cli(
      ['token', '--token-endpoint', issuer.tokenEndpoint, '--client-id', 'bss-2'],
      { SVCAUTH_CLIENT_SECRET: after?.clientSecret ?? '' },
    )
    expect(token.code).toBe(0)

    issuer.setRegistrationInitialToken('iat-1')
    const refused = await cli([
      'register',
      '--registration-endpoint',
      issuer.registrationEndpoint,
      '--out',
      join(dir, 'dcr.json'),
    ])
    expect(refused.code).toBe(1)
    expect(refused.err).toContain('initial access token')
    const iat = join(dir, 'iat')
    await writeFile(iat, 'iat-1\n')
    const dcr = await cli([
      'register',
      '--registration-endpoint',
      issuer.registrationEndpoint,
      '--initial-access-token-file',
      iat,
      '--json',
      '--show-secret',
    ])
    expect(dcr.code).toBe(0)
    expect(JSON.parse(dcr.out)).toMatchObject({ client_secret: expect.any(String) })
  })
})

describe('the installed bin', () => {
  it('runs as an executable and exits with the command status', async () => {
    const bin = fileURLToPath(new URL('../../packages/cli/src/bin.ts', import.meta.url))
    const run = promisify(execFile)
    const result = await run(
      process.execPath,
      ['--conditions=@svcauth/source', '--import', 'tsx', bin, 'token', ...tokenArgs().slice(1)],
      { env: { ...process.env, SVCAUTH_CLIENT_SECRET: SECRET } },
    )
    expect(result.stdout).toMatch(/^ey[\w-]+\.[\w-]+\.[\w-]+\n$/)
    expect(result.stderr).toContain('expires_in: 3599')
    const failed = await run(process.execPath, [
      '--conditions=@svcauth/source',
      '--import',
      'tsx',
      bin,
      'inspect',
    ]).catch((e: unknown) => e as { code: number; stderr: string })
    expect(failed).toMatchObject({ code: 2 })
  })
})
