/**
 * DPoP at the token endpoint (issue 18, item 2; RFC 9449 §5, §8) against the test issuer, which
 * checks proofs with jose alone: every token request carries a fresh proof for the endpoint
 * (htm POST, htu the endpoint), the server's `use_dpop_nonce` gets exactly one retry with its
 * nonce (a new proof, and a new client assertion with `private_key_jwt`), the nonce is kept for
 * later requests, and a server that keeps refusing ends in a typed TokenEndpointError with the
 * call not sent. Nonce retries are counted on `svcauth:outbound:retry`.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { generateKeyPairSync } from 'node:crypto'
import {
  isTokenEndpointError,
  type ServiceClient,
  type ServiceClientOptions,
} from '@svcauth/client'
import { CHANNELS, type RetryEvent } from '@svcauth/core'
import { decodeJwt, exportJWK } from 'jose'
import { describe, expect, it } from 'vitest'
import { useDpopSetup } from './dpop-target.js'

const setup = useDpopSetup()

function client(extra: Partial<ServiceClientOptions> = {}): ServiceClient {
  return setup.client({
    targets: {
      [setup.target.origin]: { scope: 'smd.read', audience: 'smd' },
      'http://127.0.0.1:1': { scope: 'smd.write', audience: 'smd' },
    },
    retry: { minDelay: 50, maxDelay: 200 },
    dpop: true,
    ...extra,
  })
}

const proofs = (): Record<string, unknown>[] =>
  setup.issuer.tokenRequests.map((r) => decodeJwt(String(r.headers.dpop)))

/** The retry events published while `fn` runs. */
async function retries(fn: () => Promise<void>): Promise<RetryEvent[]> {
  const events: RetryEvent[] = []
  const listener = (message: unknown): void => {
    events.push(message as RetryEvent)
  }
  subscribe(CHANNELS.outboundRetry, listener)
  try {
    await fn()
  } finally {
    unsubscribe(CHANNELS.outboundRetry, listener)
  }
  return events
}

describe('DPoP: token requests', () => {
  it("answers the server's use_dpop_nonce with exactly one retry carrying its nonce; later requests carry it at once", async () => {
    setup.issuer.setDpopNonce('as-nonce-1')
    const svc = client()
    const events = await retries(async () => {
      const res = await svc.fetch(`${setup.target.origin}/x`)
      expect(res.status).toBe(200)
      await res.text()
    })
    expect(events).toEqual([{ clientId: 'bss', reason: 'use_dpop_nonce' }])
    expect(setup.issuer.tokenRequests).toHaveLength(2)
    const [first, second] = proofs()
    expect(first).toMatchObject({ htm: 'POST', htu: setup.issuer.tokenEndpoint })
    expect(first?.nonce).toBeUndefined()
    expect(second).toMatchObject({
      htm: 'POST',
      htu: setup.issuer.tokenEndpoint,
      nonce: 'as-nonce-1',
    })
    expect(first?.jti).not.toBe(second?.jti)
    expect(setup.target.seen[0]?.status).toBe(200)

    // Another target needs another token: its request carries the nonce from the start.
    await svc.getToken('http://127.0.0.1:1')
    expect(setup.issuer.tokenRequests).toHaveLength(3)
    expect(proofs()[2]?.nonce).toBe('as-nonce-1')
  })

  it('P17: an authorization server that keeps refusing gets one retry, then the call fails with a typed error and is not sent', async () => {
    setup.issuer.setTokenMode({
      status: 400,
      body: '{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof"}',
      headers: { 'dpop-nonce': 'as-2' },
    })
    const svc = client()
    const err: unknown = await svc.fetch(`${setup.target.origin}/x`).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isTokenEndpointError(err)).toBe(true)
    expect(err).toMatchObject({ error: 'use_dpop_nonce', status: 400, retryable: true })
    expect(setup.issuer.tokenRequests).toHaveLength(2)
    expect(proofs().map((p) => p.nonce)).toEqual([undefined, 'as-2'])
    expect(setup.target.seen).toHaveLength(0)

    // Later, with the nonce it was given: refused again with the same nonce, so no retry.
    await new Promise((resolve) => setTimeout(resolve, 250))
    await expect(svc.getToken(setup.target.origin)).rejects.toMatchObject({
      error: 'use_dpop_nonce',
    })
    expect(setup.issuer.tokenRequests).toHaveLength(3)
    expect(proofs()[2]?.nonce).toBe('as-2')
  })

  it('a use_dpop_nonce without a DPoP-Nonce header is not retried', async () => {
    setup.issuer.setTokenMode({ status: 400, body: '{"error":"use_dpop_nonce"}' })
    const svc = client()
    await expect(svc.getToken(setup.target.origin)).rejects.toMatchObject({
      error: 'use_dpop_nonce',
    })
    expect(setup.issuer.tokenRequests).toHaveLength(1)
  })

  it('an invalid_dpop_proof refusal is a typed error, not retried at once', async () => {
    setup.issuer.setTokenMode({
      status: 400,
      body: '{"error":"invalid_dpop_proof"}',
      headers: { 'dpop-nonce': 'x' },
    })
    const svc = client()
    await expect(svc.getToken(setup.target.origin)).rejects.toMatchObject({
      code: 'ERR_TOKEN_ENDPOINT',
      error: 'invalid_dpop_proof',
      status: 400,
    })
    expect(setup.issuer.tokenRequests).toHaveLength(1)
  })

  it('with private_key_jwt, the nonce retry sends a new client assertion as well as a new proof', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    setup.issuer.addClient({
      clientId: 'pk',
      authMethod: 'private_key_jwt',
      jwks: [{ ...(await exportJWK(publicKey)), alg: 'ES256', kid: 'k1' }],
    })
    setup.issuer.setDpopNonce('as-3')
    const svc = client({
      clientId: 'pk',
      authMethod: 'private_key_jwt',
      privateKey,
      privateKeyAlg: 'ES256',
      privateKeyId: 'k1',
    })
    await (await svc.fetch(`${setup.target.origin}/x`)).text()
    expect(setup.target.seen[0]?.status).toBe(200)
    const assertions = setup.issuer.tokenRequests.map(
      (r) => decodeJwt(r.form.client_assertion!).jti,
    )
    expect(assertions).toHaveLength(2)
    expect(assertions[0]).not.toBe(assertions[1])
  })

  it('with a secret rotation, each secret tried gets its own proof', async () => {
    setup.issuer.setDpopNonce('as-4')
    const svc = client({ clientSecret: ['old', 's3cret'] })
    await (await svc.fetch(`${setup.target.origin}/x`)).text()
    expect(setup.target.seen[0]?.status).toBe(200)
    const jtis = proofs().map((p) => p.jti)
    expect(new Set(jtis).size).toBe(jtis.length)
    expect(proofs().at(-1)?.nonce).toBe('as-4')
  })
})
