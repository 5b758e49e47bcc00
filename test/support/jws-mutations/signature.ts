/**
 * Signature mutations (RFC 7515 §5.2, RFC 7518 §3): bit flips, truncation, padding bytes,
 * signatures of other tokens, DER-encoded and high-S ECDSA, non-canonical Ed25519, PSS salt
 * lengths, another padding or digest, MACs keyed with public key material, `alg: none`.
 */
import { createHmac } from 'node:crypto'
import { b64u, signAs, type Draft } from '../jws-draft.js'
import { m, post, skip, type Mutation } from './mutation.js'

/** The signature segment, decoded, edited and encoded again. */
const editSignature = (edit: (s: Buffer, t: string) => Buffer) => (token: string) => {
  const dot = token.lastIndexOf('.')
  return `${token.slice(0, dot)}.${b64u(edit(Buffer.from(token.slice(dot + 1), 'base64url'), token))}`
}

/** ECDSA r || s (P1363) to DER: SEQUENCE { INTEGER r, INTEGER s } (RFC 3279 §2.2.3). */
function derFromP1363(sig: Buffer): Buffer {
  const int = (b: Buffer): Buffer => {
    let i = 0
    while (i < b.length - 1 && b[i] === 0) i++
    const v = b.subarray(i)
    const body = (v[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v
    return Buffer.concat([Buffer.from([0x02, body.length]), body])
  }
  const half = sig.length / 2
  const body = Buffer.concat([int(sig.subarray(0, half)), int(sig.subarray(half))])
  const len = body.length < 128 ? Buffer.from([body.length]) : Buffer.from([0x81, body.length])
  return Buffer.concat([Buffer.from([0x30]), len, body])
}

const ORDERS: Readonly<Record<string, bigint>> = {
  ES256: BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551'),
  ES384: BigInt(
    '0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973',
  ),
  ES512: BigInt(
    '0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409',
  ),
}
const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n

const isEc = (d: Draft): boolean => d.signer.alg.startsWith('ES')
const isEd = (d: Draft): boolean => d.signer.alg === 'EdDSA' || d.signer.alg === 'Ed25519'

export const signatureMutations: Mutation[] = [
  ...[0, 1, 2, 3].map((k) =>
    m('signature', `bit flip #${k}`, (d, c) => {
      const at = c.random()
      const bit = 1 << Math.floor(c.random() * 8)
      d.post.push(
        editSignature((s) => {
          const out = Buffer.from(s)
          const i = Math.floor(at * out.length)
          if (out.length > 0) out[i] = (out[i] as number) ^ bit
          return out
        }),
      )
    }),
  ),
  post(
    'signature',
    'truncated by one byte',
    editSignature((s) => s.subarray(0, -1)),
  ),
  post(
    'signature',
    'truncated to half',
    editSignature((s) => s.subarray(0, s.length >> 1)),
  ),
  post(
    'signature',
    'empty',
    editSignature(() => Buffer.alloc(0)),
  ),
  post(
    'signature',
    'a zero byte prepended',
    editSignature((s) => Buffer.concat([Buffer.from([0]), s])),
  ),
  post(
    'signature',
    'a zero byte appended',
    editSignature((s) => Buffer.concat([s, Buffer.from([0])])),
  ),
  post(
    'signature',
    'all zero',
    editSignature((s) => Buffer.alloc(s.length)),
  ),
  post(
    'signature',
    'all ones',
    editSignature((s) => Buffer.alloc(s.length, 0xff)),
  ),
  m('signature', 'from another token of the same key', (d, c) => {
    const other = c.sibling(d)
    d.signature = () => other.slice(other.lastIndexOf('.') + 1)
  }),
  m('signature', 'a character of the payload changed', (d, c) => {
    const at = c.random()
    d.post.push((t) => {
      const [h, p, s] = t.split('.') as [string, string, string]
      const i = Math.floor(at * (p.length - 1))
      const swapped = p[i] === 'A' ? 'B' : 'A'
      return `${h}.${p.slice(0, i)}${swapped}${p.slice(i + 1)}.${s}`
    })
  }),
  m('signature', 'DER-encoded ECDSA', (d) => {
    if (!isEc(d)) skip()
    d.post.push(editSignature((s) => derFromP1363(s)))
  }),
  m('signature', 'ECDSA high-S (n - s)', (d) => {
    const n = ORDERS[d.signer.alg]
    if (n === undefined) skip()
    d.post.push(
      editSignature((sig) => {
        const half = sig.length / 2
        const s = BigInt(`0x${sig.subarray(half).toString('hex')}`)
        const high = Buffer.from((n - s).toString(16).padStart(half * 2, '0'), 'hex')
        return Buffer.concat([sig.subarray(0, half), high])
      }),
    )
  }),
  m('signature', 'Ed25519 S + L (non-canonical S)', (d) => {
    if (!isEd(d)) skip()
    d.post.push(
      editSignature((sig) => {
        const s = BigInt(`0x${Buffer.from(sig.subarray(32)).reverse().toString('hex')}`) + ED25519_L
        const bytes = Buffer.from(s.toString(16).padStart(64, '0'), 'hex').reverse()
        return Buffer.concat([sig.subarray(0, 32), bytes.subarray(0, 32)])
      }),
    )
  }),
  ...[0, 20, 48, 64].map((saltLength) =>
    m('signature', `PSS salt length ${saltLength}`, (d) => {
      if (!d.signer.alg.startsWith('PS')) skip()
      if (saltLength === Number(d.signer.alg.slice(2)) / 8) skip()
      d.signature = (input) =>
        b64u(signAs(d.signer.alg, d.signer.privateKey, input, { saltLength }))
    }),
  ),
  m('signature', 'RSA signed with PSS under an RS header (and the reverse)', (d) => {
    const alg = d.signer.alg
    if (!/^(RS|PS)/.test(alg)) skip()
    const other = `${alg.startsWith('RS') ? 'PS' : 'RS'}${alg.slice(2)}`
    d.signature = (input) => b64u(signAs(other, d.signer.privateKey, input))
  }),
  m('signature', 'signed with another digest', (d) => {
    const alg = d.signer.alg
    if (!/^(RS|PS|ES)/.test(alg)) skip()
    const other = `${alg.slice(0, 2)}${alg.endsWith('256') ? '384' : '256'}`
    d.signature = (input) => b64u(signAs(other, d.signer.privateKey, input))
  }),
  ...['HS256', 'HS384'].map((alg) =>
    m('signature', `${alg} keyed with public key material`, (d, c) => {
      const secrets = c.options.publicSecrets
      const secret = secrets[Math.floor(c.random() * secrets.length)] ?? ''
      d.header.alg = alg
      d.signature = (input) =>
        createHmac(`sha${alg.slice(2)}`, secret)
          .update(input)
          .digest('base64url')
    }),
  ),
  m('signature', 'alg none, no signature', (d) => {
    d.header.alg = 'none'
    d.signature = () => ''
  }),
]
