/**
 * The offline-keys rows of the conformance table (issue 20, item 1): the main issuer's keys given
 * to /static as PEM (no kid: any token kid matches, and its two keys are tried in turn) and to
 * /keys-file as a JWKS file (jose's exact kid rules), with no JWKS endpoint involved. Every
 * framework must answer alike, and neither authenticator may make any request.
 */
import type { Expectation, Kit, Scenario } from './scenarios.js'

const REALM = 'Bearer realm="smd"'

function invalid(reason: string): Expectation {
  const description = 'The access token is invalid'
  return {
    status: 401,
    challenge: `${REALM}, error="invalid_token", error_description="${description}"`,
    body: { error: 'invalid_token', error_description: description },
    reason,
  }
}

const ok = (body: unknown): Expectation => ({ status: 200, challenge: null, body, reason: null })

const bss = {
  actorType: 'client',
  actorId: 'bss',
  sub: 'bss',
  clientId: 'bss',
  scopes: ['smd.read'],
}

const bearer = async (t: Promise<string>): Promise<string> => `Bearer ${await t}`
const token = (k: Kit, header?: Record<string, unknown>) =>
  bearer(
    k.main.mintClientToken({
      clientId: 'bss',
      scope: ['smd.read'],
      audience: ['smd'],
      ...(header === undefined ? {} : { header }),
    }),
  )
const forged = (k: Kit) =>
  bearer(k.main.forgeClientToken({ clientId: 'bss', scope: ['smd.read'], audience: ['smd'] }))

export const keysScenarios: readonly Scenario[] = [
  {
    name: 'offline PEM keys: a valid token is accepted',
    path: '/static/read',
    authorization: (k) => token(k),
    expect: ok(bss),
  },
  {
    name: 'offline PEM keys: a token whose kid the PEM does not name is accepted',
    path: '/static/read',
    authorization: (k) => token(k, { kid: 'not-named-by-any-pem' }),
    expect: ok(bss),
  },
  {
    name: 'offline PEM keys: a token signed by another key is refused (signature_invalid)',
    path: '/static/read',
    authorization: forged,
    expect: invalid('signature_invalid'),
  },
  {
    name: 'key file: a valid token is accepted',
    path: '/keys-file/read',
    authorization: (k) => token(k),
    expect: ok(bss),
  },
  {
    name: 'key file: a token signed by another key under a published kid is refused',
    path: '/keys-file/read',
    authorization: forged,
    expect: invalid('signature_invalid'),
  },
  {
    name: 'key file: a JWKS keeps exact kid rules, an unpublished kid is key_not_found',
    path: '/keys-file/read',
    authorization: (k) => token(k, { kid: 'not-in-the-file' }),
    expect: invalid('key_not_found'),
  },
  {
    name: 'offline keys: no JWKS or discovery request was made by either route',
    path: '/offline/key-requests',
    expect: ok({ static: 0, keysFile: 0 }),
  },
]
