// The walks of "what a user can reach" (`AccessQueries.reachable`, packages/store-sql/src/access.ts) take each step by an
// index lookup of `resources`, whatever the planner thinks of the data (docs/performance.md, "What a user can reach"). A plan
// that joined `resources` by hashing it again at every recursive step made the statement 4–5× slower on PostgreSQL once a
// trigger's updates spoiled the table's id correlation. The statement is therefore written with lateral lookups the
// planner cannot turn into a hash or merge join: with nested loops priced out (`enable_nestloop = off`, under which a plain
// join is hashed; and sequential scans too, as the database is empty), every recursive term of the plan still reads `resources` by its index and joins it by nested loop.
import { SqlClient } from "@effect/sql"
import * as Statement from "@effect/sql/Statement"
import { describe, expect, layer } from "@effect/vitest"
import { AccessQueries, type UserId, type WorkspaceId } from "@tessera/domain"
import { DirectStatements } from "@tessera/store-sql"
import { Effect } from "effect"
import { nodesOf, type PlanNode, planOf } from "./fixtures/plans.js"
import { clientLayer } from "../src/index.js"
import { freshDatabase } from "../src/testing.js"
import { probedPgStore } from "./fixtures/store-sql.js"


/** The recursive term (the second input) of every recursive union in the plan. */
const recursiveTerms = (root: PlanNode) => nodesOf(root).filter((n) => n["Node Type"] === "Recursive Union").map((n) => n.Plans![1]!)

const USER = `usr_${"0".repeat(31)}1` as UserId
const WORKSPACE = `wsp_${"0".repeat(31)}1` as WorkspaceId
const ROLES = ["reader", "commenter", "editor", "administrator", "owner"] as const

layer(probedPgStore(), { timeout: "60 seconds", excludeTestServices: true })("pg reachable plan", (it) => {
  describe("each recursive step reads resources by an index, even with nested loops priced out", () => {
    for (const workspaceId of [null, WORKSPACE]) {
      it.effect(workspaceId === null ? "across workspaces" : "in one workspace", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const queries = yield* AccessQueries
          yield* sql.unsafe("ANALYZE")
          const ran: Array<readonly [string, ReadonlyArray<unknown>]> = []
          yield* Statement.withTransformer(queries.reachable(USER, ROLES, workspaceId, null, 51), (statement) =>
            Effect.sync(() => {
              ran.push(statement.compile())
              return statement
            }))
          expect(ran.length).toBe(1)
          const [text, params] = ran[0]!
          const rows = yield* sql.withTransaction(Effect.zipRight(Effect.zipRight(
            sql.unsafe("SET LOCAL enable_nestloop = off"),
            // a table too small to be worth an index (this database is empty) must still show that one can be used
            sql.unsafe("SET LOCAL enable_seqscan = off")),
            sql.unsafe<Record<string, unknown>>(`EXPLAIN (FORMAT JSON) ${text}`, params as Array<unknown>)
          ))
          const terms = recursiveTerms(planOf(rows[0]!))
          const steps = terms.map((term) => {
            const nodes = nodesOf(term)
            return {
              joins: nodes.filter((n) => n["Node Type"].endsWith("Join") || n["Node Type"] === "Nested Loop").map((n) => n["Node Type"]),
              resourceReads: nodes.filter((n) => n["Relation Name"] === "resources").map((n) => n["Node Type"])
            }
          })
          // the walk up from the seeds and the walk down from the live seeds
          expect(steps.length).toBe(2)
          for (const step of steps) {
            expect(step.joins).toEqual(["Nested Loop"])
            expect(step.resourceReads.length).toBe(1)
            expect(step.resourceReads[0]).toMatch(/^Index (Only )?Scan$/)
          }
        }))
    }
  })

  describe("the store's sessions", () => {
    it.effect("run without JIT compilation, on the pool and on the direct path", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const direct = yield* DirectStatements
        const pooled = yield* sql.unsafe<{ jit: string }>("SHOW jit")
        const hot = yield* direct.run("SHOW jit", [])
        expect([pooled[0]!.jit, hot[0]!["jit"]]).toEqual(["off", "off"])
      }))

    it.scoped("keep an operator's PGOPTIONS beside it", () =>
      Effect.gen(function*() {
        yield* Effect.acquireRelease(
          Effect.sync(() => {
            const before = process.env["PGOPTIONS"]
            process.env["PGOPTIONS"] = "-c statement_timeout=12345"
            return before
          }),
          (before) => Effect.sync(() => {
            if (before === undefined) delete process.env["PGOPTIONS"]
            else process.env["PGOPTIONS"] = before
          })
        )
        const url = yield* freshDatabase
        const shown = yield* Effect.provide(
          Effect.flatMap(SqlClient.SqlClient, (sql) =>
            sql.unsafe<Record<string, string>>("SELECT current_setting('statement_timeout') AS timeout, current_setting('jit') AS jit")),
          clientLayer({ url, maxConnections: 1 })
        )
        expect(shown[0]).toEqual({ timeout: "12345ms", jit: "off" })
      }))
  })
})
