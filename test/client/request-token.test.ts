/**
 * requestToken (issue 15): one client-credentials token request with the service client's own
 * form building, client authentication, discovery and answer checks, against the test issuer.
 */
import { isTokenEndpointError, requestToken, type TokenRequestOptions } from '@svcauth/client'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

const SECRET = 'rt-s3cret/+='
let issuer: TestIssuer

beforeEach(async () => {
  issuer = await createTestIssuer({ keyCount: 1 })
  issuer.addClient({ clientId: 'bss', secrets: [SECRET], scope: ['smd.read'], audience: ['smd'] })
})
afterEach(async () => {
  await issuer.close()
})

describe('requestToken', () => {
  it('sends the grant with client_secret_basic, scope and audience, and returns the issued token', async () => {
    const endpoints: string[] = []
    const token = await requestToken({
      tokenEndpoint: issuer.tokenEndpoint,
      clientId: 'bss',
      clientSecret: SECRET,
      scope: ['smd.read'],
      audience: 'smd',
      onTokenEndpoint: (url) => endpoints.push(url),
    })
    expect(endpoints).toEqual([issuer.tokenEndpoint])
    expect(token.expiresIn).toBe(3599)
    expect(token.response).toMatchObject({ access_token: token.accessToken, token_type: 'bearer' })
    expect(decodeJwt(token.accessToken)).toMatchObject({ client_id: 'bss', aud: ['smd'] })
    const sent = issuer.tokenRequests.at(-1)
    expect(sent?.headers.authorization).toMatch(/^Basic /)
    expect(sent?.form).toEqual({
      grant_type: 'client_credentials',
      scope: 'smd.read',
      audience: 'smd',
    })
  })

  it('discovers the token endpoint from the issuer and tries the other secret of a rotation', async () => {
    issuer.addClient({ clientId: 'poster', secrets: [SECRET], authMethod: 'client_secret_post' })
    const endpoints: string[] = []
    const token = await requestToken({
      issuer: issuer.issuer,
      clientId: 'poster',
      clientSecret: ['old-secret', SECRET],
      authMethod: 'client_secret_post',
      onTokenEndpoint: (url) => endpoints.push(url),
    })
    expect(token.accessToken).toMatch(/^ey/)
    expect(endpoints).toEqual([issuer.tokenEndpoint])
    expect(issuer.tokenRequests.map((r) => r.form.client_secret)).toEqual(['old-secret', SECRET])
  })

  it('signs a private_key_jwt assertion for the token endpoint, with the JWK kid', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
    issuer.addClient({
      clientId: 'signer',
      authMethod: 'private_key_jwt',
      jwks: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }],
    })
    const jwk = { ...(await exportJWK(privateKey)), kid: 'k1', alg: 'ES256' }
    await requestToken({
      tokenEndpoint: issuer.tokenEndpoint,
      clientId: 'signer',
      authMethod: 'private_key_jwt',
      privateKey: jwk,
    })
    const assertion = issuer.tokenRequests.at(-1)?.form.client_assertion ?? ''
    expect(decodeProtectedHeader(assertion)).toMatchObject({ alg: 'ES256', kid: 'k1' })
    expect(decodeJwt(assertion)).toMatchObject({
      iss: 'signer',
      sub: 'signer',
      aud: issuer.tokenEndpoint,
    })
  })

  it('throws TokenEndpointError for a refusal, after the endpoint was known', async () => {
    const endpoints: string[] = []
    const err: unknown = await requestToken({
      tokenEndpoint: issuer.tokenEndpoint,
      clientId: 'bss',
      clientSecret: 'wrong',
      onTokenEndpoint: (url) => endpoints.push(url),
    }).catch((e: unknown) => e)
    expect(isTokenEndpointError(err)).toBe(true)
    expect(err).toMatchObject({ error: 'invalid_client', status: 401, retryable: false })
    expect(endpoints).toHaveLength(1)
  })

  it('L2: refuses a discovered token_endpoint the rule forbids, sending nothing and never calling onTokenEndpoint', async () => {
    issuer.setDiscoveryOverrides({ token_endpoint: 'http://169.254.169.254/token' })
    const endpoints: string[] = []
    const err: unknown = await requestToken({
      issuer: issuer.issuer,
      clientId: 'bss',
      clientSecret: SECRET,
      allowInsecureHttp: true,
      onTokenEndpoint: (url) => endpoints.push(url),
    }).catch((e: unknown) => e)
    expect(isTokenEndpointError(err)).toBe(true)
    expect(err).toMatchObject({
      error: 'invalid_response',
      status: undefined,
      description: expect.stringContaining(
        'token_endpoint points at a link-local address',
      ) as unknown,
    })
    expect(endpoints).toEqual([])
    expect(issuer.tokenRequests).toHaveLength(0)
  })

  it('throws a TypeError naming the mistake for bad options, before any request', async () => {
    const base: TokenRequestOptions = {
      tokenEndpoint: issuer.tokenEndpoint,
      clientId: 'bss',
      clientSecret: SECRET,
    }
    type Change = { [K in keyof TokenRequestOptions]?: TokenRequestOptions[K] | undefined }
    const cases: [Change, string][] = [
      [{ clientId: '' }, 'svcauth client: clientId is required'],
      [{ clientSecret: undefined }, 'svcauth client: client_secret_basic needs clientSecret'],
      [{ authMethod: 'private_key_jwt' }, 'svcauth client: private_key_jwt needs privateKey'],
      [{ tokenEndpoint: undefined }, 'svcauth client: give tokenEndpoint or issuer'],
      [{ tokenEndpoint: 'http://hydra.example/token' }, 'svcauth: tokenEndpoint must use https'],
      [{ tokenEndpoint: undefined, issuer: 'ftp://x/' }, 'svcauth: issuer must use https'],
      [{ timeout: 0 }, 'svcauth client: timeout must be a positive number'],
      [
        { scope: [1] as unknown as string[] },
        'svcauth client: scope must be a string or an array of strings',
      ],
    ]
    for (const [change, message] of cases) {
      const err: unknown = await requestToken({ ...base, ...change } as TokenRequestOptions).catch(
        (e: unknown) => e,
      )
      expect(err, message).toBeInstanceOf(TypeError)
      expect((err as Error).message, message).toContain(message)
    }
    expect(issuer.tokenRequests).toHaveLength(0)
  })
})
