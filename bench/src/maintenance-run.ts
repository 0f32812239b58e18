/**
 * One maintenance operation in a process of its own, for `maintenance.ts`:
 *   maintenance-run.ts sqlite <file> | pg <url>  cleanup|purge [--apply]
 *   maintenance-run.ts sqlite <file> | pg <url>  delete-user <user-id>
 * Opens the store, then runs the operation as the system the way the CLI
 * does — the report's pages encoded as JSON as they come and written out
 * (to a sink here, so only the byte count is kept) — while sampling the
 * process's resident set every 10 ms. Prints one JSON line: wall time, RSS
 * before, the peak sampled during the run, the process's lifetime maximum
 * (`maxRSS`, start-up included), what was reported, and what the database
 * was asked (statements, the most parameters one bound).
 */
import { cleanupPersonalWorkspaceMembersPages, deleteUser, purgeExpiredInvitesPages, SystemActor, type UserId } from "@tessera/domain"
import { meterStatements } from "@tessera/store-sql/meter"
import * as Pg from "@tessera/store-pg"
import * as Sqlite from "@tessera/store-sqlite"
import { Effect, Option, Redacted, Stream } from "effect"
import { runMeasured } from "./measured.js"

const [kind, location, op, arg] = process.argv.slice(2)
if ((kind !== "sqlite" && kind !== "pg") || location === undefined || op === undefined) {
  throw new Error("usage: maintenance-run.ts sqlite <file> | pg <url>  cleanup|purge [--apply] | delete-user <id>")
}
const apply = arg === "--apply"

const store = kind === "sqlite" ? Sqlite.layer(location) : Pg.layer({ url: Redacted.make(location) })

/** Encodes each page as the CLI's `--json` does and keeps only how much it wrote. */
const drain = <A, E, R>(pages: Stream.Stream<ReadonlyArray<A>, E, R>) =>
  Stream.runFold(pages, { rows: 0, bytes: 0 }, (acc, page) => ({
    rows: acc.rows + page.length,
    bytes: acc.bytes + page.reduce((n, item) => n + JSON.stringify(item).length + 1, 0)
  }))

const operation = op === "cleanup"
  ? drain(cleanupPersonalWorkspaceMembersPages(SystemActor, { apply }))
  : op === "purge"
  ? drain(purgeExpiredInvitesPages(SystemActor, { apply }))
  : op === "delete-user"
  ? Effect.map(deleteUser(SystemActor, arg as UserId, Option.none()), (report): Record<string, unknown> => ({ ...report }))
  : Effect.dieMessage(`unknown operation ${op}`)

runMeasured(Effect.map(meterStatements(operation), ({ counts, result }) => ({ result, ...counts })), store)
