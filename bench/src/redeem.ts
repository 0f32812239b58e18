/**
 * Redemption under concurrency, on one store at a time (run by `run.ts` for both): Tessera's `redeemInvite` of
 * workspace-membership grant invites (one invite per redeemer, all into one team workspace whose admin minted
 * them) at 1 and 64 concurrent clients and with all of them at once, beside a guarded-update comparator through the
 * same driver on the same data — one transaction of `UPDATE invites … WHERE digest = ? AND status = 'pending'
 * RETURNING` and the insert of the membership; then authentication plus redemption, 500 at once, beside
 * better-auth's organization plugin accepting as many invitations (`better-auth.ts`). Every redemption must
 * succeed; every row the comparator writes is a real grant. Returns rows for the report; asserts nothing about
 * speed.
 *
 * Concurrency is real: `clients` loops each start the next operation as soon as their last one settles, all in
 * this process against the store's own client (one SQLite connection; a pool of 10 on PostgreSQL). tinybench
 * runs one task at a time, so these loops time themselves (wall clock over the whole run; p50/p99 per operation).
 */
import { SqlClient } from "@effect/sql"
import {
  authenticate,
  bootstrapAdmin,
  createWorkspace,
  Crypto,
  type Handle,
  Invite,
  InviteStore,
  mintInvite,
  mintToken,
  newInviteId,
  type Principal,
  redeemInvite,
  register,
  SystemActor,
  timestampOf,
  Transactor,
  type WorkspaceId
} from "@tessera/domain"
import { publicKeys } from "@tessera/store-contract/fixtures"
import { migrateUp } from "@tessera/store-sql"
import * as Pg from "@tessera/store-pg"
import { freshDatabase } from "@tessera/store-pg/testing"
import * as Sqlite from "@tessera/store-sqlite"
import Database from "better-sqlite3"
import { createHash, randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { performance } from "node:perf_hooks"
import { Effect, Layer, ManagedRuntime, Option, Redacted } from "effect"
import pg from "pg"
import { betterAuthAccepts, type PeerDatabase } from "./better-auth.js"
import { insideSqlite } from "./sqlite-clock.js"

export interface Driven {
  readonly ops: number
  readonly clients: number
  readonly perSecond: number
  readonly p50: number
  readonly p99: number
}

export interface RedeemRow {
  readonly store: string
  readonly workload: string
  readonly clients: number
  readonly tessera: Driven
  readonly peer: Driven
  /** What `peer` is: the guarded-update comparator or better-auth. */
  readonly peerName: string
}

/** 64 redeemers presenting one invite at once: how many won, how many were told it was already redeemed, anything else. */
export interface RaceRow {
  readonly store: string
  readonly racers: number
  readonly winners: number
  readonly alreadyRedeemed: number
  readonly other: number
}

/**
 * One redemption at one client on SQLite, inside SQLite itself (`sqlite-clock.ts`): µs and statements (begin and
 * commit included) per operation, Tessera's and the comparator's, and the comparator's whole operation. The
 * round where Tessera's time inside SQLite was least.
 */
export interface SqliteFloor {
  readonly tesseraMicros: number
  readonly tesseraStatements: number
  readonly guardedMicros: number
  readonly guardedStatements: number
  readonly guardedWallMicros: number
}

export interface RedeemResults {
  readonly rows: ReadonlyArray<RedeemRow>
  readonly races: ReadonlyArray<RaceRow>
  readonly floor?: SqliteFloor | undefined
}

export interface RedeemOptions {
  /** Redemptions timed at one client. */
  readonly serial: number
  /** Redemptions timed at 64 clients. */
  readonly concurrent: number
  /** Redemptions started all at once (and accepts, for better-auth). */
  readonly burst: number
  /** Alternated rounds of the three workloads; each is reported by its median round. */
  readonly rounds: number
}

export const redeemOptions = (smoke: boolean): RedeemOptions =>
  smoke ? { serial: 20, concurrent: 64, burst: 50, rounds: 1 } : { serial: 400, concurrent: 1_500, burst: 500, rounds: 3 }

const RACERS = 64

const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN

/** The round with the median throughput (the upper one of an even count). */
const median = (runs: ReadonlyArray<Driven>): Driven => [...runs].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(runs.length / 2)]!

