/**
 * A BSS-style boot script service (OpenCHAMI's Boot Script Service, `/boot/v1`) on Koa.
 * - `GET /boot/v1/bootscript?mac=|name=|nid=` is public (iPXE on a booting node calls it) and
 *   reads SMD with BSS's **own** client-credentials token: no user is involved in a node boot.
 * - `/boot/v1/bootparameters` (GET/POST/PUT/PATCH/DELETE) needs a token (`bss.read` to read,
 *   `bss.write` to change) and checks the hosts against SMD with the **caller's** token forwarded,
 *   so SMD sees and audits the admin, not BSS.
 * Differences from real BSS: boot parameters live in memory; the script is a minimal iPXE script;
 * real BSS enforces no scopes and caches SMD's state instead of reading it per boot.
 */
import Router, { type RouterContext } from '@koa/router'
import { isUserTokenRefusedError, type ServiceClient } from '@svcauth/client'
import {
  auditLogger,
  authenticate,
  outbound,
  requireScopes,
  type AuditContext,
  type AuditLoggerOptions,
  type AuthenticateOptions,
  type AuthState,
  type OutboundContext,
} from '@svcauth/koa'
import Koa, { type Context } from 'koa'
import type { Logger } from 'pino'

export interface BootParams {
  hosts: string[]
  macs?: string[]
  params: string
  kernel: string
  initrd: string
}

export interface BssOptions {
  readonly auth: AuthenticateOptions
  /** SMD's origin, e.g. `http://127.0.0.1:27779`: a target of `svc`. */
  readonly smdUrl: string
  /** The outbound client (its targets include `smdUrl`). */
  readonly svc: ServiceClient
  /** BSS's own address, for the retry chain in boot scripts. */
  readonly publicUrl?: string
  readonly audit?: AuditLoggerOptions
}

export interface Bss {
  readonly app: Koa<AuthState, AuditContext>
  readonly logger: Logger
  close(): void
}

type Ctx = RouterContext<AuthState, OutboundContext & AuditContext>

/** RFC 7807 problem details, as BSS writes them. */
function problem(ctx: Context, status: number, title: string, detail: string): void {
  ctx.status = status
  ctx.type = 'application/problem+json'
  ctx.body = JSON.stringify({ type: 'about:blank', title, detail, status })
}

const DEFAULT: BootParams = {
  hosts: ['Default'],
  params: 'console=ttyS0,115200 ip=dhcp',
  kernel: 'https://boot.openchami.cluster/kernels/vmlinuz-6.1',
  initrd: 'https://boot.openchami.cluster/initrd/initramfs-6.1.img',
}

/**
 * Builds the service.
 *
 * @example
 * ```ts
 * const svc = createServiceClient({ issuer, clientId: 'bss', clientSecret, targets: { [smdUrl]: { scope: ['smd.read'], audience: 'smd', userToken: 'forward' } } })
 * const bss = createBssApp({ auth: { issuer, audience: 'bss' }, smdUrl, svc })
 * bss.app.listen(27778)
 * ```
 */
