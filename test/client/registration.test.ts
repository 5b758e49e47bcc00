/**
 * Client registration (issue 10): RFC 7591 dynamic registration with and without an initial
 * access token, RFC 7592 read/update/delete with the registration access token, Hydra's admin API
 * (chosen client ids, 409 conflicts, secret rotation with and without the rotate endpoint), the
 * credentials file (mode 0600, reused on restart), and createServiceClient's `registration`
 * option: register on first start, persist, get tokens, reuse on restart; never a secret in a log.
 */
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createServiceClient,
  deleteClient,
  isRegistrationError,
  loadCredentials,
  loadOrRegister,
  readClient,
  registerClient,
  rotateClientSecret,
  saveCredentials,
  updateClient,
  type ServiceClient,
} from '@svcauth/client'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import pino from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { captureLogs } from '../support/log-capture.js'
import { startDownstream, type Downstream } from './downstream.js'

let issuer: TestIssuer
let smd: Downstream
let dir: string
const clients: ServiceClient[] = []

beforeEach(async () => {
  issuer = await createTestIssuer({ keyCount: 1 })
  smd = await startDownstream()
  dir = await mkdtemp(join(tmpdir(), 'svcauth-reg-'))
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await Promise.all([smd.close(), issuer.close()])
  await rm(dir, { recursive: true, force: true })
})

/** A client-credentials call to SMD with the given credentials: the token SMD saw, decoded. */
async function callWith(clientId: string, clientSecret: string, authMethod?: string) {
  const svc = createServiceClient({
    tokenEndpoint: issuer.tokenEndpoint,
    clientId,
    clientSecret,
    ...(authMethod === undefined ? {} : { authMethod: authMethod as 'client_secret_post' }),
    targets: { [smd.origin]: { scope: ['smd.read'], audience: 'smd' } },
    retry: { minDelay: 20, maxDelay: 40 },
  })
  clients.push(svc)
  const res = await svc.fetch(`${smd.origin}/hsm/v2/State/Components`)
  return res.status
}

describe('RFC 7591 dynamic registration', () => {
  it('registers a client-credentials client that can get tokens at once', async () => {
    const client = await registerClient({
      registrationEndpoint: issuer.registrationEndpoint,
      metadata: { client_name: 'bss', scope: ['smd.read'], audience: ['smd'] },
    })
    expect(client.clientId).toMatch(/^[0-9a-f-]{36}$/)
    expect(client.clientSecret).toEqual(expect.any(String))
    expect(client.registrationAccessToken).toEqual(expect.any(String))
    expect(client.registrationClientUri).toBe(`${issuer.registrationEndpoint}/${client.clientId}`)
    expect(client.metadata).toMatchObject({
      client_name: 'bss',
      scope: 'smd.read',
      grant_types: ['client_credentials'],
    })
    // The secret and the registration token are not in the metadata the caller may log.
    expect(JSON.stringify(client.metadata)).not.toContain(client.clientSecret)
    expect(JSON.stringify(client.metadata)).not.toContain(client.registrationAccessToken)
    expect(await callWith(client.clientId, client.clientSecret ?? '')).toBe(200)
  })

  it('sends the initial access token when given, and a refusal is a typed invalid_token', async () => {
    issuer.setRegistrationInitialToken('iat-123')
    const refused = await registerClient({
      registrationEndpoint: issuer.registrationEndpoint,
      metadata: { client_name: 'bss' },
    }).catch((err: unknown) => err)
    expect(isRegistrationError(refused)).toBe(true)
    expect(refused).toMatchObject({ error: 'invalid_token', status: 401 })
    const ok = await registerClient({
      registrationEndpoint: issuer.registrationEndpoint,
      initialAccessToken: 'iat-123',
      metadata: { client_name: 'bss' },
    })
    expect(ok.clientId).toEqual(expect.any(String))
  })

  it('reports invalid metadata with the server error', async () => {
    const err = await registerClient({
      registrationEndpoint: issuer.registrationEndpoint,
      metadata: { client_name: 'bss', token_endpoint_auth_method: 'none' as never },
    }).catch((e: unknown) => e)
    expect(err).toMatchObject({ error: 'invalid_client_metadata', status: 400 })
  })

  it('reads, updates (with a new secret) and deletes with the registration access token (RFC 7592)', async () => {
    const client = await registerClient({
      registrationEndpoint: issuer.registrationEndpoint,
      metadata: { client_name: 'bss', scope: 'smd.read' },
    })
    const handle = {
      registrationClientUri: client.registrationClientUri ?? '',
      registrationAccessToken: client.registrationAccessToken ?? '',
    }
    expect((await readClient(handle)).metadata).toMatchObject({ client_name: 'bss' })
    const wrong = await readClient({ ...handle, registrationAccessToken: 'nope' }).catch(
      (e: unknown) => e,
    )
    expect(wrong).toMatchObject({ error: 'invalid_token', status: 401 })

    const updated = await updateClient(
      { ...handle, clientId: client.clientId },
      { client_name: 'bss-2', scope: 'smd.read smd.write' },
    )
    expect(updated.metadata).toMatchObject({ client_name: 'bss-2', scope: 'smd.read smd.write' })

    const rotated = await rotateClientSecret(client)
    expect(rotated.clientSecret).not.toBe(client.clientSecret)
    expect(await callWith(client.clientId, rotated.clientSecret ?? '')).toBe(200)

    await deleteClient(handle)
    const gone = await readClient(handle).catch((e: unknown) => e)
    expect(gone).toMatchObject({ error: 'invalid_token' })
  })
})

