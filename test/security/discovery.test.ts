/**
 * Discovery and SSRF (catalogue L1–L5), inbound (the verifier's JWKS and introspection discovery)
 * and outbound (the client's token-endpoint discovery). Every outgoing request is recorded by a
 * counting dispatcher, so "never contacted" is checked, not assumed; nothing leaves loopback.
 */
import type { LookupAddress, LookupOptions } from 'node:dns'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createServiceClient, isTokenEndpointError } from '@svcauth/client'
import { createAuthenticator, isAuthError, type AuthenticatorOptions } from '@svcauth/core'
import { assertDiscoveredUrl, assertUrl } from '@svcauth/core/internal'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import { Agent, type Dispatcher } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { typeError } from '../support/type-error.js'

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

// Hosts the recording dispatcher may really connect to: the loopback issuer (also by its
// IPv4-mapped spelling) and `as.test`, a non-loopback issuer name resolved to 127.0.0.1.
const REACHABLE = new Set(['127.0.0.1', '[::ffff:7f00:1]', 'as.test'])

/**
 * A dispatcher that records the origin and path of every request it is asked to send. Requests to
 * anything but {@link REACHABLE} are recorded and then failed without a connection, so a policy
 * regression shows in `seen` and never sends traffic off loopback. Names resolve only `as.test`.
 */
function recording(): { dispatcher: Dispatcher; seen: string[] } {
  const seen: string[] = []
  const agent = new Agent({ connect: { lookup: asTestLookup } })
  const dispatcher = agent.compose((dispatch) => (opts, handler) => {
    seen.push(`${String(opts.origin)}${opts.path}`)
    if (!REACHABLE.has(new URL(String(opts.origin)).hostname))
      throw new Error('test guard: not a loopback test server')
    return dispatch(opts, handler)
  })
  closers.push(() => dispatcher.close())
  return { dispatcher, seen }
}

function asTestLookup(
  hostname: string,
  options: LookupOptions,
  callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
): void {
  if (hostname !== 'as.test') {
    callback(Object.assign(new Error(`test: no DNS for ${hostname}`), { code: 'ENOTFOUND' }), '')
  } else if (options.all === true) {
    callback(null, [{ address: '127.0.0.1', family: 4 }])
  } else {
    callback(null, '127.0.0.1', 4)
  }
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
    for (const [bad, message] of [
      ['http://127.0.0.1:4445/admin', /jwks_uri points at loopback while the issuer is not/],
      ['https://localhost/keys', /jwks_uri points at loopback while the issuer is not/],
      ['https://169.254.169.254/', /jwks_uri points at a link-local address/],
    ] as const) {
      expect(() => assertDiscoveredUrl('jwks_uri', hydra, bad, false), bad).toThrow(
        typeError(message),
      )
    }
    // Keys on another https host are allowed (Google publishes them on www.googleapis.com).
    expect(assertDiscoveredUrl('jwks_uri', hydra, 'https://keys.example/jwks', false)).toBe(
      'https://keys.example/jwks',
    )
  })
})

