/**
 * @tessera/store-sqlite — the ports on one SQLite file.
 *
 * Several processes may share the file (a server and the CLI beside it), so
 * the client runs in WAL mode with a busy timeout, and every write
 * transaction begins `IMMEDIATE`: it takes the file's write lock before its
 * first read, so a read-then-guarded-write can never be interleaved by
 * another process, and waiting writers queue on the busy timeout instead of
 * failing a lock upgrade.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import { SqlClient } from "@effect/sql"
import * as Statement from "@effect/sql/Statement"
import { SqliteClient } from "@effect/sql-sqlite-node"
import {
  type DirectStatements,
  loadMigrations,
  migrationsOf,
  type MigrationDialect,
  PortsLive,
  PoolUsage,
  type SyncConnection,
  SyncWriter
} from "@tessera/store-sql"
import Database from "better-sqlite3"
import { mkdirSync } from "node:fs"
import { dirname } from "node:path"
import { Context, Effect, Layer, Schema } from "effect"
import { checkpointer, WAL_BOUND_FRAMES } from "./checkpoints.js"
import { preparedOn } from "./prepared.js"
import { readerLayer } from "./reader.js"
import { turns } from "./transactor.js"

export const migrationsDir = migrationsOf(import.meta.url)
export const migrations = () => loadMigrations(migrationsDir)

const ForeignKeyViolation = Schema.Struct({
  table: Schema.String,
  rowid: Schema.NullOr(Schema.Number),
  parent: Schema.String
})
const decodeViolations = Schema.decodeUnknown(Schema.Array(ForeignKeyViolation))

const pragma = (statement: string) => Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(statement))

/**
 * The migration lock is the `BEGIN IMMEDIATE` of each step's transaction
 * itself. A step that adds a constraint must rebuild its table, and dropping
 * a table that others reference would, with foreign keys on, run their
 * `ON DELETE` actions (deleting every workspace's members). So each step runs
 * as SQLite prescribes for schema changes (lang_altertable.html#otheralter):
 * foreign keys off outside the transaction (the pragma does nothing inside
 * one), `PRAGMA foreign_key_check` before commit (any row fails the step),
 * and foreign keys on again afterwards however the step ended. The client is
 * one connection, so the pragmas apply to the connection the step uses.
 */
export const dialect: MigrationDialect = {
  lock: Effect.void,
  beforeStep: Effect.asVoid(pragma("PRAGMA foreign_keys = OFF")),
  afterStep: Effect.asVoid(pragma("PRAGMA foreign_keys = ON")),
  check: pragma("PRAGMA foreign_key_check").pipe(
    Effect.flatMap((rows) => Effect.orDie(decodeViolations(rows))),
    Effect.map((rows) =>
      rows.map((row) => `foreign key violation: ${row.table} row ${row.rowid ?? "?"} refers to a missing ${row.parent} row`)
    )
  )
}

export const BUSY_TIMEOUT_MS = 15_000

/** What every connection that writes runs with: the busy timeout, foreign keys, and WAL's usual durability. */
const WRITER_PRAGMAS = [`busy_timeout = ${BUSY_TIMEOUT_MS}`, "foreign_keys = ON", "synchronous = NORMAL"]

/** How every write transaction begins: holding the file's write lock from its first statement. */
const BEGIN = "BEGIN IMMEDIATE"

/** SQLite's default automatic checkpoint, restored on the connection if the checkpoint worker fails. */
const AUTOCHECKPOINT_PAGES = 1000

/**
 * A `SqlClient` on `filename` whose transactions begin `IMMEDIATE`. Its one
 * connection is taken by statements and transactions in arrival order
 * (`transactor.ts`); `PoolUsage` says whether it is held and how many wait.
 * A file (not `:memory:`) also gets `SyncWriter`, a second connection lent
 * for one synchronous call within the same turns (store-sql `grants.ts`).
 */