export function createBssApp(options: BssOptions): Bss {
  const { smdUrl, svc } = options
  const store = new Map<string, BootParams>([['Default', DEFAULT]])
  const app = new Koa<AuthState, AuditContext>()
  const audit = auditLogger(options.audit)
  app.use(audit)
  const open = new Router<AuthState, AuditContext>({ prefix: '/boot/v1' })

  open.get('/bootscript', async (ctx) => {
    const { mac, name, nid } = ctx.query
    if (typeof mac !== 'string' && typeof name !== 'string' && typeof nid !== 'string') {
      problem(ctx, 400, 'Bad Request', 'Need a mac=, name=, or nid= parameter')
      return
    }
    // No user here: this call carries BSS's own client-credentials token.
    const [components, interfaces] = await Promise.all([
      smdJson(svc.fetch.bind(svc), `${smdUrl}/hsm/v2/State/Components?type=Node`),
      smdJson(svc.fetch.bind(svc), `${smdUrl}/hsm/v2/Inventory/EthernetInterfaces?type=Node`),
    ])
    if (!components.ok || !interfaces.ok) {
      problem(
        ctx,
        502,
        'Bad Gateway',
        `SMD answered ${components.ok ? interfaces.status : components.status}`,
      )
      return
    }
    const nodes = (components.body as { Components: { ID: string; NID: number }[] }).Components
    const nics = interfaces.body as { MACAddress: string; ComponentID: string }[]
    const xname =
      typeof name === 'string'
        ? nodes.find((n) => n.ID === name)?.ID
        : typeof nid === 'string'
          ? nodes.find((n) => String(n.NID) === nid)?.ID
          : nics.find((i) => i.MACAddress.toLowerCase() === String(mac).toLowerCase())?.ComponentID
    if (xname === undefined) {
      problem(ctx, 404, 'Not Found', 'no node in SMD matches the request')
      return
    }
    const boot = store.get(xname) ?? DEFAULT
    const self = options.publicUrl ?? ''
    ctx.type = 'text/plain; charset=UTF-8'
    ctx.body = [
      '#!ipxe',
      `kernel --name kernel ${boot.kernel} ${boot.params} xname=${xname} || goto boot_retry`,
      `initrd --name initrd ${boot.initrd} || goto boot_retry`,
      'boot || goto boot_retry',
      ':boot_retry',
      'sleep 30',
      `chain ${self}/boot/v1/bootscript?mac=\${net0/mac}&retry=1`,
      '',
    ].join('\n')
  })
  app.use(open.routes()).use(open.allowedMethods())

  const authn = authenticate(options.auth)
  const api = new Router<AuthState, OutboundContext & AuditContext>({ prefix: '/boot/v1' })
  api.use('/bootparameters', authn, outbound(svc))

  api.get('/bootparameters', requireScopes('bss.read'), (ctx) => {
    const name = typeof ctx.query.name === 'string' ? ctx.query.name : undefined
    ctx.body = [...store.values()].filter((b) => name === undefined || b.hosts.includes(name))
  })
  const write = async (ctx: Ctx, replace: boolean): Promise<void> => {
    const body = await readJson(ctx)
    if (!isBootParams(body, replace)) {
      problem(
        ctx,
        400,
        'Bad Request',
        'hosts and, to create or replace, params, kernel and initrd are required',
      )
      return
    }
    // The caller's token goes to SMD: SMD decides whether this admin may see these nodes.
    for (const host of body.hosts) {
      let res: Awaited<ReturnType<Ctx['outbound']['fetch']>>
      try {
        res = await ctx.outbound.fetch(
          `${smdUrl}/hsm/v2/State/Components/${encodeURIComponent(host)}`,
        )
      } catch (err) {
        // fetch wraps the dispatcher's error: a token not issued for SMD is the caller's problem.
        if (isUserTokenRefusedError((err as { cause?: unknown }).cause)) {
          problem(ctx, 403, 'Forbidden', 'your token is not issued for SMD')
          return
        }
        throw err
      }
      await res.body?.cancel()
      if (res.status === 404) {
        problem(ctx, 400, 'Bad Request', `${host} is not a component in SMD`)
        return
      }
      if (res.status !== 200) {
        problem(
          ctx,
          res.status === 401 || res.status === 403 ? 403 : 502,
          'Forbidden',
          `SMD answered ${res.status} for ${host}`,
        )
        return
      }
    }
    for (const host of body.hosts) {
      const current = store.get(host)
      const next =
        replace || current === undefined
          ? { ...DEFAULT, ...body, hosts: [host] }
          : { ...current, ...body, hosts: [host] }
      store.set(host, next)
      ctx.audit('bootparameters_updated', { target: host, method: ctx.method })
    }
    ctx.status = ctx.method === 'POST' ? 201 : 200
    ctx.body = body.hosts.map((h) => store.get(h))
  }
  api.post('/bootparameters', requireScopes('bss.write'), (ctx) => write(ctx, true))
  api.put('/bootparameters', requireScopes('bss.write'), (ctx) => write(ctx, true))
  api.patch('/bootparameters', requireScopes('bss.write'), (ctx) => write(ctx, false))
  api.delete('/bootparameters', requireScopes('bss.write'), async (ctx) => {
    const body = await readJson(ctx)
    const hosts = (body as { hosts?: unknown } | undefined)?.hosts
    if (!Array.isArray(hosts) || !hosts.every((h) => typeof h === 'string' && h !== 'Default')) {
      problem(ctx, 400, 'Bad Request', 'hosts (not Default) are required')
      return
    }
    for (const host of hosts as string[]) {
      if (store.delete(host)) ctx.audit('bootparameters_deleted', { target: host })
    }
    ctx.status = 204
  })
  app.use(api.routes()).use(api.allowedMethods())

  return {
    app,
    logger: audit.logger,
    close: () => {
      authn.authenticator.close()
    },
  }
}

async function smdJson(
  fetch: ServiceClient['fetch'],
  url: string,
): Promise<{ ok: boolean; status: number; body: unknown }> {
  const res = await fetch(url)
  if (res.status !== 200) {
    await res.body?.cancel()
    return { ok: false, status: res.status, body: undefined }
  }
  return { ok: true, status: 200, body: await res.json() }
}

/** A small JSON body reader (64 KiB cap); undefined when the body is not JSON. */
async function readJson(ctx: Context): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > 65_536) return undefined
    chunks.push(chunk)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown
  } catch {
    return undefined
  }
}

function isBootParams(value: unknown, complete: boolean): value is BootParams {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  const hosts = v.hosts
  if (
    !Array.isArray(hosts) ||
    hosts.length === 0 ||
    !hosts.every((h) => typeof h === 'string' && /^x\d+c\d+s\d+b\d+n\d+$/.test(h))
  )
    return false
  const fields = ['params', 'kernel', 'initrd'] as const
  return fields.every((f) => (v[f] === undefined ? !complete : typeof v[f] === 'string'))
}
