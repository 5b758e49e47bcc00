/**
 * What a `kid` stands for in one key set: the key material, as its RFC 7638 JWK thumbprint
 * (SHA-256 over the required members only, so a refetch of the same key gives the same value),
 * plus the members that restrict its use (`alg`, `use`, `key_ops`, RFC 7517 §4.2–4.4). A cached
 * verification stays valid only while its `kid` still names the same identity (issue 14, R6).
 */
import { calculateJwkThumbprint, type JWK } from 'jose'

/**
 * kid → identity for a parsed key set. `null` marks a kid that names no single known key: it is
 * published twice (jose refuses such tokens as ambiguous) or its thumbprint cannot be computed.
 */
export type KeyIdentities = ReadonlyMap<string, string | null>

export async function keyIdentities(keys: readonly object[]): Promise<KeyIdentities> {
  const withKid = (keys as readonly JWK[]).filter((jwk) => typeof jwk.kid === 'string')
  const computed = await Promise.all(withKid.map(identityOf))
  const identities = new Map<string, string | null>()
  withKid.forEach((jwk, i) => {
    const kid = jwk.kid as string
    identities.set(kid, identities.has(kid) ? null : (computed[i] ?? null))
  })
  return identities
}

async function identityOf(jwk: JWK): Promise<string | null> {
  let thumbprint: string
  try {
    thumbprint = await calculateJwkThumbprint(jwk, 'sha256')
  } catch {
    // An unsupported or incomplete key: no identity, so nothing cached under it survives a refresh.
    return null
  }
  return JSON.stringify([thumbprint, jwk.alg ?? null, jwk.use ?? null, jwk.key_ops ?? null])
}
