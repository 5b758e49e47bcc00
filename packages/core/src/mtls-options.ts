/**
 * The `mtls` option of `authenticate()` (RFC 8705, issue 19), checked and frozen once at
 * construction: a mistake is a TypeError at start-up.
 */
import { BlockList, isIP } from 'node:net'
import { fail } from './lib/checks.js'

/**
 * How a TLS-terminating proxy passes the client certificate on:
 * - `'pem-urlencoded'`: the URL-encoded PEM (nginx `$ssl_client_escaped_cert`, HAProxy, Caddy);
 * - `'xfcc'`: Envoy's `x-forwarded-client-cert` (`Hash=`, `Cert=` of the element the nearest
 *   proxy added, the last one);
 * - `'der-base64'`: base64 (or base64url) of the DER, PEM armour optional (Traefik).
 */
export type ClientCertificateFormat = 'pem-urlencoded' | 'xfcc' | 'der-base64'

/** Where the client certificate of a request comes from, and whether one is required. */
export interface MtlsOptions {
  /**
   * Read the certificate from this request header instead of the TLS socket; only from a
   * `trustedProxies` address (anyone else's header is ignored, and logged once). @default the socket
   */
  header?: string
  /** The header's format. @default 'pem-urlencoded' ('xfcc' when `header` is x-forwarded-client-cert) */
  format?: ClientCertificateFormat
  /** Addresses or CIDR ranges of the proxies allowed to set `header`, e.g. `['10.0.0.0/8']`. */
  trustedProxies?: readonly string[]
  /** Refuse tokens that are not certificate-bound. @default false */
  required?: boolean
}

/** The resolved `mtls` option. */
export interface ResolvedMtlsOptions {
  readonly required: boolean
  /** The header to read (lower case), with its format and the proxies allowed to set it. */
  readonly header:
    | {
        readonly name: string
        readonly format: ClientCertificateFormat
        readonly trusted: BlockList
      }
    | undefined
}

const FORMATS: ReadonlySet<string> = new Set(['pem-urlencoded', 'xfcc', 'der-base64'])
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

export function resolveMtls(value: unknown): ResolvedMtlsOptions | undefined {
  if (value === undefined || value === false) return undefined
  if (value !== true && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    fail('mtls must be true, false or an object')
  }
  const options = (value === true ? {} : value) as MtlsOptions
  const required = options.required ?? false
  if (typeof required !== 'boolean') fail('mtls.required must be a boolean')
  if (options.header === undefined) {
    if (options.format !== undefined || options.trustedProxies !== undefined) {
      fail('mtls.format and mtls.trustedProxies apply only with mtls.header')
    }
    return Object.freeze({ required, header: undefined })
  }
  const name = options.header
  if (typeof name !== 'string' || !HEADER_NAME.test(name)) {
    fail('mtls.header must be a header name')
  }
  const lower = name.toLowerCase()
  const format = options.format ?? (lower === 'x-forwarded-client-cert' ? 'xfcc' : 'pem-urlencoded')
  if (typeof format !== 'string' || !FORMATS.has(format)) {
    fail(`mtls.format must be one of ${[...FORMATS].join(', ')}`)
  }
  return Object.freeze({
    required,
    header: Object.freeze({ name: lower, format, trusted: trustedProxies(options.trustedProxies) }),
  })
}

/** The proxies' addresses as a BlockList (addresses and CIDR ranges, IPv4 and IPv6). */
function trustedProxies(value: unknown): BlockList {
  if (!Array.isArray(value) || value.length === 0) {
    fail('mtls.trustedProxies must list the proxies allowed to set mtls.header')
  }
  const list = new BlockList()
  for (const entry of value) {
    if (typeof entry !== 'string') fail('mtls.trustedProxies entries must be strings')
    const [address = '', bits, ...rest] = entry.split('/')
    const family = isIP(address)
    if (family === 0 || rest.length > 0)
      fail(`mtls.trustedProxies: ${entry} is not an address or CIDR`)
    const type = family === 4 ? 'ipv4' : 'ipv6'
    if (bits === undefined) {
      list.addAddress(address, type)
      continue
    }
    const prefix = Number(bits)
    if (!/^\d{1,3}$/.test(bits) || prefix > (family === 4 ? 32 : 128)) {
      fail(`mtls.trustedProxies: ${entry} has a bad prefix length`)
    }
    list.addSubnet(address, prefix, type)
  }
  return list
}
