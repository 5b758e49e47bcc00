/**
 * `allowInsecureHttp` (issue 16, item 5): `true` allows plain HTTP to every host, a list allows
 * exactly the origins it names, for every address svcauth talks to (inbound: issuer, jwksUri,
 * introspection endpoint; outbound: issuer, tokenEndpoint, registration endpoint, Hydra's admin
 * URL, and requestToken's), and a plain-HTTP origin off loopback that is not allowed is a
 * TypeError at construction naming the option and the fix. Addresses found by discovery are
 * judged by the same allowance. Named hosts are reached on loopback through a user's own Agent
 * (test/support/named-agent.ts).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  createServiceClient,
  isTokenEndpointError,
  registerClient,
  requestToken,
  type ServiceClientOptions,
} from '@svcauth/client'
import { createAuthenticator, type VerifierOptions } from '@svcauth/core'
import { createTestIssuer } from '@svcauth/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { namedAgent, renamed } from '../support/named-agent.js'
import { typeError } from '../support/type-error.js'

const LISTED = 'http://hydra.test:4444'
const OTHER = 'http://other.test:4444'
type Allowance = boolean | readonly string[]
type Overrides = { [K in keyof ServiceClientOptions]?: ServiceClientOptions[K] | undefined }

/** The message of a refused plain-HTTP address: the option, the origin and the fix. */
const refused = (option: string, origin = OTHER): RegExp =>
  new RegExp(
    `${option.replace('.', '\\.')} must use https: ${origin} is plain HTTP off loopback \\(allow it with allowInsecureHttp: \\['${origin}'\\], or true for every host\\)`,
  )

function inbound(options: Partial<VerifierOptions>, allowInsecureHttp: Allowance): () => void {
  return () => {
    createAuthenticator({
      issuer: 'https://as.example',
      audience: 'smd',
      jwksUri: 'https://as.example/jwks',
      ...options,
      allowInsecureHttp,
      logger: { warn: () => undefined, error: () => undefined },
    }).close()
  }
}

function outbound(options: Overrides, allowInsecureHttp: Allowance): () => void {
  return () => {
    void createServiceClient({
      clientId: 'bss',
      clientSecret: 's3cret',
      targets: { 'http://smd:27779': { scope: 'smd.read' } },
      ...options,
      allowInsecureHttp,
    } as ServiceClientOptions).close()
  }
}

const configured: readonly {
  readonly name: string
  readonly option: string
  readonly build: (url: string, allow: Allowance) => () => void
}[] = [
  { name: 'the inbound issuer', option: 'issuer', build: (u, a) => inbound({ issuer: u }, a) },
  { name: 'jwksUri', option: 'jwksUri', build: (u, a) => inbound({ jwksUri: `${u}/jwks` }, a) },
  {
    name: 'the introspection endpoint',
    option: 'introspection.endpoint',
    build: (u, a) => inbound({ introspection: { endpoint: `${u}/admin/oauth2/introspect` } }, a),
  },
  {
    name: 'the client issuer',
    option: 'issuer',
    build: (u, a) => outbound({ issuer: u }, a),
  },
  {
    name: 'tokenEndpoint',
    option: 'tokenEndpoint',
    build: (u, a) => outbound({ tokenEndpoint: `${u}/oauth2/token` }, a),
  },
  {
    name: 'the registration endpoint (at createServiceClient)',
    option: 'registrationEndpoint',
    build: (u, a) =>
      outbound(
        {
          tokenEndpoint: 'https://as.example/oauth2/token',
          clientSecret: undefined,
          clientId: undefined,
          registration: { credentialsFile: '/nonexistent/c.json', registrationEndpoint: `${u}/r` },
        },
        a,
      ),
  },
  {
    name: "Hydra's admin URL (at createServiceClient)",
    option: 'adminUrl',
    build: (u, a) =>
      outbound(
        {
          tokenEndpoint: 'https://as.example/oauth2/token',
          clientSecret: undefined,
          clientId: undefined,
          registration: { credentialsFile: '/nonexistent/c.json', adminUrl: u },
        },
        a,
      ),
  },
]