/** Runs `op(0 … ops-1)` from `clients` loops at once; throughput is operations over the wall time of the whole run. */
export const drive = async (ops: number, clients: number, op: (i: number) => Promise<unknown>): Promise<Driven> => {
  let next = 0
  const samples: Array<number> = []
  const started = performance.now()
  await Promise.all(Array.from({ length: Math.min(clients, ops) }, async () => {
    for (let i = next++; i < ops; i = next++) {
      const t = performance.now()
      await op(i)
      samples.push(performance.now() - t)
    }
  }))
  const wall = performance.now() - started
  samples.sort((a, b) => a - b)
  return { ops, clients, perSecond: (ops / wall) * 1000, p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) }
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex")
const hex = (bytes: number) => randomBytes(bytes).toString("hex")
const T = "2026-01-01T00:00:00.000Z"

/** A redeemer: a stored user with an API key, and the invite they redeem. */
export interface Redeemer {
  readonly userId: string
  readonly apiKey: Redacted.Redacted<string>
  readonly principal: Principal
  readonly invite: Redacted.Redacted<string>
  readonly digest: string
}

/**
 * `count` users with an API key each (written by set-based inserts, no use case: nothing measured reads their
 * personal workspaces), and as many pending grant invites into `workspace`, minted by `minter` (inserted through
 * the invite port, as `mintInvite` stores them, without its per-invite event).
 */
const redeemers = (count: number, workspace: WorkspaceId, minter: Principal) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const people = Array.from({ length: count }, () => {
      const apiKey = Redacted.value(Effect.runSync(mintToken("tsk").pipe(Effect.provide(Crypto.Live))))
      const invite = Redacted.value(Effect.runSync(mintToken("tsi").pipe(Effect.provide(Crypto.Live))))
      return { userId: `usr_${hex(16)}`, keyId: `key_${hex(16)}`, apiKey, invite }
    })
    for (let from = 0; from < people.length; from += 200) {
      const page = people.slice(from, from + 200)
      yield* sql`INSERT INTO users ${sql.insert(page.map((p) => ({
        id: p.userId,
        handle: `r-${p.userId.slice(4, 20)}`,
        role: "member",
        status: "active",
        sign_pub: null,
        kex_pub: null,
        created_at: T,
        revoked_at: null
      })))}`
      yield* sql`INSERT INTO api_keys ${sql.insert(page.map((p) => ({ id: p.keyId, user_id: p.userId, digest: sha256(p.apiKey), created_at: T })))}`
    }
    const millis = Date.now()
    yield* Effect.flatMap(Transactor, (tx) =>
      tx.run(Effect.gen(function*() {
        const invites = yield* InviteStore
        for (const p of people) {
          yield* invites.insert(
            new Invite({
              id: yield* newInviteId,
              kind: "grant",
              status: "pending",
              handle: null,
              role: null,
              workspace_id: workspace,
              workspace_role: "member",
              resource_id: null,
              resource_role: null,
              expires_at: timestampOf(millis + 86_400_000),
              created_at: timestampOf(millis),
              created_by: minter.user.id,
              redeemed_at: null,
              redeemed_by: null,
              redeemed_sign_pub: null,
              redeemed_kex_pub: null,
              canceled_at: null
            }),
            sha256(p.invite)
          )
        }
      })))
    const out: Array<Redeemer> = []
    for (const p of people) {
      const principal = yield* authenticate(Redacted.make(p.apiKey))
      out.push({ userId: p.userId, apiKey: Redacted.make(p.apiKey), principal, invite: Redacted.make(p.invite), digest: sha256(p.invite) })
    }
    return out
  }).pipe(Effect.orDie)

