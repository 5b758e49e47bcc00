/**
 * The node:crypto verification path (issue 17) beyond what the differential test compares with
 * jose: once an issuer's keys are installed a fresh token is verified without yielding to the
 * event loop; the per-issuer memo of verified headers is tied to the key set it was filled from
 * (a rotated kid never keeps verifying with the old key); a published key that cannot be
 * imported refuses its own tokens only.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAuthenticator, isAuthError, type Authenticator } from '@svcauth/core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

const ISSUER = 'https://as.jws.example/'
const SILENT = { warn: () => undefined, error: () => undefined }

type Pair = { privateKey: KeyObject; publicKey: KeyObject }
const ecPair = (): Pair => generateKeyPairSync('ec', { namedCurve: 'P-256' })
const jwkOf = (pair: Pair, extra: Record<string, unknown>): Record<string, unknown> => ({
  ...(pair.publicKey.export({ format: 'jwk' }) as Record<string, unknown>),
  ...extra,
})
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

let server: Server
let jwksUri: string
let keys: Record<string, unknown>[] = []
let jwksHits = 0
const authenticators: Authenticator[] = []

beforeAll(async () => {
  server = createServer((_req, res) => {
    jwksHits++
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ keys }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`
})

afterEach(() => {
  for (const auth of authenticators.splice(0)) auth.close()
})

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
})

async function authenticator(): Promise<Authenticator> {
  const auth = createAuthenticator({
    issuer: ISSUER,
    audience: 'smd',
    jwksUri,
    cache: false,
    logger: SILENT,
    // Every unknown kid may refetch at once: the rotation below is picked up immediately.
    jwks: { cooldown: 0 },
  })
  authenticators.push(auth)
  expect(await auth.ready()).toBe(true)
  return auth
}

let serial = 0
/** An ES256 token for `kid`, signed by `pair`; the header is the same for every token of a kid. */
function token(pair: Pair, kid: string): string {
  const now = Math.floor(Date.now() / 1000)
  const input = `${b64({ alg: 'ES256', kid, typ: 'JWT' })}.${b64({
    iss: ISSUER,
    aud: 'smd',
    sub: 'svc',
    client_id: 'svc',
    iat: now,
    exp: now + 300,
    jti: `t${serial++}`,
  })}`
  const signature = sign('sha256', Buffer.from(input), {
    key: pair.privateKey,
    dsaEncoding: 'ieee-p1363',
  })
  return `${input}.${signature.toString('base64url')}`
}

async function reasonOf(auth: Authenticator, t: string): Promise<string> {
  try {
    await auth.verify(t)
    return 'accepted'
  } catch (err) {
    if (!isAuthError(err)) throw err
    return err.reason
  }
}

describe('fresh tokens on node:crypto (issue 17)', () => {
  it('verifies a fresh token without yielding to the event loop once keys are installed', async () => {
    const pair = ecPair()
    keys = [jwkOf(pair, { kid: 'k1', alg: 'ES256', use: 'sig' })]
    const auth = await authenticator()
    for (const kid of ['k1', 'k1']) {
      // WebCrypto verification settles on a later turn of the event loop; this path must not.
      let turned = false
      const immediate = setImmediate(() => {
        turned = true
      })
      const principal = await auth.verify(token(pair, kid))
      clearImmediate(immediate)
      expect(principal.sub).toBe('svc')
      expect(turned).toBe(false)
    }
  })

  it('binds a remembered header to the key set it was verified with: after its kid is rotated to a new key, the old key no longer verifies under that header', async () => {
    const before = ecPair()
    const after = ecPair()
    keys = [jwkOf(before, { kid: 'rotating', alg: 'ES256' })]
    const auth = await authenticator()
    const first = token(before, 'rotating')
    expect(await reasonOf(auth, first)).toBe('accepted')

    keys = [jwkOf(after, { kid: 'rotating', alg: 'ES256' })]
    const hits = jwksHits
    // An unknown kid makes the key source refetch (cooldown 0): the new set is installed.
    expect(await reasonOf(auth, token(after, 'unknown-kid'))).toBe('key_not_found')
    expect(jwksHits).toBe(hits + 1)

    const stale = token(before, 'rotating')
    const fresh = token(after, 'rotating')
    // The same header segment as the token verified before the rotation.
    expect(stale.split('.')[0]).toBe(first.split('.')[0])
    expect(fresh.split('.')[0]).toBe(first.split('.')[0])
    expect(await reasonOf(auth, stale)).toBe('signature_invalid')
    expect(await reasonOf(auth, fresh)).toBe('accepted')
  })

  it('refuses the tokens of a published key that cannot be imported as key_invalid, and still verifies with the other keys of the set', async () => {
    const good = ecPair()
    const bad = ecPair()
    keys = [
      jwkOf(good, { kid: 'good', alg: 'ES256' }),
      // WebCrypto refuses a public key whose key_ops allow signing; jose fails its tokens too.
      jwkOf(bad, { kid: 'bad', alg: 'ES256', key_ops: ['verify', 'sign'] }),
    ]
    const auth = await authenticator()
    expect(await reasonOf(auth, token(bad, 'bad'))).toBe('key_invalid')
    expect(await reasonOf(auth, token(good, 'good'))).toBe('accepted')
  })
})