export const clientLayer = (filename: string): Layer.Layer<SqlClient.SqlClient | PoolUsage> =>
  Layer.scopedContext(
    Effect.gen(function*() {
      if (filename !== ":memory:") mkdirSync(dirname(filename), { recursive: true })
      const base = yield* SqliteClient.make({ filename })
      for (const pragma of WRITER_PRAGMAS) yield* base.unsafe(`PRAGMA ${pragma}`)
      // checkpoints run on a worker, never inside a commit (checkpoints.ts); should the worker fail, SQLite's own come back
      let fallBack = (_reason: string) => {}
      const checkpoints = filename === ":memory:" ? undefined : yield* checkpointer(filename, (reason) => fallBack(reason))
      if (checkpoints !== undefined) yield* base.unsafe(`PRAGMA wal_autocheckpoint = ${WAL_BOUND_FRAMES}`)
      // held for the client's lifetime: from here on `turns` alone decides who runs on it
      const { during, take, usage } = turns(yield* base.reserve)
      const client = yield* SqlClient.make({
        acquirer: take,
        transactionAcquirer: take,
        compiler: Statement.makeCompilerSqlite(),
        spanAttributes: [["db.system.name", "sqlite"]],
        beginTransaction: BEGIN
      })
      fallBack = (reason) =>
        Effect.runFork(Effect.zipRight(
          Effect.logWarning(`SQLite checkpoints: the worker failed (${reason}); the connection checkpoints on commit again`),
          Effect.ignore(client.unsafe(`PRAGMA wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`))
        ))
      const context = Context.make(SqlClient.SqlClient, client).pipe(Context.add(PoolUsage, {
        read: () => {
          const { busy, waiting } = usage()
          return { max: 1, open: 1, inUse: busy ? 1 : 0, waiting }
        }
      }))
      // a file by its path only: `:memory:`, `""` (a temporary database) or a URI would give a second connection another database
      if (filename === ":memory:" || filename === "" || filename.startsWith("file:")) return context
      // a second connection for writes run in one synchronous call (store-sql grants.ts), only ever within this
      // process's turn: it and the client never write at once, so neither waits on the other's lock
      const writer = yield* Effect.acquireRelease(
        Effect.sync(() => {
          const db = new Database(filename)
          for (const pragma of WRITER_PRAGMAS) db.pragma(pragma)
          db.pragma(`wal_autocheckpoint = ${checkpoints !== undefined ? WAL_BOUND_FRAMES : AUTOCHECKPOINT_PAGES}`)
          return db
        }),
        (db) => Effect.sync(() => db.close())
      )
      const statementOf = preparedOn(writer)
      const connection: SyncConnection = {
        all: (text, params) => {
          const statement = statementOf(text)
          return statement.reader ? statement.all(...params) as ReadonlyArray<Record<string, unknown>> : (statement.run(...params), [])
        },
        inTransaction: () => writer.inTransaction
      }
      // an optional service, found with `Effect.serviceOption` (store-sql's FastGrantRedemptionLive): not in the type
      return Context.add(context, SyncWriter, {
        begin: BEGIN,
        lend: (use) => during(() => use(connection))
      }) as unknown as typeof context
    }).pipe(Effect.orDie)
  ).pipe(Layer.provide(Reactivity.layer))

/**
 * The store's connections to the file `filename`: `clientLayer`'s, and a
 * second, read-only one for the hottest reads (`reader.ts`).
 */
export const connectionsLayer = (filename: string): Layer.Layer<SqlClient.SqlClient | PoolUsage | DirectStatements> =>
  readerLayer(filename, BUSY_TIMEOUT_MS).pipe(Layer.provideMerge(clientLayer(filename)))

/**
 * Every port on the SQLite file, plus its `SqlClient`; `:memory:` (one
 * connection's own database) has no second connection.
 */
export const layer = (filename: string) =>
  filename === ":memory:"
    ? PortsLive.pipe(Layer.provideMerge(clientLayer(filename)))
    : PortsLive.pipe(Layer.provideMerge(connectionsLayer(filename)))
