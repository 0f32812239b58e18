/**
 * SQL implementation of the workspace port. Members live in their own table
 * with one row per (workspace, user) by primary key; `bundles` is JSON text
 * and `is_personal` an integer so both dialects share every statement.
 */
import { SqlClient, SqlSchema } from "@effect/sql"
import type { Fragment } from "@effect/sql/Statement"
import { AlreadyMember, Member, UserId, Workspace, WorkspaceId, WorkspaceStore } from "@tessera/domain"
import { Effect, Layer, Option, Schema } from "effect"
import { DbInt } from "./rows.js"

const WorkspaceRow = Schema.Struct({
  ...Workspace.fields,
  bundles: Schema.parseJson(Schema.Array(Schema.String)),
  is_personal: Schema.transform(DbInt, Schema.Boolean, { strict: true, decode: (n) => n !== 0, encode: (b) => (b ? 1 : 0) }),
  members: Schema.optional(Schema.Unknown)
})

const COLUMNS = "id, name, about, custom_instructions, bundles, is_personal, owner_user_id, created_at, updated_at"

export const WorkspaceStoreLive = Layer.effect(WorkspaceStore, Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const cols = sql.literal(COLUMNS)
  const members = SqlSchema.findAll({
    Request: WorkspaceId,
    Result: Member,
    execute: (id) => sql`SELECT user_id, role FROM workspace_members WHERE workspace_id = ${id} ORDER BY user_id`
  })
  const withMembers = (row: Option.Option<typeof WorkspaceRow.Type>) =>
    Option.match(row, {
      onNone: () => Effect.succeed(Option.none<Workspace>()),
      onSome: (ws) => Effect.map(members(ws.id), (ms) => Option.some(new Workspace({ ...ws, members: ms })))
    })
  const findOne = (where: Fragment) =>
    SqlSchema.findOne({ Request: Schema.Void, Result: WorkspaceRow, execute: () => sql`SELECT ${cols} FROM workspaces WHERE ${where}` })(
      undefined
    ).pipe(Effect.flatMap(withMembers), Effect.orDie)
  return WorkspaceStore.of({
    insert: (workspace) =>
      Effect.gen(function*() {
        const row = Schema.encodeSync(WorkspaceRow)({ ...workspace, members: undefined })
        const inserted = yield* sql`INSERT INTO workspaces ${sql.insert({
          id: row.id,
          name: row.name,
          about: row.about,
          custom_instructions: row.custom_instructions,
          bundles: row.bundles,
          is_personal: row.is_personal,
          owner_user_id: row.owner_user_id,
          created_at: row.created_at,
          updated_at: row.updated_at
        })} ON CONFLICT DO NOTHING RETURNING id`
        if (inserted.length === 0) return false
        if (workspace.members.length > 0) {
          yield* sql`INSERT INTO workspace_members ${sql.insert(workspace.members.map((m) => ({ workspace_id: workspace.id, user_id: m.user_id, role: m.role })))}`
        }
        return true
      }).pipe(Effect.orDie),
    findById: (id) => findOne(sql`id = ${id}`),
    findPersonal: (owner) => findOne(sql`owner_user_id = ${owner} AND is_personal = 1`),
    addMember: (id, userId, role) =>
      sql`INSERT INTO workspace_members ${sql.insert({ workspace_id: id, user_id: userId, role })}
          ON CONFLICT DO NOTHING RETURNING user_id`.pipe(
        Effect.orDie,
        Effect.flatMap((rows) => rows.length > 0 ? Effect.void : Effect.fail(new AlreadyMember({ workspaceId: id, userId })))
      ),
    deletePersonalOf: (owner: UserId) =>
      Effect.gen(function*() {
        yield* sql`DELETE FROM workspace_members WHERE workspace_id IN
                   (SELECT id FROM workspaces WHERE owner_user_id = ${owner} AND is_personal = 1)`
        const deleted = yield* sql`DELETE FROM workspaces WHERE owner_user_id = ${owner} AND is_personal = 1 RETURNING id`
        return deleted.length
      }).pipe(Effect.orDie),
    removeMembershipsOf: (userId) =>
      sql`DELETE FROM workspace_members WHERE user_id = ${userId} RETURNING workspace_id`.pipe(
        Effect.map((rows) => rows.length),
        Effect.orDie
      )
  })
}))
