// Proves on PostgreSQL that applied migrations are pinned by checksum: an edited or deleted applied file stops `verify` and `up`, and `up` is idempotent.
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { loadMigrations, migrateUp, migrationStatus, schemaIsCurrent, verifyMigrations } from "@tessera/store-sql"
import { appendFileSync, rmSync } from "node:fs"
import { basename } from "node:path"
import { Effect, Either } from "effect"
import { clientLayer, dialect, migrationsDir } from "../src/index.js"
import { freshDatabase } from "../src/testing.js"
import { copyMigrations, fileOf } from "@tessera/store-sql/testing"

/** Runs `test` against a fresh database and a private copy of the migrations (plus `extra` trivial steps). */
const withStore = <A, E>(extra: number, test: (dir: string) => Effect.Effect<A, E, SqlClient.SqlClient>) =>
  Effect.scoped(Effect.flatMap(freshDatabase, (url) =>
    test(copyMigrations(migrationsDir, extra)).pipe(Effect.provide(clientLayer({ url })))))

const up = (dir: string) => migrateUp(loadMigrations(dir), dialect)
const states = (dir: string) => Effect.map(migrationStatus(loadMigrations(dir)), (all) => all.map((s) => [s.version, s.state]))
const tableExists = (name: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ${name}`).pipe(
      Effect.map((rows) => rows.length === 1)
    )

describe("PostgreSQL migrations", () => {
  it.live("up applies every step once; a second up applies nothing; the unchanged set verifies", () =>
    withStore(1, (dir) =>
      Effect.gen(function*() {
        const versions = loadMigrations(dir).map((m) => m.version)
        expect(yield* states(dir)).toEqual(versions.map((v) => [v, "pending"]))
        expect(yield* up(dir)).toEqual(versions)
        expect(yield* up(dir)).toEqual([])
        expect((yield* verifyMigrations(loadMigrations(dir))).map((s) => s.state)).toEqual(versions.map(() => "applied"))
        expect(yield* schemaIsCurrent(loadMigrations(dir))).toBe(true)
        expect(yield* tableExists("users")).toBe(true)
      })))

  it.live("an edited applied file: status says changed, verify names the file, up refuses and applies nothing", () =>
    withStore(0, (dir) =>
      Effect.gen(function*() {
        yield* up(dir)
        const edited = fileOf(dir, 1)
        appendFileSync(edited, "\n-- an innocent-looking comment\n")
        const name = basename(edited, ".sql") // 0001_identity
        const next = copyMigrations(dir, 1) // the edited set plus one new pending step
        const real = loadMigrations(dir).map((m) => m.version)
        const added = Math.max(...real) + 1
        expect(yield* states(next)).toEqual([[1, "changed"], ...real.slice(1).map((v) => [v, "applied"]), [added, "pending"]])
        const failure = yield* Effect.flip(verifyMigrations(loadMigrations(next)))
        expect(failure._tag).toBe("MigrationError")
        expect(failure.message).toContain(name)
        expect((yield* Effect.flip(up(next)))._tag).toBe("MigrationError")
        expect(yield* tableExists(`extra_${added}`)).toBe(false)
        expect(yield* schemaIsCurrent(loadMigrations(next))).toBe(false)
      })))

  it.live("a deleted applied file: status says missing_file, verify names it, up refuses", () =>
    withStore(1, (dir) =>
      Effect.gen(function*() {
        yield* up(dir)
        const deleted = fileOf(dir, 1)
        rmSync(deleted)
        const rest = loadMigrations(dir).map((m) => m.version)
        expect(yield* states(dir)).toEqual([[1, "missing_file"], ...rest.map((v) => [v, "applied"])])
        expect((yield* Effect.flip(verifyMigrations(loadMigrations(dir)))).message).toContain(basename(deleted, ".sql"))
        expect((yield* Effect.flip(up(dir)))._tag).toBe("MigrationError")
      })))

  it.live("up refuses when every applied file is gone (for instance a wrong or emptied folder)", () =>
    withStore(0, (dir) =>
      Effect.gen(function*() {
        yield* up(dir)
        const deleted = fileOf(dir, 1)
        for (const m of loadMigrations(dir)) rmSync(fileOf(dir, m.version))
        expect(loadMigrations(dir)).toEqual([])
        expect((yield* Effect.flip(verifyMigrations([]))).message).toContain(basename(deleted, ".sql"))
        const outcome = yield* Effect.either(up(dir))
        const refusal = Either.isLeft(outcome) ? outcome.left._tag : `up succeeded, applying ${JSON.stringify(outcome.right)}`
        expect(refusal).toBe("MigrationError")
      })))
})