describe('R2: discovered addresses are judged by their bytes, not their spelling', () => {
  type Kind = 'jwks_uri' | 'introspection_endpoint' | 'token_endpoint'
  const KINDS: readonly Kind[] = ['jwks_uri', 'introspection_endpoint', 'token_endpoint']
  const PATHS: Readonly<Record<Kind, string>> = {
    jwks_uri: '/.well-known/jwks.json',
    introspection_endpoint: '/admin/oauth2/introspect',
    token_endpoint: '/oauth2/token',
  }
  // Spellings of link-local, unspecified and cloud metadata addresses (and IPv6 translations of
  // them) that WHATWG URL accepts: refused whatever the issuer. The recording dispatcher fails
  // anything off loopback, so a regression shows in `seen` without leaving the machine.
  const refusedEverywhere = [
    'http://[::ffff:169.254.169.254]/latest/meta-data/',
    'https://[::ffff:a9fe:a9fe]/keys',
    'http://[0:0:0:0:0:ffff:169.254.169.254]/latest/meta-data/',
    'http://2852039166/latest/meta-data/',
    'http://0xa9.0xfe.0xa9.0xfe/latest/meta-data/',
    'http://0251.0376.0251.0376/latest/meta-data/',
    'http://169.254.43518/latest/meta-data/',
    'https://[fe80::a9fe:a9fe]/keys',
    'https://[FEBF::1]/keys',
    'http://[::ffff:0.0.0.0]/keys',
    'http://[::]/keys',
    'http://0/keys',
    'http://0.255.255.255/keys',
    'http://[fd00:ec2::254]/latest/meta-data/',
    'http://[fd00:0ec2:0:0:0:0:0:0254]/latest/meta-data/',
    'http://100.100.100.200/latest/meta-data/',
    'http://[::ffff:100.100.100.200]/latest/meta-data/',
    'http://metadata.google.internal./computeMetadata/v1/',
    'http://[64:ff9b::169.254.169.254]/latest/meta-data/',
    'http://[64:ff9b:1:a9fe:a9:fe00::]/latest/meta-data/',
    'http://[::169.254.169.254]/latest/meta-data/',
    'http://[::ffff:0:a9fe:a9fe]/latest/meta-data/',
    'http://[2002:a9fe:a9fe::1]/latest/meta-data/',
    'http://[64:ff9b::127.0.0.1]/admin',
    'http://[2002:7f00:1::]/admin',
  ]
  // Loopback spelled every way: refused when the issuer is not on loopback.
  const loopbackSpellings = (port: string): string[] => [
    `http://[::ffff:127.0.0.1]:${port}`,
    `http://[::ffff:7f00:1]:${port}`,
    `http://[0:0:0:0:0:ffff:127.0.0.2]:${port}`,
    `http://2130706433:${port}`,
    `http://0x7f.1:${port}`,
    `http://127.1:${port}`,
    `http://[::1]:${port}`,
    `http://localhost.:${port}`,
    `http://issuer.localhost:${port}`,
  ]

  /** Discovery from `from` names `endpoint` as `kind`; the outcome and what was contacted. */
  async function discoverAndUse(
    kind: Kind,
    from: string,
    endpoint: string,
    allowInsecureHttp = true,
  ): Promise<{ outcome: string; elsewhere: string[] }> {
    const { dispatcher, seen } = recording()
    const genuine = Object.fromEntries(KINDS.map((k) => [k, `${from}${PATHS[k]}`]))
    issuer.setDiscoveryOverrides({ ...genuine, issuer: from, [kind]: endpoint })
    let outcome: string
    if (kind === 'token_endpoint') {
      const svc = createServiceClient({
        issuer: from,
        clientId: 'bss',
        clientSecret: 's3cret',
        targets: { 'http://127.0.0.1:9': {} },
        tokenDispatcher: dispatcher,
        allowInsecureHttp,
      })
      closers.push(() => svc.close())
      outcome = await svc.getToken('http://127.0.0.1:9').then(
        () => 'accepted',
        (err: unknown) => (isTokenEndpointError(err) ? err.error : String(err)),
      )
    } else {
      const a = verifier({
        issuer: from,
        dispatcher,
        allowInsecureHttp,
        ...(kind === 'introspection_endpoint' ? { introspection: {} } : {}),
      })
      const presented =
        kind === 'jwks_uri'
          ? await issuer.mintClientToken({
              clientId: 'bss',
              audience: ['smd'],
              claims: { iss: from },
            })
          : 'ory_at_opaque.token'
      outcome = await reason(a.verify(presented))
    }
    return { outcome, elsewhere: seen.filter((u) => !u.startsWith(`${from}/`)) }
  }

  const REFUSED: Readonly<Record<Kind, string>> = {
    jwks_uri: '503 jwks_unavailable',
    introspection_endpoint: '503 introspection_unavailable',
    token_endpoint: 'invalid_response', // the metadata, not the network, is at fault
  }
  // Reaching the genuine endpoint: keys verify the token, introspection says the unknown opaque
  // token is inactive, the token endpoint issues a token.
  const REACHED: Readonly<Record<Kind, string>> = {
    jwks_uri: 'accepted',
    introspection_endpoint: '401 token_inactive',
    token_endpoint: 'accepted',
  }

  it('R2: refuses mapped, numeric and translated spellings of link-local, unspecified and metadata addresses for every discovered endpoint, and never contacts them', async () => {
    const port = new URL(issuer.origin).port
    for (const from of [issuer.origin, `http://as.test:${port}`]) {
      for (const kind of KINDS) {
        expect(
          await discoverAndUse(kind, from, `${from}${PATHS[kind]}`),
          `${kind} control`,
        ).toEqual({
          outcome: REACHED[kind],
          elsewhere: [],
        })
        for (const endpoint of refusedEverywhere) {
          expect(await discoverAndUse(kind, from, endpoint), `${from} ${kind} ${endpoint}`).toEqual(
            {
              outcome: REFUSED[kind],
              elsewhere: [],
            },
          )
        }
      }
    }
  })

  it('R2: a non-loopback issuer may not point any discovered endpoint at loopback, however spelled', async () => {
    const port = new URL(issuer.origin).port
    const remote = `http://as.test:${port}`
    for (const kind of KINDS) {
      for (const base of loopbackSpellings(port)) {
        expect(
          await discoverAndUse(kind, remote, `${base}${PATHS[kind]}`),
          `${kind} ${base}`,
        ).toEqual({
          outcome: REFUSED[kind],
          elsewhere: [],
        })
      }
    }
  })

  it('R2: a loopback issuer may use its own endpoints by their IPv4-mapped address, over plain HTTP without a flag', async () => {
    const mapped = `http://[::ffff:127.0.0.1]:${new URL(issuer.origin).port}`
    for (const kind of KINDS) {
      const { outcome, elsewhere } = await discoverAndUse(
        kind,
        issuer.origin,
        `${mapped}${PATHS[kind]}`,
        false,
      )
      expect(outcome, kind).toBe(REACHED[kind])
      expect(elsewhere, kind).toEqual([
        `http://[::ffff:7f00:1]:${new URL(issuer.origin).port}${PATHS[kind]}`,
      ])
    }
  })

  it('R2: classifies hosts by address bytes: loopback, link-local, unspecified, cloud metadata, translations', () => {
    const remote = 'https://hydra.example/'
    const local = 'http://127.0.0.1:4444/'
    const table: readonly [string, RegExp | 'ok', RegExp | 'ok'][] = [
      // [discovered URL, from a remote issuer, from a loopback issuer]
      ['https://169.254.169.254/', /link-local/, /link-local/],
      ['https://[::ffff:169.254.169.254]/', /link-local/, /link-local/],
      ['https://[::FFFF:a9fe:A9FE]/', /link-local/, /link-local/],
      ['https://2852039166/', /link-local/, /link-local/],
      ['https://0xA9FEA9FE/', /link-local/, /link-local/],
      ['https://[fe80::1]/', /link-local/, /link-local/],
      ['https://[febf:ffff::]/', /link-local/, /link-local/],
      ['https://0.0.0.0/', /unspecified/, /unspecified/],
      ['https://0.1.2.3/', /unspecified/, /unspecified/],
      ['https://[::]/', /unspecified/, /unspecified/],
      ['https://[0:0:0:0:0:0:0:0]/', /unspecified/, /unspecified/],
      ['https://[::ffff:0.0.0.0]/', /unspecified/, /unspecified/],
      ['https://[fd00:ec2::254]/', /cloud metadata/, /cloud metadata/],
      ['https://100.100.100.200/', /cloud metadata/, /cloud metadata/],
      ['https://METADATA.google.internal/', /cloud metadata/, /cloud metadata/],
      ['https://[64:ff9b::a9fe:a9fe]/', /IPv6 translation/, /IPv6 translation/],
      ['https://[64:ff9b::7f00:1]/', /IPv6 translation/, /IPv6 translation/],
      ['https://[::7f00:1]/', /IPv6 translation/, /IPv6 translation/],
      ['https://[::0.0.0.2]/', /IPv6 translation/, /IPv6 translation/],
      ['https://[::ffff:0:7f00:1]/', /IPv6 translation/, /IPv6 translation/],
      ['https://[2002:a9fe:0001::]/', /IPv6 translation/, /IPv6 translation/],
      ['https://127.0.0.1/', /loopback/, 'ok'],
      ['https://127.255.255.254/', /loopback/, 'ok'],
      ['https://[::1]/', /loopback/, 'ok'],
      ['https://[0:0:0:0:0:0:0:1]/', /loopback/, 'ok'],
      ['https://[::ffff:127.0.0.1]/', /loopback/, 'ok'],
      ['https://[::ffff:7f01:203]/', /loopback/, 'ok'],
      ['https://localhost/', /loopback/, 'ok'],
      ['https://keys.localhost./', /loopback/, 'ok'],
      // Not special: ordinary and private addresses, and neighbours of the special ranges.
      ['https://keys.example/', 'ok', 'ok'],
      ['https://localhost.example/', 'ok', 'ok'],
      ['https://10.0.0.5/', 'ok', 'ok'],
      ['https://[::ffff:10.0.0.5]/', 'ok', 'ok'],
      ['https://[64:ff9b::808:808]/', 'ok', 'ok'],
      ['https://[2002:0a00:0005::]/', 'ok', 'ok'],
      ['https://169.255.0.1/', 'ok', 'ok'],
      ['https://128.0.0.1/', 'ok', 'ok'],
      ['https://1.0.0.0/', 'ok', 'ok'],
      ['https://[fec0::1]/', 'ok', 'ok'],
      ['https://[fd00:ec2::253]/', 'ok', 'ok'],
      ['https://[2001:db8::1]/', 'ok', 'ok'],
      ['https://[::2:0:0]/', 'ok', 'ok'],
    ]
    for (const [url, fromRemote, fromLocal] of table) {
      for (const [from, expected] of [
        [remote, fromRemote],
        [local, fromLocal],
      ] as const) {
        if (expected === 'ok') {
          expect(assertDiscoveredUrl('jwks_uri', from, url, false), `${from} ${url}`).toBe(url)
        } else {
          expect(() => assertDiscoveredUrl('jwks_uri', from, url, false), `${from} ${url}`).toThrow(
            expected,
          )
        }
      }
    }
    // Plain HTTP needs no flag on loopback, and a mapped loopback address is loopback; a mapped
    // or translated non-loopback address is not.
    expect(assertUrl('issuer', 'http://[::ffff:127.0.0.1]:4444/', false)).toBe(
      'http://[::ffff:127.0.0.1]:4444/',
    )
    for (const url of [
      'http://[::ffff:a9fe:a9fe]/',
      'http://[64:ff9b::7f00:1]/',
      'http://0.0.0.0/',
    ]) {
      expect(() => assertUrl('issuer', url, false), url).toThrow(/must use https/)
    }
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
    for (const [bad, message] of [
      ['https://u:p@as.test/', /issuer must not carry credentials/],
      ['https://as.test/?debug=1', /issuer must not have a query/],
      ['https://as.test/#x', /issuer must not have a fragment/],
      [
        'http://as.test/',
        /issuer must use https: http:\/\/as.test is plain HTTP off loopback \(allow it with allowInsecureHttp/,
      ],
    ] as const) {
      expect(() => createAuthenticator({ issuer: bad, audience: 'smd' }), bad).toThrow(
        typeError(message),
      )
      expect(
        () => createServiceClient({ issuer: bad, clientId: 'c', clientSecret: 's', targets: {} }),
        bad,
      ).toThrow(typeError(message))
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
