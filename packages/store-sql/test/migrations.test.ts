// Proves the pure parts of the migration runner: how files split into statements and how files compare with what a store recorded.
import { describe, expect, it } from "@effect/vitest"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { checksumOf, compare, loadMigrations, type Migration, statementsOf } from "../src/migrations.js"

describe("statementsOf", () => {
  it("splits at a semicolon ending a line and drops comments and blank parts", () => {
    const text = [
      "-- Header comment;",
      "CREATE TABLE a (",
      "  id INTEGER PRIMARY KEY, -- inline comment stays",
      "  note TEXT DEFAULT 'x;y'",
      ");",
      "",
      "CREATE INDEX a_note ON a (note);   -- trailing comment",
      "-- a comment-only tail",
      ""
    ].join("\n")
    expect(statementsOf(text)).toEqual([
      "CREATE TABLE a (\n  id INTEGER PRIMARY KEY, -- inline comment stays\n  note TEXT DEFAULT 'x;y'\n)",
      "CREATE INDEX a_note ON a (note)"
    ])
  })

  it("keeps a last statement without a semicolon, handles CRLF, and yields nothing for comments only", () => {
    expect(statementsOf("CREATE TABLE a (id INT);\r\nCREATE TABLE b (id INT)")).toEqual([
      "CREATE TABLE a (id INT)",
      "CREATE TABLE b (id INT)"
    ])
    expect(statementsOf("-- nothing here\n\n  -- still nothing\n")).toEqual([])
    expect(statementsOf("")).toEqual([])
  })
})

const file = (version: number, sql: string): Migration => ({ version, name: `step_${version}`, sql, checksum: checksumOf(sql) })
const row = (m: Migration, checksum = m.checksum) => ({ version: m.version, name: m.name, checksum, applied_at: "2024-01-01T00:00:00.000Z" })

describe("compare", () => {
  const [one, two, three] = [file(1, "CREATE TABLE one (id INT);"), file(2, "CREATE TABLE two (id INT);"), file(3, "x")]

  it("reports applied, pending, changed and missing_file, in version order", () => {
    const statuses = compare([three, one, two], [row(two, checksumOf("edited")), row(one), { ...row(file(4, "y")), name: "gone" }])
    expect(statuses.map((s) => [s.version, s.name, s.state])).toEqual([
      [1, "step_1", "applied"],
      [2, "step_2", "changed"],
      [3, "step_3", "pending"],
      [4, "gone", "missing_file"]
    ])
    expect(statuses.find((s) => s.version === 3)!.applied_at).toBeNull()
    expect(statuses.find((s) => s.version === 2)!.applied_at).toBe("2024-01-01T00:00:00.000Z")
  })

  it("an empty store has every file pending; no files and no rows is nothing", () => {
    expect(compare([one, two], []).map((s) => s.state)).toEqual(["pending", "pending"])
    expect(compare([], [])).toEqual([])
  })

  it("a one-character change to a file is a different checksum", () => {
    expect(compare([file(1, one.sql + " ")], [row(one)])[0]!.state).toBe("changed")
  })
})

describe("loadMigrations", () => {
  it("reads NNNN_name.sql files in numeric order and ignores other files", () => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-load-"))
    for (const [name, text] of [["0010_ten.sql", "ten"], ["0002_two.sql", "two"], ["README.md", "no"]]) {
      writeFileSync(join(dir, name!), text!)
    }
    expect(loadMigrations(dir).map((m) => [m.version, m.name, m.sql, m.checksum])).toEqual([
      [2, "two", "two", checksumOf("two")],
      [10, "ten", "ten", checksumOf("ten")]
    ])
  })
})
