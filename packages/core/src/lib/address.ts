/**
 * What kind of place a URL's host names, judged by the address bytes rather than the spelling
 * (catalogue L2, issue 14 R2). Input is `URL#hostname`: WHATWG URL parsing has already turned
 * every IPv4 spelling (`2852039166`, `0xa9.254.169.254`, `127.1`) into dotted decimal and every
 * IPv6 spelling into its compressed hex form, so those are the two shapes parsed here; any other
 * hostname is a name and is judged by name only (no DNS lookup happens at policy time).
 *
 * An IPv4-mapped address (`::ffff:0:0/96`, RFC 4291 §2.5.5.2) is the IPv4 address: a dual-stack
 * socket connects to it over IPv4, so it is judged exactly as that address. The translation forms
 * (IPv4-compatible `::/96`, RFC 4291 §2.5.5.1; SIIT `::ffff:0:0:0/96`, RFC 2765 §2.1; NAT64
 * `64:ff9b::/96` and `64:ff9b:1::/48`, RFC 6052 §2.2 and RFC 8215; 6to4 `2002::/16`, RFC 3056 §2)
 * are `non-global` when they wrap a special IPv4 address: no real endpoint has one (a NAT64 or
 * 6to4 address must embed a global IPv4 address), and a tunnel or translator may deliver it to the
 * machine it runs on or to its metadata service.
 */

/** The places discovery metadata must not send us to (or only from a loopback issuer). */
export type HostKind =
  'loopback' | 'link-local' | 'unspecified' | 'cloud-metadata' | 'non-global' | 'other'

// AWS's IMDS over IPv6 (it sits in unique-local space, so no prefix rule covers it) and Alibaba
// Cloud's metadata service (inside 100.64.0.0/10, which clusters use for pods, so only the one
// address). Azure, GCP, Oracle and AWS over IPv4 use 169.254.169.254, which is link-local.
const AWS_IMDS_V6 = [0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54]
const ALIBABA_METADATA = [100, 100, 100, 200]
const METADATA_NAMES = new Set(['metadata.google.internal'])

/**
 * Classifies a URL hostname: `localhost` and `*.localhost` are loopback by name (RFC 6761 §6.3);
 * IP literals by their bytes after unwrapping IPv4-in-IPv6 forms; other names are `other`.
 */
export function hostKind(hostname: string): HostKind {
  const name = hostname.toLowerCase().replace(/\.$/, '')
  if (name === 'localhost' || name.endsWith('.localhost')) return 'loopback'
  if (METADATA_NAMES.has(name)) return 'cloud-metadata'
  const v4 = parseIpv4(name)
  if (v4 !== undefined) return ipv4Kind(v4)
  if (!name.startsWith('[') || !name.endsWith(']')) return 'other'
  const v6 = parseIpv6(name.slice(1, -1))
  return v6 === undefined ? 'other' : ipv6Kind(v6)
}

function ipv4Kind(b: readonly number[]): HostKind {
  if (b[0] === 127) return 'loopback'
  if (b[0] === 0) return 'unspecified' // 0.0.0.0/8, "this network": connect() reaches this host
  if (b[0] === 169 && b[1] === 254) return 'link-local'
  if (sameBytes(b, ALIBABA_METADATA)) return 'cloud-metadata'
  return 'other'
}

function ipv6Kind(b: readonly number[]): HostKind {
  if (zeros(b, 0, 16)) return 'unspecified'
  if (zeros(b, 0, 15) && b[15] === 1) return 'loopback'
  if (zeros(b, 0, 10) && b[10] === 0xff && b[11] === 0xff) return ipv4Kind(b.slice(12))
  const v4 = translatedIpv4(b)
  if (v4 !== undefined) return ipv4Kind(v4) === 'other' ? 'other' : 'non-global'
  if (b[0] === 0xfe && ((b[1] ?? 0) & 0xc0) === 0x80) return 'link-local' // fe80::/10
  if (sameBytes(b, AWS_IMDS_V6)) return 'cloud-metadata'
  return 'other'
}

/** The IPv4 address wrapped by a translation form named in the header, else undefined. */
function translatedIpv4(b: readonly number[]): number[] | undefined {
  if (zeros(b, 0, 12)) return b.slice(12)
  if (zeros(b, 0, 8) && b[8] === 0xff && b[9] === 0xff && zeros(b, 10, 12)) return b.slice(12)
  const nat64 = b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b
  if (nat64 && zeros(b, 4, 12)) return b.slice(12)
  if (nat64 && b[4] === 0 && b[5] === 1) return [...b.slice(6, 8), ...b.slice(9, 11)]
  if (b[0] === 0x20 && b[1] === 0x02) return b.slice(2, 6)
  return undefined
}

function zeros(b: readonly number[], from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false
  return true
}

/** Dotted decimal only, as URL serialises it: four parts, 0–255, no leading zeros. */
function parseIpv4(text: string): number[] | undefined {
  const parts = text.split('.')
  if (parts.length !== 4) return undefined
  const out: number[] = []
  for (const part of parts) {
    if (!/^(?:0|[1-9]\d{0,2})$/.test(part)) return undefined
    const n = Number(part)
    if (n > 255) return undefined
    out.push(n)
  }
  return out
}

/** RFC 4291 §2.2 text (with `::` and an IPv4 tail) to 16 bytes; undefined when malformed. */
function parseIpv6(text: string): number[] | undefined {
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const compressed = halves.length === 2
  const head = groups(halves[0] ?? '', !compressed)
  const tail = compressed ? groups(halves[1] ?? '', true) : []
  if (head === undefined || tail === undefined) return undefined
  const missing = 8 - head.length - tail.length
  if (compressed ? missing < 1 : missing !== 0) return undefined
  const words = [...head, ...new Array<number>(missing).fill(0), ...tail]
  return words.flatMap((w) => [w >> 8, w & 0xff])
}

/** Colon-separated 16-bit groups; the last may be a dotted IPv4 address when `v4Tail`. */
function groups(part: string, v4Tail: boolean): number[] | undefined {
  if (part === '') return []
  const pieces = part.split(':')
  const out: number[] = []
  for (const [i, piece] of pieces.entries()) {
    if (v4Tail && i === pieces.length - 1 && piece.includes('.')) {
      const v4 = parseIpv4(piece)
      if (v4 === undefined) return undefined
      out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0))
    } else if (/^[0-9a-f]{1,4}$/.test(piece)) {
      out.push(parseInt(piece, 16))
    } else {
      return undefined
    }
  }
  return out
}

function sameBytes(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}
