/**
 * Client authentication encodings shared by introspection (core) and the token endpoint (client):
 * RFC 6749 §2.3.1 says the id and secret of `client_secret_basic` are each form-urlencoded
 * (Appendix B) before base64; plain `base64(id:secret)` breaks on `:`, `%`, `+` and non-ASCII.
 */

/** `application/x-www-form-urlencoded` encoding of one value (space as `+`). */
export function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2)
}

/**
 * The `Authorization` header for `client_secret_basic`.
 *
 * @example
 * ```ts
 * basicAuthorization('1PpG/Q 1', 's3cret') // 'Basic MVBwRyUyRlErMTpzM2NyZXQ='
 * ```
 */
export function basicAuthorization(clientId: string, secret: string): string {
  const credentials = `${formEncode(clientId)}:${formEncode(secret)}`
  return `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`
}
