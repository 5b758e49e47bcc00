/**
 * The security catalogue (shared/security-catalogue.md, cases A1–L5) mapped to the tests that
 * run each case. `catalogue.test.ts` checks that every id is here and that every named test
 * exists, so a renamed or deleted case test fails CI. Inbound cases name a scenario of the
 * conformance table where one exists: those run against Express 5, Express 4, Koa 3 and Koa 2.
 */

export interface CaseTest {
  /** Path from the repository root. */
  readonly file: string
  /** The test (or describe) title, which names the case id. */
  readonly title: string
}

export const CATALOGUE: Readonly<Record<string, readonly CaseTest[]>> = {
  A1: [
    {
      file: 'test/core/bearer.test.ts',
      title: 'A1: returns undefined with no Authorization header',
    },
    { file: 'test/conformance/scenarios.ts', title: 'A1: no token: 401 with a bare challenge' },
  ],
  A2: [
    {
      file: 'test/core/bearer.test.ts',
      title: 'A2: treats other schemes as no bearer credentials',
    },
    {
      file: 'test/conformance/scenarios.ts',
      title: 'A2: Basic credentials are not bearer credentials',
    },
  ],
  A3: [
    { file: 'test/core/bearer.test.ts', title: 'A3: matches the scheme case-insensitively' },
    { file: 'test/conformance/scenarios.ts', title: 'A3: a lowercase scheme is accepted' },
  ],
  A4: [
    {
      file: 'test/core/bearer.test.ts',
      title: 'A4: refuses malformed bearer credentials with 400 invalid_request',
    },
    { file: 'test/conformance/scenarios.ts', title: 'A4: the scheme alone is malformed' },
  ],
  A5: [
    {
      file: 'test/core/bearer.test.ts',
      title: 'A5: accepts several spaces after the scheme (the grammar says 1*SP)',
    },
    {
      file: 'test/conformance/scenarios.ts',
      title: 'A5: several spaces after the scheme are accepted',
    },
  ],
  A6: [
    {
      file: 'test/core/bearer.test.ts',
      title: 'A6: ignores a query token alone, refuses it beside a header token',
    },
    {
      file: 'test/conformance/scenarios.ts',
      title: 'A6: a header token beside an access_token query parameter is refused',
    },
  ],
  A7: [
    {
      file: 'test/core/bearer.test.ts',
      title: 'A7: ignores a parsed body token alone, refuses it beside a header token',
    },
  ],
  A8: [
    {
      file: 'test/core/bearer.test.ts',
      title: 'A8: refuses two Authorization headers, detected from rawHeaders',
    },
    {
      file: 'test/conformance/scenarios.ts',
      title: 'A8: two Authorization headers are refused even when both are valid',
    },
  ],
  A9: [
    {
      file: 'test/core/bearer.test.ts',
      title: 'A9: refuses a token over maxTokenBytes with 401 before decoding it',
    },
    {
      file: 'test/conformance/scenarios.ts',
      title: 'A9: a token over 8 KiB is refused before decoding',
    },
  ],
  A10: [
    { file: 'test/core/bearer.test.ts', title: 'A10: never reads cookies' },
    { file: 'test/conformance/scenarios.ts', title: 'A10: a cookie token is not read' },
  ],
  A11: [
    {
      file: 'test/security/routing.test.ts',
      title:
        'A11: a CORS preflight is answered by CORS (204) without the handler; GET without a token is 401',
    },
  ],
  A12: [
    {
      file: 'test/security/routing.test.ts',
      title: 'A12: HEAD on a guarded GET route gets the same 401 and 403 as GET',
    },
    {
      file: 'test/conformance/scenarios.ts',
      title: 'A12: HEAD on a guarded GET route without a token',
    },
  ],
  B1: [
    {
      file: 'test/security/jws-keys.test.ts',
      title: 'B1: refuses the wrong number of segments without fetching keys',
    },
    { file: 'test/conformance/scenarios.ts', title: 'B1: two segments' },
  ],
  B2: [
    {
      file: 'test/security/jws-keys.test.ts',
      title:
        'B2: refuses a JWE (five segments, PBES2 with a huge p2c) at once; there is no decrypt path',
    },
    {
      file: 'test/security/jws-keys.test.ts',
      title: 'B2: no package source imports a JWE decryption API',
    },
    { file: 'test/conformance/scenarios.ts', title: 'B2: a five-segment JWE' },
  ],
  B3: [
    {
      file: 'test/security/jws-keys.test.ts',
      title: 'B3: a broken protected header is malformed, never a SyntaxError',
    },
  ],
  B4: [
    {
      file: 'test/security/jws-keys.test.ts',
      title: 'B4: a validly signed payload that is not a JSON object is malformed',
    },
    { file: 'test/conformance/scenarios.ts', title: 'B4: a signed payload that is not JSON' },
  ],
  B5: [
    {
      file: 'test/security/jws-keys.test.ts',
      title: 'B5: invalid UTF-8 in the claims set is refused',
    },
  ],
  B6: [
    {
      file: 'test/security/jws-keys.test.ts',
      title: 'B6: a deeply nested header is stopped by the size cap before parsing',
    },
  ],
  B7: [
    {
      file: 'test/security/jws-keys.test.ts',
      title: 'B7: duplicate claim names resolve to the last one, everywhere',
    },
    {
      file: 'test/conformance/scenarios.ts',
      title: 'B7: duplicate claim names: the last one counts',
    },
  ],
  B8: [
    {
      file: 'test/security/jws-keys.test.ts',
      title: 'B8: a malleated ES256 signature is a different token; revocation keys on iss and jti',
    },
  ],
  B9: [
    {
      file: 'test/security/jws-keys.test.ts',
      title: 'B9: an unencoded payload (b64: false) is refused',
    },
  ],
  B10: [
    {
      file: 'test/security/jws-keys.test.ts',
      title: 'B10: a __proto__ claim grants nothing and pollutes nothing',
    },
    { file: 'test/conformance/scenarios.ts', title: 'B10: a __proto__ claim grants no scope' },
  ],
  C1: [
    {
      file: 'test/security/jws-keys.test.ts',
      title: 'C1: alg none in every casing is refused without fetching keys',
    },
    { file: 'test/conformance/scenarios.ts', title: 'C1: alg none' },
  ],
  C2: [{ file: 'test/security/jws-keys.test.ts', title: 'C2: a missing or empty alg is refused' }],
  C3: [
    {
      file: 'test/security/jws-keys.test.ts',
      title: 'C3: HS256 signed with the public key, in every encoding, is refused',
    },
    {
      file: 'test/conformance/scenarios.ts',
      title: 'C3: HS256 signed with the public key (key confusion)',
    },
  ],
  C4: [
    {
      file: 'test/security/jws-keys.test.ts',
      title: 'C4: an algorithm outside the allow-list is refused, whatever the key type',
    },
  ],
  C5: [
    {
      file: 'test/security/jws-keys.test.ts',
      title: 'C5: an ES256 header naming an RSA kid finds no key',
    },
  ],
  C6: [
    {
      file: 'test/security/jws-keys.test.ts',
      title: 'C6: psychic ECDSA signatures (r = s = 0) are refused',
    },
  ],
  C7: [
    {
      file: 'test/security/jws-keys.test.ts',
      title: 'C7: a DER-encoded ECDSA signature is refused; only raw r||s verifies',
    },
  ],
  C8: [
    {
      file: 'test/security/jws-keys.test.ts',
      title: 'C8: null, stripped, truncated and tampered signatures are refused',
    },
    {
      file: 'test/conformance/scenarios.ts',
      title: 'C8: a forged signature (attacker key, real kid)',
    },
  ],
  C9: [
    {
      file: 'test/security/jws-keys.test.ts',
      title:
        'C9: not applicable: there is no shared-secret mode (HS* is a start-up error, see options tests)',
    },
  ],
  C10: [
    {
      file: 'test/security/jws-keys.test.ts',
      title: 'C10: a 1024-bit RSA key in the JWKS is refused with 401, not a 500',
    },
  ],
  D1: [
    { file: 'test/security/jws-keys.test.ts', title: 'D1: an embedded jwk header is never used' },
  ],
  D2: [
    {
      file: 'test/security/jws-keys.test.ts',
      title: 'D2/D3: jku, x5u and x5c are never followed or trusted',
    },
    {
      file: 'test/conformance/scenarios.ts',
      title: 'D2: a jku header pointing elsewhere is never followed',
    },
  ],
  D3: [
    {
      file: 'test/security/jws-keys.test.ts',
      title: 'D2/D3: jku, x5u and x5c are never followed or trusted',
    },
  ],
  D4: [
    {
      file: 'test/security/jws-keys.test.ts',
      title: 'D4: kid injection payloads find no key and touch nothing',
    },
  ],
  D5: [{ file: 'test/security/jws-keys.test.ts', title: 'D5: a non-string kid finds no key' }],
  D6: [
    {
      file: 'test/security/jws-keys.test.ts',
      title: 'D6: a token without kid is accepted only when exactly one key fits',
    },
  ],
  D7: [
    {
      file: 'test/security/jws-keys.test.ts',
      title: 'D7: a duplicated kid in the JWKS is ambiguous for either key',
    },
  ],
  D8: [
    { file: 'test/security/jws-keys.test.ts', title: 'D8: any crit header is refused' },
    { file: 'test/conformance/scenarios.ts', title: 'D8: a crit header' },
  ],
  D9: [
    {
      file: 'test/security/jws-keys.test.ts',
      title: 'D9: forced-error values in every header field and claim never give a 500',
    },
  ],
  D10: [
    {
      file: 'test/security/jwks.test.ts',
      title: 'D10: a key set with a private member is refused as a whole',
    },
    {
      file: 'test/security/jws-keys.test.ts',
      title: 'D10: keys constrained to encryption or another algorithm are not selected',
    },
  ],
  E1: [
    {
      file: 'test/security/claims-scopes.test.ts',
      title:
        'E1: typ accepts at+jwt, application/at+jwt, JWT or none by default and refuses other types',
    },
    { file: 'test/security/claims-scopes.test.ts', title: 'E1: strict mode requires at+jwt' },
    {
      file: 'test/conformance/scenarios.ts',
      title: 'E1: an RFC 9068 at+jwt token with a scope string is accepted',
    },
  ],
  E2: [
    {
      file: 'test/security/claims-scopes.test.ts',
      title: 'E2: an ID token (aud = the client) is not an access token',
    },
  ],
  E3: [
    {
      file: 'test/security/claims-scopes.test.ts',
      title: 'E3: a token for a sibling API is refused',
    },
    { file: 'test/conformance/scenarios.ts', title: 'E3: a token for another audience' },
  ],
  E4: [
    {
      file: 'test/security/claims-scopes.test.ts',
      title:
        'E4: aud must contain the configured audience exactly, as a string or an array of strings',
    },
    {
      file: 'test/security/claims-scopes.test.ts',
      title:
        'E4: several configured audiences accept any one of them; audience false skips the check',
    },
    {
      file: 'test/conformance/scenarios.ts',
      title: "E4: Hydra's default aud: [] when an audience is required",
    },
  ],
  E5: [
    { file: 'test/security/claims-scopes.test.ts', title: 'E5: iss must match exactly' },
    { file: 'test/conformance/scenarios.ts', title: 'E5: another issuer' },
  ],
  E6: [
    {
      file: 'test/security/jwks.test.ts',
      title:
        'E6: each issuer verifies with its own keys only; an unconfigured issuer costs no fetch',
    },
  ],
  E7: [
    {
      file: 'test/security/claims-scopes.test.ts',
      title: 'E7: exp is required, numeric and in the future, with the clock tolerance',
    },
    {
      file: 'test/security/claims-scopes.test.ts',
      title: 'E7: an expired token gets the invalid_token challenge and a generic body',
    },
    { file: 'test/conformance/scenarios.ts', title: 'E7: an expired token' },
  ],
  E8: [
    {
      file: 'test/security/claims-scopes.test.ts',
      title: 'E8: a non-finite or absurd lifetime is refused',
    },
    {
      file: 'test/conformance/scenarios.ts',
      title: 'E8: exp 1e400 (Infinity) is an unbounded lifetime',
    },
  ],
  E9: [
    {
      file: 'test/security/claims-scopes.test.ts',
      title: 'E9: nbf in the future is refused beyond the tolerance',
    },
    { file: 'test/conformance/scenarios.ts', title: 'E9: a token not valid yet' },
  ],
  E10: [
    {
      file: 'test/security/claims-scopes.test.ts',
      title: 'E10: iat may not be in the future, is required in strict mode, and obeys maxTokenAge',
    },
    { file: 'test/conformance/scenarios.ts', title: 'E10: a token issued in the future' },
  ],
  E11: [
    {
      file: 'test/security/claims-scopes.test.ts',
      title: 'E11: identity claims are non-empty strings; strict mode requires them',
    },
    { file: 'test/conformance/scenarios.ts', title: 'E11: a numeric sub' },
  ],
  E12: [
    {
      file: 'test/security/claims-scopes.test.ts',
      title: 'E12: a sender-constrained token presented as Bearer is refused',
    },
    {
      file: 'test/conformance/scenarios.ts',
      title: 'E12: a sender-constrained (cnf) token presented as Bearer',
    },
  ],
  E13: [
    {
      file: 'test/core/options.test.ts',
      title: 'E13: bounds clockTolerance to finite seconds from 0 to 300',
    },
  ],
  E14: [
    {
      file: 'test/security/jwks.test.ts',
      title:
        'E14: a key removed from the JWKS stops verifying after the next refresh, cached tokens included',
    },
  ],
  F1: [
    {
      file: 'test/security/claims-scopes.test.ts',
      title: 'F1/F4: scope delimiters are single spaces (runs tolerated); tabs and commas are not',
    },
    {
      file: 'test/core/guards.test.ts',
      title: 'F1: a token with no scopes gets 403, not 401, naming the scope',
    },
    { file: 'test/conformance/scenarios.ts', title: 'F1: a token without the required scope' },
  ],
  F2: [
    { file: 'test/core/guards.test.ts', title: 'F2: no substring or prefix matching' },
    { file: 'test/conformance/scenarios.ts', title: 'F2: scopes are not matched by prefix' },
  ],
  F3: [
    { file: 'test/core/guards.test.ts', title: 'F3: scopes are case-sensitive' },
    { file: 'test/conformance/scenarios.ts', title: 'F3: scopes are case-sensitive' },
  ],
  F4: [
    {
      file: 'test/security/claims-scopes.test.ts',
      title: 'F1/F4: scope delimiters are single spaces (runs tolerated); tabs and commas are not',
    },
  ],
  F5: [
    {
      file: 'test/security/claims-scopes.test.ts',
      title:
        'F5: a scope claim of the wrong type is a malformed token (401), not an empty scope set',
    },
    { file: 'test/conformance/scenarios.ts', title: 'F5: a scope claim that is an array' },
  ],
  F6: [
    {
      file: 'test/core/guards.test.ts',
      title: 'F6: prototype-named scopes never match by accident',
    },
  ],
  F7: [
    {
      file: 'test/core/guards.test.ts',
      title:
        'F7: requireScopes needs all, requireAnyScope needs one, and empty lists are start-up errors',
    },
    { file: 'test/conformance/scenarios.ts', title: 'F7: requireScopes needs every scope' },
  ],
  F8: [
    {
      file: 'test/security/claims-scopes.test.ts',
      title: 'F8: a 403 names every required scope once',
    },
    {
      file: 'test/core/errors.test.ts',
      title: 'F8: names the required scopes once, quoted, in a 403 challenge',
    },
  ],
  F9: [
    {
      file: 'test/core/guards.test.ts',
      title: 'F9: runGuard fails closed when authentication never ran, and 401s anonymous callers',
    },
    {
      file: 'test/conformance/scenarios.ts',
      title: 'F9: a guard mounted without authenticate() fails closed',
    },
  ],
  F10: [
    { file: 'test/core/guards.test.ts', title: 'F10: requireActor separates services from users' },
    {
      file: 'test/conformance/scenarios.ts',
      title: 'F10: requireActor(user) refuses a client token',
    },
  ],
  G1: [
    {
      file: 'test/security/jwks.test.ts',
      title: 'G1: a storm of unknown kids costs one JWKS fetch per cooldown',
    },
    { file: 'test/conformance/scenarios.ts', title: 'G1: an unknown kid' },
  ],
  G2: [
    {
      file: 'test/security/jwks.test.ts',
      title: 'G2: a cold-start burst of 200 verifications shares one JWKS fetch',
    },
    {
      file: 'test/security/jwks.test.ts',
      title: 'G2: a cold-start burst against a failing endpoint costs one fetch and one error line',
    },
  ],
  G3: [
    { file: 'test/security/jwks.test.ts', title: 'G3: JWKS endpoint errors on a cold start' },
    {
      file: 'test/security/jwks.test.ts',
      title: 'G3: an answer of %s fails closed with 503, logs once, and is not cached',
    },
    {
      file: 'test/conformance/scenarios.ts',
      title: 'G3: JWKS down after warm-up: the last good keys keep serving',
    },
  ],
  G4: [{ file: 'test/security/jwks.test.ts', title: 'G4: a redirect is not followed' }],
  G5: [
    {
      file: 'test/security/jwks.test.ts',
      title: 'G5: a JWKS endpoint that answers %s fails within the timeout',
    },
  ],
  G6: [
    { file: 'test/security/jwks.test.ts', title: 'G6: oversized key sets' },
    {
      file: 'test/security/jwks.test.ts',
      title: 'G6: a 30 MB body is refused by the byte cap on a cold start',
    },
  ],
  G7: [
    {
      file: 'test/security/jwks.test.ts',
      title: 'G7: a JWKS address on a closed loopback port fails fast',
    },
  ],
  G8: [
    {
      file: 'test/core/options.test.ts',
      title: 'G8: requires TLS for non-loopback issuer and JWKS URLs unless allowInsecureHttp',
    },
  ],
  G9: [
    {
      file: 'test/security/jwks.test.ts',
      title:
        'G9: a rotated-in key is refused inside the cooldown after a refetch, then accepted after one more',
    },
    {
      file: 'test/conformance/scenarios.ts',
      title: 'G9: JWKS down after warm-up: a rotated-in key cannot be fetched (503)',
    },
  ],
  G10: [
    {
      file: 'test/security/jwks.test.ts',
      title: 'G10: the JWKS request sends no credentials or cookies and asks for a JWK set',
    },
  ],
  H1: [
    {
      file: 'test/security/claims-scopes.test.ts',
      title: 'H1: a kid with CR/LF and an iss with quotes still give one valid challenge',
    },
    {
      file: 'test/core/errors.test.ts',
      title: 'H1: never lets CR, LF, quotes or backslashes into the challenge',
    },
  ],
  H2: [
    {
      file: 'test/security/claims-scopes.test.ts',
      title: 'H2: rejection bodies are only the code and a fixed description',
    },
  ],
  H3: [
    {
      file: 'test/security/claims-scopes.test.ts',
      title:
        'H3: with respond: false, a rejected verification reaches the error handler without an unhandled rejection',
    },
  ],
  H4: [
    {
      file: 'test/security/routing.test.ts',
      title:
        'H4: optional authentication: no token is anonymous; an expired or forged token is still 401',
    },
    {
      file: 'test/conformance/scenarios.ts',
      title: 'H4: optional: no token continues anonymously',
    },
  ],
  H5: [
    {
      file: 'test/security/routing.test.ts',
      title:
        'H5: path tricks around the public /health never reach the protected handler without a token',
    },
  ],
  H6: [
    { file: 'test/security/routing.test.ts', title: 'H6: route inventory of the example services' },
  ],
  I1: [
    {
      file: 'test/audit/audit.test.ts',
      title:
        'I1: credential headers are masked, with svcauth\u2019s logger and with a bare pino logger',
    },
  ],
  I2: [
    {
      file: 'test/audit/audit.test.ts',
      title: 'I2: token-like query parameters and token-shaped values are masked in url and query',
    },
  ],
  I3: [
    {
      file: 'test/client/logging.test.ts',
      title: 'I3: a token response with a refresh token leaks neither token into the logs',
    },
  ],
  I4: [
    {
      file: 'test/audit/audit.test.ts',
      title: 'I4: a forged token attributes nothing, even with an attractive sub',
    },
  ],
  I5: [
    {
      file: 'test/audit/audit.test.ts',
      title: 'I5: a long or hostile sub is one JSON line, cut to 256 characters and marked',
    },
  ],
  I6: [
    {
      file: 'test/audit/audit.test.ts',
      title: 'I6: levels by outcome; an unknown-kid storm makes warn lines, never error lines',
    },
    {
      file: 'test/audit/audit.test.ts',
      title: 'I6: an issuer outage logs one error line per interval; the rest are warn and counted',
    },
  ],
  J1: [
    {
      file: 'test/client/token-endpoint.test.ts',
      title: 'J1: encodes client_secret_basic per RFC 6749 \u00a72.3.1, matching the known vectors',
    },
    {
      file: 'test/client/token-endpoint.test.ts',
      title:
        'J1: a client id and secret with reserved characters authenticate against a decoding server',
    },
  ],
  J2: [
    {
      file: 'test/client/token-endpoint.test.ts',
      title: 'J2: sends a form POST with grant_type, scope and audience, and no secret in the URL',
    },
    {
      file: 'test/client/token-endpoint.test.ts',
      title:
        'J2: client_secret_post puts the credentials in the body; resource is sent per RFC 8707',
    },
  ],
  J3: [
    {
      file: 'test/client/token-endpoint.test.ts',
      title: 'J3: does not follow a redirect from the token endpoint',
    },
  ],
  J4: [
    {
      file: 'test/client/token-endpoint.test.ts',
      title: 'J4/J5: refuses malformed success responses and never sends them',
    },
  ],
  J5: [
    {
      file: 'test/client/token-endpoint.test.ts',
      title: 'J4/J5: refuses malformed success responses and never sends them',
    },
    {
      file: 'test/client/token-endpoint.test.ts',
      title:
        'J5/J6: accepts bearer in any case, expires_in as a digit string, and a __proto__ member harmlessly',
    },
  ],
  J6: [
    {
      file: 'test/client/token-endpoint.test.ts',
      title:
        'J5/J6: accepts bearer in any case, expires_in as a digit string, and a __proto__ member harmlessly',
    },
    {
      file: 'test/client/token-endpoint.test.ts',
      title: 'J6: a token with no expires_in is cached only for the default lifetime',
    },
  ],
  J7: [
    {
      file: 'test/client/token-endpoint.test.ts',
      title: 'J7: error responses become a typed TokenEndpointError without secrets',
    },
  ],
  J8: [
    {
      file: 'test/client/token-endpoint.test.ts',
      title: 'J8: a stalled or huge response fails within the timeout and cap',
    },
  ],
  J9: [
    {
      file: 'test/client/token-endpoint.test.ts',
      title:
        'J9: a cold burst shares one token request; a failing wave fails together and the next call retries',
    },
  ],
  J10: [
    {
      file: 'test/client/token-endpoint.test.ts',
      title:
        'J10: refreshes ahead of expiry in the background; callers keep the current token meanwhile',
    },
  ],
  J11: [
    {
      file: 'test/client/token-endpoint.test.ts',
      title: 'J11: different scopes, audiences and clients get separate tokens',
    },
  ],
  J12: [
    {
      file: 'test/client/token-endpoint.test.ts',
      title: 'J12: refuses unsafe token endpoint URLs at construction',
    },
  ],
  J13: [
    {
      file: 'test/client/token-endpoint.test.ts',
      title: 'J13: honours Retry-After and bounds requests while the endpoint fails',
    },
  ],
  K1: [
    {
      file: 'test/client/interceptor.test.ts',
      title: 'K1: an origin outside the targets never receives a token, with fetch or request',
    },
  ],
  K2: [
    {
      file: 'test/client/interceptor.test.ts',
      title: 'K2: origins compare exactly: another host name, port or scheme gets nothing',
    },
  ],
  K3: [
    {
      file: 'test/client/interceptor.test.ts',
      title: 'K3: a redirect to another origin never carries the token',
    },
  ],
  K4: [{ file: 'test/security/passthrough.test.ts', title: 'K4: user-token passthrough' }],
  K5: [
    {
      file: 'test/client/interceptor.test.ts',
      title: 'K5: a rejected cached token is replaced once and the call replayed with its body',
    },
    {
      file: 'test/client/interceptor.test.ts',
      title: 'K5: a downstream that always answers 401 is called twice, then the 401 surfaces',
    },
  ],
  K6: [
    {
      file: 'test/client/interceptor.test.ts',
      title:
        'K6: no retry on 403, on a token fetched in the same call, on another scheme, or an oversized stream',
    },
  ],
  K7: [
    {
      file: 'test/client/interceptor.test.ts',
      title: 'K7: a late 401 for an old token does not evict the newer one',
    },
  ],
  K8: [
    {
      file: 'test/client/interceptor.test.ts',
      title: 'K8: a target that rejects every token costs one token request per backoff window',
    },
  ],
  K9: [{ file: 'test/client/tls.test.ts', title: 'K9: TLS validation' }],
  K10: [{ file: 'test/client/tls.test.ts', title: 'K10: defence in depth before sending' }],
  L1: [{ file: 'test/security/discovery.test.ts', title: 'L1: issuer mismatch in metadata' }],
  L2: [
    { file: 'test/security/discovery.test.ts', title: 'L2: metadata endpoints pointing elsewhere' },
  ],
  L3: [
    {
      file: 'test/security/discovery.test.ts',
      title: 'L3: discovery is never driven by the token',
    },
  ],
  L4: [{ file: 'test/security/discovery.test.ts', title: 'L4: issuer URL configuration' }],
  L5: [{ file: 'test/security/discovery.test.ts', title: 'L5: discovery fetch robustness' }],
}

