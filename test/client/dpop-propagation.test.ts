/**
 * User tokens and DPoP (issue 18, item 2; RFC 9449 §6): a sender-constrained user token (its
 * claims carry `cnf`) is never forwarded, since it works only with its holder's key: a
 * `'forward'` target fails with UserTokenRefusedError (reason `sender_constrained`) and sees
 * nothing; an `'exchange'` target exchanges it (RFC 8693) with the service's own proof on the
 * exchange request, and gets the exchanged token bound to the service's key. A plain user token
 * is forwarded as before, as Bearer.
 */
import { isUserTokenRefusedError, type ServiceClient, type UserTokenMode } from '@svcauth/client'
import { createAuthenticator, type Principal } from '@svcauth/core'
import { createDpopKey } from '@svcauth/testing'
import { decodeJwt } from 'jose'
import pino from 'pino'
import { beforeEach, describe, expect, it } from 'vitest'
import { captureLogs, LEVEL, type LogCapture } from '../support/log-capture.js'
import { useDpopSetup } from './dpop-target.js'

const setup = useDpopSetup()
let logs: LogCapture

beforeEach(() => {
  logs = captureLogs()
})

function client(userToken: UserTokenMode): ServiceClient {
  return setup.client({
    targets: { [setup.target.origin]: { scope: 'smd.read', audience: 'smd', userToken } },
    dpop: true,
    logger: pino({}, logs.stream),
  })
}

/**
 * The Principal the inbound side builds for a user's token: verified by a real authenticator with
 * DPoP on (a bound token's Principal carries `confirmation`).
 */
async function principalOf(token: string): Promise<Principal> {
  const auth = createAuthenticator({
    issuer: setup.issuer.issuer,
    audience: ['bss', 'smd'],
    jwksUri: setup.issuer.jwksUri,
    dpop: true,
  })
  try {
    return await auth.verify(token)
  } finally {
    auth.close()
  }
}

async function userToken(bound: boolean): Promise<string> {
  const key = bound ? await createDpopKey() : undefined
  return setup.issuer.mintUserToken({
    sub: 'alice',
    clientId: 'ochami-cli',
    scope: ['smd.read'],
    audience: ['bss', 'smd'],
    ...(key === undefined ? {} : { dpop: key }),
  })
}

describe('DPoP: user tokens', () => {
  it('P16: refuses to forward a sender-constrained user token: typed error, reason, a warning, nothing sent', async () => {
    const svc = client('forward')
    const token = await userToken(true)
    const caller = svc.forPrincipal(await principalOf(token))
    for (const call of [
      () => caller.fetch(`${setup.target.origin}/hsm/v2/State/Components`),
      () => caller.request(`${setup.target.origin}/hsm/v2/State/Components`),
    ]) {
      const err: unknown = await call().then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(isUserTokenRefusedError(err)).toBe(true)
      expect(err).toMatchObject({
        code: 'ERR_USER_TOKEN_REFUSED',
        reason: 'sender_constrained',
        origin: setup.target.origin,
        status: 403,
      })
      expect((err as Error).message).toContain('sender-constrained')
      expect((err as Error).message).toContain("userToken: 'exchange'")
      expect(`${String(err)} ${JSON.stringify(err)}`).not.toContain(token)
    }
    expect(setup.target.seen).toHaveLength(0)
    expect(setup.issuer.tokenRequests).toHaveLength(0)
    const refused = logs.lines.filter((l) => l.event === 'user_token_refused')
    expect(refused).toHaveLength(2)
    expect(refused[0]).toMatchObject({
      level: LEVEL.warn,
      reason: 'sender_constrained',
      target: setup.target.origin,
      sub: 'alice',
    })
    expect(logs.raw.join('')).not.toContain(token)
  })

  it('forwards a plain user token as before, as Bearer without a proof', async () => {
    const svc = client('forward')
    const token = await userToken(false)
    await (
      await svc.forPrincipal(await principalOf(token)).fetch(`${setup.target.origin}/a`)
    ).text()
    expect(setup.target.seen[0]).toMatchObject({
      authorization: `Bearer ${token}`,
      proofs: [],
      status: 200,
    })
  })

  it("exchanges a sender-constrained user token at an 'exchange' target, with the service's proof; the result is bound to the service's key", async () => {
    const svc = client('exchange')
    const token = await userToken(true)
    const res = await svc
      .forPrincipal(await principalOf(token))
      .fetch(`${setup.target.origin}/whoami`)
    expect(res.status).toBe(200)
    await res.text()

    const exchange = setup.issuer.tokenRequests[0]!
    expect(exchange.form.grant_type).toBe('urn:ietf:params:oauth:grant-type:token-exchange')
    expect(exchange.form.subject_token).toBe(token)
    expect(decodeJwt(String(exchange.headers.dpop))).toMatchObject({
      htm: 'POST',
      htu: setup.issuer.tokenEndpoint,
    })

    const sent = setup.target.seen[0]!
    expect(sent.status, sent.refusal).toBe(200)
    expect(sent.authorization).toMatch(/^DPoP /)
    const exchanged = decodeJwt(sent.authorization!.slice('DPoP '.length))
    expect(exchanged).toMatchObject({ sub: 'alice', act: { sub: 'bss' } })
    // Bound to the service's key, not the user's.
    expect((exchanged.cnf as { jkt: string }).jkt).not.toBe(
      (decodeJwt(token).cnf as { jkt: string }).jkt,
    )
  })
})
