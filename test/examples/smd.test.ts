/**
 * The SMD-style example: SMD's routes and shapes, svcauth's answers, RFC 7807 for the rest, and
 * the 401 on `/Inventory/RedfishEndpoints` that BSS probes for.
 */
import { createSmdApp, type Smd } from '@svcauth/example-smd'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { captureLogs, type LogCapture } from '../support/log-capture.js'

let issuer: TestIssuer
let smd: Smd
let logs: LogCapture

beforeAll(async () => {
  issuer = await createTestIssuer({ keyCount: 1 })
  logs = captureLogs()
  smd = createSmdApp({
    auth: { issuer: issuer.issuer, audience: 'smd', jwksUri: issuer.jwksUri },
    audit: { stream: logs.stream },
  })
})
afterAll(async () => {
  smd.close()
  await issuer.close()
})

const token = (scope: string[]) =>
  issuer.mintClientToken({ clientId: 'bss', scope, audience: ['smd'] })
const http = () => request(smd.app)

describe('SMD example', () => {
  it('answers /service/ready without a token', async () => {
    const res = await http().get('/hsm/v2/service/ready').expect(200)
    expect(res.body).toEqual({ code: 0, message: 'HSM is healthy' })
  })

  it('answers 401 with a challenge on RedfishEndpoints without a token (BSS probes for it)', async () => {
    const res = await http().get('/hsm/v2/Inventory/RedfishEndpoints').expect(401)
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"')
    const ok = await http()
      .get('/hsm/v2/Inventory/RedfishEndpoints')
      .set('Authorization', `Bearer ${await token(['smd.read'])}`)
      .expect(200)
    expect((ok.body as { RedfishEndpoints: { ID: string }[] }).RedfishEndpoints[0]?.ID).toBe(
      'x3000c0s19b1',
    )
  })

  it('lists components as {"Components":[…]}, filtered by type', async () => {
    const auth = `Bearer ${await token(['smd.read'])}`
    const all = await http().get('/hsm/v2/State/Components').set('Authorization', auth).expect(200)
    const nodes = await http()
      .get('/hsm/v2/State/Components?type=Node')
      .set('Authorization', auth)
      .expect(200)
    const list = (nodes.body as { Components: { ID: string; Type: string }[] }).Components
    expect(list.length).toBe(4)
    expect(list.every((c) => c.Type === 'Node')).toBe(true)
    expect((all.body as { Components: unknown[] }).Components.length).toBe(5)
    expect(list[0]).toMatchObject({ ID: 'x3000c0s19b1n0', State: 'Ready', NID: 1, Role: 'Compute' })
  })

  it('returns one component, or an RFC 7807 404', async () => {
    const auth = `Bearer ${await token(['smd.read'])}`
    const one = await http()
      .get('/hsm/v2/State/Components/x3000c0s20b1n0')
      .set('Authorization', auth)
      .expect(200)
    expect(one.body).toMatchObject({ ID: 'x3000c0s20b1n0', NID: 3 })
    const missing = await http()
      .get('/hsm/v2/State/Components/x9999c0s0b0n0')
      .set('Authorization', auth)
      .expect(404)
    expect(missing.headers['content-type']).toContain('application/problem+json')
    expect(JSON.parse(missing.text)).toEqual({
      type: 'about:blank',
      title: 'Not Found',
      detail: 'no such xname.',
      status: 404,
    })
  })

  it('RFC 7807 400 for a bad type or a bad body; a bare array of Ethernet interfaces', async () => {
    const auth = `Bearer ${await token(['smd.read', 'smd.write'])}`
    const bad = await http()
      .get('/hsm/v2/State/Components?type=Toaster')
      .set('Authorization', auth)
      .expect(400)
    expect(JSON.parse(bad.text)).toMatchObject({ status: 400, title: 'Bad Request' })
    await http()
      .post('/hsm/v2/State/Components')
      .set('Authorization', auth)
      .set('Content-Type', 'application/json')
      .send('{"Components":')
      .expect(400)
    await http()
      .post('/hsm/v2/State/Components')
      .set('Authorization', auth)
      .send({ Components: [{ ID: 'not-an-xname', State: 'Ready' }] })
      .expect(400)
    const nics = await http()
      .get('/hsm/v2/Inventory/EthernetInterfaces?type=Node')
      .set('Authorization', auth)
      .expect(200)
    expect(Array.isArray(nics.body)).toBe(true)
    expect((nics.body as { MACAddress: string }[])[0]?.MACAddress).toBe('a4:bf:01:3e:c0:01')
  })

  it('writes need smd.write; a write is audited with the caller', async () => {
    await http()
      .post('/hsm/v2/State/Components')
      .set('Authorization', `Bearer ${await token(['smd.read'])}`)
      .send({ Components: [{ ID: 'x3000c0s22b1n0', State: 'Ready' }] })
      .expect(403)
    logs.clear()
    await http()
      .post('/hsm/v2/State/Components')
      .set('Authorization', `Bearer ${await token(['smd.write'])}`)
      .send({ Components: [{ ID: 'x3000c0s22b1n0', State: 'Ready' }] })
      .expect(204)
    expect(logs.audits()).toEqual([
      expect.objectContaining({
        actor_type: 'client',
        actor_id: 'bss',
        event: 'component_updated',
        target: 'x3000c0s22b1n0',
      }),
    ])
  })

  it('unknown routes are RFC 7807 404s', async () => {
    const res = await http()
      .get('/hsm/v2/nope')
      .set('Authorization', `Bearer ${await token(['smd.read'])}`)
      .expect(404)
    expect(res.headers['content-type']).toContain('application/problem+json')
  })
})
