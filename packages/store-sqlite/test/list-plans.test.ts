// Runs the list plans contract on a fresh SQLite file: every list's page statements, explained with EXPLAIN QUERY PLAN and
// their own parameters, read no table without an index (`SCAN t` with no `USING`), and a keyset page never sorts
// (`USE TEMP B-TREE FOR … ORDER BY`). SQLite plans without statistics here, as it does in service (nothing runs ANALYZE).
import { SqlClient } from "@effect/sql"
import * as Statement from "@effect/sql/Statement"
import { listPlansContract, PlanProbe, type StatementPlan, TABLES } from "@tessera/store-contract/listPlans"
import { Effect, Layer, Schema } from "effect"
import { probedSqliteStore } from "./fixtures/store-sql.js"

const PlanRows = Schema.Array(Schema.Struct({ detail: Schema.String }))

/**
 * The names a statement reads the schema's tables by: the tables, and their
 * aliases. An alias the statement also gives a common table expression
 * (`users u` and `up u`) is left out: the plan cannot tell the two apart.
 */
const tableNames = (text: string) => {
  const tableAliases = new Set<string>()
  const otherAliases = new Set<string>()
  const names = new Set<string>()
  const source = /\b(?:FROM|JOIN)\s+(\w+)(?:\s+(?:AS\s+)?(\w+))?/gi
  const keyword = /^(WHERE|JOIN|LEFT|INNER|CROSS|ON|ORDER|GROUP|LIMIT|UNION|USING|SET|VALUES|AS)$/i
  for (const [, name, alias] of text.matchAll(source)) {
    const isTable = (TABLES as ReadonlyArray<string>).includes(name!)
    if (isTable) names.add(name!)
    if (alias !== undefined && !keyword.test(alias)) (isTable ? tableAliases : otherAliases).add(alias)
  }
  for (const alias of tableAliases) if (!otherAliases.has(alias)) names.add(alias)
  return names
}

const probe = Layer.effect(
  PlanProbe,
  Effect.map(SqlClient.SqlClient, (sql) => {
    const planOf = (text: string, params: ReadonlyArray<unknown>): Effect.Effect<StatementPlan> =>
      sql.unsafe(`EXPLAIN QUERY PLAN ${text}`, params as Array<unknown>).pipe(
        Effect.flatMap(Schema.decodeUnknown(PlanRows)),
        Effect.map((rows) => {
          const names = tableNames(text)
          return {
            text,
            fullScans: rows.flatMap((r) => {
              const scan = /^SCAN (\w+)$/.exec(r.detail)
              return scan !== null && names.has(scan[1]!) ? [r.detail] : []
            }),
            sorts: rows.filter((r) => /TEMP B-TREE FOR .*ORDER BY/.test(r.detail)).length,
            indexes: rows.flatMap((r) => {
              const index = /USING (?:COVERING )?INDEX (\w+)/.exec(r.detail)
              return index === null ? [] : [index[1]!]
            })
          }
        }),
        Effect.orDie
      )
    return PlanProbe.of({
      run: (statement) => Effect.orDie(sql.unsafe(statement)),
      analyze: Effect.void,
      plansOf: (program) =>
        Effect.suspend(() => {
          const ran: Array<readonly [string, ReadonlyArray<unknown>]> = []
          return Statement.withTransformer(program, (statement) =>
            Effect.sync(() => {
              ran.push(statement.compile())
              return statement
            })).pipe(
              Effect.flatMap((result) =>
                Effect.map(Effect.forEach(ran, ([text, params]) => planOf(text, params)), (plans) => ({ result, plans }))
              )
            )
        })
    })
  })
)

listPlansContract("sqlite", probe.pipe(Layer.provideMerge(probedSqliteStore())))
