/**
 * Encoding mutations of the compact form (RFC 7515 §2 and §7.1, RFC 4648 §5): padding, non-zero
 * spare bits, the `+/` alphabet, dangling characters, extra, missing and empty segments,
 * whitespace, non-ASCII and NUL characters, and standard base64 re-signed.
 */
import { m, post, skip, type Mutation } from './mutation.js'

/** Spare bits of the last character of a segment whose length is 2 or 3 mod 4, set. */
function spareBits(segment: string): string {
  const rest = segment.length & 3
  if (rest !== 2 && rest !== 3) skip()
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const value = alphabet.indexOf(segment.slice(-1))
  return segment.slice(0, -1) + alphabet.charAt(value | 1)
}

/** An edit of one segment of the final string; one that changes nothing does not apply. */
const segmentEdit = (name: string, part: 0 | 1 | 2, edit: (s: string) => string) =>
  m('encoding', `${name} (segment ${part})`, (d) => {
    d.post.push((t) => {
      const parts = t.split('.')
      const edited = edit(parts[part] ?? '')
      if (edited === parts[part]) skip()
      parts[part] = edited
      return parts.join('.')
    })
  })

export const encodingMutations: Mutation[] = [
  ...([0, 1, 2] as const).flatMap((part) => [
    segmentEdit('"=" padding', part, (s) => `${s}=`),
    segmentEdit('"==" padding', part, (s) => `${s}==`),
    segmentEdit('non-zero spare bits', part, spareBits),
    segmentEdit('"+" for "-"', part, (s) =>
      s.includes('-') ? s.replace('-', '+') : `+${s.slice(1)}`,
    ),
    segmentEdit('"/" for "_"', part, (s) =>
      s.includes('_') ? s.replace('_', '/') : `/${s.slice(1)}`,
    ),
    segmentEdit('a dangling character', part, (s) => `${s}A`),
    segmentEdit('a space inside', part, (s) => `${s.slice(0, 4)} ${s.slice(4)}`),
    segmentEdit('a newline inside', part, (s) => `${s.slice(0, 4)}\n${s.slice(4)}`),
    segmentEdit('a non-ASCII character', part, (s) => `${s.slice(0, 4)}é${s.slice(4)}`),
    segmentEdit('emptied', part, () => ''),
  ]),
  post('encoding', 'an extra segment', (t) => `${t}.AAAA`),
  post('encoding', 'an extra empty segment', (t) => `${t}.`),
  post('encoding', 'a leading dot', (t) => `.${t}`),
  post('encoding', 'signature segment missing', (t) => t.slice(0, t.lastIndexOf('.'))),
  post('encoding', 'payload segment missing', (t) =>
    t
      .split('.')
      .filter((_, i) => i !== 1)
      .join('.'),
  ),
  post('encoding', 'a doubled dot', (t) => t.replace('.', '..')),
  post('encoding', 'leading whitespace', (t) => ` ${t}`),
  post('encoding', 'trailing newline', (t) => `${t}\n`),
  post('encoding', 'a NUL character appended', (t) => `${t}\u0000`),
  post('encoding', 'standard base64 payload', (t) => {
    const [h, p, s] = t.split('.') as [string, string, string]
    const standard = Buffer.from(p, 'base64url').toString('base64')
    if (standard === p) skip()
    return `${h}.${standard}.${s}`
  }),
  m('encoding', 'payload re-signed in standard base64 with padding', (d) => {
    const signature = d.signature
    d.post.push((t) => {
      const [h, p] = t.split('.') as [string, string, string]
      const standard = Buffer.from(p, 'base64url').toString('base64')
      if (standard === p) skip()
      return `${h}.${standard}.${signature(`${h}.${standard}`)}`
    })
  }),
  m('encoding', 'payload re-signed with "=" padding', (d) => {
    const signature = d.signature
    d.post.push((t) => {
      const [h, p] = t.split('.') as [string, string, string]
      const padded = p.padEnd(Math.ceil(p.length / 4) * 4, '=')
      if (padded === p) skip()
      return `${h}.${padded}.${signature(`${h}.${padded}`)}`
    })
  }),
]