/** The team workspace and its admin (a member, not a system admin), through the use cases. */
const team = Effect.gen(function*() {
  yield* bootstrapAdmin({ handle: "admin" as Handle, apiKey: Option.none() })
  const { token } = yield* mintInvite(SystemActor, { kind: "registration", handle: "minter" as Handle })
  const { apiKey } = yield* register({ token, ...publicKeys() })
  const minter = yield* authenticate(apiKey)
  const workspace = yield* createWorkspace(minter, { name: "redeem bench" })
  return { minter, workspace: workspace.id }
}).pipe(Effect.orDie)

/**
 * The guarded write alone: one transaction of the single-use update and the membership insert. And, for
 * `redeem-cost.ts`, the API key's owner looked up by the bare driver (the digest computed in place, Tessera's
 * statement), the floor under authentication.
 */
export interface Comparator {
  readonly redeem: (r: Redeemer) => Promise<void>
  readonly owner: (r: Redeemer) => Promise<unknown>
  readonly close: () => Promise<void>
}

const OWNER_STATEMENT = `SELECT k.id AS key_id, u.id, u.handle, u.role, u.status, u.sign_pub, u.kex_pub, u.created_at, u.revoked_at
  FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.digest = ? AND u.status = 'active'`

const sqliteComparator = (file: string, workspace: string): Comparator => {
  const db = new Database(file)
  db.pragma(`busy_timeout = ${Sqlite.BUSY_TIMEOUT_MS}`)
  db.pragma("foreign_keys = ON")
  db.pragma("synchronous = NORMAL")
  const update = db.prepare<[string, string, string], { id: string }>(
    "UPDATE invites SET status = 'redeemed', redeemed_at = ?, redeemed_by = ? WHERE digest = ? AND status = 'pending' RETURNING id"
  )
  const insert = db.prepare("INSERT INTO workspace_members (workspace_id, user_id, role) VALUES (?, ?, 'member')")
  const redeem = db.transaction((r: Redeemer) => {
    if (update.get(new Date().toISOString(), r.userId, r.digest) === undefined) throw new Error("comparator: invite not pending")
    insert.run(workspace, r.userId)
  })
  const owner = db.prepare<[string], Record<string, unknown>>(OWNER_STATEMENT)
  return {
    redeem: async (r) => redeem.immediate(r),
    owner: async (r) => owner.get(sha256(Redacted.value(r.apiKey))),
    close: async () => {
      db.close()
    }
  }
}

const pgComparator = (url: string, workspace: string): Comparator => {
  const pool = new pg.Pool({ connectionString: url, max: 10 })
  const ownerText = OWNER_STATEMENT.replace("?", "$1")
  return {
    redeem: async (r) => {
      const client = await pool.connect()
      try {
        await client.query("BEGIN")
        const updated = await client.query(
          "UPDATE invites SET status = 'redeemed', redeemed_at = $1, redeemed_by = $2 WHERE digest = $3 AND status = 'pending' RETURNING id",
          [new Date().toISOString(), r.userId, r.digest]
        )
        if (updated.rowCount !== 1) throw new Error("comparator: invite not pending")
        await client.query("INSERT INTO workspace_members (workspace_id, user_id, role) VALUES ($1, $2, 'member')", [workspace, r.userId])
        await client.query("COMMIT")
      } catch (error) {
        await client.query("ROLLBACK")
        throw error
      } finally {
        client.release()
      }
    },
    owner: async (r) => (await pool.query({ name: "bench_owner", text: ownerText, values: [sha256(Redacted.value(r.apiKey))] })).rows[0],
    close: () => pool.end()
  }
}

/** Hands out consecutive slices of `all`. */
const slicer = <A>(all: ReadonlyArray<A>) => {
  let at = 0
  return (n: number) => {
    const slice = all.slice(at, at + n)
    if (slice.length < n) throw new Error("not enough redeemers prepared")
    at += n
    return slice
  }
}

