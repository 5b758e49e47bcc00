/**
 * A token endpoint on loopback that refuses client credentials the way some authorization servers
 * (and proxies in front of them) do: a 401 or 403 with no OAuth error body, where RFC 6749 §5.2
 * asks for JSON `invalid_client`. It issues a token for the one secret it knows and counts requests.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { basicAuthorization } from '@svcauth/client'

export interface BareRefusalServer {
  readonly tokenEndpoint: string
  /** The Authorization header of every token request, in order. */
  readonly seen: (string | undefined)[]
  close(): Promise<void>
}

export interface Refusal {
  readonly status: 401 | 403
  readonly body?: string
  readonly headers?: Readonly<Record<string, string>>
}

export async function startBareRefusalServer(
  clientId: string,
  secret: string,
  refusal: Refusal = { status: 401 },
): Promise<BareRefusalServer> {
  const seen: (string | undefined)[] = []
  const good = basicAuthorization(clientId, secret)
  let issued = 0
  const server: Server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      seen.push(req.headers.authorization)
      if (req.headers.authorization !== good) {
        res.writeHead(refusal.status, refusal.headers)
        res.end(refusal.body ?? '')
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          access_token: `bare-${String(++issued)}`,
          token_type: 'Bearer',
          expires_in: 3600,
        }),
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    tokenEndpoint: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/oauth2/token`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => {
          resolve()
        })
      }),
  }
}
