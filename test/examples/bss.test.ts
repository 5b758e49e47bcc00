/**
 * The BSS-style example: a node boot reads SMD with BSS's own client-credentials token; boot
 * parameter changes check SMD with the caller's token forwarded; RFC 7807 for bad requests.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createServiceClient, type ServiceClient } from '@svcauth/client'
import { createBssApp, type Bss } from '@svcauth/example-bss'
import { createSmdApp, type Smd } from '@svcauth/example-smd'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import request from 'supertest'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { captureLogs, type LogCapture } from '../support/log-capture.js'

let issuer: TestIssuer
let smd: Smd
let smdServer: Server
let smdLogs: LogCapture
let svc: ServiceClient
let bss: Bss

beforeAll(async () => {
  issuer = await createTestIssuer({ keyCount: 1 })
  issuer.addClient({ clientId: 'bss', secrets: ['bss-secret'] })
  smdLogs = captureLogs()
  smd = createSmdApp({
    auth: { issuer: issuer.issuer, audience: 'smd', jwksUri: issuer.jwksUri },
    audit: { stream: smdLogs.stream },
  })
  smdServer = createServer(smd.app)
  await new Promise<void>((resolve) => smdServer.listen(0, '127.0.0.1', resolve))
  const smdUrl = `http://127.0.0.1:${(smdServer.address() as AddressInfo).port}`
  svc = createServiceClient({
    tokenEndpoint: issuer.tokenEndpoint,
    clientId: 'bss',
    clientSecret: 'bss-secret',
    targets: { [smdUrl]: { scope: ['smd.read'], audience: 'smd', userToken: 'forward' } },
  })
  bss = createBssApp({
    auth: { issuer: issuer.issuer, audience: ['bss', 'smd'], jwksUri: issuer.jwksUri },
    smdUrl,
    svc,
    publicUrl: 'http://bss.openchami.cluster:27778',
    audit: { stream: captureLogs().stream },
  })
})
afterAll(async () => {
  bss.close()
  smd.close()
  await svc.close()
  smdServer.closeAllConnections()
  await new Promise((resolve) => smdServer.close(resolve))
  await issuer.close()
})
beforeEach(() => {
  smdLogs.clear()
})

const http = () => request(bss.app.callback())
const admin = (scope = ['bss.read', 'bss.write', 'smd.read']) =>
  issuer.mintUserToken({ sub: 'alice', clientId: 'ochami-cli', scope, audience: ['bss', 'smd'] })
const params = {
  hosts: ['x3000c0s19b2n0'],
  params: 'console=ttyS0,115200 quiet',
  kernel: 'https://boot.example/vmlinuz-6.6',
  initrd: 'https://boot.example/initramfs-6.6.img',
}

describe('BSS example: boot scripts', () => {
  it('serves an iPXE script by mac, name or nid, reading SMD with its own token', async () => {
    for (const query of ['mac=A4:BF:01:3E:C0:02', 'name=x3000c0s19b2n0', 'nid=2']) {
      const res = await http().get(`/boot/v1/bootscript?${query}`).expect(200)
      expect(res.headers['content-type']).toBe('text/plain; charset=UTF-8')
      expect(res.text.startsWith('#!ipxe\nkernel --name kernel ')).toBe(true)
      expect(res.text).toContain('xname=x3000c0s19b2n0')
      expect(res.text).toContain(
        'chain http://bss.openchami.cluster:27778/boot/v1/bootscript?mac=${net0/mac}&retry=1',
      )
    }
    const smdLines = smdLogs.requests()
    expect(smdLines.length).toBeGreaterThan(0)
    expect(smdLines.every((l) => l.actor_type === 'client' && l.actor_id === 'bss')).toBe(true)
    expect(issuer.hits.token).toBe(1)
  })

  it('RFC 7807 400 without mac, name or nid; 404 for an unknown node', async () => {
    const bad = await http().get('/boot/v1/bootscript').expect(400)
    expect(JSON.parse(bad.text)).toEqual({
      type: 'about:blank',
      title: 'Bad Request',
      detail: 'Need a mac=, name=, or nid= parameter',
      status: 400,
    })
    await http().get('/boot/v1/bootscript?mac=00:00:00:00:00:00').expect(404)
  })
})

describe('BSS example: boot parameters', () => {
  it('needs a token (401) and the right scope (403)', async () => {
    await http().get('/boot/v1/bootparameters').expect(401)
    await http()
      .put('/boot/v1/bootparameters')
      .set('Authorization', `Bearer ${await admin(['bss.read'])}`)
      .send(params)
      .expect(403)
  })

  it('forwards the admin’s token to SMD and audits the change as the admin', async () => {
    const token = await admin()
    const res = await http()
      .put('/boot/v1/bootparameters')
      .set('Authorization', `Bearer ${token}`)
      .send(params)
      .expect(200)
    expect(res.body).toEqual([params])
    const [line] = smdLogs.requests()
    expect(line).toMatchObject({
      actor_type: 'user',
      actor_id: 'alice',
      route: '/hsm/v2/State/Components/:xname',
    })
    const list = await http()
      .get('/boot/v1/bootparameters?name=x3000c0s19b2n0')
      .set('Authorization', `Bearer ${token}`)
      .expect(200)
    expect(list.body).toEqual([params])
    const script = await http().get('/boot/v1/bootscript?name=x3000c0s19b2n0').expect(200)
    expect(script.text).toContain('https://boot.example/vmlinuz-6.6 console=ttyS0,115200 quiet')
  })

  it('a host SMD does not know is a 400; a user SMD refuses is a 403', async () => {
    await http()
      .post('/boot/v1/bootparameters')
      .set('Authorization', `Bearer ${await admin()}`)
      .send({ ...params, hosts: ['x9000c0s0b0n0'] })
      .expect(400)
    // No smd.read in the admin's token: SMD refuses the forwarded token.
    const res = await http()
      .post('/boot/v1/bootparameters')
      .set('Authorization', `Bearer ${await admin(['bss.write'])}`)
      .send(params)
      .expect(403)
    expect(JSON.parse(res.text)).toMatchObject({ detail: 'SMD answered 403 for x3000c0s19b2n0' })
  })

  it('PATCH updates, DELETE removes, malformed bodies are 400', async () => {
    const auth = `Bearer ${await admin()}`
    await http().post('/boot/v1/bootparameters').set('Authorization', auth).send(params).expect(201)
    const patched = await http()
      .patch('/boot/v1/bootparameters')
      .set('Authorization', auth)
      .send({ hosts: params.hosts, params: 'console=ttyS1' })
      .expect(200)
    expect((patched.body as { params: string; kernel: string }[])[0]).toMatchObject({
      params: 'console=ttyS1',
      kernel: params.kernel,
    })
    await http()
      .delete('/boot/v1/bootparameters')
      .set('Authorization', auth)
      .send({ hosts: params.hosts })
      .expect(204)
    await http()
      .put('/boot/v1/bootparameters')
      .set('Authorization', auth)
      .send({ hosts: ['x3000c0s19b2n0'] })
      .expect(400)
    await http()
      .put('/boot/v1/bootparameters')
      .set('Authorization', auth)
      .set('Content-Type', 'application/json')
      .send('{')
      .expect(400)
  })
})
