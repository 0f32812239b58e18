// Runs the list plans contract on a fresh PostgreSQL database: every list's page statements, explained with EXPLAIN (FORMAT
// JSON) and their own parameters after VACUUM ANALYZE, with sequential scans priced out (`enable_seqscan = off`: a table that
// still gets a Seq Scan has no index the statement can use), show no Seq Scan of a table, and a keyset page no Sort.
import { SqlClient } from "@effect/sql"
import * as Statement from "@effect/sql/Statement"
import { listPlansContract, PlanProbe, type StatementPlan, TABLES } from "@tessera/store-contract/listPlans"
import { Effect, Layer } from "effect"
import { nodesOf, planOf } from "./fixtures/plans.js"
import { probedPgStore } from "./fixtures/store-sql.js"

const tables = new Set<string>(TABLES)

const probe = Layer.effect(
  PlanProbe,
  Effect.map(SqlClient.SqlClient, (sql) => {
    const explained = (text: string, params: ReadonlyArray<unknown>): Effect.Effect<StatementPlan> =>
      sql.withTransaction(
        Effect.zipRight(
          sql.unsafe("SET LOCAL enable_seqscan = off"),
          sql.unsafe<Record<string, unknown>>(`EXPLAIN (FORMAT JSON) ${text}`, params as Array<unknown>)
        )
      ).pipe(
        Effect.map((rows) => {
          const nodes = nodesOf(planOf(rows[0]!))
          return {
            text,
            fullScans: nodes.flatMap((n) => n["Node Type"] === "Seq Scan" && tables.has(n["Relation Name"] ?? "") ? [n["Relation Name"]!] : []),
            sorts: nodes.filter((n) => n["Node Type"].includes("Sort")).length,
            indexes: nodes.flatMap((n) => n["Index Name"] === undefined ? [] : [n["Index Name"]])
          }
        }),
        Effect.orDie
      )
    return PlanProbe.of({
      run: (statement) => Effect.orDie(sql.unsafe(statement)),
      // as autovacuum leaves a table in use: statistics, and the visibility map an index-only scan needs
      analyze: Effect.orDie(sql.unsafe("VACUUM ANALYZE")),
      plansOf: (program) =>
        Effect.suspend(() => {
          const ran: Array<readonly [string, ReadonlyArray<unknown>]> = []
          return Statement.withTransformer(program, (statement) =>
            Effect.sync(() => {
              ran.push(statement.compile())
              return statement
            })).pipe(
              Effect.flatMap((result) =>
                Effect.map(Effect.forEach(ran, ([text, params]) => explained(text, params)), (plans) => ({ result, plans }))
              )
            )
        })
    })
  })
)

listPlansContract("pg", probe.pipe(Layer.provideMerge(probedPgStore())))
