/**
 * Catalogue K4: restricting user-token passthrough. During a request authenticated with a user
 * token, only a configured target whose audience is in the token's `aud` receives that token; any
 * other origin, the token endpoint itself, and a target the token was not issued for get nothing.
 */
import { createServiceClient, isUserTokenRefusedError, type ServiceClient } from '@svcauth/client'
import { createAuthenticator, runWithPrincipal, type Principal } from '@svcauth/core'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDownstream, type Downstream } from '../client/downstream.js'

let issuer: TestIssuer
let smd: Downstream
let other: Downstream
let billing: Downstream
let svc: ServiceClient
let alice: Principal
let userToken: string

beforeAll(async () => {
  issuer = await createTestIssuer({ keyCount: 1 })
  issuer.addClient({ clientId: 'bss', secrets: ['s3cret'] })
  ;[smd, other, billing] = await Promise.all([
    startDownstream(),
    startDownstream('127.0.0.2'),
    startDownstream(),
  ])
  svc = createServiceClient({
    tokenEndpoint: issuer.tokenEndpoint,
    clientId: 'bss',
    clientSecret: 's3cret',
    targets: {
      [smd.origin]: { audience: 'smd', userToken: 'forward' },
      [billing.origin]: { audience: 'billing', userToken: 'forward' },
    },
  })
  userToken = await issuer.mintUserToken({
    sub: 'alice',
    clientId: 'ochami-cli',
    scope: ['smd.read'],
    audience: ['bss', 'smd'],
  })
  const auth = createAuthenticator({
    issuer: issuer.issuer,
    audience: 'bss',
    jwksUri: issuer.jwksUri,
  })
  alice = await auth.verify(userToken)
  auth.close()
})
afterAll(async () => {
  await svc.close()
  await Promise.all([smd.close(), other.close(), billing.close(), issuer.close()])
})

const asAlice = <T>(fn: () => Promise<T>): Promise<T> => runWithPrincipal(alice, fn)

describe('K4: user-token passthrough', () => {
  it('(a) a configured target in the token’s aud gets the user token', async () => {
    await asAlice(async () => (await svc.fetch(`${smd.origin}/x`)).text())
    expect(smd.seen.at(-1)?.authorization).toBe(`Bearer ${userToken}`)
  })

  it('(b) another origin and (c) the token endpoint get nothing', async () => {
    await asAlice(async () => (await svc.fetch(`${other.origin}/x`)).text())
    expect(other.seen.at(-1)?.authorization).toBeUndefined()
    const before = issuer.tokenRequests.length
    await asAlice(async () =>
      (await svc.fetch(issuer.tokenEndpoint, { method: 'POST', body: 'grant_type=x' })).text(),
    )
    const sent = issuer.tokenRequests.slice(before)
    expect(sent).toHaveLength(1)
    expect(sent[0]?.headers.authorization).toBeUndefined()
  })

  it('(d) a query string is passed as given: the token never goes into a URL', async () => {
    await asAlice(async () => (await svc.fetch(`${smd.origin}/x?access_token=planted`)).text())
    expect(smd.seen.at(-1)?.path).toBe('/x?access_token=planted')
    expect(smd.seen.every((s) => !s.path.includes(userToken))).toBe(true)
  })

  it('a forward target whose audience is not in the token’s aud is refused, not sent', async () => {
    const err: unknown = await asAlice(() => svc.fetch(`${billing.origin}/x`)).catch(
      (e: unknown) => e,
    )
    const cause = err instanceof TypeError ? err.cause : err
    expect(isUserTokenRefusedError(cause)).toBe(true)
    expect(cause).toMatchObject({ code: 'ERR_USER_TOKEN_REFUSED', origin: billing.origin })
    expect(billing.seen).toHaveLength(0)
  })
})
