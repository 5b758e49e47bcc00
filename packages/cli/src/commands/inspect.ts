/**
 * `svcauth inspect`: decode a token and, given the issuer (or a key set), verify it with the same
 * authenticator a service runs (@svcauth/core), so the result is the principal a service would
 * build or the reason, status and code (RFC 6750 §3.1) it would refuse the token with.
 */
import {
  auditRecord,
  createAuthenticator,
  isAuthError,
  requireScopes,
  type Principal,
} from '@svcauth/core'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { firstLine, readStdin, type CliIo } from '../io.js'
import { emit, EXIT } from '../output.js'
import { list, parse, UsageError, type Command } from '../parser.js'

const HELP = `usage: svcauth inspect [TOKEN | - | --token-file F] [--issuer I] [--audience A] [--jwks-uri U]

  TOKEN is taken from the argument, stdin (-), --token-file, or SVCAUTH_TOKEN.
  Without --issuer or --jwks-uri the token is only decoded, not verified.
  --issuer I       the issuer to verify against (keys from its discovery document)
  --jwks-uri U     the key set to verify against (the issuer is then the token's own iss)
  --audience A     the audience this service expects (without it, any audience passes)
  --scope S        scopes a route would require (space-separated or repeated)
  --json           print the result as JSON
`

/** What each rejection reason means for an operator. */
const REASON_HINTS: Readonly<Partial<Record<string, string>>> = {
  expired: 'the token is past its exp (with the clock tolerance): get a new one',
  not_yet_valid: 'nbf is in the future: a clock is wrong, here or at the issuer',
  iat_invalid: 'iat is in the future: a clock is wrong, here or at the issuer',
  aud_invalid:
    'the token is not for this audience: request it with this service audience (Hydra: audience=..., and the client audience allow-list)',
  iss_invalid: 'the token comes from another issuer than the one this service trusts',
  signature_invalid: 'the signature does not match the issuer keys: a forged or altered token',
  key_not_found:
    'the token kid is not in the issuer key set (a key from elsewhere, or a removed key)',
  alg_not_allowed: 'the token algorithm is not allowed (none, HS*, or outside the allow-list)',
  malformed_jws: 'not a well-formed JWT',
  typ_invalid: 'the token typ header is not an access-token type (an ID token?)',
  lifetime_too_long: 'exp is too far after iat',
  claim_missing: 'a required claim is missing',
  claim_type_invalid: 'a claim has the wrong type',
  sender_constrained: 'a sender-constrained (cnf) token presented as a plain bearer token',
  insufficient_scope:
    'the token lacks a scope the route requires (the client may not be allowed it)',
  jwks_unavailable: 'the issuer keys could not be fetched',
  crit_unsupported: 'the token has critical header parameters svcauth does not process',
}

