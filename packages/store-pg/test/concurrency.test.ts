// Proves on PostgreSQL that 32 truly parallel redeemers of one invite yield exactly one registration, and two migrators never both apply a step.
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { EventLog, InviteStore, mintInvite, register, SystemActor, Transactor, UserStore } from "@tessera/domain"
import { publicKeys, uniqueHandle } from "@tessera/store-contract/fixtures"
import { loadMigrations, migrateUp } from "@tessera/store-sql"
import { Effect, Either, Layer, Option } from "effect"
import { clientLayer, dialect, layer, migrations, migrationsDir } from "../src/index.js"
import { freshDatabase, freshDatabaseLayer } from "../src/testing.js"
import { copyMigrations } from "@tessera/store-sql/testing"
import { gatedTransactor } from "./fixtures/gate.js"

const REDEEMERS = 32

const store = freshDatabaseLayer((url) =>
  Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(
    Layer.provideMerge(layer({ url, maxConnections: REDEEMERS + 4 })),
    Layer.orDie
  )
)

describe("PostgreSQL under concurrency", () => {
  it.live(`${REDEEMERS} parallel registrations with one invite: exactly one succeeds`, () =>
    Effect.gen(function*() {
      const handle = uniqueHandle("race")
      const { invite, token } = yield* mintInvite(SystemActor, { kind: "registration", handle })
      const gated = yield* gatedTransactor(REDEEMERS)
      const attempt = () => Effect.either(register({ token, ...publicKeys() })) // each with its own keys
      const results = yield* Effect.all(Array.from({ length: REDEEMERS }, attempt), { concurrency: "unbounded" }).pipe(
        Effect.provideService(Transactor, gated)
      )

      const winners = results.filter(Either.isRight).map((r) => r.right.user)
      const losers = results.filter(Either.isLeft).map((r) => r.left._tag)
      expect(winners).toHaveLength(1)
      expect(losers).toEqual(Array<string>(REDEEMERS - 1).fill("InviteAlreadyRedeemed"))
      const users = (yield* Effect.flatMap(UserStore, (s) => s.list)).filter((u) => u.handle === handle)
      expect(users.map((u) => u.id)).toEqual([winners[0]!.id])
      const stored = Option.getOrThrow(yield* Effect.flatMap(InviteStore, (s) => s.findById(invite.id)))
      expect([stored.status, stored.redeemed_by]).toEqual(["redeemed", winners[0]!.id])
      const events = yield* Effect.flatMap(EventLog, (log) => log.list({ after: 0, limit: 1000 }))
      expect(events.filter((e) => e.type === "invite.redeemed" && e.data["invite_id"] === invite.id)).toHaveLength(1)
    }).pipe(Effect.provide(store)))

  it.live("two migrators (two pools) on an empty database: each version is applied exactly once", () =>
    Effect.gen(function*() {
      const url = yield* freshDatabase
      const all = loadMigrations(copyMigrations(migrationsDir, 8)) // the real steps plus eight trivial ones
      const versions = all.map((m) => m.version)
      const migrator = migrateUp(all, dialect).pipe(Effect.provide(clientLayer({ url, maxConnections: 2 })))
      const [a, b] = yield* Effect.all([migrator, migrator], { concurrency: "unbounded" })

      expect([...a, ...b].sort((x, y) => x - y)).toEqual(versions)
      const rows = yield* Effect.flatMap(SqlClient.SqlClient, (sql) =>
        sql<{ version: number }>`SELECT version FROM tessera_migrations ORDER BY version`).pipe(
          Effect.provide(clientLayer({ url, maxConnections: 1 }))
        )
      expect(rows.map((r) => r.version)).toEqual(versions)
    }).pipe(Effect.scoped))
})
