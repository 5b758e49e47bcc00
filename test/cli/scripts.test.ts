/**
 * The `svcauth` CLI in scripts (issue 16, item 7): `token` prints only the access token on stdout
 * so `TOKEN=$(svcauth token …)` works (details on stderr, the whole response with `--json`);
 * `--credentials-file` takes the file `register` writes; `inspect` introspects an opaque token
 * (RFC 7662) at a given or discovered endpoint, with the same exit codes as for a JWT.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { saveCredentials } from '@svcauth/client'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { cli } from '../support/run-cli.js'

const SECRET = 'CLI-s3cret-Zq9+/x'
const JWT = /^ey[\w-]+\.[\w-]+\.[\w-]+$/
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

/** A credentials file as `svcauth register` writes it, by the library's own writer. */
async function credentialsFile(clientId: string, secret: string, method: string): Promise<string> {
  const file = join(dir, `${clientId}.json`)
  await saveCredentials(file, {
    clientId,
    clientSecret: secret,
    registrationAccessToken: undefined,
    registrationClientUri: undefined,
    tokenEndpointAuthMethod: method,
    clientSecretExpiresAt: 0,
    mode: 'dcr',
    metadata: {},
  })
  return file
}

describe('svcauth token in scripts', () => {
  it('TOKEN=$(svcauth token …) captures exactly the token, which inspect then accepts', async () => {
    const bin = fileURLToPath(new URL('../../packages/cli/src/bin.ts', import.meta.url))
    const svcauth = `"${process.execPath}" --conditions=@svcauth/source --import tsx "${bin}"`
    const script =
      `TOKEN=$(${svcauth} token --token-endpoint "$EP" --client-id bss --scope smd.read --audience smd) || exit 9\n` +
      `printf '%s' "$TOKEN" > "$OUT"\n` +
      `${svcauth} inspect "$TOKEN" --issuer "$ISS" --audience smd`
    const out = join(dir, 'token')
    const { stdout, stderr } = await promisify(execFile)('/bin/sh', ['-c', script], {
      env: {
        ...process.env,
        SVCAUTH_CLIENT_SECRET: SECRET,
        EP: issuer.tokenEndpoint,
        ISS: issuer.issuer,
        OUT: out,
      },
    })
    expect(await readFile(out, 'utf8')).toMatch(JWT)
    // The details went to the terminal, not into $TOKEN.
    expect(stderr).toContain('token_type: bearer')
    expect(stderr).toContain('scope: smd.read')
    expect(stdout).toContain('accepted (a service would answer 200)')
    expect(stdout).toMatch(/actor_id:\s+bss/)
  })

  it('prints stdout as the token and a newline, details on stderr; --json keeps the whole response on stdout', async () => {
    const args = ['token', '--token-endpoint', issuer.tokenEndpoint, '--client-id', 'bss']
    const plain = await cli([...args, '--scope', 'smd.read'], { SVCAUTH_CLIENT_SECRET: SECRET })
    expect(plain.code).toBe(0)
    const [token, rest] = plain.out.split('\n')
    expect(token).toMatch(JWT)
    expect(rest).toBe('')
    expect(plain.err).toMatch(
      /^token_type: bearer\nexpires_in: 3599 \(expires .+\)\nscope: smd.read\n$/,
    )

    const json = await cli([...args, '--scope', 'smd.read', '--json'], {
      SVCAUTH_CLIENT_SECRET: SECRET,
    })
    expect(json.code).toBe(0)
    expect(json.err).toBe('')
    expect(JSON.parse(json.out)).toEqual({
      access_token: expect.stringMatching(JWT) as unknown,
      token_type: 'bearer',
      expires_in: 3599,
      scope: 'smd.read',
    })
  })
})

describe('svcauth token --credentials-file', () => {
  it('uses the client id and secret of a file written by register', async () => {
    const out = join(dir, 'registered.json')
    const reg = await cli([
      'register',
      '--admin-url',
      issuer.adminUrl,
      '--client-id',
      'bss-3',
      '--scope',
      'smd.read',
      '--out',
      out,
    ])
    expect(reg.code).toBe(0)
    const r = await cli([
      'token',
      '--token-endpoint',
      issuer.tokenEndpoint,
      '--credentials-file',
      out,
      '--scope',
      'smd.read',
    ])
    expect(r.code).toBe(0)
    expect(r.out.trimEnd()).toMatch(JWT)
    const sent = String(issuer.tokenRequests.at(-1)?.headers.authorization ?? '')
    expect(Buffer.from(sent.replace(/^Basic /, ''), 'base64').toString()).toMatch(/^bss-3:/)
  })

  it('takes the file values as defaults: explicit options win, the environment does not, and another client never gets its secret', async () => {
    issuer.addClient({ clientId: 'poster', secrets: [SECRET], authMethod: 'client_secret_post' })
    const file = await credentialsFile('poster', SECRET, 'client_secret_post')
    const args = ['token', '--token-endpoint', issuer.tokenEndpoint, '--credentials-file', file]

    // A leftover SVCAUTH_CLIENT_SECRET does not override the file the operator named.
    const ok = await cli(args, { SVCAUTH_CLIENT_SECRET: 'leftover' })
    expect(ok.code).toBe(0)
    expect(issuer.tokenRequests.at(-1)?.form).toMatchObject({
      client_id: 'poster',
      client_secret: SECRET,
    })

    const wrong = join(dir, 'wrong')
    await writeFile(wrong, 'wrong\n')
    const explicit = await cli([...args, '--client-secret-file', wrong])
    expect(explicit.code).toBe(1)
    expect(explicit.err).toContain('invalid_client')
    expect(issuer.tokenRequests.at(-1)?.form.client_secret).toBe('wrong')

    const basic = await cli([...args, '--auth-method', 'client_secret_basic'])
    expect(basic.code).toBe(1)
    expect(issuer.tokenRequests.at(-1)?.headers.authorization).toMatch(/^Basic /)

    const before = issuer.tokenRequests.length
    const other = await cli([...args, '--client-id', 'bss'])
    expect(other.code).toBe(2)
    expect(other.err).toContain('no client secret')
    expect(issuer.tokenRequests).toHaveLength(before)

    const missing = await cli([
      'token',
      '--token-endpoint',
      issuer.tokenEndpoint,
      '--credentials-file',
      join(dir, 'none.json'),
    ])
    expect(missing.code).toBe(2)
    expect(missing.err).toContain('does not exist')
  })
})

