/** The HTTP benchmark's contenders: each bare framework, svcauth's adapter, and the peers users would pick instead. */
export const CONTENDERS = [
  'bare-express',
  'svcauth-express',
  'express-oauth2-jwt-bearer',
  'express-jwt+jwks-rsa',
  'bare-koa',
  'svcauth-koa',
  'koa-jwt+jwks-rsa',
  // The same adapters with `dpop` on, sent a DPoP-bound token and a fresh proof every request.
  'svcauth-express-dpop',
  'svcauth-koa-dpop',
] as const
export type Contender = (typeof CONTENDERS)[number]
