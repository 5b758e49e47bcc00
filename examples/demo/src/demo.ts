/**
 * The demo (`pnpm demo`): a real authorization server (oidc-provider, RFC 9068 JWT access tokens),
 * the SMD-style service (Express) and the BSS-style service (Koa) on loopback ports, and the
 * billing worker. It walks through a node boot (BSS → SMD with BSS's own token), an admin call with
 * a user token that BSS forwards to SMD, a missing scope, a forged and an expired token, a stolen
 * DPoP-bound token (RFC 9449) that is useless without its key, the authorization server going down (cached tokens keep working; a service without one fails
 * closed) and coming back, and prints the audit lines of each step and a summary table.
 */
import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createServiceClient, type ServiceClient } from '@svcauth/client'
import { createBillingWorker } from '@svcauth/example-billing-worker'
import { createBssApp } from '@svcauth/example-bss'
import { createSmdApp } from '@svcauth/example-smd'
import { createHash, randomUUID } from 'node:crypto'
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'
import pino from 'pino'
import { request } from 'undici'
import {
  generateSigningKey,
  restartProvider,
  startProvider,
  type RunningProvider,
  type StartOptions,
} from './authorization-server.js'
import { loginWithPassword } from './login.js'

export interface StepResult {
  readonly step: string
  readonly expected: string
  readonly got: string
  readonly ok: boolean
  /** The audit lines written during the step, abridged. */
  readonly audit: readonly string[]
}

const SECRETS = { bss: 'bss-demo-secret-4f9c2a7e1b', billing: 'billing-demo-secret-8d3e6f0a2c' }

/** A DPoP client key (ES256) and the proofs it signs (RFC 9449 §4.2). */
async function dpopKey(): Promise<{
  proof(method: string, url: string, accessToken?: string): Promise<string>
}> {
  const { privateKey, publicKey } = await generateKeyPair('ES256')
  const jwk: JWK = await exportJWK(publicKey)
  const sign = (key: CryptoKey, claims: Record<string, unknown>) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).sign(key)
  return {
    proof: (method, url, accessToken) =>
      sign(privateKey, {
        jti: randomUUID(),
        htm: method,
        htu: url,
        iat: Math.floor(Date.now() / 1000),
        ...(accessToken === undefined
          ? {}
          : { ath: createHash('sha256').update(accessToken).digest('base64url') }),
      }),
  }
}

/** Collects every log line of the services, so each step can show its own. */
class AuditTrail {
  readonly lines: Record<string, unknown>[] = []
  #mark = 0
  stream(service: string) {
    return {
      write: (chunk: string) => {
        for (const text of chunk.split('\n')) {
          if (text !== '') this.lines.push({ service, ...(JSON.parse(text) as object) })
        }
      },
    }
  }
  /** The lines since the last call, one short string each. */
  take(): string[] {
    const fresh = this.lines.slice(this.#mark)
    this.#mark = this.lines.length
    return fresh
      .filter((l) => l.actor_type !== undefined || l.event === 'billing_run_deferred')
      .map((l) => {
        if (l.actor_type === undefined) {
          return `${String(l.service)}: warn event=${String(l.event)} reason=${String(l.reason)}`
        }
        const req = (l.req ?? {}) as { method?: string; url?: string }
        const res = (l.res ?? {}) as { statusCode?: number }
        const route = typeof l.route === 'string' ? l.route : req.url
        const reason = typeof l.reason === 'string' ? ` reason=${l.reason}` : ''
        const what =
          l.msg === 'audit'
            ? `event=${String(l.event)} target=${String(l.target)}`
            : `${String(req.method)} ${String(route)} → ${String(res.statusCode)}${reason}`
        return `${String(l.service)}: actor_type=${l.actor_type as string} actor_id=${l.actor_id as string} ${what}`
      })
  }
}

async function listen(handler: RequestListener): Promise<{ url: string; server: Server }> {
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

function stop(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections()
    server.close(() => {
      resolve()
    })
  })
}

