// Proves on SQLite that applied migrations are pinned by checksum: an edited or deleted applied file stops `verify` and `up`, and `up` is idempotent; and that a step runs with foreign keys off, is refused before commit if it leaves a dangling reference, and leaves them on however it ends.
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { loadMigrations, migrateUp, migrationStatus, schemaIsCurrent, verifyMigrations } from "@tessera/store-sql"
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { basename, join } from "node:path"
import { Cause, Effect, Either, Exit, Option } from "effect"
import { clientLayer, dialect, migrationsDir } from "../src/index.js"
import { copyMigrations, fileOf } from "@tessera/store-sql/testing"

/** Runs `test` against a fresh SQLite file and a private copy of the migrations (plus `extra` trivial steps). */
const withStore = <A, E>(extra: number, test: (dir: string) => Effect.Effect<A, E, SqlClient.SqlClient>) =>
  test(copyMigrations(migrationsDir, extra)).pipe(
    Effect.provide(clientLayer(join(mkdtempSync(join(tmpdir(), "tessera-mig-")), "tessera.db")))
  )

const up = (dir: string) => migrateUp(loadMigrations(dir), dialect)
const states = (dir: string) => Effect.map(migrationStatus(loadMigrations(dir)), (all) => all.map((s) => [s.version, s.state]))
const foreignKeysOn = Effect.flatMap(SqlClient.SqlClient, (sql) => sql`PRAGMA foreign_keys`).pipe(
  Effect.map((rows) => rows[0]!["foreign_keys"])
)
/** Adds a step after the real ones to `dir`; returns its version. */
const addStep = (dir: string, name: string, text: string) => {
  const version = Math.max(...loadMigrations(dir).map((m) => m.version)) + 1
  writeFileSync(join(dir, `${String(version).padStart(4, "0")}_${name}.sql`), text)
  return version
}
const tableExists = (name: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ${name}`).pipe(
      Effect.map((rows) => rows.length === 1)
    )

describe("SQLite migrations", () => {
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

  it.live("a step runs with foreign keys off, so it can rebuild a referenced table, and they are on again after it", () =>
    withStore(0, (dir) =>
      Effect.gen(function*() {
        addStep(dir, "probe", "CREATE TABLE probe AS SELECT foreign_keys FROM pragma_foreign_keys;\n")
        yield* up(dir)
        const inside = yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT foreign_keys FROM probe`)
        expect(inside).toEqual([{ foreign_keys: 0 }])
        expect(yield* foreignKeysOn).toBe(1)
      })))

  it.live("a step that leaves a reference to a missing row fails before commit, names the file and the table, and changes nothing", () =>
    withStore(0, (dir) =>
      Effect.gen(function*() {
        yield* up(dir)
        const version = addStep(dir, "dangling", [
          "CREATE TABLE marker (id INTEGER PRIMARY KEY);",
          "INSERT INTO workspace_members (workspace_id, user_id, role) VALUES ('ws_none', 'usr_none', 'member');",
          ""
        ].join("\n"))
        const failure = yield* Effect.flip(up(dir))
        expect(failure._tag).toBe("MigrationError")
        expect(failure.message).toContain(`${String(version).padStart(4, "0")}_dangling`)
        expect(failure.message).toContain("workspace_members")
        expect(yield* tableExists("marker")).toBe(false)
        expect(yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT * FROM workspace_members`)).toEqual([])
        expect((yield* states(dir)).at(-1)).toEqual([version, "pending"])
        expect(yield* foreignKeysOn).toBe(1)
      })))

  it.live("a step that fails part-way is rolled back and leaves foreign keys on", () =>
    withStore(0, (dir) =>
      Effect.gen(function*() {
        const version = addStep(dir, "broken", "CREATE TABLE half (id INTEGER PRIMARY KEY);\nINSERT INTO no_such_table VALUES (1);\n")
        const exit = yield* Effect.exit(up(dir))
        const defect = Exit.isFailure(exit) ? Cause.dieOption(exit.cause) : Option.none()
        expect(Option.map(defect, (e) => String((e as { cause?: unknown }).cause))).toEqual(Option.some(expect.stringContaining("no_such_table")))
        expect(yield* tableExists("half")).toBe(false)
        expect((yield* states(dir)).at(-1)).toEqual([version, "pending"])
        expect(yield* foreignKeysOn).toBe(1)
      })))
})
