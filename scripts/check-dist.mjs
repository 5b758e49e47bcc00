import process from 'node:process'

// Loads each built package the way a user would (no source condition: the `dist/` entry points)
// and checks its public exports, so a broken build or exports map fails CI.
const expected = {
  '@svcauth/audit': ['createAuditLogger', 'auditEvent', 'auditRecord', 'scrubUrl'],
  '@svcauth/cli': ['runCli'],
  '@svcauth/client': [
    'createServiceClient',
    'tokenInterceptor',
    'TokenEndpointError',
    'isTokenEndpointError',
  ],
  '@svcauth/core': [
    'createAuthenticator',
    'CHANNELS',
    'extractBearer',
    'AuthError',
    'isAuthError',
    'requireScopes',
    'rawToken',
    'auditRecord',
  ],
  '@svcauth/core/internal': [
    'authenticateFlow',
    'guardFlow',
    'httpRequest',
    'outcomeOf',
    'runWithRequest',
    'assertDiscoveredUrl',
  ],
  '@svcauth/express': [
    'auditLogger',
    'authenticate',
    'requireScopes',
    'requireAnyScope',
    'requireActor',
    'requireClaim',
  ],
  '@svcauth/koa': [
    'auditLogger',
    'authenticate',
    'requireScopes',
    'requireAnyScope',
    'requireActor',
    'requireClaim',
  ],
  '@svcauth/otel': ['instrument', 'METER_NAME'],
  '@svcauth/redis': ['redisStores', 'RedisUnavailableError'],
  '@svcauth/testing': ['createTestIssuer', 'createMemoryStores'],
}
let failed = false
for (const [name, names] of Object.entries(expected)) {
  const mod = await import(name)
  const missing = names.filter((n) => !(n in mod))
  if ('default' in mod) missing.push('(has a default export; named exports only)')
  if (missing.length > 0) {
    failed = true
    process.stderr.write(`${name}: missing ${missing.join(', ')}\n`)
  } else {
    process.stdout.write(`${name}: ok (${Object.keys(mod).length} exports)\n`)
  }
}
process.exitCode = failed ? 1 : 0