describe("Hydra's admin API", () => {
  it('creates a client with a chosen id; a second create is a typed conflict', async () => {
    const client = await registerClient({
      adminUrl: issuer.adminUrl,
      metadata: {
        client_id: 'bss',
        client_name: 'bss',
        scope: 'smd.read',
        audience: ['smd'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    })
    expect(client).toMatchObject({
      clientId: 'bss',
      mode: 'hydra-admin',
      tokenEndpointAuthMethod: 'client_secret_post',
    })
    expect(await callWith('bss', client.clientSecret ?? '', 'client_secret_post')).toBe(200)
    const again = await registerClient({
      adminUrl: issuer.adminUrl,
      metadata: { client_id: 'bss' },
    }).catch((e: unknown) => e)
    expect(again).toMatchObject({ error: 'conflict', status: 409 })
    // Hydra shows the secret only when it is created.
    expect((await readClient({ adminUrl: issuer.adminUrl, clientId: 'bss' })).clientSecret).toBe(
      undefined,
    )
  })

  it('rotates with the rotate endpoint (the old secret keeps working) or, without it, by setting a new secret', async () => {
    const client = await registerClient({ adminUrl: issuer.adminUrl, metadata: { client_id: 'a' } })
    const rotated = await rotateClientSecret(client)
    expect(rotated.clientSecret).not.toBe(client.clientSecret)
    expect(await callWith('a', rotated.clientSecret ?? '')).toBe(200)
    expect(await callWith('a', client.clientSecret ?? '')).toBe(200)

    issuer.setSecretRotation(false)
    const b = await registerClient({ adminUrl: issuer.adminUrl, metadata: { client_id: 'b' } })
    const set = await rotateClientSecret(b)
    expect(set.clientSecret).not.toBe(b.clientSecret)
    expect(await callWith('b', set.clientSecret ?? '')).toBe(200)
    const old = createServiceClient({
      tokenEndpoint: issuer.tokenEndpoint,
      clientId: 'b',
      clientSecret: b.clientSecret ?? '',
      targets: { [smd.origin]: { scope: ['smd.read'] } },
    })
    clients.push(old)
    await expect(old.fetch(`${smd.origin}/x`)).rejects.toMatchObject({
      error: 'invalid_client',
    })
  })
})

describe('credentials file', () => {
  it('is written with mode 0600 and read back as it was', async () => {
    const client = await registerClient({
      registrationEndpoint: issuer.registrationEndpoint,
      metadata: { client_name: 'bss' },
    })
    const file = join(dir, 'sub', 'client.json')
    await saveCredentials(file, client)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect((await stat(join(dir, 'sub'))).mode & 0o777).toBe(0o700)
    const back = await loadCredentials(file)
    expect(back).toMatchObject({
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      registrationAccessToken: client.registrationAccessToken,
      registrationClientUri: client.registrationClientUri,
      mode: 'dcr',
    })
    expect(await loadCredentials(join(dir, 'missing.json'))).toBeUndefined()
    await writeFile(join(dir, 'bad.json'), '{"client_secret":"x"}')
    await expect(loadCredentials(join(dir, 'bad.json'))).rejects.toMatchObject({
      error: 'storage_error',
    })
  })

  // Before issue 14 the temporary file was `${file}.${pid}.tmp`, opened with 'w' (following links,
  // reusing files) and chmod-ed by path: another local user could predict and plant it.
  const oldTempName = (file: string) => `${file}.${String(process.pid)}.tmp`
  const stored = async (name: string) =>
    registerClient({
      registrationEndpoint: issuer.registrationEndpoint,
      metadata: { client_name: name },
    })

  it('R3: a symlink planted at the old predictable temporary name is not followed', async () => {
    const file = join(dir, 'client.json')
    const victim = join(dir, 'victim')
    await writeFile(victim, 'victim data\n')
    await chmod(victim, 0o644)
    await symlink(victim, oldTempName(file))
    const client = await stored('bss')
    await saveCredentials(file, client)
    expect(await readFile(victim, 'utf8')).toBe('victim data\n')
    expect((await stat(victim)).mode & 0o777).toBe(0o644)
    expect(await readlink(oldTempName(file))).toBe(victim)
    expect((await lstat(file)).isFile()).toBe(true)
    expect((await lstat(file)).mode & 0o777).toBe(0o600)
    expect((await loadCredentials(file))?.clientSecret).toBe(client.clientSecret)
  })

  it('R3: a file pre-created (0644, held open by its planter) at the old temporary name is not reused', async () => {
    const file = join(dir, 'client.json')
    await writeFile(oldTempName(file), 'planted\n')
    await chmod(oldTempName(file), 0o644)
    const planted = await open(oldTempName(file), 'r')
    try {
      const client = await stored('bss')
      await saveCredentials(file, client)
      const secret = client.clientSecret ?? ''
      expect(secret).not.toBe('')
      // What the planter can read through its handle is still its own text, not the secret.
      expect(await planted.readFile('utf8')).toBe('planted\n')
      expect((await planted.stat()).ino).not.toBe((await stat(file)).ino)
      expect((await stat(file)).mode & 0o777).toBe(0o600)
      expect(await readFile(file, 'utf8')).toContain(secret)
    } finally {
      await planted.close()
    }
  })

  it('R3: a symlink at the target is replaced, not written through; the mode is 0600 whatever the umask', async () => {
    const file = join(dir, 'client.json')
    const victim = join(dir, 'victim')
    await writeFile(victim, 'victim data\n')
    await chmod(victim, 0o644)
    await symlink(victim, file)
    const client = await stored('bss')
    const umask = process.umask(0o277)
    try {
      await saveCredentials(file, client)
    } finally {
      process.umask(umask)
    }
    expect(await readFile(victim, 'utf8')).toBe('victim data\n')
    expect((await lstat(file)).isFile()).toBe(true)
    expect((await lstat(file)).mode & 0o777).toBe(0o600)
    expect((await loadCredentials(file))?.clientSecret).toBe(client.clientSecret)
  })

  it('R3: concurrent saves both complete and leave one of the two whole documents, and no temporary files', async () => {
    const file = join(dir, 'client.json')
    const [a, b] = await Promise.all([stored('bss-a'), stored('bss-b')])
    for (let round = 0; round < 5; round++) {
      await Promise.all([saveCredentials(file, a), saveCredentials(file, b)])
      const back = await loadCredentials(file)
      expect([a.clientSecret, b.clientSecret]).toContain(back?.clientSecret)
      expect(back?.clientId).toBe(back?.clientSecret === a.clientSecret ? a.clientId : b.clientId)
    }
    expect(await readdir(dir)).toEqual(['client.json'])
    // A failed write (the target is a non-empty directory) is a storage_error and leaves nothing.
    const blocked = join(dir, 'blocked')
    await mkdir(join(blocked, 'inside'), { recursive: true })
    await expect(saveCredentials(blocked, a)).rejects.toMatchObject({ error: 'storage_error' })
    expect((await readdir(dir)).sort()).toEqual(['blocked', 'client.json'])
  })

  it('loadOrRegister registers once and reuses the file after; a conflict without a file says why', async () => {
    const file = join(dir, 'client.json')
    const options = { adminUrl: issuer.adminUrl, metadata: { client_id: 'bss' } }
    const first = await loadOrRegister(file, options)
    const hits = issuer.hits.registration
    const second = await loadOrRegister(file, options)
    expect(second.clientSecret).toBe(first.clientSecret)
    expect(issuer.hits.registration).toBe(hits)

    const err = await loadOrRegister(join(dir, 'other.json'), options).catch((e: unknown) => e)
    expect(err).toMatchObject({ error: 'conflict' })
  })
})

describe('createServiceClient({ registration })', () => {
  it('registers on first start, persists, gets tokens, and on restart reuses the stored client', async () => {
    const file = join(dir, 'bss.json')
    const logs = captureLogs()
    const start = () => {
      const svc = createServiceClient({
        tokenEndpoint: issuer.tokenEndpoint,
        registration: {
          adminUrl: issuer.adminUrl,
          credentialsFile: file,
          metadata: { client_name: 'bss', scope: 'smd.read', audience: ['smd'] },
        },
        targets: { [smd.origin]: { scope: ['smd.read'], audience: 'smd' } },
        logger: pino({}, logs.stream),
      })
      clients.push(svc)
      return svc
    }
    // Construction makes no request: the service starts even with the server down.
    const first = start()
    expect(issuer.hits.registration).toBe(0)
    expect((await first.fetch(`${smd.origin}/x`)).status).toBe(200)
    expect(issuer.hits.registration).toBe(1)
    const stored = await loadCredentials(file)
    expect(stored?.clientId).toEqual(expect.any(String))
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({
      client_id: stored?.clientId,
      mode: 'hydra-admin',
    })
    await first.close()
    await first.close() // idempotent

    const second = start()
    expect((await second.fetch(`${smd.origin}/x`)).status).toBe(200)
    expect(issuer.hits.registration).toBe(1) // no new registration
    expect(issuer.tokenRequests.at(-1)?.headers.authorization).toContain('Basic ')
    const seen = smd.seen.map((s) => s.authorization)
    expect(seen).toHaveLength(2)

    expect(logs.lines.some((l) => l.event === 'client_ready')).toBe(true)
    const text = logs.raw.join('')
    expect(text).not.toContain(stored?.clientSecret)
    expect(text).not.toContain(stored?.registrationAccessToken)
  })

  it('fails the call closed with a typed error while registration is impossible, and recovers', async () => {
    const file = join(dir, 'bss.json')
    issuer.setRegistrationInitialToken('needed')
    const svc = createServiceClient({
      tokenEndpoint: issuer.tokenEndpoint,
      registration: { registrationEndpoint: issuer.registrationEndpoint, credentialsFile: file },
      targets: { [smd.origin]: { scope: ['smd.read'] } },
      retry: { minDelay: 20, maxDelay: 40 },
    })
    clients.push(svc)
    const err = await svc.fetch(`${smd.origin}/x`).catch((e: unknown) => e)
    // fetch() rejects with the typed error itself (issue 16, item 4); its cause is the
    // registration's.
    expect(err).toMatchObject({
      error: 'invalid_client',
      cause: { error: 'invalid_token', status: 401 },
    })
    expect(smd.seen).toHaveLength(0)
    issuer.setRegistrationInitialToken(undefined)
    await new Promise((resolve) => setTimeout(resolve, 60))
    expect((await svc.fetch(`${smd.origin}/x`)).status).toBe(200)
  })

  it('needs a clientId or registration, and a credentials file', () => {
    expect(() => createServiceClient({ tokenEndpoint: issuer.tokenEndpoint, targets: {} })).toThrow(
      /clientId is required/,
    )
    expect(() =>
      createServiceClient({
        tokenEndpoint: issuer.tokenEndpoint,
        registration: { adminUrl: issuer.adminUrl } as never,
        targets: {},
      }),
    ).toThrow(/credentialsFile/)
  })
})
