/**
 * A downstream service on loopback that records the Authorization header of every request and
 * answers from a programmable script (default 200 with the seen header).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Seen {
  readonly method: string
  readonly path: string
  readonly authorization: string | undefined
  readonly body: string
}

export interface Downstream {
  readonly origin: string
  readonly seen: Seen[]
  /** Decides the answer; return undefined for the default 200. */
  respond:
    | ((
        req: Seen,
        n: number,
      ) => { status: number; headers?: Record<string, string>; body?: string } | undefined)
    | undefined
  close(): Promise<void>
}

export async function startDownstream(host = '127.0.0.1'): Promise<Downstream> {
  const seen: Seen[] = []
  const state: Downstream = {
    origin: '',
    seen,
    respond: undefined,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => {
          resolve()
        })
      }),
  }
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const entry: Seen = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        authorization: req.headers.authorization,
        body: Buffer.concat(chunks).toString('utf8'),
      }
      seen.push(entry)
      const answer = state.respond?.(entry, seen.length)
      if (answer === undefined) {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ authorization: entry.authorization ?? null, body: entry.body }))
        return
      }
      res.writeHead(answer.status, answer.headers)
      res.end(answer.body ?? '')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  Object.assign(state, { origin: `http://${host}:${(server.address() as AddressInfo).port}` })
  return state
}
