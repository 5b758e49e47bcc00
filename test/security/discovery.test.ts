/**
 * Discovery and SSRF (catalogue L1–L5), inbound (the verifier's JWKS and introspection discovery)
 * and outbound (the client's token-endpoint discovery). Every outgoing request is recorded by a
 * counting dispatcher, so "never contacted" is checked, not assumed; nothing leaves loopback.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createServiceClient, isTokenEndpointError } from '@svcauth/client'
import {
  assertDiscoveredUrl,
  createAuthenticator,
  isAuthError,
  type AuthenticatorOptions,
} from '@svcauth/core'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import { Agent, type Dispatcher } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

let issuer: TestIssuer
let listener: Server
let listenerUrl: string
let listenerHits = 0
const closers: (() => Promise<void> | void)[] = []

beforeAll(async () => {
  issuer = await createTestIssuer({ keyCount: 1 })
  issuer.addClient({ clientId: 'bss', secrets: ['s3cret'] })
  listener = createServer((_req, res) => {
    listenerHits++
    res.end('{}')
  })
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
  listenerUrl = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`
})
afterAll(async () => {
  listener.closeAllConnections()
  await new Promise((resolve) => listener.close(resolve))
  await issuer.close()
})
afterEach(async () => {
  for (const close of closers.splice(0)) await close()
  issuer.setDiscoveryOverrides({})
  issuer.setDiscoveryMode('ok')
})

/** A dispatcher that records the origin and path of every request it sends. */
function recording(): { dispatcher: Dispatcher; seen: string[] } {
  const seen: string[] = []
  const dispatcher = new Agent().compose((dispatch) => (opts, handler) => {
    seen.push(`${String(opts.origin)}${opts.path}`)
    return dispatch(opts, handler)
  })
  closers.push(() => dispatcher.close())
  return { dispatcher, seen }
}

function verifier(extra: Partial<AuthenticatorOptions> = {}) {
  const a = createAuthenticator({
    issuer: issuer.issuer,
    audience: 'smd',
    jwks: { cooldown: 0, timeout: 300 },
    logger: { warn: () => undefined, error: () => undefined },
    ...extra,
  })
  closers.push(() => {
    a.close()
  })
  return a
}

async function reason(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'accepted'
  } catch (err) {
    if (isAuthError(err)) return `${err.status} ${err.reason}`
    throw err
  }
}

const token = () => issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })

describe('L1: issuer mismatch in metadata', () => {
  it('inbound: refused, and neither the JWKS nor anything else is fetched', async () => {
    issuer.setDiscoveryOverrides({ issuer: 'https://evil.test/', jwks_uri: `${listenerUrl}/jwks` })
    const { dispatcher, seen } = recording()
    expect(await reason(verifier({ dispatcher }).verify(await token()))).toBe(
      '503 jwks_unavailable',
    )
    expect(seen.every((s) => s.includes('/.well-known/'))).toBe(true)
    expect(listenerHits).toBe(0)
  })

  it('outbound: a typed error, and no token request anywhere', async () => {
    issuer.setDiscoveryOverrides({
      issuer: 'https://evil.test/',
      token_endpoint: `${listenerUrl}/token`,
    })
    const svc = createServiceClient({
      issuer: issuer.issuer,
      clientId: 'bss',
      clientSecret: 's3cret',
      targets: { 'http://127.0.0.1:9': {} },
    })
    closers.push(() => svc.close())
    const err: unknown = await svc.getToken('http://127.0.0.1:9').catch((e: unknown) => e)
    expect(isTokenEndpointError(err)).toBe(true)
    expect(issuer.hits.token).toBe(0)
    expect(listenerHits).toBe(0)
  })
})

