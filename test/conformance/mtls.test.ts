/**
 * The mutual-TLS rows of the conformance table (RFC 8705 §3, issue 19), on Express 5 and 4 and
 * Koa 3 and 2, each an HTTPS server on loopback asking for a client certificate (`requestCert`,
 * trust left to svcauth's binding check so that self-signed certificates can reach it, as
 * `self_signed_tls_client_auth` needs). Every scenario sends real certificates from the test kit's
 * CA over a real TLS connection, or a proxy's certificate header, and all four runs must answer
 * identically: status, challenge, body and the recorded rejection reason.
 */
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { AuthOutcome, Principal } from '@svcauth/core'
import * as ex from '@svcauth/express'
import * as ko from '@svcauth/koa'
import {
  createSelfSignedCertificate,
  createTestCa,
  createTestIssuer,
  type TestCa,
  type TestCertificate,
  type TestIssuer,
} from '@svcauth/testing'
import Router from '@koa/router'
import express5 from 'express'
import express4 from 'express4'
import Koa3 from 'koa'
import Koa2 from 'koa2'
import { Agent, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FRAMEWORKS, type Framework } from './harness.js'

interface Kit {
  readonly issuer: TestIssuer
  readonly ca: TestCa
  /** The certificate tokens are bound to, another from the same CA, an expired one, a stranger's. */
  readonly bss: TestCertificate
  readonly other: TestCertificate
  readonly expired: TestCertificate
  readonly stranger: TestCertificate
  readonly selfSigned: TestCertificate
}

interface Scenario {
  readonly name: string
  readonly path: string
  /** The certificate the TLS connection presents. */
  readonly cert?: (k: Kit) => TestCertificate
  readonly authorization?: (k: Kit) => Promise<string> | string
  readonly headers?: (k: Kit) => Record<string, string>
  readonly expect: {
    status: number
    challenge: string | null
    body?: unknown
    reason: string | null
  }
}

const REALM = 'Bearer realm="api"'
const invalid = (reason: string, description: string) => ({
  status: 401,
  challenge: `${REALM}, error="invalid_token", error_description="${description}"`,
  body: { error: 'invalid_token', error_description: description },
  reason,
})
const ok = (bound: boolean) => ({
  status: 200,
  challenge: null,
  body: { actorId: 'bss', bound },
  reason: null,
})
const bound = (k: Kit, cert: TestCertificate = k.bss) =>
  k.issuer
    .mintClientToken({ clientId: 'bss', scope: ['smd.read'], audience: ['smd'], mtls: cert })
    .then((t) => `Bearer ${t}`)
const plain = (k: Kit) =>
  k.issuer
    .mintClientToken({ clientId: 'bss', scope: ['smd.read'], audience: ['smd'] })
    .then((t) => `Bearer ${t}`)
const pemHeader = (cert: TestCertificate) => encodeURIComponent(cert.cert)
const HEADER_INVALID = {
  status: 400,
  challenge: `${REALM}, error="invalid_request", error_description="The client certificate header is malformed"`,
  body: {
    error: 'invalid_request',
    error_description: 'The client certificate header is malformed',
  },
  reason: 'mtls_header_invalid',
}
const MISMATCH = invalid(
  'mtls_certificate_mismatch',
  'The access token is bound to another certificate',
)
const MISSING = invalid(
  'mtls_certificate_missing',
  'The access token needs the client certificate it is bound to',
)

