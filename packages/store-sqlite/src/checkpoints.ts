/**
 * WAL checkpoints off the commit path.
 *
 * SQLite's automatic checkpoint runs inside the `COMMIT` that takes the WAL
 * past `wal_autocheckpoint` pages: that one commit copies the WAL's pages
 * into the database file and syncs both. better-sqlite3 is synchronous, so
 * the commit that happens to cross the line blocks this process's event loop
 * (and holds its one connection) for the whole copy: a 1 ms move measured
 * 3–6 ms on such commits, and every request waiting meanwhile waited as long.
 *
 * Instead a worker thread with a connection of its own runs `PRAGMA
 * wal_checkpoint(PASSIVE)` every `CHECKPOINT_EVERY_MS`: the copy and its
 * syncs happen on another thread while this one keeps committing. A passive
 * checkpoint takes no lock a reader or writer waits for; it copies what no
 * reader still needs, and the next writer after a complete one starts the
 * WAL again from its beginning, so the WAL holds what was written since
 * about the last interval.
 *
 * Writes that never pause would keep the WAL from ever starting again:
 * each checkpoint completes only up to the frames it found, and commits made
 * meanwhile are left for the next, so no writer ever finds it wholly copied,
 * and the WAL grew without bound (over 600 MB in a minute of redemptions)
 * while everything that read through it slowed down. So the client's
 * connections keep SQLite's own checkpoint at commit, but at
 * `WAL_BOUND_FRAMES` rather than SQLite's 1,000: it runs only once the WAL
 * holds that many frames, which writes with pauses never reach, and then
 * has only the frames committed since the worker's last pass to copy; it
 * completes, and the next write starts the WAL again. Several
 * processes on one file each run one; at most one checkpoints at a time (the
 * others find it busy and try again on their next tick). Durability is
 * unchanged: a commit is in the WAL when `COMMIT` returns, checkpointed or
 * not (docs/operations.md).
 */
import { createRequire } from "node:module"
import { Worker } from "node:worker_threads"
import { Effect } from "effect"

export const CHECKPOINT_EVERY_MS = 100

/** WAL frames (pages) at which a commit checkpoints on its own connection: the WAL stays within about this many. */
export const WAL_BOUND_FRAMES = 4096

/** What the last checkpoint found: WAL frames, frames now in the database file, whether another checkpointer had it. */
export interface CheckpointResult {
  readonly busy: boolean
  readonly log: number
  readonly checkpointed: number
}

export interface Checkpoints {
  /** Checkpoints run so far, the last one's result, and the last error a tick met. */
  readonly read: () => { readonly runs: number; readonly last: CheckpointResult | undefined; readonly error: string | undefined }
}

// CommonJS run by the worker (`eval`): no file to resolve, whether this package runs from src or dist
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads")
const Database = require(workerData.driver)
const messageOf = (error) => (error instanceof Error ? error.message : String(error))
let db
try {
  db = new Database(workerData.filename, { fileMustExist: true })
  db.pragma("busy_timeout = 0") // never waits: a checkpoint already running elsewhere makes this tick's busy
} catch (error) {
  parentPort.postMessage({ failed: messageOf(error) })
  process.exit(1)
}
const passive = db.prepare("PRAGMA wal_checkpoint(PASSIVE)")
const checkpoint = () => {
  try {
    const row = passive.get()
    parentPort.postMessage({ busy: row.busy === 1, log: row.log, checkpointed: row.checkpointed })
  } catch (error) {
    parentPort.postMessage({ error: messageOf(error) }) // this tick's; the next tries again
  }
}
const timer = setInterval(checkpoint, workerData.every)
parentPort.on("message", () => {
  clearInterval(timer)
  checkpoint()
  db.close()
  parentPort.close()
})
`

/**
 * A worker checkpointing `filename` every `every` ms until the enclosing scope closes (after one last
 * checkpoint). `onFailure` is called if the worker itself fails (it cannot open the file, or crashes), so the
 * caller can checkpoint otherwise; a tick that fails is only recorded, and the next tries again.
 */
export const checkpointer = (
  filename: string,
  onFailure: (reason: string) => void,
  every = CHECKPOINT_EVERY_MS
) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const worker = new Worker(WORKER, {
        eval: true,
        workerData: { filename, every, driver: createRequire(import.meta.url).resolve("better-sqlite3") }
      })
      worker.unref() // never what keeps a process alive
      let runs = 0
      let last: CheckpointResult | undefined
      let error: string | undefined
      const fail = (reason: string) => {
        error = reason
        onFailure(reason)
      }
      worker.on("message", (message: CheckpointResult | { error: string } | { failed: string }) => {
        if ("failed" in message) return fail(message.failed)
        if ("error" in message) {
          error = message.error
          return
        }
        runs++
        last = message
      })
      worker.on("error", (failure) => fail(failure.message))
      const stopped = new Promise<void>((resolve) => worker.once("exit", () => resolve()))
      const checkpoints: Checkpoints = { read: () => ({ runs, last, error }) }
      return { worker, stopped, checkpoints }
    }),
    ({ stopped, worker }) =>
      Effect.promise(() => {
        worker.ref() // closing waits for the last checkpoint
        worker.postMessage("stop")
        return stopped
      })
  ).pipe(Effect.map(({ checkpoints }) => checkpoints))
