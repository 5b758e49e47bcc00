/**
 * A user's own undici Agent that resolves every host name to loopback, so that tests can reach
 * a server on 127.0.0.1 under a name that is not loopback (`http://hydra.test:4444`), as an
 * in-cluster service would be named. `connect` options go to `net.connect`, whose `lookup` is
 * Node's DNS hook (Node docs: `net.connect(options)`, `socket.connect(options)`).
 */
import type { LookupFunction } from 'node:net'
import { Agent } from 'undici'

const toLoopback: LookupFunction = (_hostname, options, callback) => {
  if (options.all === true) callback(null, [{ address: '127.0.0.1', family: 4 }])
  else callback(null, '127.0.0.1', 4)
}

/**
 * @example
 * ```ts
 * const agent = namedAgent()
 * await request('http://hydra.test:4444/health', { dispatcher: agent }) // reaches 127.0.0.1:4444
 * ```
 */
export function namedAgent(): Agent {
  return new Agent({ connect: { lookup: toLoopback } })
}

/** `url` with its loopback host `127.0.0.1` renamed to `name`. */
export function renamed(url: string, name: string): string {
  return url.replace('//127.0.0.1:', `//${name}:`)
}