describe('allowInsecureHttp: a list allows exactly its origins, true allows every host', () => {
  for (const { name, option, build } of configured) {
    it(`${name}: a listed origin is allowed, another is a TypeError at construction, true allows it`, () => {
      expect(build(LISTED, [LISTED])).not.toThrow()
      expect(build(OTHER, [LISTED])).toThrow(typeError(refused(option)))
      expect(build(OTHER, [])).toThrow(typeError(refused(option)))
      expect(build(OTHER, false)).toThrow(typeError(refused(option)))
      expect(build(OTHER, true)).not.toThrow()
    })
  }

  it("registration settings have their own allowance, else the client's", () => {
    const withOwn = (own: Allowance, client: Allowance) =>
      outbound(
        {
          tokenEndpoint: 'https://as.example/oauth2/token',
          clientId: undefined,
          clientSecret: undefined,
          registration: {
            credentialsFile: '/nonexistent/c.json',
            adminUrl: 'http://hydra.test:4445',
            allowInsecureHttp: own,
          },
        },
        client,
      )
    expect(withOwn(['http://hydra.test:4445'], false)).not.toThrow()
    expect(withOwn([LISTED], ['http://hydra.test:4445'])).toThrow(
      typeError(refused('adminUrl', 'http://hydra.test:4445')),
    )
  })

  it('an origin is compared in its serialized form: a default port and a trailing slash match', () => {
    expect(build('http://hydra.test', ['http://hydra.test:80/'])).not.toThrow()
    expect(build('http://hydra.test:8080', ['http://hydra.test'])).toThrow(
      typeError(refused('tokenEndpoint', 'http://hydra.test:8080')),
    )
    function build(url: string, allow: Allowance): () => void {
      return outbound({ tokenEndpoint: `${url}/oauth2/token` }, allow)
    }
  })

  it('a value that is not a boolean or a list of http:// origins is a TypeError', () => {
    for (const bad of ['yes', ['https://hydra.test'], ['http://hydra.test/oauth2'], [42], {}]) {
      const allow = bad as unknown as Allowance
      expect(inbound({}, allow), JSON.stringify(bad)).toThrow(typeError(/allowInsecureHttp/))
      expect(outbound({ tokenEndpoint: 'https://as.example/t' }, allow)).toThrow(
        typeError(/allowInsecureHttp/),
      )
    }
  })

  it('requestToken checks its endpoints before any request', async () => {
    const sent: string[] = []
    const onTokenEndpoint = (url: string): never => {
      sent.push(url)
      throw new Error('stop before sending')
    }
    const base = { clientId: 'bss', clientSecret: 's3cret', onTokenEndpoint }
    await expect(
      requestToken({ ...base, tokenEndpoint: `${OTHER}/t`, allowInsecureHttp: [LISTED] }),
    ).rejects.toThrow(typeError(refused('tokenEndpoint')))
    await expect(
      requestToken({ ...base, issuer: OTHER, allowInsecureHttp: [LISTED] }),
    ).rejects.toThrow(typeError(refused('issuer')))
    await expect(
      requestToken({ ...base, tokenEndpoint: `${LISTED}/t`, allowInsecureHttp: [LISTED] }),
    ).rejects.toThrow('stop before sending')
    expect(sent).toEqual([`${LISTED}/t`])
  })

  it('registerClient checks adminUrl and registrationEndpoint before any request', async () => {
    await expect(registerClient({ adminUrl: OTHER, allowInsecureHttp: [LISTED] })).rejects.toThrow(
      typeError(refused('adminUrl')),
    )
    await expect(
      registerClient({ registrationEndpoint: `${OTHER}/r`, allowInsecureHttp: [LISTED] }),
    ).rejects.toThrow(typeError(refused('registrationEndpoint')))
  })
})

describe('allowInsecureHttp on a real server reached by name', () => {
  let metadata: Server
  let port: number
  const named = namedAgent()
  beforeAll(async () => {
    // An issuer reached as http://hydra.test:<port> whose metadata names a token endpoint on
    // another plain-HTTP host.
    metadata = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          issuer: `http://hydra.test:${port}`,
          jwks_uri: `http://hydra.test:${port}/jwks`,
          token_endpoint: `http://tokens.test:${port}/oauth2/token`,
        }),
      )
    })
    await new Promise<void>((resolve) => metadata.listen(0, '127.0.0.1', resolve))
    port = (metadata.address() as AddressInfo).port
  })
  afterAll(async () => {
    await named.close()
    await new Promise((resolve) => metadata.close(resolve))
  })

  it('a discovered address is judged by the same allowance when it is discovered', async () => {
    const issuer = `http://hydra.test:${port}`
    const found: string[] = []
    const options = {
      issuer,
      clientId: 'bss',
      clientSecret: 's3cret',
      dispatcher: named,
      onTokenEndpoint: (url: string): never => {
        found.push(url)
        throw new Error('stop before sending')
      },
    }
    const err: unknown = await requestToken({ ...options, allowInsecureHttp: [issuer] }).catch(
      (e: unknown) => e,
    )
    expect(isTokenEndpointError(err)).toBe(true)
    expect(err).toMatchObject({
      error: 'invalid_response',
      description: expect.stringContaining(
        `discovered token_endpoint must use https: http://tokens.test:${port} is plain HTTP`,
      ) as unknown,
    })
    expect(found).toEqual([])
    await expect(
      requestToken({ ...options, allowInsecureHttp: [issuer, `http://tokens.test:${port}`] }),
    ).rejects.toThrow('stop before sending')
    expect(found).toEqual([`http://tokens.test:${port}/oauth2/token`])
  })

  it("a listed in-cluster origin gets real token and registration requests through the user's Agent", async () => {
    const issuer = await createTestIssuer({ keyCount: 1 })
    try {
      issuer.addClient({ clientId: 'bss', secrets: ['s3cret'], scope: ['smd.read'] })
      const origin = renamed(issuer.issuer, 'hydra.test')
      const token = await requestToken({
        tokenEndpoint: renamed(issuer.tokenEndpoint, 'hydra.test'),
        clientId: 'bss',
        clientSecret: 's3cret',
        scope: 'smd.read',
        allowInsecureHttp: [origin],
        dispatcher: named,
      })
      expect(token.accessToken).not.toBe('')
      const registered = await registerClient({
        adminUrl: origin,
        metadata: { client_id: 'bss-2', scope: 'smd.read' },
        allowInsecureHttp: [origin],
        dispatcher: named,
      })
      expect(registered).toMatchObject({ clientId: 'bss-2', mode: 'hydra-admin', adminUrl: origin })
    } finally {
      await issuer.close()
    }
  })
})
