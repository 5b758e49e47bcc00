/**
 * The `tls` option (the client's, or a target's) resolved at construction (RFC 8705): a client
 * certificate and key, given as PEM (`cert`, `key`) or as files (`certFile`, `keyFile`), and the
 * CAs to trust (`ca` or `caFile`). Files are read and every part checked now (tls-material.ts), so
 * a missing file, a key that is not the certificate's or a CA that does not parse is a TypeError
 * at start-up; later changes to the files are picked up by the reloader (tls-source.ts). Each
 * certificate and each CA gets an `id`: the same files, or the same PEM, give the same id, so
 * that a target naming the client's own files shares its certificate (and its reloads).
 */
import { createHash } from 'node:crypto'
import { resolve } from 'node:path'
import { optionError } from './option-checks.js'
import {
  caMaterial,
  certificateMaterial,
  readAtStart,
  type CaMaterial,
  type CertificateMaterial,
  type MaterialLabels,
  type PemText,
} from './tls-material.js'

/**
 * Mutual TLS for the token endpoint or a target (RFC 8705): a client certificate and its key, as
 * PEM or as files re-read when they change, and the CAs to trust. Give `cert` and `key`, or
 * `certFile` and `keyFile`; `ca` or `caFile` may be added, or given alone (trust only).
 */
export interface ClientTlsOptions {
  /** The client certificate, PEM: the leaf first, then any intermediates. With `key`. */
  cert?: string | Buffer
  /** Its private key, PEM, unencrypted (PKCS #8, SEC 1 or PKCS #1). With `cert`. */
  key?: string | Buffer
  /**
   * The CA certificates, PEM, a server's certificate must chain to. They replace Node's default
   * list for these connections, as Node's own `ca` option does.
   * @default Node's default CAs
   */
  ca?: string | Buffer | readonly (string | Buffer)[]
  /** A file holding `cert`, re-read when it changes (e.g. renewed by step-ca). With `keyFile`. */
  certFile?: string
  /** A file holding `key`, re-read with `certFile`. */
  keyFile?: string
  /** A file holding `ca`, re-read when it changes. */
  caFile?: string
}

/** A checked certificate source: inline PEM, or files to watch. */
export interface CertificateConfig {
  /** The same for the same files or the same PEM. */
  readonly id: string
  readonly labels: MaterialLabels
  readonly files: { readonly cert: string; readonly key: string } | undefined
  readonly initial: CertificateMaterial
}

/** A checked CA source: inline PEM, or a file to watch. */
export interface CaConfig {
  readonly id: string
  readonly label: string
  readonly file: string | undefined
  readonly initial: CaMaterial
}

/** The `tls` option resolved; either part may be absent. */
export interface TlsConfig {
  readonly certificate: CertificateConfig | undefined
  readonly ca: CaConfig | undefined
}

const KNOWN: readonly string[] = ['cert', 'key', 'ca', 'certFile', 'keyFile', 'caFile']

/** Checks a `tls` option; `name` is how messages name it (`tls`, `target https://smd tls`). */
export function resolveTls(name: string, value: unknown): TlsConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    optionError(`${name} must be an object: { cert, key, ca? } or { certFile, keyFile, caFile? }`)
  }
  const given = value as Record<string, unknown>
  for (const member of Object.keys(given)) {
    if (!KNOWN.includes(member)) optionError(`${name}.${member} is not a tls option`)
  }
  for (const part of ['cert', 'key', 'ca'] as const) {
    if (given[part] !== undefined && given[`${part}File`] !== undefined) {
      optionError(`${name}: give ${part} or ${part}File, not both`)
    }
  }
  const certificate = certificateConfig(name, given)
  const ca = caConfig(name, given)
  if (certificate === undefined && ca === undefined) {
    optionError(`${name} must give cert and key, certFile and keyFile, or a CA (ca or caFile)`)
  }
  return Object.freeze({ certificate, ca })
}

function certificateConfig(
  name: string,
  given: Record<string, unknown>,
): CertificateConfig | undefined {
  const { cert, key, certFile, keyFile } = given
  if (cert === undefined && key === undefined && certFile === undefined && keyFile === undefined) {
    return undefined
  }
  if (cert !== undefined || key !== undefined) {
    if (
      cert === undefined ||
      key === undefined ||
      certFile !== undefined ||
      keyFile !== undefined
    ) {
      optionError(`${name}: give cert and key together (or certFile and keyFile)`)
    }
    const labels = { cert: `${name}.cert`, key: `${name}.key` }
    const pemCert = pem(labels.cert, cert)
    const pemKey = pem(labels.key, key)
    return Object.freeze({
      id: `pem:${digest(pemCert)}:${digest(pemKey)}`,
      labels,
      files: undefined,
      initial: certificateMaterial(labels, pemCert, pemKey),
    })
  }
  if (certFile === undefined || keyFile === undefined) {
    optionError(`${name}: give certFile and keyFile together`)
  }
  const files = { cert: path(`${name}.certFile`, certFile), key: path(`${name}.keyFile`, keyFile) }
  const labels = {
    cert: `${name}.certFile (${files.cert})`,
    key: `${name}.keyFile (${files.key})`,
  }
  return Object.freeze({
    id: `file:${files.cert}\n${files.key}`,
    labels,
    files: Object.freeze(files),
    initial: certificateMaterial(
      labels,
      readAtStart(labels.cert, files.cert),
      readAtStart(labels.key, files.key),
    ),
  })
}

function caConfig(name: string, given: Record<string, unknown>): CaConfig | undefined {
  const { ca, caFile } = given
  if (ca !== undefined) {
    const label = `${name}.ca`
    const list = (Array.isArray(ca) ? ca : [ca]).map((item: unknown) => pem(label, item))
    return Object.freeze({
      id: `pem:${list.map(digest).join(':')}`,
      label,
      file: undefined,
      initial: caMaterial(label, list),
    })
  }
  if (caFile === undefined) return undefined
  const file = path(`${name}.caFile`, caFile)
  const label = `${name}.caFile (${file})`
  return Object.freeze({
    id: `file:${file}`,
    label,
    file,
    initial: caMaterial(label, [readAtStart(label, file)]),
  })
}

function pem(label: string, value: unknown): PemText {
  if ((typeof value === 'string' && value !== '') || Buffer.isBuffer(value)) return value
  return optionError(`${label} must be PEM text (a non-empty string or a Buffer)`)
}

/** An absolute path: relative ones are resolved now, so a later chdir changes nothing. */
function path(label: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') optionError(`${label} must be a non-empty path`)
  return resolve(value)
}

function digest(text: PemText): string {
  return createHash('sha256').update(text).digest('base64url')
}
