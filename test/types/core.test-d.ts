/**
 * Type tests of @svcauth/core's public API (its main entry; `@svcauth/core/internal` is not public):
 * what README and docs/design.md document, checked by the compiler in `pnpm test`.
 */
import type { AuthError, requireAnyScope, requireScopes } from '@svcauth/core'
import {
  auditRecord,
  createAuthenticator,
  currentAuthContext,
  defaultActorType,
  extractBearer,
  isAuthError,
  rawToken,
  requireActor,
  requireClaim,
  requireClaimIncludes,
  runWithPrincipal,
  verifyDpopProof,
  MemoryReplayStore,
  type DpopReplayStore,
  type VerifiedDpopProof,
  DPOP_ALGORITHMS,
  type Algorithm,
  type DpopNonceOptions,
  type DpopOptions,
  type HeaderSink,
  type ClientCertificateFormat,
  type MtlsOptions,
  type PeerSocket,
  enableRequestContext,
  type Actor,
  type ActorType,
  type AuditRecord,
  type AuthContext,
  type Authenticator,
  type AuthenticatorOptions,
  type AuthErrorCode,
  type AuthErrorReason,
  type AuthOutcome,
  type Guard,
  type IssuerCacheOptions,
  type IntrospectionOptions,
  type IssuerConfig,
  type IssuerResolver,
  type IssuerStatus,
  type JwtIntrospection,
  type KeyFailureReason,
  type Logger,
  type OfflineKeys,
  type PublicJwk,
  type PublicJwkSet,
  createWarningLogger,
  type Principal,
  type RequestLike,
} from '@svcauth/core'
import { describe, expectTypeOf, test } from 'vitest'

describe('createAuthenticator', () => {
  test('takes the documented options and returns an Authenticator', () => {
    expectTypeOf(createAuthenticator).parameter(0).toEqualTypeOf<AuthenticatorOptions>()
    expectTypeOf(createAuthenticator).returns.toEqualTypeOf<Authenticator>()
    expectTypeOf(createAuthenticator).toBeCallableWith({
      issuer: 'https://hydra.example/',
      audience: 'smd',
      jwksUri: 'https://hydra.example/.well-known/jwks.json',
    })
    expectTypeOf(createAuthenticator).toBeCallableWith({
      issuer: 'https://hydra.example/',
      audience: false,
      algorithms: ['RS256', 'ES256'],
      cache: false,
      isRevoked: (p: Principal) => Promise.resolve(p.tokenId === 'x'),
      actorType: (claims) => (claims.sub === 'svc' ? 'client' : undefined),
    })
    expectTypeOf(createAuthenticator).toBeCallableWith({
      issuers: [{ issuer: 'https://a/', audience: ['smd', 'bss'] }],
    })
    expectTypeOf<IssuerConfig['audience']>().toEqualTypeOf<string | readonly string[] | false>()
    // Issue 20, item 2: issuers resolved per token, synchronously or not.
    expectTypeOf(createAuthenticator).toBeCallableWith({
      issuers: (iss: string, request: RequestLike | undefined) =>
        request?.headers.host === 'a' ? { issuer: iss, audience: 'smd' } : undefined,
      issuerCache: { max: 50, ttl: 0 },
    })
    expectTypeOf(createAuthenticator).toBeCallableWith({
      issuers: (iss: string) => Promise.resolve({ issuer: iss, audience: false as const }),
    })
    expectTypeOf<IssuerResolver>().returns.toEqualTypeOf<
      IssuerConfig | undefined | Promise<IssuerConfig | undefined>
    >()
    expectTypeOf<IssuerCacheOptions>().toEqualTypeOf<{ max?: number; ttl?: number }>()
    // HS* is refused at start-up, and is not an Algorithm at all.
    // @ts-expect-error a shared-secret algorithm
    createAuthenticator({ issuer: 'https://a/', audience: 'x', algorithms: ['HS256'] })
  })

  test('verifies tokens and requests', () => {
    expectTypeOf<Authenticator['verify']>().parameters.toEqualTypeOf<[token: string]>()
    expectTypeOf<Authenticator['verify']>().returns.resolves.toEqualTypeOf<Principal>()
    expectTypeOf<Authenticator['authenticate']>().parameter(0).toEqualTypeOf<RequestLike>()
    expectTypeOf<Authenticator['authenticate']>().returns.resolves.toEqualTypeOf<
      Principal | undefined
    >()
    expectTypeOf<Authenticator['ready']>().returns.resolves.toEqualTypeOf<boolean>()
    expectTypeOf<Authenticator['close']>().returns.toBeVoid()
    expectTypeOf<Authenticator['realm']>().toEqualTypeOf<string>()
  })
})