async function run(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parse(
    HELP,
    io,
    args,
    {
      issuer: { type: 'string' },
      audience: { type: 'string', multiple: true },
      'jwks-uri': { type: 'string' },
      scope: { type: 'string', multiple: true },
      'token-file': { type: 'string' },
    },
    true,
  )
  if (parsed === undefined) return EXIT.ok
  const { values, positionals } = parsed
  const json = values.json === true
  const token = await tokenFrom(positionals, values['token-file'], io)
  let header: Record<string, unknown>
  let claims: Record<string, unknown>
  try {
    header = decodeProtectedHeader(token)
    claims = decodeJwt(token)
  } catch {
    const result = {
      verified: false,
      format: 'opaque',
      note: 'not a JWT: only the issuer can say what it means (introspection)',
    }
    emit(
      io,
      json,
      result,
      `not a JWT (an opaque token?): only introspection at the issuer can tell what it means\n`,
    )
    return EXIT.refused
  }
  const now = Math.floor(Date.now() / 1000)
  const exp = typeof claims.exp === 'number' ? claims.exp : undefined
  const timing =
    exp === undefined
      ? 'no exp'
      : exp <= now
        ? `expired ${human(now - exp)} ago`
        : `expires in ${human(exp - now)}`
  const issuer = values.issuer
  const jwksUri = values['jwks-uri']
  if (issuer === undefined && jwksUri === undefined) {
    const result = { verified: false, header, claims, expiry: timing }
    emit(
      io,
      json,
      result,
      `header: ${JSON.stringify(header)}\nclaims: ${JSON.stringify(claims, null, 2)}\n${timing}\n` +
        'NOT VERIFIED: give --issuer (or --jwks-uri) and --audience to check it as a service would\n',
    )
    return EXIT.ok
  }
  const allowHttp = values['allow-insecure-http'] === true
  const audience = values.audience ?? []
  const iss = issuer ?? (typeof claims.iss === 'string' ? claims.iss : undefined)
  if (iss === undefined) throw new UsageError('the token has no iss: give --issuer')
  const silent = { info() {}, warn() {}, error() {} }
  const auth = createAuthenticator({
    issuer: iss,
    audience: audience.length === 0 ? false : audience,
    ...(jwksUri === undefined ? {} : { jwksUri }),
    allowInsecureHttp: allowHttp,
    logger: silent,
  })
  try {
    const principal = await auth.verify(token)
    const required = list(values.scope)
    if (required.length > 0) requireScopes(...required)(principal)
    const result = {
      verified: true,
      result: 'accepted',
      status: 200,
      principal: describe(principal),
      expiry: timing,
      audienceChecked: audience.length > 0,
    }
    emit(
      io,
      json,
      result,
      `accepted (a service would answer 200)\n${principalText(principal)}  ${timing}\n` +
        (audience.length === 0
          ? 'note: no --audience given, so the audience was not checked\n'
          : ''),
    )
    return EXIT.ok
  } catch (err) {
    if (!isAuthError(err)) throw err
    const e = err
    const hint = REASON_HINTS[e.reason] ?? ''
    const result = {
      verified: true,
      result: 'rejected',
      status: e.status,
      error: e.code,
      reason: e.reason,
      hint,
      claims,
      expiry: timing,
    }
    emit(
      io,
      json,
      result,
      `rejected: ${e.reason} (a service would answer ${String(e.status)} ${e.code})\n` +
        (hint === '' ? '' : `  meaning: ${hint}\n`) +
        `  ${timing}\n`,
    )
    return e.reason === 'jwks_unavailable' ? EXIT.unreachable : EXIT.refused
  } finally {
    auth.close()
  }
}

function describe(p: Principal): Record<string, unknown> {
  return {
    ...auditRecord(p),
    scopes: [...p.scopes],
    issuer: p.issuer,
    audience: p.audience,
    expires_at: p.expiresAt.toISOString(),
  }
}

function principalText(p: Principal): string {
  const r = auditRecord(p) as unknown as Record<string, unknown>
  const lines = [
    `  actor_type: ${String(r.actor_type)}`,
    `  actor_id:   ${String(r.actor_id)}`,
    `  sub:        ${String(r.sub)}`,
    `  client_id:  ${String(r.client_id)}`,
    `  scopes:     ${[...p.scopes].join(' ')}`,
    `  issuer:     ${p.issuer}`,
    `  audience:   ${p.audience.join(' ')}`,
    ...(r.act === undefined ? [] : [`  act:        ${JSON.stringify(r.act)}`]),
    `  expires_at: ${p.expiresAt.toISOString()}`,
  ]
  return `${lines.join('\n')}\n`
}

function human(seconds: number): string {
  if (seconds < 120) return `${String(seconds)} s`
  if (seconds < 7200) return `${String(Math.round(seconds / 60))} min`
  return `${String(Math.round(seconds / 3600))} h`
}

async function tokenFrom(
  positionals: readonly string[],
  file: string | undefined,
  io: CliIo,
): Promise<string> {
  let token: string | undefined
  if (file !== undefined) token = await firstLine(file)
  else if (positionals[0] === '-') token = (await (io.stdin ?? readStdin)()).trim()
  else if (positionals[0] !== undefined) token = positionals[0]
  else token = io.env.SVCAUTH_TOKEN
  if (token === undefined || token === '')
    throw new UsageError('no token: give TOKEN, -, --token-file or SVCAUTH_TOKEN')
  return token.replace(/^bearer\s+/i, '')
}

export const inspectCommand: Command = { help: HELP, run }
