/**
 * A real `redis-server` for tests (issue 21: never a mock), on a free loopback port, with no
 * persistence (`--save ''`, `--appendonly no`), so a restart loses every key, as a crashed cache
 * node does. Fault helpers: `kill()` (SIGKILL: down), `pause()`/`resume()` (SIGSTOP/SIGCONT: the
 * connection stays up and nothing answers, i.e. slow), `restart()` (same port, data lost).
 * Debian's `redis-server` package provides the binary (`.ci/run` installs it when missing).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface RedisServer {
  readonly port: number
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string
  /** Stops it gracefully (SIGTERM) and removes its directory. */
  stop(): Promise<void>
  /** SIGKILL: gone at once, connections reset. */
  kill(): Promise<void>
  /** SIGSTOP: connections stay open, nothing is answered. */
  pause(): void
  /** SIGCONT after `pause()`. */
  resume(): void
  /** Kills it (if running) and starts a new one on the same port: every key is lost. */
  restart(): Promise<void>
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port)
        else reject(new Error('no port'))
      })
    })
  })
}

async function launch(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    process.env.REDIS_SERVER ?? 'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--logfile',
      '',
      '--loglevel',
      'notice',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  await new Promise<void>((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`redis-server did not start on ${port}: ${output}`))
    }, 10_000)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer)
        child.stdout?.off('data', onData)
        child.stdout?.resume()
        resolve()
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()))
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`redis-server exited with ${code}: ${output}`))
    })
    child.once('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
  })
  return child
}

async function ended(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve()
    })
  })
  // A stopped process would not act on SIGTERM until continued.
  child.kill('SIGCONT')
  child.kill(signal)
  await exit
}

/** Starts a redis-server on a free loopback port; resolves once it accepts connections. */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'svcauth-redis-'))
  let child = await launch(port, dir)
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      await ended(child, 'SIGTERM')
      rmSync(dir, { recursive: true, force: true })
    },
    async kill() {
      await ended(child, 'SIGKILL')
    },
    pause() {
      child.kill('SIGSTOP')
    },
    resume() {
      child.kill('SIGCONT')
    },
    async restart() {
      await ended(child, 'SIGKILL')
      child = await launch(port, dir)
    },
  }
}