test('the Principal is read-only and typed as documented', () => {
  expectTypeOf<Principal>().toEqualTypeOf<{
    readonly actorType: ActorType
    readonly actorId: string
    readonly sub: string | undefined
    readonly clientId: string | undefined
    readonly scopes: ReadonlySet<string>
    readonly act: Actor | undefined
    readonly issuer: string
    readonly audience: readonly string[]
    readonly expiresAt: Date
    readonly tokenId: string | undefined
    readonly claims: Readonly<Record<string, unknown>>
    readonly confirmation: { readonly jkt?: string; readonly x5tS256?: string } | undefined
  }>()
  expectTypeOf<ActorType>().toEqualTypeOf<'user' | 'client'>()
  expectTypeOf(rawToken).parameter(0).toEqualTypeOf<Principal>()
  expectTypeOf(rawToken).returns.toEqualTypeOf<string | undefined>()
  expectTypeOf(defaultActorType).returns.toEqualTypeOf<ActorType>()
})

test('AuthError carries a closed code, its status, a reason and headers', () => {
  expectTypeOf<AuthError>().toExtend<Error>()
  expectTypeOf<AuthError['code']>().toEqualTypeOf<AuthErrorCode>()
  expectTypeOf<AuthErrorCode>().toEqualTypeOf<
    | 'unauthorized'
    | 'invalid_request'
    | 'invalid_token'
    | 'insufficient_scope'
    | 'temporarily_unavailable'
    | 'invalid_dpop_proof'
    | 'use_dpop_nonce'
  >()
  expectTypeOf<AuthError['status']>().toEqualTypeOf<number>()
  expectTypeOf<AuthError['reason']>().toEqualTypeOf<AuthErrorReason>()
  expectTypeOf<'expired' | 'aud_invalid' | 'jwks_unavailable'>().toExtend<AuthErrorReason>()
  expectTypeOf<AuthError['headers']>().toExtend<Readonly<Record<string, string>>>()
  expectTypeOf(isAuthError).guards.toEqualTypeOf<AuthError>()
})

test('guards are framework-free and name the scopes', () => {
  // Spelled out: expect-type cannot inspect a function whose rest parameter is a readonly array.
  type ScopeGuard = (...scopes: readonly (string | readonly string[])[]) => Guard
  expectTypeOf<typeof requireScopes>().toEqualTypeOf<ScopeGuard>()
  expectTypeOf<typeof requireAnyScope>().toEqualTypeOf<ScopeGuard>()
  expectTypeOf<ScopeGuard>().toExtend<(a: string, b: string, c: string[]) => Guard>()
  expectTypeOf(requireActor).parameter(0).toEqualTypeOf<ActorType>()
  expectTypeOf(requireActor).returns.toEqualTypeOf<Guard>()
  expectTypeOf(requireClaim).toBeCallableWith('role', (role: unknown) => role === 'operator')
  expectTypeOf(requireClaim).returns.toEqualTypeOf<Guard>()
  expectTypeOf(requireClaim).toBeCallableWith('role', 'operator')
  expectTypeOf(requireClaim).toBeCallableWith('level', 3)
  expectTypeOf(requireClaim).toBeCallableWith('tenant', null)
  expectTypeOf(requireClaimIncludes).toBeCallableWith('groups', 'hpc', 'ops')
  expectTypeOf(requireClaimIncludes).returns.toEqualTypeOf<Guard>()
})

test('request context, bearer extraction and audit records', () => {
  expectTypeOf(currentAuthContext).returns.toEqualTypeOf<AuthContext | undefined>()
  expectTypeOf<AuthContext['principal']>().toEqualTypeOf<Principal | undefined>()
  expectTypeOf(runWithPrincipal<number>).returns.toEqualTypeOf<number>()
  expectTypeOf(enableRequestContext).parameters.toEqualTypeOf<[]>()
  expectTypeOf(enableRequestContext).returns.toBeVoid()
  expectTypeOf(verifyDpopProof).returns.toEqualTypeOf<Promise<VerifiedDpopProof>>()
  expectTypeOf(new MemoryReplayStore()).toExtend<DpopReplayStore>()
  expectTypeOf<AuthenticatorOptions['dpop']>().toEqualTypeOf<boolean | DpopOptions | undefined>()
  expectTypeOf<AuthenticatorOptions['publicOrigin']>().toEqualTypeOf<string | undefined>()
  expectTypeOf<AuthenticatorOptions['mtls']>().toEqualTypeOf<boolean | MtlsOptions | undefined>()
  expectTypeOf<MtlsOptions['format']>().toEqualTypeOf<ClientCertificateFormat | undefined>()
  expectTypeOf<ClientCertificateFormat>().toEqualTypeOf<'pem-urlencoded' | 'xfcc' | 'der-base64'>()
  expectTypeOf<RequestLike['socket']>().toEqualTypeOf<PeerSocket | undefined>()
  expectTypeOf<DpopOptions['nonce']>().toEqualTypeOf<boolean | DpopNonceOptions | undefined>()
  expectTypeOf<DpopOptions['replay']>().toEqualTypeOf<DpopReplayStore | undefined>()
  expectTypeOf(DPOP_ALGORITHMS).toEqualTypeOf<readonly Algorithm[]>()
  expectTypeOf<Authenticator['authenticate']>().parameter(1).toEqualTypeOf<HeaderSink | undefined>()
  expectTypeOf(extractBearer).parameter(0).toEqualTypeOf<RequestLike>()
  expectTypeOf(extractBearer).returns.toEqualTypeOf<string | undefined>()
  expectTypeOf(auditRecord).parameter(0).toEqualTypeOf<Principal | undefined>()
  expectTypeOf(auditRecord).returns.toEqualTypeOf<AuditRecord>()
  expectTypeOf<AuthOutcome['result']>().toEqualTypeOf<'authenticated' | 'anonymous' | 'rejected'>()
  expectTypeOf<AuthOutcome['principal']>().toEqualTypeOf<Principal | undefined>()
  expectTypeOf<AuthOutcome['reason']>().toEqualTypeOf<AuthErrorReason | undefined>()
})

