/**
 * Configuration mistakes are TypeErrors at construction, never 4xx at request time
 * (catalogue C3 config check, E13, G8; DESIGN "Errors").
 */
import { createAuthenticator } from '@svcauth/core'
import { describe, expect, it } from 'vitest'
import { typeError } from '../support/type-error.js'

const base = {
  issuer: 'https://as.test/',
  audience: 'https://api.test',
  jwksUri: 'https://as.test/jwks',
}

function build(options: Record<string, unknown>): void {
  createAuthenticator(options).close()
}

describe('configuration', () => {
  it('accepts a minimal valid configuration', () => {
    expect(() => {
      build(base)
    }).not.toThrow()
  })

  it('requires an audience, or an explicit false', () => {
    expect(() => {
      build({ ...base, audience: undefined })
    }).toThrow(typeError(/audience is required/))
    expect(() => {
      build({ ...base, audience: [] })
    }).toThrow(
      typeError(/audience must be a non-empty string, a non-empty array of strings, or false/),
    )
    expect(() => {
      build({ ...base, audience: '' })
    }).toThrow(
      typeError(/audience must be a non-empty string, a non-empty array of strings, or false/),
    )
    expect(() => {
      build({ ...base, audience: false, logger: { warn() {}, error() {} } })
    }).not.toThrow()
  })

  it('warns once at start-up when the audience check is disabled', () => {
    const warnings: Record<string, unknown>[] = []
    build({
      ...base,
      audience: false,
      logger: { warn: (o: Record<string, unknown>) => warnings.push(o), error() {} },
    })
    expect(warnings).toEqual([{ event: 'audience_check_disabled', issuer: base.issuer }])
  })

  it('refuses shared-secret algorithms with a JWKS, none, and unknown names', () => {
    for (const alg of ['HS256', 'HS384', 'HS512', 'hs256']) {
      expect(() => {
        build({ ...base, algorithms: [alg] })
      }, alg).toThrow(
        typeError(new RegExp(`algorithms: ${alg} is a shared-secret algorithm and cannot be used`)),
      )
    }
    for (const alg of ['none', 'RS1', 'ES256K ']) {
      expect(() => {
        build({ ...base, algorithms: [alg] })
      }, alg).toThrow(typeError(new RegExp(`algorithms: unsupported algorithm ${alg}$`)))
    }
    expect(() => {
      build({ ...base, algorithms: [] })
    }).toThrow(typeError(/algorithms must be a non-empty array/))
    expect(() => {
      build({ ...base, algorithms: ['RS256', 'ES256'] })
    }).not.toThrow()
  })

  it('E13: bounds clockTolerance to finite seconds from 0 to 300', () => {
    for (const v of [Number.NaN, -1, Infinity, 301, '30', '1 hour']) {
      expect(() => {
        build({ ...base, clockTolerance: v })
      }, String(v)).toThrow(typeError(/clockTolerance must be a finite number from 0 to 300/))
    }
    expect(() => {
      build({ ...base, clockTolerance: 0 })
    }).not.toThrow()
    expect(() => {
      build({ ...base, clockTolerance: 300 })
    }).not.toThrow()
  })

  it('validates maxTokenAge, maxLifetime and maxTokenBytes', () => {
    expect(() => {
      build({ ...base, maxTokenAge: 0 })
    }).toThrow(typeError(/maxTokenAge must be a finite number from 1 to/))
    expect(() => {
      build({ ...base, maxTokenAge: '1d' })
    }).toThrow(typeError(/maxTokenAge must be a finite number from 1 to/))
    expect(() => {
      build({ ...base, maxLifetime: Infinity })
    }).toThrow(typeError(/maxLifetime must be a finite number from 1 to/))
    expect(() => {
      build({ ...base, maxTokenBytes: 10 })
    }).toThrow(typeError(/maxTokenBytes must be a finite number from 256 to/))
  })

  it('G8: requires TLS for non-loopback issuer and JWKS URLs unless allowInsecureHttp', () => {
    expect(() => {
      build({ ...base, jwksUri: 'http://as.test/jwks' })
    }).toThrow(
      typeError(
        /jwksUri must use https: http:\/\/as.test is plain HTTP off loopback \(allow it with allowInsecureHttp/,
      ),
    )
    expect(() => {
      build({ ...base, issuer: 'http://as.test/' })
    }).toThrow(
      typeError(
        /issuer must use https: http:\/\/as.test is plain HTTP off loopback \(allow it with allowInsecureHttp/,
      ),
    )
    expect(() => {
      build({ ...base, jwksUri: 'http://opaal:3333/keys', allowInsecureHttp: true })
    }).not.toThrow()
    expect(() => {
      build({ ...base, jwksUri: 'http://127.0.0.1:4444/jwks' })
    }).not.toThrow()
    expect(() => {
      build({ ...base, jwksUri: 'https://user:pw@as.test/jwks' })
    }).toThrow(typeError(/jwksUri must not carry credentials/))
    expect(() => {
      build({ ...base, jwksUri: 'ftp://as.test/jwks' })
    }).toThrow(typeError(/jwksUri must use https/))
    expect(() => {
      build({ ...base, jwksUri: 'not a url' })
    }).toThrow(typeError(/jwksUri is not an absolute URL/))
  })

  it('takes either issuer/audience or issuers, each issuer once', () => {
    const second = {
      issuer: 'https://other.test/',
      audience: 'x',
      jwksUri: 'https://other.test/jwks',
    }
    expect(() => {
      build({ ...base, issuers: [second] })
    }).toThrow(typeError(/give either issuer\/audience or issuers, not both/))
    expect(() => {
      build({ issuers: [] })
    }).toThrow(typeError(/issuers must be a non-empty array/))
    expect(() => {
      build({})
    }).toThrow(typeError(/issuer \(or issuers\) is required/))
    expect(() => {
      build({ issuers: [base, base] })
    }).toThrow(typeError(/issuer https:\/\/as\.test\/ is configured twice/))
    expect(() => {
      build({ issuers: [base, second] })
    }).not.toThrow()
  })

  it('validates realm, scopeClaims, hooks and cache', () => {
    expect(() => {
      build({ ...base, realm: 'a"b' })
    }).toThrow(typeError(/realm must be a string of printable ASCII without quotes or backslashes/))
    expect(() => {
      build({ ...base, realm: 'a\r\nb' })
    }).toThrow(typeError(/realm must be a string of printable ASCII without quotes or backslashes/))
    expect(() => {
      build({ ...base, scopeClaims: 'permissions' })
    }).toThrow(typeError(/scopeClaims must be an array of claim names/))
    expect(() => {
      build({ ...base, isRevoked: true })
    }).toThrow(typeError(/isRevoked must be a function/))
    expect(() => {
      build({ ...base, actorType: 'client' })
    }).toThrow(typeError(/actorType must be a function/))
    expect(() => {
      build({ ...base, cache: { max: 0 } })
    }).toThrow(typeError(/cache\.max must be a finite number from 1 to/))
    expect(() => {
      build({ ...base, cache: true })
    }).toThrow(typeError(/cache must be false or an object/))
    expect(() => {
      build({ ...base, jwks: { timeout: -5 } })
    }).toThrow(typeError(/jwks\.timeout must be a finite number from 1 to/))
  })

  it('does not mutate the options and freezes the resolved copy', () => {
    const options = { ...base, algorithms: ['RS256'] as const, jwks: { cooldown: 100 } }
    const snapshot = JSON.stringify(options)
    const auth = createAuthenticator(options)
    auth.close()
    expect(JSON.stringify(options)).toBe(snapshot)
    expect(Object.isFrozen(auth.options)).toBe(true)
    expect(Object.isFrozen(auth.options.jwks)).toBe(true)
    expect(auth.options.jwks.cooldown).toBe(100)
    expect(auth.options.jwks.maxBytes).toBe(262144)
  })
})
