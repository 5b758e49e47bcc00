/**
 * Registration and the CLI against a real authorization server (oidc-provider on loopback with
 * RFC 7591 dynamic registration behind an initial access token, and RFC 7592 management): a
 * service registers on first start, persists, gets tokens, and reuses its credentials on restart;
 * the registration can be read and deleted; `svcauth token`, `inspect` and `register` work against
 * the same server.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createServiceClient,
  deleteClient,
  loadCredentials,
  readClient,
  registerClient,
  type ServiceClient,
} from '@svcauth/client'
import { generateSigningKey, startProvider, type RunningProvider } from '@svcauth/example-demo'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli } from '../support/run-cli.js'

const INITIAL = 'interop-initial-access-token-0123456789'
let provider: RunningProvider
let dir: string
const clients: ServiceClient[] = []

beforeAll(async () => {
  provider = await startProvider({
    clients: [],
    resources: { 'urn:smd': { audience: 'smd', scope: 'smd.read smd.write', format: 'jwt' } },
    keys: [await generateSigningKey()],
    registration: { initialAccessToken: INITIAL },
  })
  dir = await mkdtemp(join(tmpdir(), 'svcauth-interop-reg-'))
})
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()))
  await provider.close()
  await rm(dir, { recursive: true, force: true })
})

const SMD = 'http://127.0.0.1:9' // never called: getToken only

describe('oidc-provider: dynamic registration', () => {
  it('refuses a registration without the initial access token', async () => {
    await expect(
      registerClient({
        registrationEndpoint: provider.registrationEndpoint,
        metadata: { scope: 'smd.read' },
      }),
    ).rejects.toMatchObject({ error: 'invalid_token', status: 401 })
  })

  it('registers on first start, persists, gets tokens, and reuses the credentials on restart', async () => {
    const file = join(dir, 'bss.json')
    const start = () => {
      const svc = createServiceClient({
        issuer: provider.issuer,
        registration: {
          registrationEndpoint: provider.registrationEndpoint,
          initialAccessToken: INITIAL,
          credentialsFile: file,
          metadata: { client_name: 'bss', scope: 'smd.read' },
        },
        targets: { [SMD]: { scope: ['smd.read'], resource: 'urn:smd' } },
      })
      clients.push(svc)
      return svc
    }
    const token = await start().getToken(SMD)
    const stored = await loadCredentials(file)
    expect(stored?.registrationAccessToken).toEqual(expect.any(String))
    expect(stored?.registrationClientUri).toBe(
      `${provider.registrationEndpoint}/${stored?.clientId}`,
    )

    const again = await start().getToken(SMD)
    expect(again).not.toBe(token) // a new token, with the same client
    expect((await loadCredentials(file))?.clientSecret).toBe(stored?.clientSecret)

    const inspected = await cli([
      'inspect',
      again,
      '--issuer',
      provider.issuer,
      '--audience',
      'smd',
      '--json',
    ])
    expect(inspected.code).toBe(0)
    expect(JSON.parse(inspected.out)).toMatchObject({
      result: 'accepted',
      principal: { actor_type: 'client', client_id: stored?.clientId, scopes: ['smd.read'] },
    })

    const handle = {
      registrationClientUri: stored?.registrationClientUri ?? '',
      registrationAccessToken: stored?.registrationAccessToken ?? '',
    }
    expect((await readClient(handle)).metadata).toMatchObject({ client_name: 'bss' })
    await deleteClient(handle)
    await expect(readClient(handle)).rejects.toMatchObject({ error: 'invalid_token' })
  })

  it('svcauth register, token and inspect against the same server', async () => {
    const iat = join(dir, 'iat')
    await writeFile(iat, INITIAL)
    const out = join(dir, 'cli.json')
    const reg = await cli([
      'register',
      '--registration-endpoint',
      provider.registrationEndpoint,
      '--initial-access-token-file',
      iat,
      '--client-name',
      'operator-test',
      '--scope',
      'smd.read',
      '--auth-method',
      'client_secret_post',
      '--allow-insecure-http',
      '--out',
      out,
    ])
    expect(reg.code, reg.err).toBe(0)
    const stored = await loadCredentials(out)
    const secretFile = join(dir, 'secret')
    await writeFile(secretFile, stored?.clientSecret ?? '')
    const tokenArgs = [
      'token',
      '--issuer',
      provider.issuer,
      // `=`: a generated client id may start with '-', which parseArgs would take for an option.
      `--client-id=${stored?.clientId ?? ''}`,
      '--client-secret-file',
      secretFile,
      '--auth-method',
      'client_secret_post',
      '--scope',
      'smd.read',
      '--resource',
      'urn:smd',
      '--json',
    ]
    const token = await cli(tokenArgs)
    expect(token.code, token.err).toBe(0)
    const access = (JSON.parse(token.out) as { access_token: string }).access_token

    const wrongAudience = await cli([
      'inspect',
      access,
      '--issuer',
      provider.issuer,
      '--audience',
      'bss',
    ])
    expect(wrongAudience.code, wrongAudience.out).toBe(1)
    expect(wrongAudience.out).toContain('rejected: aud_invalid (a service would answer 401')

    // oidc-provider keeps a client's secret on an RFC 7592 update: rotation is refused plainly
    // and the file is left as it was.
    const rotate = await cli(['rotate-secret', '--credentials-file', out, '--allow-insecure-http'])
    expect(rotate.code).toBe(1)
    expect(rotate.err).toContain('secret rotation failed: unsupported_operation')
    expect((await loadCredentials(out))?.clientSecret).toBe(stored?.clientSecret)

    const wrongFile = join(dir, 'wrong')
    await writeFile(wrongFile, 'not-the-secret')
    const wrong = await cli(tokenArgs.map((a) => (a === secretFile ? wrongFile : a)))
    expect(wrong.code, wrong.out + wrong.err).toBe(1)
    expect(JSON.parse(wrong.out)).toMatchObject({ error: 'invalid_client', status: 401 })
  })
})