/**
 * Runs the walk-through and returns one result per step; `print` receives the narration.
 *
 * @example
 * ```ts
 * const results = await runDemo(console.log)
 * process.exitCode = results.every((r) => r.ok) ? 0 : 1
 * ```
 */
export async function runDemo(
  print: (line: string) => void = () => undefined,
): Promise<StepResult[]> {
  const trail = new AuditTrail()
  const results: StepResult[] = []
  const cleanup: (() => Promise<void> | void)[] = []
  const record = (step: string, expected: string, got: string, ok: boolean): void => {
    const result = { step, expected, got, ok, audit: trail.take() }
    results.push(result)
    print(`${ok ? '✔' : '✘'} ${step}\n    expected ${expected}, got ${got}`)
    for (const line of result.audit) print(`    audit  ${line}`)
  }

  try {
    const options: StartOptions = {
      keys: [await generateSigningKey()],
      clients: [
        {
          clientId: 'bss',
          clientSecret: SECRETS.bss,
          authMethod: 'client_secret_basic',
          scope: 'smd.read',
        },
        {
          clientId: 'billing-worker',
          clientSecret: SECRETS.billing,
          authMethod: 'client_secret_basic',
          scope: 'smd.read',
        },
        {
          clientId: 'ochami-cli',
          authMethod: 'none',
          scope: 'openid smd.read smd.write bss.read bss.write',
        },
      ],
      resources: {
        'urn:openchami:smd': { audience: 'smd', scope: 'smd.read smd.write', format: 'jwt' },
        'urn:openchami:smd:brief': { audience: 'smd', scope: 'smd.read', format: 'jwt', ttl: 1 },
        // An admin's token is for the OpenCHAMI API as a whole, so BSS may forward it to SMD.
        'urn:openchami': {
          audience: 'openchami',
          scope: 'smd.read smd.write bss.read bss.write',
          format: 'jwt',
        },
      },
      users: { admin: { password: 'correct horse battery staple', sub: 'alice' } },
    }
    let as: RunningProvider = await startProvider(options)
    cleanup.push(() => as.close())
    print(`authorization server (oidc-provider) at ${as.issuer}`)

    const smd = createSmdApp({
      // DPoP on: SMD also accepts DPoP-bound tokens, each request with its proof (RFC 9449).
      auth: { issuer: as.issuer, audience: ['smd', 'openchami'], clockTolerance: 1, dpop: true },
      audit: { stream: trail.stream('smd') },
    })
    cleanup.push(() => {
      smd.close()
    })
    const smdServer = await listen(smd.app)
    cleanup.push(() => stop(smdServer.server))

    const client = (
      id: 'bss' | 'billing-worker',
      extra: Partial<{ userToken: 'forward' }> = {},
    ): ServiceClient => {
      const svc = createServiceClient({
        issuer: as.issuer,
        clientId: id,
        clientSecret: id === 'bss' ? SECRETS.bss : SECRETS.billing,
        targets: {
          // The resource to request service tokens for, and the audiences SMD accepts: a user's
          // token is forwarded only when its aud names one of them.
          [smdServer.url]: {
            scope: ['smd.read'],
            resource: 'urn:openchami:smd',
            audience: ['smd', 'openchami'],
            ...extra,
          },
        },
        retry: { minDelay: 200, maxDelay: 1000 },
      })
      cleanup.push(() => svc.close())
      return svc
    }
    const bssClient = client('bss', { userToken: 'forward' })
    const bss = createBssApp({
      auth: { issuer: as.issuer, audience: ['bss', 'openchami'] },
      smdUrl: smdServer.url,
      svc: bssClient,
      audit: { stream: trail.stream('bss') },
    })
    cleanup.push(() => {
      bss.close()
    })
    const bssCallback = bss.app.callback()
    const bssServer = await listen((req, res) => {
      void bssCallback(req, res)
    })
    cleanup.push(() => stop(bssServer.server))
    const workerLog = pino({}, trail.stream('billing-worker'))
    print(`SMD (Express) at ${smdServer.url}, BSS (Koa) at ${bssServer.url}\n`)

    const boot = async (): Promise<string> => {
      const res = await request(`${bssServer.url}/boot/v1/bootscript?mac=a4:bf:01:3e:c0:01`)
      const text = await res.body.text()
      return `${res.statusCode}${text.startsWith('#!ipxe') ? ' iPXE script' : ''}`
    }
    const smdGet = (token: string): Promise<string> => smdCall(token, 'Bearer')
    const smdCall = async (token: string, scheme: string, proof?: string): Promise<string> => {
      const res = await request(`${smdServer.url}/hsm/v2/State/Components`, {
        headers: {
          authorization: `${scheme} ${token}`,
          ...(proof === undefined ? {} : { dpop: proof }),
        },
      })
      await res.body.dump()
      const challenge = res.headers['www-authenticate']
      const description =
        typeof challenge === 'string'
          ? /error_description="([^"]*)"/.exec(challenge)?.[1]
          : undefined
      return `${res.statusCode}${description === undefined ? '' : ` (${description})`}`
    }

    // 1. Node boot: no user anywhere; BSS uses its own client-credentials token.
    let got = await boot()
    record(
      'node boot: BSS reads SMD with its own client-credentials token',
      '200 iPXE script',
      got,
      got === '200 iPXE script',
    )

    // 2. An admin logs in (authorization code + PKCE over HTTP, no browser).
    const admin = await loginWithPassword({
      issuer: as.issuer,
      clientId: 'ochami-cli',
      username: 'admin',
      password: 'correct horse battery staple',
      scope: 'openid smd.read smd.write bss.read bss.write',
      resource: 'urn:openchami',
    })
    const claims = decodeJwt(admin)
    got = `sub=${String(claims.sub)} aud=${String(claims.aud)}`
    record(
      'admin login: authorization code + PKCE, no browser',
      'sub=alice aud=openchami',
      got,
      got === 'sub=alice aud=openchami',
    )

    // 3. The admin changes boot parameters; BSS checks the host in SMD with the admin's token.
    const put = await request(`${bssServer.url}/boot/v1/bootparameters`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        hosts: ['x3000c0s19b1n0'],
        params: 'console=ttyS0,115200 ip=dhcp quiet',
        kernel: 'https://boot.openchami.cluster/kernels/vmlinuz-6.6',
        initrd: 'https://boot.openchami.cluster/initrd/initramfs-6.6.img',
      }),
    })
    await put.body.dump()
    const smdSawUser = trail.lines.some(
      (l) =>
        l.service === 'smd' &&
        l.actor_id === 'alice' &&
        l.route === '/hsm/v2/State/Components/:xname',
    )
    got = `${put.statusCode}${smdSawUser ? ', SMD saw alice' : ', SMD did not see alice'}`
    record(
      'admin call: BSS forwards the user token to SMD',
      '200, SMD saw alice',
      got,
      got === '200, SMD saw alice',
    )

    // 4. The billing worker: client credentials only, audited business events.
    const billing = client('billing-worker')
    const worker = createBillingWorker({
      svc: billing,
      clientId: 'billing-worker',
      apiUrl: smdServer.url,
      logger: workerLog,
    })
    const run = await worker.runOnce()
    got = run.ok ? `${run.invoices.length} invoice(s) paid` : `deferred (${run.reason})`
    record(
      'billing worker: client credentials, invoice_paid audited',
      '1 invoice(s) paid',
      got,
      got === '1 invoice(s) paid',
    )

    // 5. Missing scope: the worker's token has smd.read only.
    const write = await billing.fetch(`${smdServer.url}/hsm/v2/State/Components`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ Components: [{ ID: 'x3000c0s22b1n0', State: 'Ready' }] }),
    })
    await write.text()
    got =
      `${write.status} ${write.headers.get('www-authenticate')?.includes('insufficient_scope') === true ? 'insufficient_scope' : ''}`.trim()
    record(
      'missing scope: the worker tries to write to SMD',
      '403 insufficient_scope',
      got,
      got === '403 insufficient_scope',
    )

    // 6. A forged token: the real issuer and kid, signed with an attacker's key.
    const attacker = await generateKeyPair('RS256')
    const forged = await new SignJWT({ client_id: 'bss', scope: 'smd.read smd.write' })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: options.keys?.[0]?.kid ?? '' })
      .setIssuer(as.issuer)
      .setAudience('smd')
      .setSubject('bss')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(attacker.privateKey)
    got = await smdGet(forged)
    record(
      'forged token (real kid, attacker key)',
      '401 (The access token is invalid)',
      got,
      got === '401 (The access token is invalid)',
    )

    // 7. An expired token: a genuine one-second token, used three seconds later.
    const brief = await request(`${as.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`billing-worker:${SECRETS.billing}`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials&scope=smd.read&resource=urn%3Aopenchami%3Asmd%3Abrief',
    })
    const briefToken = ((await brief.body.json()) as { access_token: string }).access_token
    await new Promise((resolve) => setTimeout(resolve, 3000))
    got = await smdGet(briefToken)
    record(
      'expired token',
      '401 (The access token expired)',
      got,
      got === '401 (The access token expired)',
    )

    // 8. A stolen DPoP-bound token: the worker's svcauth client (dpop: true) holds a key and signs
    // a fresh proof for each call; a thief who copied the token (from a log, a proxy) has no key,
    // so neither Bearer nor a proof of their own gets in.
    const holder = createServiceClient({
      issuer: as.issuer,
      clientId: 'billing-worker',
      clientSecret: SECRETS.billing,
      targets: { [smdServer.url]: { scope: ['smd.read'], resource: 'urn:openchami:smd' } },
      dpop: true,
    })
    cleanup.push(() => holder.close())
    const components = `${smdServer.url}/hsm/v2/State/Components`
    const held = await holder.fetch(components)
    await held.text()
    const stolen = await holder.getToken(smdServer.url)
    const thief = await dpopKey()
    const answers = [
      String(held.status),
      await smdCall(stolen, 'Bearer'),
      await smdCall(stolen, 'DPoP', await thief.proof('GET', components, stolen)),
    ]
    got = answers.join(', ')
    const expected = '200, 401 (The access token is invalid), 401 (Invalid DPoP key binding)'
    record(
      'stolen DPoP token: useless as Bearer or with the thief’s own proof',
      expected,
      got,
      got === expected,
    )

    // 9. The authorization server goes down: cached tokens and keys keep everything running.
    await as.close()
    got = await boot()
    record(
      'authorization server down: node boot still works (cached token and keys)',
      '200 iPXE script',
      got,
      got === '200 iPXE script',
    )

    // 10. A service with no token yet fails closed, and retries later.
    const late = createBillingWorker({
      svc: client('billing-worker'),
      clientId: 'billing-worker',
      apiUrl: smdServer.url,
      logger: workerLog,
      retryDelay: 1000,
    })
    const deferred = await late.runOnce()
    got = deferred.ok ? 'paid (unexpected)' : `deferred, retry in ${deferred.retryIn} ms`
    record(
      'authorization server down: a new worker fails closed',
      'deferred, retry in 1000 ms',
      got,
      got === 'deferred, retry in 1000 ms',
    )

    // 11. The authorization server is back: the retry succeeds.
    as = await restartProvider(as, options)
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const retried = await late.runOnce()
    got = retried.ok ? `${retried.invoices.length} invoice(s) paid` : `deferred (${retried.reason})`
    record(
      'authorization server back: the worker’s retry pays',
      '1 invoice(s) paid',
      got,
      got === '1 invoice(s) paid',
    )
  } catch (err) {
    record('demo', 'every step to run', err instanceof Error ? err.message : String(err), false)
  } finally {
    for (const close of cleanup.reverse()) await close()
  }

  const width = Math.max(...results.map((r) => r.step.length))
  print(`\n${'step'.padEnd(width)}  result`)
  for (const r of results)
    print(`${r.step.padEnd(width)}  ${r.ok ? 'ok' : `FAILED (got ${r.got})`}`)
  const failed = results.filter((r) => !r.ok).length
  print(
    failed === 0
      ? `\nall ${results.length} steps behaved as expected`
      : `\n${failed} step(s) did not behave as expected`,
  )
  return results
}
