/**
 * The b64token syntax (RFC 6750 §2.1) every token must have before it goes into an
 * `Authorization` header, so no CR/LF or space can reach one: issued tokens, forwarded user
 * tokens and registration access tokens are all checked against it.
 */
export const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/
