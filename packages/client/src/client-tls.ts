/**
 * The client's mutual TLS (RFC 8705), assembled from the resolved `tls` options: one source per
 * distinct certificate and per distinct CA (the same files or PEM share one, and so its reloads),
 * one transport per pair in use (tls-transport.ts), and the routes of the calls' dispatcher
 * (tls-dispatcher.ts):
 * - token requests and discovery use the client's `tls`;
 * - an https target uses its own `tls` when it has one, no client TLS at all with `tls: false`,
 *   and the client's `tls` otherwise; an http target, and any origin outside the targets, a plain
 *   Agent (no client certificate is shown to a server that gets no token).
 * A renewed client certificate is logged (`client_certificate_reloaded`: its subject, `x5t#S256`
 * and expiry, all public), a failed reload too (`client_certificate_reload_failed`, error level,
 * naming the file, never its content); listeners hear of the thumbprint replaced, so that the
 * tokens bound to it are dropped.
 */
import { Agent, type Dispatcher } from 'undici'
import { caMaterial, certificateMaterial, readForReload } from './lib/tls-material.js'
import type { CaMaterial, CertificateMaterial } from './lib/tls-material.js'
import type { CaConfig, CertificateConfig, TlsConfig } from './lib/tls-options.js'
import type { ClientLogger } from './options.js'
import type { ResolvedTarget } from './targets.js'
import { TlsRouter } from './tls-dispatcher.js'
import { Fixed, Watched, type Versioned } from './tls-source.js'
import { TlsTransport } from './tls-transport.js'

/** How many replaced thumbprints a certificate source remembers. */
const HISTORY = 8

export interface ClientTls {
  /** The dispatcher downstream calls go through: each origin to its TLS configuration's Agent. */
  readonly calls: TlsRouter
  /** The client's `tls` connections for token requests; undefined without a client `tls`. */
  readonly tokens: TlsTransport | undefined
  /** A dispatcher for discovery that follows the client's `tls` through renewals. */
  readonly discovery: Dispatcher | undefined
  /** Calls `listener` with the thumbprint of a client certificate a renewal replaced. */
  onReplaced(listener: (thumbprint: string) => void): void
}

/** Assembles the TLS of a client; undefined when neither the client nor a target has `tls`. */
export function createClientTls(
  tls: TlsConfig | undefined,
  targets: ReadonlyMap<string, ResolvedTarget>,
  logger: ClientLogger | undefined,
): ClientTls | undefined {
  const targetTls = [...targets.values()].map((t) => t.tls)
  if (tls === undefined && targetTls.every((t) => t === undefined)) return undefined

  const listeners: ((thumbprint: string) => void)[] = []
  const history = new Map<Versioned<CertificateMaterial>, string[]>()
  const certificates = new Map<string, Versioned<CertificateMaterial>>()
  const cas = new Map<string, Versioned<CaMaterial>>()
  const transports = new Map<string, TlsTransport>()

  const certificateSource = (config: CertificateConfig): Versioned<CertificateMaterial> => {
    let source = certificates.get(config.id)
    if (source === undefined) {
      source = watchCertificate(config, logger, (replaced) => {
        const seen = history.get(source as Versioned<CertificateMaterial>) ?? []
        history.set(source as Versioned<CertificateMaterial>, [replaced, ...seen].slice(0, HISTORY))
        if (source === client?.certificate) for (const listener of listeners) listener(replaced)
      })
      certificates.set(config.id, source)
    }
    return source
  }
  const caSource = (config: CaConfig): Versioned<CaMaterial> => {
    let source = cas.get(config.id)
    if (source === undefined) {
      source = watchCa(config, logger)
      cas.set(config.id, source)
    }
    return source
  }
  const transportFor = (config: TlsConfig): TlsTransport => {
    const key = `${config.certificate?.id ?? ''}|${config.ca?.id ?? ''}`
    let transport = transports.get(key)
    if (transport === undefined) {
      transport = new TlsTransport(
        config.certificate === undefined ? undefined : certificateSource(config.certificate),
        config.ca === undefined ? undefined : caSource(config.ca),
      )
      transports.set(key, transport)
    }
    return transport
  }

  const client = tls === undefined ? undefined : transportFor(tls)
  const routes = new Map<string, TlsTransport | undefined>()
  for (const target of targets.values()) {
    if (!target.origin.startsWith('https:')) continue
    const own = target.tls
    routes.set(
      target.origin,
      own === false ? undefined : own === undefined ? client : transportFor(own),
    )
  }
  const route = (origin: string): TlsTransport | undefined => routes.get(origin)
  const wasOnce = (transport: TlsTransport, thumbprint: string): boolean =>
    transport.certificate !== undefined &&
    (history.get(transport.certificate)?.includes(thumbprint) ?? false)

  const plain = new Agent()
  const shutdown = async (destroy: boolean): Promise<void> => {
    for (const source of [...certificates.values(), ...cas.values()]) source.close()
    await Promise.all([
      ...[...transports.values()].map((t) => t.close(destroy)),
      (destroy ? plain.destroy() : plain.close()).catch(() => undefined),
    ])
  }
  return {
    calls: new TlsRouter(route, plain, wasOnce, shutdown),
    tokens: client,
    // Discovery's requests go wherever the issuer's metadata lives: always the client's TLS.
    discovery:
      client === undefined
        ? undefined
        : new TlsRouter(
            () => client,
            plain,
            wasOnce,
            () => Promise.resolve(),
          ),
    onReplaced(listener) {
      listeners.push(listener)
    },
  }
}