const scenarios: readonly Scenario[] = [
  {
    name: 'a certificate-bound token over a connection presenting its certificate is accepted',
    path: '/mtls/read',
    cert: (k) => k.bss,
    authorization: (k) => bound(k),
    expect: ok(true),
  },
  {
    name: 'a plain Bearer token is still accepted where mtls is on (not required)',
    path: '/mtls/read',
    cert: (k) => k.bss,
    authorization: plain,
    expect: ok(false),
  },
  {
    name: 'T1: a token bound to another certificate is refused',
    path: '/mtls/read',
    cert: (k) => k.other,
    authorization: (k) => bound(k),
    expect: MISMATCH,
  },
  {
    name: 'T2: a certificate-bound token without any client certificate is refused',
    path: '/mtls/read',
    authorization: (k) => bound(k),
    expect: MISSING,
  },
  {
    name: 'T3: an expired certificate is refused even for the token bound to it',
    path: '/mtls/read',
    cert: (k) => k.expired,
    authorization: (k) => bound(k, k.expired),
    expect: invalid('mtls_certificate_invalid', 'The client certificate is not valid now'),
  },
  {
    name: 'T3: a certificate from an unknown CA cannot stand in for the bound one',
    path: '/mtls/read',
    cert: (k) => k.stranger,
    authorization: (k) => bound(k),
    expect: MISMATCH,
  },
  {
    name: 'a self-signed certificate the token is bound to is accepted (self_signed_tls_client_auth)',
    path: '/mtls/read',
    cert: (k) => k.selfSigned,
    authorization: (k) => bound(k, k.selfSigned),
    expect: ok(true),
  },
  {
    name: 'T4: a certificate header from an untrusted address is ignored: the socket decides',
    path: '/mtls-untrusted-proxy/read',
    cert: (k) => k.other,
    authorization: (k) => bound(k),
    headers: (k) => ({ 'x-client-cert': pemHeader(k.bss) }),
    expect: MISMATCH,
  },
  {
    name: 'T4: a header from an untrusted address does not stand in for a missing certificate',
    path: '/mtls-untrusted-proxy/read',
    authorization: (k) => bound(k),
    headers: (k) => ({ 'x-client-cert': pemHeader(k.bss) }),
    expect: MISSING,
  },
  {
    name: 'a trusted proxy’s URL-encoded PEM header is the client’s certificate',
    path: '/mtls-proxy/read',
    authorization: (k) => bound(k),
    headers: (k) => ({ 'x-client-cert': pemHeader(k.bss) }),
    expect: ok(true),
  },
  {
    name: 'T5: from a trusted proxy, the header wins over the socket’s own certificate (the proxy’s)',
    path: '/mtls-proxy/read',
    cert: (k) => k.bss,
    authorization: (k) => bound(k),
    headers: (k) => ({ 'x-client-cert': pemHeader(k.other) }),
    expect: MISMATCH,
  },
  {
    name: 'T6: a malformed certificate header from a trusted proxy is a 400',
    path: '/mtls-proxy/read',
    authorization: (k) => bound(k),
    headers: () => ({ 'x-client-cert': '-----BEGIN%20CERTIFICATE-----%0AAAAA%0A-----END' }),
    expect: HEADER_INVALID,
  },
  {
    name: 'Envoy’s x-forwarded-client-cert: the last element’s Cert and Hash',
    path: '/mtls-xfcc/read',
    authorization: (k) => bound(k),
    headers: (k) => ({
      'x-forwarded-client-cert': `By=spiffe://edge;Hash=${'0'.repeat(64)};Subject="CN=x",By=spiffe://smd;Hash=${Buffer.from(k.bss.x5tS256, 'base64url').toString('hex')};Cert="${pemHeader(k.bss)}"`,
    }),
    expect: ok(true),
  },
  {
    name: 'T6: an xfcc element whose Hash contradicts its Cert is a 400',
    path: '/mtls-xfcc/read',
    authorization: (k) => bound(k),
    headers: (k) => ({
      'x-forwarded-client-cert': `Hash=${Buffer.from(k.other.x5tS256, 'base64url').toString('hex')};Cert="${pemHeader(k.bss)}"`,
    }),
    expect: HEADER_INVALID,
  },
  {
    name: 'mtls required: a plain Bearer token is refused',
    path: '/mtls-only/read',
    cert: (k) => k.bss,
    authorization: plain,
    expect: invalid('mtls_required', 'The access token must be bound to a client certificate'),
  },
  {
    name: 'mtls required: a certificate-bound token with its certificate is accepted',
    path: '/mtls-only/read',
    cert: (k) => k.bss,
    authorization: (k) => bound(k),
    expect: ok(true),
  },
  {
    name: 'a certificate-bound token where mtls is off is refused (sender_constrained)',
    path: '/plain/read',
    cert: (k) => k.bss,
    authorization: (k) => bound(k),
    expect: invalid('sender_constrained', 'The access token is invalid'),
  },
  {
    name: 'a certificate-bound opaque token (introspection) with its certificate is accepted',
    path: '/mtls-opaque/read',
    cert: (k) => k.bss,
    authorization: (k) =>
      `Bearer ${k.issuer.mintOpaqueToken({ clientId: 'bss', scope: ['smd.read'], audience: ['smd'], mtls: k.bss })}`,
    expect: ok(true),
  },
  {
    name: 'T1: a certificate-bound opaque token over another certificate is refused',
    path: '/mtls-opaque/read',
    cert: (k) => k.other,
    authorization: (k) =>
      `Bearer ${k.issuer.mintOpaqueToken({ clientId: 'bss', scope: ['smd.read'], audience: ['smd'], mtls: k.bss })}`,
    expect: MISMATCH,
  },
]

let kit: Kit
let stranger: TestCa
beforeAll(async () => {
  const [issuer, ca] = await Promise.all([createTestIssuer(), createTestCa()])
  stranger = await createTestCa({ commonName: 'someone else' })
  kit = {
    issuer,
    ca,
    bss: await ca.issueClient({ commonName: 'bss' }),
    other: await ca.issueClient({ commonName: 'bss' }),
    expired: await ca.issueClient({ commonName: 'bss', notBefore: 7200, notAfter: -3600 }),
    stranger: await stranger.issueClient({ commonName: 'bss' }),
    selfSigned: await createSelfSignedCertificate({ commonName: 'bss' }),
  }
})
afterAll(async () => {
  await Promise.all([kit.issuer.close(), kit.ca.close(), stranger.close()])
})

function summary(p: Principal | undefined) {
  return { actorId: p?.actorId ?? null, bound: p?.confirmation?.x5tS256 !== undefined }
}

