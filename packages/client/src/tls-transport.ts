/**
 * One TLS configuration's connections (RFC 8705): an undici Agent whose connections present the
 * client certificate (if any) and trust the CAs (if any) of the current material. When either
 * changes (a renewal), a new Agent is made for the new material and the old one is retired: calls
 * are no longer routed to it, it finishes what it has, and it is closed after `RETIRE_MS` (a token
 * request that took its connections just before the change still goes out on them). So a connection
 * never switches certificate, and no TLS session made with the old certificate is resumed with
 * the new one (each Agent has its own session cache): a server always sees, on a connection, the
 * certificate a token sent on it was chosen for.
 */
import { Agent } from 'undici'
import type { CaMaterial, CertificateMaterial } from './lib/tls-material.js'
import type { Versioned } from './tls-source.js'

/** How long a retired Agent stays open for requests handed to it just before a renewal, ms. */
export const RETIRE_MS = 30_000

/** The Agent for the current material, and the certificate its connections present. */
export interface Connections {
  readonly agent: Agent
  /** `x5t#S256` of the client certificate presented; undefined when none is. */
  readonly certificate: string | undefined
}

export class TlsTransport {
  readonly certificate: Versioned<CertificateMaterial> | undefined
  readonly ca: Versioned<CaMaterial> | undefined
  #connections: Connections | undefined
  /** The versions of the certificate and the CAs the current Agent was made from. */
  #certificateVersion = -1
  #caVersion = -1
  readonly #retired = new Set<Agent>()

  constructor(
    certificate: Versioned<CertificateMaterial> | undefined,
    ca: Versioned<CaMaterial> | undefined,
  ) {
    this.certificate = certificate
    this.ca = ca
  }

  /** The connections for the current material (made when it changed since the last call). */
  current(): Connections {
    const cert = this.certificate?.current()
    const ca = this.ca?.current()
    const certificateVersion = this.certificate?.version ?? 0
    const caVersion = this.ca?.version ?? 0
    if (
      this.#connections !== undefined &&
      certificateVersion === this.#certificateVersion &&
      caVersion === this.#caVersion
    ) {
      return this.#connections
    }
    this.#retire(this.#connections?.agent)
    const agent = new Agent({
      connect: {
        ...(cert === undefined ? {} : { cert: cert.cert, key: cert.key }),
        ...(ca === undefined ? {} : { ca: [...ca.ca] }),
      },
    })
    this.#certificateVersion = certificateVersion
    this.#caVersion = caVersion
    this.#connections = Object.freeze({ agent, certificate: cert?.thumbprint })
    return this.#connections
  }

  /** Closes (or with `destroy`, destroys) every Agent, the current one and the retired ones. */
  async close(destroy = false): Promise<void> {
    const agents = [...this.#retired, ...(this.#connections ? [this.#connections.agent] : [])]
    this.#retired.clear()
    this.#connections = undefined
    await Promise.all(agents.map((a) => (destroy ? a.destroy() : a.close()).catch(() => undefined)))
  }

  #retire(agent: Agent | undefined): void {
    if (agent === undefined) return
    this.#retired.add(agent)
    setTimeout(() => {
      if (this.#retired.delete(agent)) void agent.close().catch(() => undefined)
    }, RETIRE_MS).unref()
  }
}
