/**
 * Catalogue K9 (TLS validation) and K10 (defence in depth before sending): an https downstream or
 * token endpoint with a self-signed certificate is refused unless its CA is configured explicitly,
 * and a token that is not a b64token is never put on the wire.
 */
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { createServiceClient, TokenEndpointError, tokenInterceptor } from '@svcauth/client'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import { Agent, request } from 'undici'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startDownstream, type Downstream } from './downstream.js'

const fixtures = new URL('../fixtures/tls/', import.meta.url)
const cert = readFileSync(new URL('localhost.crt', fixtures))
const key = readFileSync(new URL('localhost.key', fixtures))

interface TlsServer {
  readonly origin: string
  readonly authorizations: (string | undefined)[]
  close(): Promise<void>
}

/** An https server on loopback with the self-signed fixture certificate. */
async function startTls(
  answer: (path: string) => { status: number; body: string } = () => ({ status: 200, body: '{}' }),
): Promise<TlsServer> {
  const authorizations: (string | undefined)[] = []
  const server: Server = createServer({ cert, key }, (req, res) => {
    authorizations.push(req.headers.authorization)
    req.resume()
    req.on('end', () => {
      const { status, body } = answer(req.url ?? '/')
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => {
          resolve()
        })
      }),
  }
}

let issuer: TestIssuer
const closers: (() => Promise<void>)[] = []

beforeEach(async () => {
  issuer = await createTestIssuer({ keyCount: 1 })
  issuer.addClient({ clientId: 'bss', secrets: ['s3cret'] })
})
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()))
  await issuer.close()
})

describe('K9: TLS validation', () => {
  it('refuses a downstream with a self-signed certificate; an explicit CA makes it work', async () => {
    const smd = await startTls()
    closers.push(() => smd.close())
    const targets = { [smd.origin]: { scope: 'smd.read', audience: 'smd' } }
    const base = { tokenEndpoint: issuer.tokenEndpoint, clientId: 'bss', clientSecret: 's3cret' }

    const strict = createServiceClient({ ...base, targets })
    closers.push(() => strict.close())
    const failure: unknown = await strict.fetch(`${smd.origin}/hsm/v2/State/Components`).then(
      () => undefined,
      (err: unknown) => err,
    )
    expect(failure).toBeInstanceOf(TypeError)
    expect((failure as { cause?: { code?: string } }).cause?.code).toMatch(/SELF_SIGNED|UNABLE/)
    await expect(strict.request(`${smd.origin}/x`)).rejects.toThrow()
    expect(smd.authorizations).toEqual([])

    const trusting = createServiceClient({
      ...base,
      targets,
      dispatcher: new Agent({ connect: { ca: cert } }),
    })
    closers.push(() => trusting.close())
    const res = await trusting.fetch(`${smd.origin}/hsm/v2/State/Components`)
    expect(res.status).toBe(200)
    await res.text()
    expect(smd.authorizations).toHaveLength(1)
    expect(smd.authorizations[0]).toMatch(/^Bearer [A-Za-z0-9\-._~+/]+=*$/)
  })

  it('refuses a token endpoint with a self-signed certificate; tokenDispatcher can trust its CA', async () => {
    const tokenServer = await startTls(() => ({
      status: 200,
      body: JSON.stringify({
        access_token: 'ory_at_abc.def',
        token_type: 'bearer',
        expires_in: 3599,
      }),
    }))
    closers.push(() => tokenServer.close())
    const smd: Downstream = await startDownstream()
    closers.push(() => smd.close())
    const base = {
      tokenEndpoint: `${tokenServer.origin}/oauth2/token`,
      clientId: 'bss',
      clientSecret: 's3cret',
      targets: { [smd.origin]: { scope: 'smd.read' } },
      retry: { minDelay: 10, maxDelay: 20 },
    }

    const strict = createServiceClient(base)
    closers.push(() => strict.close())
    const err: unknown = await strict.getToken(smd.origin).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TokenEndpointError)
    expect((err as TokenEndpointError).code).toBe('ERR_TOKEN_ENDPOINT')
    expect(JSON.stringify(err)).not.toContain('s3cret')
    await expect(strict.fetch(`${smd.origin}/x`)).rejects.toThrow()
    expect(smd.seen).toHaveLength(0)
    expect(tokenServer.authorizations).toEqual([])

    const trusting = createServiceClient({
      ...base,
      tokenDispatcher: new Agent({ connect: { ca: cert } }),
    })
    closers.push(() => trusting.close())
    await expect(trusting.getToken(smd.origin)).resolves.toBe('ory_at_abc.def')
    expect(tokenServer.authorizations[0]).toMatch(/^Basic /)
  })
})

describe('K10: defence in depth before sending', () => {
  it('never sends a token with CR/LF or spaces, whoever supplied it', async () => {
    const smd = await startDownstream()
    closers.push(() => smd.close())
    for (const bad of ['abc\r\nX-Evil: 1', 'a b', '', 'tok\u0000en', 'ünï']) {
      const agent = new Agent().compose(
        tokenInterceptor(() => Promise.resolve({ token: bad, renew: undefined }), {
          maxReplayBytes: 1024,
        }),
      )
      closers.push(() => agent.close())
      const err: unknown = await request(`${smd.origin}/x`, { dispatcher: agent }).catch(
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(TokenEndpointError)
      expect((err as Error).message).not.toContain(bad === '' ? '\u0001' : bad)
    }
    expect(smd.seen).toHaveLength(0)
  })
})
