/**
 * Client TLS material for mutual TLS (RFC 8705): a client certificate with its private key, and
 * the CAs a server's certificate must chain to, as PEM text. Everything is checked when it is
 * read, at construction and again at every reload: the certificate parses (the first PEM block is
 * the leaf; the rest of a chain, as step-ca writes it, goes along in the handshake), the key parses,
 * is not encrypted and belongs to the certificate, and every CA block parses. A failure is a
 * TypeError naming the option and never quoting the material (node's own messages are not kept:
 * they may). The leaf's `x5t#S256` (RFC 8705 §3.1) is what tokens bound to it carry.
 */
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { optionError } from './option-checks.js'

/** PEM text, as a string or as the bytes of a file. */
export type PemText = string | Buffer

/** A client certificate and its key, checked. */
export interface CertificateMaterial {
  /** The certificate PEM (the leaf, then any chain), as given. */
  readonly cert: PemText
  readonly key: PemText
  /** RFC 8705 §3.1: base64url SHA-256 of the leaf's DER. */
  readonly thumbprint: string
  /** The leaf's subject, one RDN per line as node prints it (for logs: it is public). */
  readonly subject: string
  /** The leaf's notAfter, as node prints it. */
  readonly validTo: string
}

/** The CAs to trust, checked: the blocks as given. */
export interface CaMaterial {
  readonly ca: readonly PemText[]
}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

/** How messages name the certificate and the key: the option, and the file when there is one. */
export interface MaterialLabels {
  readonly cert: string
  readonly key: string
}

/** Checks a certificate and its key. */
export function certificateMaterial(
  labels: MaterialLabels,
  cert: PemText,
  key: PemText,
): CertificateMaterial {
  let leaf: X509Certificate
  try {
    leaf = new X509Certificate(cert)
  } catch {
    return optionError(`${labels.cert} is not a PEM certificate`)
  }
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey(key)
  } catch {
    return optionError(`${labels.key} is not an unencrypted PEM private key`)
  }
  if (privateKey.type !== 'private' || !leaf.checkPrivateKey(privateKey)) {
    optionError(`${labels.key} does not match ${labels.cert}`)
  }
  return Object.freeze({
    cert,
    key,
    thumbprint: createHash('sha256').update(leaf.raw).digest('base64url'),
    subject: leaf.subject,
    validTo: leaf.validTo,
  })
}

/** Checks CA text (`label` names the option): one or more PEM certificates, each of which parses. */
export function caMaterial(label: string, ca: readonly PemText[]): CaMaterial {
  let blocks = 0
  for (const text of ca) {
    const pem = typeof text === 'string' ? text : text.toString('latin1')
    for (const block of pem.match(CERTIFICATE_BLOCK) ?? []) {
      try {
        new X509Certificate(block)
      } catch {
        optionError(`${label} holds a PEM block that is not a certificate`)
      }
      blocks++
    }
  }
  if (blocks === 0) optionError(`${label} holds no PEM certificate`)
  return Object.freeze({ ca: Object.freeze([...ca]) })
}

/** Reads a file at construction; an unreadable one is a TypeError naming it (`label`). */
export function readAtStart(label: string, file: string): Buffer {
  try {
    return readFileSync(file)
  } catch (err) {
    return optionError(`${label} cannot be read (${errorCode(err)})`)
  }
}

/** Reads a file for a reload; the error names it (`label`) and its errno code only. */
export async function readForReload(label: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file)
  } catch (err) {
    return optionError(`${label} cannot be read (${errorCode(err)})`)
  }
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : 'unknown error'
}
