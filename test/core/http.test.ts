/**
 * The one bounded HTTP exchange (`@svcauth/core/internal` `httpRequest`, `httpJson`): each failure
 * has its kind and status and names no URL, header or body; redirects are never followed; the
 * deadline covers the whole exchange. A real server on loopback.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { HttpError, httpJson, httpRequest, type HttpLimits } from '@svcauth/core/internal'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void

const routes: Record<string, Handler> = {
  '/json': (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"a":1}'),
  '/echo': (req, res, body) =>
    res.writeHead(201).end(JSON.stringify({ method: req.method, headers: req.headers, body })),
  '/bad-request': (_req, res) => res.writeHead(400).end('{"error":"invalid_client"}'),
  '/redirect': (_req, res) => res.writeHead(302, { location: '/json' }).end(),
  '/not-json': (_req, res) => res.writeHead(200).end('<html>secret-body</html>'),
  '/declared-large': (_req, res) =>
    res.writeHead(200, { 'content-length': '5000' }).end('x'.repeat(5000)),
  '/streamed-large': (_req, res) => {
    res.writeHead(200)
    for (let i = 0; i < 10; i++) res.write('x'.repeat(1000))
    res.end()
  },
  '/hang': () => undefined,
  '/stall-body': (_req, res) => {
    res.writeHead(200)
    res.write('{')
  },
}

const server = createServer((req, res) => {
  let body = ''
  req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')))
  req.on('end', () => routes[req.url ?? '']?.(req, res, body))
})
let base = ''
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

const limits: HttpLimits = { timeout: 300, maxBytes: 2048 }

async function failure(promise: Promise<unknown>): Promise<HttpError> {
  try {
    await promise
  } catch (err) {
    if (err instanceof HttpError) return err
    throw err
  }
  return expect.unreachable('the exchange should have failed')
}

describe('httpRequest', () => {
  it('sends the method, headers and body, and returns any non-3xx answer with its body', async () => {
    const res = await httpRequest(
      `${base}/echo`,
      { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"x":1}' },
      limits,
    )
    expect(res.status).toBe(201)
    const echoed = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>
    expect(echoed).toMatchObject({
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'user-agent': 'svcauth' },
      body: '{"x":1}',
    })
    const refused = await httpRequest(`${base}/bad-request`, { method: 'POST' }, limits)
    expect(refused.status).toBe(400)
    expect(refused.body.toString('utf8')).toBe('{"error":"invalid_client"}')
  })

  it('never follows a redirect: a 3xx is a redirect failure with its status', async () => {
    const err = await failure(httpRequest(`${base}/redirect`, {}, limits))
    expect(err).toMatchObject({ kind: 'redirect', status: 302 })
  })

  it('returns a 3xx as an answer when asked (the token endpoint reports it), still unfollowed', async () => {
    const res = await httpRequest(`${base}/redirect`, { redirects: 'answer' }, limits)
    expect(res.status).toBe(302)
    expect(res.headers.location).toBe('/json')
  })

  it('refuses a status outside expect without reading its body', async () => {
    const err = await failure(httpRequest(`${base}/bad-request`, { expect: [200] }, limits))
    expect(err).toMatchObject({ kind: 'status', status: 400 })
    expect(err.message).not.toContain('invalid_client')
  })

  it.for(['/declared-large', '/streamed-large'])(
    'refuses a body over the cap (%s)',
    async (path) => {
      const err = await failure(httpRequest(`${base}${path}`, {}, limits))
      expect(err).toMatchObject({ kind: 'too_large', status: 200 })
      expect(err.message).toMatch(/2048-byte cap/)
    },
  )

  it.for(['/hang', '/stall-body'])('fails a %s answer within the deadline', async (path) => {
    const started = performance.now()
    const err = await failure(httpRequest(`${base}${path}`, {}, limits))
    expect(err.kind).toBe('timeout')
    expect(performance.now() - started).toBeLessThan(limits.timeout + 500)
  })

  it('reports a refused connection as a network failure without the URL', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const { port } = closed.address() as AddressInfo
    await new Promise((resolve) => closed.close(resolve))
    const err = await failure(httpRequest(`http://127.0.0.1:${port}/secret-path`, {}, limits))
    expect(err).toMatchObject({ kind: 'network', status: undefined })
    expect(err.message).toMatch(/ECONNREFUSED/)
    expect(err.message).not.toContain('secret-path')
  })
})

describe('httpJson', () => {
  it('parses a 200 answer', async () => {
    expect(await httpJson(`${base}/json`, {}, limits)).toEqual({ a: 1 })
  })

  it('refuses any other status, and a body that is not JSON, without echoing it', async () => {
    expect(await failure(httpJson(`${base}/echo`, {}, limits))).toMatchObject({
      kind: 'status',
      status: 201,
    })
    const err = await failure(httpJson(`${base}/not-json`, {}, limits))
    expect(err).toMatchObject({ kind: 'bad_json', status: 200 })
    expect(err.message).not.toContain('secret-body')
  })
})