describe('L2: metadata endpoints pointing elsewhere', () => {
  const hostile = [
    'http://169.254.169.254/latest/meta-data/',
    'https://169.254.169.254/latest/meta-data/',
    'https://[fe80::1]/keys',
    'https://0.0.0.0/keys',
    'http://0.0.0.0:80/keys',
    'file:///etc/passwd',
    'data:,{"keys":[]}',
    'http://as.example.test/keys',
    'gopher://127.0.0.1:70/x',
  ]

  it('inbound: a hostile jwks_uri is refused and never contacted', async () => {
    for (const jwksUri of hostile) {
      issuer.setDiscoveryOverrides({ jwks_uri: jwksUri })
      const { dispatcher, seen } = recording()
      expect(await reason(verifier({ dispatcher }).verify(await token())), jwksUri).toBe(
        '503 jwks_unavailable',
      )
      expect(
        seen.filter((s) => !s.startsWith(issuer.origin)),
        jwksUri,
      ).toEqual([])
    }
  })

  it('inbound: a hostile introspection_endpoint is refused and never contacted', async () => {
    for (const endpoint of hostile) {
      issuer.setDiscoveryOverrides({ introspection_endpoint: endpoint })
      const { dispatcher, seen } = recording()
      const a = verifier({ dispatcher, introspection: {} })
      expect(await reason(a.verify('ory_at_opaque.token')), endpoint).toBe(
        '503 introspection_unavailable',
      )
      expect(
        seen.filter((s) => !s.startsWith(issuer.origin)),
        endpoint,
      ).toEqual([])
    }
  })

  it('outbound: a hostile token_endpoint is refused and never contacted', async () => {
    for (const endpoint of hostile) {
      issuer.setDiscoveryOverrides({ token_endpoint: endpoint })
      const { dispatcher, seen } = recording()
      const svc = createServiceClient({
        issuer: issuer.issuer,
        clientId: 'bss',
        clientSecret: 's3cret',
        targets: { 'http://127.0.0.1:9': {} },
        tokenDispatcher: dispatcher,
      })
      closers.push(() => svc.close())
      const err: unknown = await svc.getToken('http://127.0.0.1:9').catch((e: unknown) => e)
      expect(isTokenEndpointError(err), endpoint).toBe(true)
      expect(
        seen.filter((s) => !s.startsWith(issuer.origin)),
        endpoint,
      ).toEqual([])
    }
  })
  it('a non-loopback issuer may not send discovery to loopback or link-local addresses', () => {
    const hydra = 'https://hydra.example/'
    for (const bad of [
      'http://127.0.0.1:4445/admin',
      'https://localhost/keys',
      'https://169.254.169.254/',
    ]) {
      expect(() => assertDiscoveredUrl('jwks_uri', hydra, bad, false), bad).toThrow(TypeError)
    }
    // Keys on another https host are allowed (Google publishes them on www.googleapis.com).
    expect(assertDiscoveredUrl('jwks_uri', hydra, 'https://keys.example/jwks', false)).toBe(
      'https://keys.example/jwks',
    )
  })
})

describe('L3: discovery is never driven by the token', () => {
  it('100 tokens naming unconfigured issuers are iss_invalid and cost the listener nothing', async () => {
    const single = verifier({ jwksUri: issuer.jwksUri })
    const multi = createAuthenticator({
      issuers: [
        { issuer: issuer.issuer, audience: 'smd', jwksUri: issuer.jwksUri },
        {
          issuer: 'http://127.0.0.1:1/other/',
          audience: 'smd',
          jwksUri: 'http://127.0.0.1:1/jwks',
        },
      ],
      logger: { warn: () => undefined, error: () => undefined },
    })
    closers.push(() => {
      multi.close()
    })
    for (let i = 0; i < 100; i++) {
      const t = await issuer.mintClientToken({
        clientId: 'bss',
        audience: ['smd'],
        claims: { iss: `${listenerUrl}/t${i}/` },
      })
      expect(await reason((i % 2 === 0 ? single : multi).verify(t))).toBe('401 iss_invalid')
    }
    expect(listenerHits).toBe(0)
  })
})

describe('L4: issuer URL configuration', () => {
  it('refuses userinfo, a query, a fragment and plain HTTP off loopback, inbound and outbound', () => {
    for (const bad of [
      'https://u:p@as.test/',
      'https://as.test/?debug=1',
      'https://as.test/#x',
      'http://as.test/',
    ]) {
      expect(() => createAuthenticator({ issuer: bad, audience: 'smd' }), bad).toThrow(TypeError)
      expect(
        () => createServiceClient({ issuer: bad, clientId: 'c', clientSecret: 's', targets: {} }),
        bad,
      ).toThrow(TypeError)
    }
  })
})

describe('L5: discovery fetch robustness', () => {
  it('non-JSON, huge, redirecting and failing metadata are 503; failures are not cached', async () => {
    const modes = [
      { status: 200, body: '<html>' },
      { status: 200, body: `{"issuer":"${issuer.issuer}","pad":"${'x'.repeat(400_000)}"}` },
      { status: 302, body: '' },
      { status: 500, body: 'oops' },
    ]
    for (const mode of modes) {
      issuer.setDiscoveryMode(mode)
      const a = verifier()
      expect(await reason(a.verify(await token())), String(mode.status)).toBe(
        '503 jwks_unavailable',
      )
      issuer.setDiscoveryMode('ok')
      expect(await reason(a.verify(await token())), 'recovers').toBe('accepted')
    }
  })

  it('concurrent callers share one discovery attempt while it fails', async () => {
    issuer.setDiscoveryMode('fail')
    const a = verifier({ jwks: { cooldown: 5000, timeout: 300 } })
    const before = issuer.hits.discovery
    const t = await token()
    const results = await Promise.all(Array.from({ length: 50 }, () => reason(a.verify(t))))
    expect(new Set(results)).toEqual(new Set(['503 jwks_unavailable']))
    // Both well-known addresses are tried once, for all 50 callers.
    expect(issuer.hits.discovery - before).toBeLessThanOrEqual(2)
  })
})