/** One store under test: its layer, the comparator on the same database, and better-auth's database beside it. */
export interface StoreSetup<E> {
  readonly store: "sqlite" | "pg"
  readonly layer: Layer.Layer<SqlClient.SqlClient | Transactor | InviteStore, E>
  readonly comparatorOf: (workspace: string) => Comparator
  readonly peerDatabase: PeerDatabase
}

/** The team workspace, `count` redeemers handed out by `take`, and the comparator on the same database. */
export const prepareStore = async <E>(runtime: ManagedRuntime.ManagedRuntime<any, E>, setup: StoreSetup<E>, count: number) => {
  const { minter, workspace } = await runtime.runPromise(team)
  const take = slicer(await runtime.runPromise(redeemers(count, workspace, minter)))
  const comparator = setup.comparatorOf(workspace)
  return { minter, workspace, take, comparator, ownerStatement: comparator.owner }
}

/**
 * The redemption workloads on one store: `layer` for Tessera (its runtime with the tracer off, as the server runs
 * without an exporter, docs/operations.md#logs-traces-and-metrics), `comparator` on the same database.
 */
const storeRows = async <E>(
  setup: StoreSetup<E>,
  options: RedeemOptions
): Promise<{ readonly rows: ReadonlyArray<RedeemRow>; readonly race: RaceRow; readonly floor: SqliteFloor | undefined }> => {
  const store = setup.store
  const runtime = ManagedRuntime.make(Layer.merge(setup.layer as Layer.Layer<any, E>, Layer.setTracerEnabled(false)))
  try {
    const perSide = (options.serial + options.concurrent + options.burst) * options.rounds + options.burst + RACERS + 20
    const { take, comparator } = await prepareStore(runtime, setup, perSide * 2)
    try {
      const tesseraOf = (people: ReadonlyArray<Redeemer>) => (i: number) => runtime.runPromise(redeemInvite(people[i]!.principal, people[i]!.invite))
      const guarded = (people: ReadonlyArray<Redeemer>) => (i: number) => comparator.redeem(people[i]!)
      // warm-up: both paths, untimed
      await drive(10, 1, tesseraOf(take(10)))
      await drive(10, 1, guarded(take(10)))
      // alternated rounds: each workload's Tessera run, then the comparator's, round after round, so that 1 and 64
      // clients (and both sides) share whatever the machine and the growing tables do; the median round is reported
      const workloads = [
        { workload: "redeem, 1 client", ops: options.serial, clients: 1 },
        { workload: "redeem, 64 clients", ops: options.concurrent, clients: 64 },
        { workload: `redeem, ${options.burst} at once`, ops: options.burst, clients: options.burst }
      ]
      const rounds = workloads.map(() => ({ tessera: [] as Array<Driven>, peer: [] as Array<Driven> }))
      let floor: SqliteFloor | undefined
      for (let round = 0; round < options.rounds; round++) {
        for (const [w, { clients, ops }] of workloads.entries()) {
          // one client on SQLite: the time inside SQLite itself, on both sides (sqlite-clock.ts)
          const timed = store === "sqlite" && clients === 1
          const tessera = tesseraOf(take(ops))
          const peer = guarded(take(ops))
          const t = timed ? await insideSqlite("tessera", () => drive(ops, clients, tessera)) : { result: await drive(ops, clients, tessera) }
          const c = timed ? await insideSqlite("guarded", () => drive(ops, clients, peer)) : { result: await drive(ops, clients, peer) }
          rounds[w]!.tessera.push(t.result)
          rounds[w]!.peer.push(c.result)
          if ("micros" in t && "micros" in c) {
            const next: SqliteFloor = {
              tesseraMicros: t.micros / ops,
              tesseraStatements: t.statements / ops,
              guardedMicros: c.micros / ops,
              guardedStatements: c.statements / ops,
              guardedWallMicros: 1e6 / c.result.perSecond
            }
            if (floor === undefined || next.tesseraMicros < floor.tesseraMicros) floor = next
          }
        }
      }
      const rows: Array<RedeemRow> = workloads.map(({ clients, workload }, w) => ({
        store,
        workload,
        clients,
        tessera: median(rounds[w]!.tessera),
        peer: median(rounds[w]!.peer),
        peerName: "guarded update"
      }))
      const withAuth = take(options.burst)
      const authed = await drive(options.burst, options.burst, (i) =>
        runtime.runPromise(Effect.flatMap(authenticate(withAuth[i]!.apiKey), (p) => redeemInvite(p, withAuth[i]!.invite))))
      const peer = await betterAuthAccepts(setup.peerDatabase, options.burst)
      rows.push({ store, workload: `authenticate + redeem, ${options.burst} at once`, clients: options.burst, tessera: authed, peer, peerName: "better-auth accept" })
      // one invite, 64 redeemers at once: exactly one may win
      const [first, ...others] = take(RACERS)
      const outcomes = await Promise.all([first!, ...others].map((r) =>
        runtime.runPromise(Effect.either(redeemInvite(r.principal, first!.invite))).then(
          (result) => (result._tag === "Right" ? "won" : result.left._tag === "InviteAlreadyRedeemed" ? "already" : "other"),
          () => "other" as const
        )))
      const count = (what: string) => outcomes.filter((o) => o === what).length
      const race: RaceRow = { store, racers: RACERS, winners: count("won"), alreadyRedeemed: count("already"), other: count("other") }
      return { rows, race, floor }
    } finally {
      await comparator.close()
    }
  } finally {
    await runtime.dispose()
  }
}

