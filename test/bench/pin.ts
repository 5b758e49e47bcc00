/**
 * CPU pinning with taskset(1) (util-linux): the HTTP section puts the load generator and the
 * server on different cores, the verification section puts this whole process, every thread of it
 * (`-a`: the libuv pool that runs WebCrypto too), on one core. Without taskset nothing is pinned
 * and the headings say so.
 */
import { spawnSync } from 'node:child_process'
import { cpus } from 'node:os'
import process from 'node:process'

export const CAN_PIN = spawnSync('taskset', ['-c', '0', 'true']).status === 0
/** Load generator and servers on cores of their own: needs two of them. */
export const PIN_HTTP = CAN_PIN && cpus().length >= 2

/** The affinity this process started with ("0-1", "0,2"), to return to after a section. */
const original = CAN_PIN
  ? (/:\s*(\S+)\s*$/.exec(
      spawnSync('taskset', ['-c', '-p', String(process.pid)], { encoding: 'utf8' }).stdout,
    )?.[1] ?? `0-${String(cpus().length - 1)}`)
  : ''

/** Pins every thread of this process to `cpuList` (taskset -c syntax). */
export function pinSelf(cpuList: string): void {
  if (CAN_PIN)
    spawnSync('taskset', ['-a', '-p', '-c', cpuList, String(process.pid)], { stdio: 'ignore' })
}

/** Returns every thread to the affinity the process started with. */
export function unpinSelf(): void {
  if (CAN_PIN) pinSelf(original)
}
