/**
 * Errors a user can act on (issue 16, item 4): `svc.fetch`, `forPrincipal(...).fetch` and the
 * adapters' `req.outbound.fetch` reject with svcauth's own typed error when the interceptor
 * failed, not with undici's `TypeError: fetch failed` around it; other fetch failures stay as
 * undici reports them. A `network_error` names the endpoint's origin (never its path), for token
 * requests and registration. Real loopback servers throughout.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  createServiceClient,
  isRegistrationError,
  isTokenEndpointError,
  isUserTokenRefusedError,
  registerClient,
  type ServiceClient,
} from '@svcauth/client'
import { authenticate, outbound } from '@svcauth/express'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import express from 'express'
import request from 'supertest'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startDownstream, type Downstream } from './downstream.js'

let issuer: TestIssuer
let smd: Downstream
const clients: ServiceClient[] = []

beforeEach(async () => {
  issuer = await createTestIssuer({ keyCount: 1 })
  issuer.addClient({ clientId: 'bss', secrets: ['s3cret'], scope: ['smd.read'], audience: ['smd'] })
  smd = await startDownstream()
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await smd.close()
  await issuer.close()
})

function client(secret: string, tokenEndpoint = issuer.tokenEndpoint): ServiceClient {
  const svc = createServiceClient({
    tokenEndpoint,
    clientId: 'bss',
    clientSecret: secret,
    targets: { [smd.origin]: { scope: 'smd.read', audience: 'smd', userToken: 'forward' } },
    retry: { minDelay: 0, maxDelay: 0 },
  })
  clients.push(svc)
  return svc
}

/** An origin on loopback where nothing listens (a port just freed). */
async function deadOrigin(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return `http://127.0.0.1:${port}`
}

const rejection = (call: Promise<unknown>): Promise<unknown> =>
  call.then(
    () => undefined,
    (e: unknown) => e,
  )

describe('svc.fetch rejects with svcauth’s own error', () => {
  it('a refused token request is a TokenEndpointError, not TypeError: fetch failed', async () => {
    const err = await rejection(client('wrong').fetch(`${smd.origin}/x`))
    expect(err).not.toBeInstanceOf(TypeError)
    expect(isTokenEndpointError(err)).toBe(true)
    expect(err).toMatchObject({ code: 'ERR_TOKEN_ENDPOINT', error: 'invalid_client' })
    expect(smd.seen).toHaveLength(0)
  })

  it('request rejects with the same error', async () => {
    const err = await rejection(client('wrong').request(`${smd.origin}/x`))
    expect(err).toMatchObject({ code: 'ERR_TOKEN_ENDPOINT', error: 'invalid_client' })
  })

  it('a token endpoint that does not answer is a network_error naming its origin, not its path', async () => {
    const dead = await deadOrigin()
    const err = await rejection(client('s3cret', `${dead}/oauth2/token`).fetch(`${smd.origin}/x`))
    expect(isTokenEndpointError(err)).toBe(true)
    expect(err).toMatchObject({
      error: 'network_error',
      origin: dead,
      message: `token request to ${dead} failed: network_error`,
    })
    expect((err as Error).message).not.toContain('/oauth2/token')
  })

  it('a failure that is not svcauth’s stays as undici reports it', async () => {
    const svc = client('s3cret')
    await smd.close()
    const err = await rejection(svc.fetch(`${smd.origin}/x`))
    expect(err).toBeInstanceOf(TypeError)
    expect(err).toMatchObject({ message: 'fetch failed' })
    expect(isTokenEndpointError((err as TypeError).cause)).toBe(false)
    smd = await startDownstream()
  })

  it('req.outbound.fetch (forPrincipal) rejects with UserTokenRefusedError itself', async () => {
    const svc = client('s3cret')
    const token = await issuer.mintUserToken({
      sub: 'alice',
      clientId: 'ochami-cli',
      scope: ['smd.read'],
      audience: ['billing'],
    })
    const app = express()
    app.use(authenticate({ issuer: issuer.issuer, audience: 'billing', jwksUri: issuer.jwksUri }))
    app.use(outbound(svc))
    app.get('/x', async (req, res) => {
      try {
        await req.outbound!.fetch(`${smd.origin}/x`)
        res.json({ sent: true })
      } catch (err) {
        if (isUserTokenRefusedError(err)) res.status(err.status).json({ origin: err.origin })
        else res.status(500).json({ name: (err as Error).name })
      }
    })
    const res = await request(app).get('/x').set('authorization', `Bearer ${token}`)
    expect(res.status).toBe(403)
    expect(res.body).toEqual({ origin: smd.origin })
    expect(smd.seen).toHaveLength(0)
  })
})

describe('registration', () => {
  it('a registration server that does not answer is a network_error naming its origin', async () => {
    const dead = await deadOrigin()
    const err = await rejection(registerClient({ adminUrl: `${dead}/hydra-admin` }))
    expect(isRegistrationError(err)).toBe(true)
    expect(err).toMatchObject({
      error: 'network_error',
      origin: dead,
      message: `client registration to ${dead} failed: network_error`,
    })
  })
})