/**
 * The findings of the independent attack review and the second authorization server (issue 14,
 * R1–R12), each mapped to the tests that failed before its fix. docs/security.md lists each
 * threat and its defence under the same id.
 */
export const REVIEW: Readonly<Record<string, readonly CaseTest[]>> = {
  R1: [
    {
      file: 'test/client/propagation.test.ts',
      title:
        'R1: refuses to forward to a resource-only target a token whose aud lacks the resource; the target sees nothing',
    },
    {
      file: 'test/client/propagation.test.ts',
      title:
        'R1: forwards a token whose aud contains the target resource, or one of the audiences given with it',
    },
    {
      file: 'test/client/propagation.test.ts',
      title:
        "R1: a 'forward' target with neither audience nor resource is a TypeError naming the origin and the fix",
    },
    {
      file: 'test/client/propagation.test.ts',
      title:
        "R1: the handler's outbound call with a user token not issued for the target is refused and not sent",
    },
  ],
  R2: [
    {
      file: 'test/security/discovery.test.ts',
      title:
        'R2: refuses mapped, numeric and translated spellings of link-local, unspecified and metadata addresses for every discovered endpoint, and never contacts them',
    },
    {
      file: 'test/security/discovery.test.ts',
      title:
        'R2: a non-loopback issuer may not point any discovered endpoint at loopback, however spelled',
    },
    {
      file: 'test/security/discovery.test.ts',
      title:
        'R2: classifies hosts by address bytes: loopback, link-local, unspecified, cloud metadata, translations',
    },
    {
      file: 'test/cli/cli.test.ts',
      title:
        'R2: refuses a discovered token_endpoint at an unspecified address, however spelled, with exit 3, sending the secret nowhere',
    },
  ],
  R3: [
    {
      file: 'test/client/registration.test.ts',
      title: 'R3: a symlink planted at the old predictable temporary name is not followed',
    },
    {
      file: 'test/client/registration.test.ts',
      title:
        'R3: a file pre-created (0644, held open by its planter) at the old temporary name is not reused',
    },
    {
      file: 'test/client/registration.test.ts',
      title:
        'R3: concurrent saves both complete and leave one of the two whole documents, and no temporary files',
    },
  ],
  R4: [
    {
      file: 'test/security/request-scope.test.ts',
      title:
        'R4: work left running by a request calls out as the service once the response finished',
    },
    {
      file: 'test/security/request-scope.test.ts',
      title:
        'R4: audit events from work left running are attributed to the service, with the request id',
    },
    {
      file: 'test/security/request-scope.test.ts',
      title: 'R4: a poller started lazily inside a user request polls as the service',
    },
    {
      file: 'test/security/request-scope.test.ts',
      title: 'R4: once the client hung up, the abandoned handler calls out as the service',
    },
  ],
  R5: [
    {
      file: 'test/security/encoding.test.ts',
      title: 'R5: refuses a token whose segment ends in "=" with 401 invalid_token',
    },
    {
      file: 'test/security/encoding.test.ts',
      title: 'R5: refuses non-zero spare bits in the last character of any segment',
    },
    {
      file: 'test/security/encoding.test.ts',
      title: 'R5: a respelling of a cached token is not a cache hit, on either path',
    },
    {
      file: 'test/security/encoding.test.ts',
      title: 'R5: every non-canonical respelling of a valid token is refused (property)',
    },
    {
      file: 'test/conformance/scenarios.ts',
      title: 'R5: a token whose signature segment ends in "=" is refused (401 malformed_jws)',
    },
  ],
  R6: [
    {
      file: 'test/security/key-identity.test.ts',
      title:
        'R6: a cached token is refused once its kid is republished with another key; the new key is accepted',
    },
    {
      file: 'test/security/key-identity.test.ts',
      title: 'R6: a cached token is refused once its kid is published twice (no single key)',
    },
    {
      file: 'test/security/key-identity.test.ts',
      title: 'R6: both adapters stop serving the cached token once the kid names another key',
    },
  ],
  R7: [
    {
      file: 'test/core/introspection.test.ts',
      title:
        'R7: junk opaque tokens cannot evict a cached active answer, which keeps serving while introspection is down',
    },
    {
      file: 'test/core/introspection.test.ts',
      title: 'R7: maxCachedInactive sets the refusal bound and is checked at start-up',
    },
  ],
  R8: [
    {
      file: 'test/audit/audit.test.ts',
      title:
        'R8: forwarded, gateway, DPoP, CSRF and vendor credential headers are masked on request lines, with either logger',
    },
    {
      file: 'test/audit/audit.test.ts',
      title:
        'R8: array, indexed, nested and percent-encoded token parameter names are masked in url and query',
    },
    {
      file: 'test/conformance/scenarios.ts',
      title:
        'R8: X-Forwarded-Authorization, DPoP and array-form query tokens are not read, and never logged',
    },
  ],
  R9: [
    {
      file: 'test/core/principal-cache.test.ts',
      title:
        'R9: a token with user-authentication claims is a user even when sub equals client_id; actorType still overrides',
    },
    {
      file: 'test/conformance/scenarios.ts',
      title: 'R9: a token with sub === client_id and auth_time is a user, as the route sees it',
    },
    {
      file: 'test/conformance/scenarios.ts',
      title: 'R9: an introspected token with sub === client_id and acr is a user',
    },
  ],
  R10: [
    {
      file: 'test/client/token-endpoint.test.ts',
      title: 'R10: an empty 401 for the old secret falls back to the second secret of [old, new]',
    },
    {
      file: 'test/client/token-endpoint.test.ts',
      title:
        'R10: an empty, non-JSON or error-less 401/403 is invalid_client: not retryable, one request, logged as refused',
    },
    {
      file: 'test/cli/cli.test.ts',
      title:
        'R10: says the credentials were refused when the server answers a wrong secret with an empty 401',
    },
  ],
  R11: [
    {
      file: 'test/security/rediscovery.test.ts',
      title:
        'R11: an issuer that moves its JWKS: a new key is accepted after re-discovery, without restart, for a bounded number of discovery fetches',
    },
    {
      file: 'test/security/rediscovery.test.ts',
      title:
        'R11: the background refresh re-discovers; refused metadata keeps the last good jwks_uri, which is never replaced by it',
    },
    {
      file: 'test/security/rediscovery.test.ts',
      title:
        'R11: an introspection endpoint that moves is followed after a failed call, for a bounded number of discovery fetches',
    },
    {
      file: 'test/client/rediscovery.test.ts',
      title:
        'R11: the token endpoint moves to a new server and the old one stops: the client recovers without restart',
    },
    {
      file: 'test/client/rediscovery.test.ts',
      title:
        'R11: a failed or hostile re-discovery keeps the last good endpoint; failures cost one discovery per cooldown',
    },
  ],
  R12: [
    {
      file: 'test/client/interceptor.test.ts',
      title:
        'R12: a token the target had accepted and now rejects (revoked) is replaced and retried once, even right after a forced renewal',
    },
  ],
}