describe('svcauth inspect of an opaque token', () => {
  const inspect = (token: string, ...extra: string[]) =>
    cli(['inspect', token, '--issuer', issuer.issuer, '--audience', 'smd', ...extra])

  it('introspects an active token at --introspection-endpoint and shows the principal', async () => {
    const token = issuer.mintOpaqueToken({
      clientId: 'portal',
      sub: 'alice',
      scope: ['smd.read'],
      audience: ['smd'],
    })
    const r = await inspect(token, '--introspection-endpoint', issuer.introspectionEndpoint)
    expect(r.code).toBe(0)
    expect(r.out).toContain('accepted (a service would answer 200)')
    expect(r.out).toMatch(/actor_type: user\n\s+actor_id:\s+alice/)
    expect(r.out).toMatch(/expires in \d+ min/)
    expect(r.out).not.toContain(token)
    expect(issuer.introspectionRequests.at(-1)?.headers.authorization).toBeUndefined()

    const json = await inspect(
      token,
      '--introspection-endpoint',
      issuer.introspectionEndpoint,
      '--scope',
      'smd.read',
      '--json',
    )
    expect(json.code).toBe(0)
    expect(JSON.parse(json.out)).toMatchObject({
      verified: true,
      format: 'opaque',
      result: 'accepted',
      principal: { actor_type: 'user', sub: 'alice', client_id: 'portal', scopes: ['smd.read'] },
    })
  })

  it('says an inactive token is refused with token_inactive, exit 1, like a rejected JWT', async () => {
    const token = issuer.mintOpaqueToken({ clientId: 'bss', audience: ['smd'] })
    issuer.revokeToken(token)
    const args = ['--introspection-endpoint', issuer.introspectionEndpoint]
    const r = await inspect(token, ...args)
    expect(r.code).toBe(1)
    expect(r.out).toContain('rejected: token_inactive (a service would answer 401 invalid_token)')
    expect(r.out).toContain('not active')
    const json = await inspect(token, ...args, '--json')
    expect(json.code).toBe(1)
    expect(JSON.parse(json.out)).toMatchObject({
      format: 'opaque',
      result: 'rejected',
      status: 401,
      error: 'invalid_token',
      reason: 'token_inactive',
    })
    const other = issuer.mintOpaqueToken({ clientId: 'bss', audience: ['bss'] })
    const aud = await inspect(other, ...args)
    expect(aud.code).toBe(1)
    expect(aud.out).toContain('rejected: aud_invalid')
  })

  it('finds the endpoint in the issuer metadata and authenticates with the credentials file', async () => {
    issuer.setDiscoveryOverrides({ introspection_endpoint: issuer.introspectionEndpoint })
    issuer.requireIntrospectionAuth({ clientId: 'smd', secret: SECRET })
    const file = await credentialsFile('smd', SECRET, 'client_secret_post')
    const token = issuer.mintOpaqueToken({ clientId: 'bss', audience: ['smd'] })
    const r = await inspect(token, '--credentials-file', file)
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/actor_type: client\n\s+actor_id:\s+bss/)
    expect(issuer.introspectionRequests.at(-1)?.form).toMatchObject({
      client_id: 'smd',
      client_secret: SECRET,
    })

    // --client-id with the secret from the environment, sent as client_secret_basic.
    const env = await cli(
      ['inspect', token, '--issuer', issuer.issuer, '--audience', 'smd', '--client-id', 'smd'],
      { SVCAUTH_CLIENT_SECRET: SECRET },
    )
    expect(env.code).toBe(0)
    expect(issuer.introspectionRequests.at(-1)?.headers.authorization).toMatch(/^Basic /)

    // Refused credentials make the endpoint unusable: a service would answer 503; exit 3.
    const none = await inspect(token)
    expect(none.code).toBe(3)
    expect(none.out).toContain('rejected: introspection_unavailable (a service would answer 503')
    expect(none.out).toMatch(/detail: .*401/)
    expect(none.out).not.toContain(SECRET)
  })

  it('explains a missing endpoint, and needs --issuer to introspect', async () => {
    const token = issuer.mintOpaqueToken({ clientId: 'bss', audience: ['smd'] })
    const r = await inspect(token)
    expect(r.code).toBe(3)
    expect(r.out).toContain('detail: metadata has no introspection_endpoint')
    expect(r.out).toContain('give --introspection-endpoint')

    const alone = await cli([
      'inspect',
      token,
      '--introspection-endpoint',
      issuer.introspectionEndpoint,
    ])
    expect(alone.code).toBe(2)
    expect(alone.err).toContain('--introspection-endpoint needs --issuer')
    const decode = await cli(['inspect', token])
    expect(decode.code).toBe(1)
    expect(decode.out).toContain('give --issuer')
  })
})