test('introspection.jwt: instant revocation for JWTs (issue 20, item 3)', () => {
  expectTypeOf<IntrospectionOptions['jwt']>().toEqualTypeOf<JwtIntrospection | undefined>()
  expectTypeOf<JwtIntrospection>().toEqualTypeOf<'always' | { readonly maxAge: number }>()
  const base = { issuer: 'https://hydra.example/', audience: 'smd' }
  expectTypeOf(createAuthenticator).toBeCallableWith({
    ...base,
    introspection: { endpoint: 'https://hydra.example/introspect', jwt: 'always' },
  })
  expectTypeOf(createAuthenticator).toBeCallableWith({
    issuers: [{ ...base, introspection: { jwt: { maxAge: 60 } } }],
  })
  // @ts-expect-error: 'always' or { maxAge }, nothing else
  createAuthenticator({ ...base, introspection: { jwt: 'sometimes' } })
  // @ts-expect-error: maxAge is a number of seconds
  createAuthenticator({ ...base, introspection: { jwt: { maxAge: '60' } } })
})

test('status() for readiness probes and the warning logger (issue 16)', () => {
  expectTypeOf<Authenticator['status']>().returns.toEqualTypeOf<IssuerStatus[]>()
  expectTypeOf<IssuerStatus['jwksUri']>().toEqualTypeOf<string | undefined>()
  expectTypeOf<IssuerStatus['keys']>().toEqualTypeOf<number>()
  expectTypeOf<IssuerStatus['fetchedAt']>().toEqualTypeOf<Date | undefined>()
  expectTypeOf<
    NonNullable<IssuerStatus['lastFailure']>['reason']
  >().toEqualTypeOf<KeyFailureReason>()
  expectTypeOf<NonNullable<IssuerStatus['lastFailure']>['at']>().toEqualTypeOf<Date>()
  expectTypeOf<NonNullable<IssuerStatus['introspection']>['endpoint']>().toEqualTypeOf<
    string | undefined
  >()
  expectTypeOf(createWarningLogger).returns.toEqualTypeOf<Logger>()
})

test('keys given without a network (issue 20, item 1)', () => {
  expectTypeOf<IssuerConfig['keys']>().toEqualTypeOf<OfflineKeys | undefined>()
  expectTypeOf<IssuerConfig['keysFile']>().toEqualTypeOf<string | undefined>()
  expectTypeOf<AuthenticatorOptions['keys']>().toEqualTypeOf<OfflineKeys | undefined>()
  expectTypeOf<AuthenticatorOptions['keysFile']>().toEqualTypeOf<string | undefined>()
  expectTypeOf<OfflineKeys>().toEqualTypeOf<PublicJwkSet | PublicJwk | string | readonly string[]>()
  // A JWKS or a JWK as jose exports them, PEM text, PEM strings.
  expectTypeOf<{
    keys: { kty: string; n: string; e: string; kid: string }[]
  }>().toExtend<OfflineKeys>()
  expectTypeOf<{ kty: 'OKP'; crv: 'Ed25519'; x: string }>().toExtend<OfflineKeys>()
  expectTypeOf<string[]>().toExtend<OfflineKeys>()
  expectTypeOf(createAuthenticator).toBeCallableWith({
    issuer: 'https://hydra.example/',
    audience: 'smd',
    keys: '-----BEGIN PUBLIC KEY-----\n…\n-----END PUBLIC KEY-----\n',
  })
  expectTypeOf(createAuthenticator).toBeCallableWith({
    issuers: [
      { issuer: 'https://hydra.example/', audience: 'smd', keysFile: '/etc/svcauth/jwks.json' },
    ],
  })
  expectTypeOf<IssuerStatus['keysFile']>().toEqualTypeOf<string | undefined>()
  expectTypeOf<'keys_file_invalid' | 'keys_file_unreadable'>().toExtend<KeyFailureReason>()
})
