/**
 * @tessera/store-pg — the ports on PostgreSQL.
 *
 * Transactions run READ COMMITTED. Single-use and last-seat rules are
 * guarded writes (`UPDATE … WHERE status = 'pending' RETURNING`): a
 * concurrent writer blocks on the row lock, re-checks the guard after the
 * winner commits, and sees that it lost. Migrators serialise on a
 * transaction-scoped advisory lock.
 *
 * The hot statements (`preparedAs` in store-sql: the permission check's
 * walks) are sent as named statements, parsed and planned once per
 * connection instead of on every call; everything else goes unnamed.
 */
import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { PgClient } from "@effect/sql-pg"
import {
  DirectStatements,
  directStatements,
  loadMigrations,
  migrationsOf,
  type MigrationDialect,
  NUMBERING_TEXT,
  NumberingConnection,
  PooledWriter,
  PortsLive,
  PoolUsage
} from "@tessera/store-sql"
import { type Context, Duration, Effect, Layer, Redacted } from "effect"
import pg from "pg"

export const migrationsDir = migrationsOf(import.meta.url)
export const migrations = () => loadMigrations(migrationsDir)

/** An arbitrary constant naming Tessera's migration lock. */
const MIGRATION_LOCK_KEY = 7_350_001

/** PostgreSQL changes constraints in place (`ALTER TABLE … ADD CONSTRAINT`), so a step needs no wrapping. */
export const dialect: MigrationDialect = {
  lock: Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`).pipe(
    Effect.asVoid
  ),
  beforeStep: Effect.void,
  afterStep: Effect.void,
  check: Effect.succeed([])
}

export interface PgOptions {
  readonly url: Redacted.Redacted<string>
  readonly maxConnections?: number
  /**
   * Send the hot statements as named (prepared) statements; default `true`.
   * Off for a pooler that does not keep a session per client (PgBouncer in
   * transaction mode).
   */
  readonly preparedStatements?: boolean
}

const PREPARE_MARKER = /^\/\* tessera:prepare ([a-z_]+) \*\//
/** More distinct marked texts than Tessera has is a bug upstream; past this they go unnamed rather than pile up. */
const MAX_NAMED = 64

/**
 * The statement name for a marked text: the marker's name and a hash of the
 * whole text, so two texts never share a name (node-postgres refuses that).
 */
const namer = () => {
  const names = new Map<string, string | undefined>()
  return (text: string): string | undefined => {
    const known = names.get(text)
    if (known !== undefined || names.has(text)) return known
    const marked = PREPARE_MARKER.exec(text)
    if (marked === null || names.size >= MAX_NAMED) return undefined
    let hash = 0x811c9dc5
    for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193)
    const name = `tessera_${marked[1]}_${(hash >>> 0).toString(16)}`
    names.set(text, name)
    return name
  }
}

/**
 * A node-postgres client that sends marked statements named: the server
 * parses and plans them once per connection (after five runs PostgreSQL
 * keeps a generic plan when it is no worse), then only binds and executes.
 */
const preparingClient = (nameOf: (text: string) => string | undefined) =>
  class PreparingClient extends pg.Client {
    /** The name a text is sent under, if it is one of the hot statements. */
    readonly nameOf = nameOf
    // @effect/sql-pg calls query(text, values, callback); other shapes pass through unchanged
    override query(...args: Array<any>): any {
      const [text, values, callback] = args
      const name = typeof text === "string" && Array.isArray(values) ? nameOf(text) : undefined
      return name === undefined ? (super.query as (...a: Array<any>) => any)(...args) : super.query({ name, text, values }, callback)
    }
  }

/** The pool `PgClient` runs on, open for the scope's lifetime and checked with one query. */
const pool = (options: PgOptions) =>
  Effect.gen(function*() {
    const opened = yield* Effect.acquireRelease(
      Effect.sync(() =>
        new pg.Pool({
          connectionString: Redacted.value(options.url),
          max: options.maxConnections ?? 10,
          application_name: "tessera",
          // no JIT compilation (docs/operations.md, "PostgreSQL sessions"): its threshold is a planner estimate, and every
          // time an estimate of Tessera's short statements crossed it, compiling cost milliseconds a statement. Not sent
          // through a pooler (PgBouncer refuses the startup option unless told to ignore it): set it on the role there.
          // An operator's PGOPTIONS, which node-postgres reads only when no option is given, comes first.
          ...(options.preparedStatements === false
            ? {}
            : { Client: preparingClient(namer()), options: `${process.env["PGOPTIONS"] ?? ""} -c jit=off`.trim() })
        })
      ),
      (opened) => Effect.promise(() => opened.end()).pipe(Effect.interruptible, Effect.timeoutOption(1000))
    )
    opened.on("error", () => {}) // an idle client's error: the pool drops the client, the next query reconnects
    yield* Effect.tryPromise({
      try: () => opened.query("SELECT 1"),
      catch: (cause) => new SqlError({ cause, message: "PgClient: Failed to connect" })
    }).pipe(Effect.timeoutFail({
      duration: Duration.seconds(5),
      onTimeout: () => new SqlError({ cause: new Error("Connection timed out"), message: "PgClient: Connection timed out" })
    }))
    return opened
  })

/**
 * One statement on a pooled connection, as `PgClient` runs it outside a
 * transaction (the same pool and `PreparingClient`, so a marked text is still
 * named; a failed statement returns its connection to the pool, a broken
 * connection is dropped) without the span, scope and connection wrapper
 * @effect/sql adds; `hotStatement` (store-sql) says when that is allowed.
 * An interrupted statement runs to its end and then frees its connection:
 * the only user is the check's walk, which is short.
 */
const direct = (opened: pg.Pool) =>
  directStatements((text, params, done) =>
    opened.connect((cause, client, release) => {
      if (cause !== undefined || client === undefined) {
        return done(new SqlError({ cause: cause ?? new Error("No client returned"), message: "Failed to acquire connection" }), [])
      }
      let settled = false
      const onError = (cause: Error) => {
        if (settled) return
        settled = true
        release(cause)
        done(new SqlError({ cause, message: "Connection error" }), [])
      }
      client.once("error", onError)
      client.query(text, params as Array<unknown>, (cause: Error | null, result: pg.QueryResult) => {
        client.off("error", onError)
        if (settled) return
        settled = true
        release()
        if (cause === null) done(undefined, result.rows)
        else done(new SqlError({ cause, message: "Failed to execute statement" }), [])
      })
    }))

/**
 * `BEGIN` and one statement in a single exchange, under one `Sync`: the
 * server skips everything after an error up to the `Sync`, so a `BEGIN`
 * that fails (a cancel landing on it, say) runs nothing after it, and the
 * statement never runs outside the transaction. Saves the round trip that
 * awaiting `BEGIN` alone costs. Resolves with the statement's rows; the
 * statement is sent named where the client names it (`PreparingClient`).
 */
class BegunQuery extends (pg.Query as unknown as new(
  config: pg.QueryConfig,
  values: undefined,
  callback: (error: Error | null | undefined, result: pg.QueryResult) => void
) => pg.Submittable & {
  readonly name?: string
  prepare(connection: unknown): void
  hasBeenParsed(connection: unknown): boolean
  handleCommandComplete(message: unknown, connection: unknown): void
  handleError(error: unknown, connection: unknown): void
}) {
  private begun = false
  /** Whether the statement was parsed on this connection before: if not, its name is not kept when anything fails. */
  private known = true
  // always the extended protocol: the simple one would send the statement alone, without BEGIN
  requiresPreparation() {
    return true
  }
  override prepare(connection: any) {
    this.known = Boolean(this.hasBeenParsed(connection))
    connection.parse({ text: "BEGIN", name: "" })
    connection.bind({ portal: "", statement: "", values: [] })
    connection.execute({ portal: "", rows: 0 })
    super.prepare(connection)
  }
  // node-postgres notes a named statement as parsed at the first ParseComplete of its query, which here is BEGIN's
  override handleError(error: unknown, connection: any) {
    if (!this.known && this.name !== undefined) delete connection.parsedStatements[this.name]
    super.handleError(error, connection)
  }
  // `BEGIN`'s completion is not the statement's result
  override handleCommandComplete(message: unknown, connection: unknown) {
    if (!this.begun) {
      this.begun = true
      return
    }
    super.handleCommandComplete(message, connection)
  }
}

const begunQuery = (client: pg.PoolClient, text: string, values: ReadonlyArray<unknown>) =>
  new Promise<ReadonlyArray<Record<string, unknown>>>((resolve, reject) => {
    const name = (client as { nameOf?: (text: string) => string | undefined }).nameOf?.(text)
    const query = new BegunQuery(
      { ...(name === undefined ? {} : { name }), text, values: values as Array<unknown> },
      undefined,
      (error, result) => (error === null || error === undefined ? resolve(result.rows) : reject(error))
    )
    client.query(query)
  })

/** A connection of `pool`, or a rejection as soon as `signal` aborts first (a connection that comes later goes back). */
const connectUnless = (pool: pg.Pool, signal: AbortSignal) =>
  new Promise<pg.PoolClient>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const abandoned = () => reject(signal.reason)
    signal.addEventListener("abort", abandoned, { once: true })
    pool.connect().then(
      (client) => {
        signal.removeEventListener("abort", abandoned)
        if (signal.aborted) client.release()
        else resolve(client)
      },
      (cause) => {
        signal.removeEventListener("abort", abandoned)
        reject(cause)
      }
    )
  })

/** The client class `opened` opens its connections with (`PreparingClient`, or node-postgres's own). */
const clientOf = (opened: pg.Pool) => (opened as unknown as { Client: typeof pg.Client }).Client

/**
 * Cancels the statement `client` (opened with `opened`'s settings) runs, by the protocol's own CancelRequest on
 * a connection of its own (as node-postgres's `Client.cancel` sends it): no pooled connection is needed, and the
 * backend's secret key makes sure no other session's statement is hit. Best effort: a cancel that cannot be
 * delivered is dropped.
 */
const cancelRunning = (opened: pg.Pool, client: pg.Client) => {
  const { processID, secretKey } = client as unknown as { processID: number; secretKey: number }
  // a client of the pool's own kind and settings, never connected: its connection carries only the request
  const canceler = new (clientOf(opened))(opened.options) as unknown as {
    host: string
    port: number
    connection: { connect(port: number | string, host?: string): void; cancel(id: number, key: number): void; on(event: string, f: () => void): void }
  }
  const connection = canceler.connection
  connection.on("error", () => {})
  connection.on("connect", () => connection.cancel(processID, secretKey))
  if (canceler.host?.startsWith("/")) connection.connect(`${canceler.host}/.s.PGSQL.${canceler.port}`)
  else connection.connect(canceler.port, canceler.host)
}

/**
 * A pooled connection lent to one call (store-sql's one-call redemption, grants.ts): the same pool and
 * `PreparingClient`. A connection whose use failed is closed rather than returned, since its transaction's state
 * is not known; a connection error meanwhile is that call's (not an unhandled event). Abandoned (`signal`): no
 * connection is waited for any longer, and a statement under way is cancelled (`cancelRunning`: no pooled
 * connection needed, so a full pool cannot hold the cancel back), its connection then closed, so that a late
 * cancel can never reach whoever uses it next. Returned to the pool after the call has its answer.
 */
const pooledWriter = (opened: pg.Pool): Context.Tag.Service<PooledWriter> => ({
  // idle connections and room for new ones, beyond what those already waiting will take
  free: () => opened.idleCount + (opened.options.max ?? 10) - opened.totalCount > opened.waitingCount,
  lend: async (use, signal) => {
    const client = await connectUnless(opened, signal)
    let broken: Error | undefined
    const onError = (cause: Error) => {
      broken ??= cause
    }
    const cancel = () => {
      broken ??= new Error("abandoned")
      cancelRunning(opened, client)
    }
    client.on("error", onError)
    signal.addEventListener("abort", cancel, { once: true })
    try {
      return await use({
        query: async (text, params) => (await client.query(text, params as Array<unknown>)).rows,
        begin: (text, params) => begunQuery(client, text, params)
      })
    } catch (cause) {
      broken ??= cause instanceof Error ? cause : new Error(String(cause))
      throw cause
    } finally {
      signal.removeEventListener("abort", cancel)
      client.off("error", onError)
      // after the answer, so that nothing the pool runs on release can take its place
      queueMicrotask(() => client.release(broken))
    }
  }
})

/**
 * The connection the event queue is numbered on after commits (`NumberingConnection`, store-sql pool.ts): one per
 * process, outside the pool, opened on first use with the pool's own settings under the application name
 * `tessera numbering`. One that fails is closed; one whose run is abandoned (interrupted at the numbering's bound)
 * has its statement cancelled and is closed; the next run opens another. Closed with the store (its statement, if
 * one runs, cancelled first).
 */
const numberingConnection = (opened: pg.Pool) => {
  const Client = clientOf(opened)
  const options: pg.ClientConfig = { ...opened.options, application_name: "tessera numbering" }
  interface Open {
    readonly client: Promise<pg.Client>
    running: boolean
  }
  /** Closes `open` (its statement under way, if any, cancelled first). */
  const close = (open: Open) =>
    open.client.then((client) => {
      if (open.running) cancelRunning(opened, client)
      return client.end().catch(() => {})
    }, () => {})
  return Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => ({ current: undefined as Open | undefined, closed: false })),
      (state) =>
        Effect.promise(async () => {
          state.closed = true
          const current = state.current
          state.current = undefined
          if (current !== undefined) await close(current)
        }).pipe(Effect.interruptible, Effect.timeoutOption(1000))
    ),
    (state): Context.Tag.Service<NumberingConnection> => {
      /** Closes `open`; the next run opens another. */
      const drop = (open: Open) => {
        if (state.current === open) state.current = undefined
        void close(open)
      }
      const connect = (): Open => {
        const client = new Client(options)
        const open: Open = { client: client.connect().then(() => client), running: false }
        // lost while idle: the next run opens another
        client.on("error", () => drop(open))
        return open
      }
      return {
        run: Effect.async<void, unknown>((resume) => {
          if (state.closed) return resume(Effect.fail(new Error("the store is closed")))
          const open = (state.current ??= connect())
          let settled = false
          open.running = true
          open.client.then((client) => client.query(NUMBERING_TEXT)).then(
            () => {
              settled = true
              open.running = false
              resume(Effect.void)
            },
            (error) => {
              settled = true
              drop(open)
              open.running = false
              resume(Effect.fail(error))
            }
          )
          return Effect.sync(() => {
            if (!settled) drop(open)
          })
        })
      }
    }
  )
}

/**
 * A `SqlClient` on the PostgreSQL database at `url`, the usage of its pool (`PoolUsage`), `DirectStatements` on
 * it, and `PooledWriter` and `NumberingConnection` (optional services, found with `Effect.serviceOption`: not in
 * the type).
 */
export const clientLayer = (options: PgOptions): Layer.Layer<SqlClient.SqlClient | PoolUsage | DirectStatements> =>
  Layer.unwrapScoped(Effect.map(pool(options), (opened) =>
    Layer.mergeAll(
      PgClient.layerFromPool({ acquire: Effect.succeed(opened), applicationName: "tessera" }),
      Layer.succeed(DirectStatements, direct(opened)),
      Layer.succeed(PooledWriter, pooledWriter(opened)) as Layer.Layer<never>,
      Layer.scoped(NumberingConnection, numberingConnection(opened)) as Layer.Layer<never>,
      Layer.succeed(PoolUsage, {
        read: () => ({
          max: opened.options.max ?? 10,
          open: opened.totalCount,
          inUse: opened.totalCount - opened.idleCount,
          waiting: opened.waitingCount
        })
      })
    ))).pipe(Layer.orDie)

/** Every port on PostgreSQL, plus its `SqlClient`. */
export const layer = (options: PgOptions) => PortsLive.pipe(Layer.provideMerge(clientLayer(options)))
