/**
 * Writing a secret to a file that only its owner can read, atomically and without trusting the
 * directory (issue 14 R3). The data goes to a temporary file with an unpredictable name created
 * exclusively (`O_CREAT | O_EXCL`: an existing path, a planted symlink included, is refused
 * rather than followed or reused, POSIX open(2)), its mode is set on the open handle (never by
 * path, which would follow a link swapped in meanwhile), it is fsynced and then renamed over the
 * target. rename(2) replaces a symlink at the target rather than writing through it.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'

/**
 * Replaces `file` with `text`, mode 0600, creating its directory with mode 0700 when missing.
 * Readers see the old or the new content, never a mix; concurrent writers each leave a complete
 * file (the last rename wins). On failure nothing of ours is left behind and the error is thrown.
 */
export async function writePrivateFile(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 })
  // 96 random bits: another local user cannot guess the name to plant a link or file there.
  const tmp = `${file}.${randomBytes(12).toString('hex')}.tmp`
  let handle: FileHandle | undefined
  let created = false
  try {
    handle = await open(tmp, 'wx', 0o600)
    created = true
    // The creation mode is narrowed by the umask; set exactly 0600 on what we opened.
    await handle.chmod(0o600)
    await handle.writeFile(text)
    await handle.sync()
    await handle.close()
    handle = undefined
    await rename(tmp, file)
  } catch (err) {
    await handle?.close().catch(() => undefined)
    // Only a file we created is ours to remove: on EEXIST the path belongs to someone else.
    if (created) await rm(tmp, { force: true }).catch(() => undefined)
    throw err
  }
}
