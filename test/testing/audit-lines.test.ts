/**
 * Issue 16, item 8: `captureAuditLines()` from @svcauth/testing captures what `auditLogger()`
 * writes, on Express and Koa, so a user's test can assert who called and what was audited.
 */
import * as ex from '@svcauth/express'
import * as ko from '@svcauth/koa'
import { captureAuditLines, createTestIssuer, type TestIssuer } from '@svcauth/testing'
import express from 'express'
import Koa from 'koa'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer({ keyCount: 1 })
})
afterAll(async () => {
  await issuer.close()
})

const options = () => ({ issuer: issuer.issuer, audience: 'smd', jwksUri: issuer.jwksUri })

function expressApp(stream: { write(chunk: string): void }) {
  const app = express()
  app.use(ex.auditLogger({ stream }))
  const auth = ex.authenticate(options())
  app.use(auth)
  app.post('/invoices/:id/pay', (req, res) => {
    req.audit?.('invoice_paid', { target: req.params.id })
    res.status(204).end()
  })
  return {
    handler: app,
    close: () => {
      auth.authenticator.close()
    },
  }
}

function koaApp(stream: { write(chunk: string): void }) {
  const app = new Koa()
  app.use(ko.auditLogger({ stream }))
  const auth = ko.authenticate(options())
  app.use(auth)
  app.use((ctx) => {
    ctx.audit('invoice_paid', { target: 'user-123' })
    ctx.status = 204
  })
  return {
    handler: app.callback(),
    close: () => {
      auth.authenticator.close()
    },
  }
}

describe.each([
  ['Express', expressApp],
  ['Koa', koaApp],
] as const)('captureAuditLines on %s', (_name, build) => {
  it('captures the request line and the audit event with the actor fields, never the token', async () => {
    const logs = captureAuditLines()
    const app = build(logs.stream)
    try {
      const token = await issuer.mintClientToken({ clientId: 'billing-worker', audience: ['smd'] })
      await request(app.handler)
        .post('/invoices/user-123/pay')
        .set('Authorization', `Bearer ${token}`)
        .expect(204)
      expect(logs.audits()).toHaveLength(1)
      expect(logs.audits()[0]).toMatchObject({
        actor_type: 'client',
        actor_id: 'billing-worker',
        client_id: 'billing-worker',
        event: 'invoice_paid',
        target: 'user-123',
      })
      expect(logs.requests()).toHaveLength(1)
      expect(logs.requests()[0]).toMatchObject({ actor_type: 'client', outcome: 'authenticated' })
      expect(logs.raw.join('')).not.toContain(token)
      logs.clear()
      expect(logs.lines).toEqual([])
    } finally {
      app.close()
    }
  })
})