function watchCertificate(
  config: CertificateConfig,
  logger: ClientLogger | undefined,
  replaced: (thumbprint: string) => void,
): Versioned<CertificateMaterial> {
  const { files, labels } = config
  if (files === undefined) return new Fixed(config.initial)
  return new Watched<CertificateMaterial>(
    [files.cert, files.key],
    config.initial,
    async (current) => {
      const [cert, key] = await Promise.all([
        readForReload(labels.cert, files.cert),
        readForReload(labels.key, files.key),
      ])
      if (same(cert, current.cert) && same(key, current.key)) return current
      return certificateMaterial(labels, cert, key)
    },
    {
      changed(previous, next) {
        logger?.info?.(
          {
            event: 'client_certificate_reloaded',
            file: files.cert,
            subject: next.subject.replaceAll('\n', ', '),
            x5t_s256: next.thumbprint,
            previous_x5t_s256: previous.thumbprint,
            valid_to: next.validTo,
          },
          'svcauth: client certificate reloaded; new connections present it',
        )
        if (next.thumbprint !== previous.thumbprint) replaced(previous.thumbprint)
      },
      failed(err) {
        logger?.error(
          { event: 'client_certificate_reload_failed', file: files.cert, error: messageOf(err) },
          'svcauth: client certificate files changed but cannot be used; the current certificate stays in use',
        )
      },
    },
  )
}

function watchCa(config: CaConfig, logger: ClientLogger | undefined): Versioned<CaMaterial> {
  const { file, label } = config
  if (file === undefined) return new Fixed(config.initial)
  return new Watched<CaMaterial>(
    [file],
    config.initial,
    async (current) => {
      const ca = await readForReload(label, file)
      const [before] = current.ca
      if (before !== undefined && same(ca, before)) return current
      return caMaterial(label, [ca])
    },
    {
      changed() {
        logger?.info?.({ event: 'tls_ca_reloaded', file }, 'svcauth: trusted CAs reloaded')
      },
      failed(err) {
        logger?.error(
          { event: 'tls_ca_reload_failed', file, error: messageOf(err) },
          'svcauth: CA file changed but cannot be used; the current CAs stay in use',
        )
      },
    },
  )
}

function same(read: Buffer, current: string | Buffer): boolean {
  return typeof current === 'string' ? read.toString('utf8') === current : read.equals(current)
}

/** A reload's failure: our TypeErrors name files only; a file system error names its path. */
function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