/** Both stores, each freshly migrated: SQLite in a temporary file, PostgreSQL in a fresh database. */
export const redeemWorkloads = (
  smoke: boolean | RedeemOptions,
  stores: ReadonlyArray<"sqlite" | "pg"> = ["sqlite", "pg"]
) =>
  Effect.gen(function*() {
    const options = typeof smoke === "boolean" ? redeemOptions(smoke) : smoke
    const rows: Array<RedeemRow> = []
    const races: Array<RaceRow> = []
    let floor: SqliteFloor | undefined
    for (const setup of yield* storeSetups(stores)) {
      const result = yield* Effect.promise(() => storeRows(setup, options))
      rows.push(...result.rows)
      races.push(result.race)
      floor = result.floor ?? floor
    }
    return { rows, races, floor } satisfies RedeemResults
  }).pipe(Effect.scoped, Effect.orDie)

/** The stores named, each freshly migrated (SQLite in a temporary file, PostgreSQL in a fresh database), for the scope. */
export const storeSetups = (stores: ReadonlyArray<"sqlite" | "pg">) =>
  Effect.gen(function*() {
    const dir = mkdtempSync(join(tmpdir(), "tessera-redeem-bench-"))
    yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
    const setups: Array<StoreSetup<unknown>> = []
    if (stores.includes("sqlite")) {
      const file = join(dir, "redeem.db")
      const sqlite = Layer.fresh(Sqlite.layer(file))
      yield* Effect.provide(migrateUp(Sqlite.migrations(), Sqlite.dialect), sqlite)
      setups.push({ store: "sqlite", layer: sqlite, comparatorOf: (ws) => sqliteComparator(file, ws), peerDatabase: { sqlite: join(dir, "better-auth.db") } })
    }
    if (stores.includes("pg")) {
      const url = yield* freshDatabase
      const peerUrl = yield* freshDatabase
      const pgLayer = Layer.fresh(Pg.layer({ url }))
      yield* Effect.provide(migrateUp(Pg.migrations(), Pg.dialect), pgLayer)
      setups.push({ store: "pg", layer: pgLayer, comparatorOf: (ws) => pgComparator(Redacted.value(url), ws), peerDatabase: { pg: Redacted.value(peerUrl) } })
    }
    return setups
  })