function routes(issuer: TestIssuer) {
  const base = { issuer: issuer.issuer, audience: 'smd', jwksUri: issuer.jwksUri }
  const header = { header: 'x-client-cert', format: 'pem-urlencoded' as const }
  return [
    ['/plain', base],
    ['/mtls', { ...base, mtls: true }],
    ['/mtls-only', { ...base, mtls: { required: true } }],
    ['/mtls-proxy', { ...base, mtls: { ...header, trustedProxies: ['127.0.0.1', '::1'] } }],
    ['/mtls-untrusted-proxy', { ...base, mtls: { ...header, trustedProxies: ['10.9.9.9'] } }],
    [
      '/mtls-xfcc',
      { ...base, mtls: { header: 'X-Forwarded-Client-Cert', trustedProxies: ['127.0.0.0/8'] } },
    ],
    [
      '/mtls-opaque',
      {
        ...base,
        mtls: true,
        introspection: { endpoint: issuer.introspectionEndpoint, timeout: 1000 },
      },
    ],
  ] as const
}

async function startApp(
  framework: Framework,
  server: TestCertificate,
  record: (o: AuthOutcome | undefined) => void,
): Promise<{ url: string; close: () => Promise<void> }> {
  let handler: Parameters<typeof createServer>[1]
  if (framework.startsWith('Express')) {
    const express = framework === 'Express 5' ? express5 : express4
    const app = express()
    app.use((req, res, next) => {
      res.on('finish', () => {
        record(ex.authOutcome(req))
      })
      next()
    })
    for (const [prefix, options] of routes(kit.issuer)) {
      const r = express.Router()
      r.use(ex.authenticate(options))
      r.get('/read', ex.requireScopes('smd.read'), (req, res) => {
        res.json(summary(req.auth))
      })
      app.use(prefix, r)
    }
    handler = app
  } else {
    const Koa = framework === 'Koa 3' ? Koa3 : Koa2
    const app = new Koa<ko.AuthState>()
    app.use(async (ctx, next) => {
      try {
        await next()
      } finally {
        record(ko.authOutcome(ctx))
      }
    })
    for (const [prefix, options] of routes(kit.issuer)) {
      const r = new Router<ko.AuthState>({ prefix })
      r.use(ko.authenticate(options))
      r.get('/read', ko.requireScopes('smd.read'), (ctx) => {
        ctx.body = summary(ctx.state.auth)
      })
      app.use(r.routes())
    }
    const callback = app.callback()
    handler = (req, res) => {
      void callback(req, res)
    }
  }
  const https: Server = createServer(
    {
      cert: server.cert,
      key: server.key,
      ca: kit.ca.cert,
      requestCert: true,
      rejectUnauthorized: false,
    },
    handler,
  )
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve))
  return {
    url: `https://127.0.0.1:${(https.address() as AddressInfo).port}`,
    close: async () => {
      https.closeAllConnections()
      await new Promise((resolve) => https.close(resolve))
    },
  }
}

interface Observed {
  status: number
  challenge: string | null
  body: unknown
  reason: string | null
}
const observed = new Map<Framework, Record<string, Observed>>()

describe.each(FRAMEWORKS)('mutual TLS on %s', (framework) => {
  let app: { url: string; close: () => Promise<void> }
  const seen: { outcome?: AuthOutcome | undefined } = {}
  /** The outcome recorded when the response finished (read through a call: set by a callback). */
  const outcome = (): AuthOutcome | undefined => seen.outcome
  const results: Record<string, Observed> = {}
  observed.set(framework, results)

  beforeAll(async () => {
    app = await startApp(framework, await kit.ca.issueServer(), (o) => (seen.outcome = o))
  })
  afterAll(async () => {
    await app.close()
  })

  for (const s of scenarios) {
    it(s.name, async () => {
      const cert = s.cert?.(kit)
      // A connection of its own per scenario: the certificate is the connection's.
      const agent = new Agent({
        connect: {
          ca: kit.ca.cert,
          ...(cert === undefined ? {} : { cert: cert.cert, key: cert.key }),
        },
      })
      try {
        seen.outcome = undefined
        const headers: Record<string, string> = { ...s.headers?.(kit) }
        if (s.authorization !== undefined) headers.authorization = await s.authorization(kit)
        const res = await request(`${app.url}${s.path}`, { dispatcher: agent, headers })
        const body: unknown = await res.body.json()
        await new Promise((resolve) => setImmediate(resolve))
        const challenge = res.headers['www-authenticate']
        const got: Observed = {
          status: res.statusCode,
          challenge: typeof challenge === 'string' ? challenge : null,
          body,
          reason: outcome()?.reason ?? null,
        }
        results[s.name] = got
        expect(got).toEqual({ ...s.expect, body: s.expect.body ?? got.body })
      } finally {
        await agent.close()
      }
    })
  }
})

describe('mutual TLS agreement', () => {
  it('all four runs observed exactly the same answers', () => {
    const reference = observed.get('Express 5')
    expect(Object.keys(reference ?? {})).toHaveLength(scenarios.length)
    for (const framework of FRAMEWORKS)
      expect(observed.get(framework), framework).toEqual(reference)
  })
})
