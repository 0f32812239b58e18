/**
 * SQL implementation of the workspace port. Members live in their own table
 * with one row per (workspace, user) by primary key; `bundles` is JSON text
 * and `is_personal` an integer so both dialects share every statement.
 *
 * No statement binds a list that grows with the store: members are read
 * with the same filter as their workspaces (a subquery, not a list of ids),
 * and the repair walk binds at most one page of ids.
 */
import { SqlClient } from "@effect/sql"
import type { Fragment } from "@effect/sql/Statement"
import { AlreadyMember, type HeldWorkspace, MAX_PAGE, Member, type UserId, Workspace, WorkspaceStore } from "@tessera/domain"
import { Effect, Layer, Option, Schema } from "effect"
import { trustedUser, userHoldText } from "./identity.js"
import { DbInt, lockRow, transactional } from "./rows.js"
import { preparedAs } from "./resources.js"

const WorkspaceRow = Schema.Struct({
  ...Workspace.fields,
  bundles: Schema.parseJson(Schema.Array(Schema.String)),
  is_personal: Schema.transform(DbInt, Schema.Boolean, { strict: true, decode: (n) => n !== 0, encode: (b) => (b ? 1 : 0) }),
  members: Schema.optional(Schema.Unknown)
})

const MemberRow = Schema.Struct({ workspace_id: Schema.String, ...Member.fields })

/** Member rows per `INSERT`: three parameters each, so at most 900 bound however many are written. */
const MEMBERS_PER_INSERT = 300

const COLUMNS = "id, name, about, custom_instructions, bundles, is_personal, owner_user_id, created_at, updated_at"

/** A held workspace's row as `heldText` reads it (SQLite's `minterAndWorkspaceTextOf`: the role as `member_role`). */
export const heldRow = (row: Record<string, unknown>): HeldWorkspace => ({
  isPersonal: Number(row.is_personal) !== 0,
  role: (row.role ?? null) as HeldWorkspace["role"]
})

/**
 * The minter's row and the workspace in one statement: on PostgreSQL both locked shared, users first (the
 * lock order; a row that waited is re-read as committed); on SQLite with the role as well (`member_role`). No
 * row when either is missing. Parameters: the minter's id, the workspace's.
 */
export const minterAndWorkspaceTextOf = (sql: SqlClient.SqlClient) => {
  const userCols = sql.literal("u.id, u.handle, u.role, u.status, u.sign_pub, u.kex_pub, u.created_at, u.revoked_at")
  return sql.onDialectOrElse({
    pg: () => sql`SELECT ${userCols} FROM users u, workspaces w WHERE u.id = ${""} AND w.id = ${""} FOR SHARE`.compile()[0],
    orElse: () =>
      sql`SELECT ${userCols}, w.is_personal,
          (SELECT m.role FROM workspace_members m WHERE m.workspace_id = w.id AND m.user_id = u.id) AS member_role
        FROM users u, workspaces w WHERE u.id = ${""} AND w.id = ${""}`.compile()[0]
  })
}

/** Every redemption of a workspace grant adds one: compiled once; a row back when inserted. Parameters: workspace, user, role. */
export const addMemberTextOf = (sql: SqlClient.SqlClient) =>
  sql`INSERT INTO workspace_members (workspace_id, user_id, role) VALUES (${""}, ${""}, ${""})
      ON CONFLICT DO NOTHING RETURNING user_id`.compile()[0]

/**
 * PostgreSQL's `WorkspaceStore.readHeldAdding` in one statement: the minter's role read after the locks the
 * caller holds and the member added (a fresh snapshot: it begins after those locks were granted, and nothing
 * that could change the role commits while they are held). One row (`is_personal`, `role`, `added`) when the
 * workspace exists. Parameters: the minter's id, the workspace's, the workspace's, the member's id, the role.
 */
export const heldAddingTextOf = (sql: SqlClient.SqlClient) =>
  sql`${sql.literal(preparedAs("workspace_held_adding"))}
    WITH held AS (SELECT w.is_personal,
        (SELECT m.role FROM workspace_members m WHERE m.workspace_id = w.id AND m.user_id = ${""}) AS role
      FROM workspaces w WHERE w.id = ${""}),
    added AS (INSERT INTO workspace_members (workspace_id, user_id, role)
      SELECT ${""}, ${""}, ${""} FROM held WHERE held.is_personal = 0
      ON CONFLICT DO NOTHING RETURNING user_id)
    SELECT held.is_personal, held.role, (SELECT count(*) FROM added) AS added FROM held`.compile()[0]

/** What `heldAddingTextOf`'s rows say: the workspace held with the minter's role, and whether the member was added. */
export const heldAddingOf = (rows: ReadonlyArray<Record<string, unknown>>) => ({
  workspace: Option.map(Option.fromNullable(rows[0]), heldRow),
  added: rows[0] !== undefined && Number(rows[0].added) > 0
})

export const WorkspaceStoreLive = Layer.effect(WorkspaceStore, Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const cols = sql.literal(COLUMNS)
  const decodeRows = Schema.decodeUnknown(Schema.Array(WorkspaceRow))
  const decodeMembers = Schema.decodeUnknown(Schema.Array(MemberRow))
  const decodeCandidates = Schema.decodeUnknown(Schema.Array(Schema.Struct({ ...WorkspaceRow.fields, owner_exists: DbInt })))
  /** The rows as workspaces with their members, each list in the order `members` has. */
  const withMembers = (rows: ReadonlyArray<typeof WorkspaceRow.Type>, members: ReadonlyArray<typeof MemberRow.Type>) => {
    const byWorkspace = new Map<string, Array<Member>>()
    for (const m of members) {
      const list = byWorkspace.get(m.workspace_id)
      const member = new Member({ user_id: m.user_id, role: m.role }, true)
      if (list === undefined) byWorkspace.set(m.workspace_id, [member])
      else list.push(member)
    }
    // the rows were decoded by their schemas: building the classes need not validate them again
    return rows.map((row) => new Workspace({ ...row, members: byWorkspace.get(row.id) ?? [] }, true))
  }
  /**
   * Loads workspaces with their members in two queries; the second selects
   * members by the same filter, so it binds no list however many match.
   */
  const loadMany = (where: Fragment) =>
    Effect.gen(function*() {
      const rows = yield* sql`SELECT ${cols} FROM workspaces WHERE ${where} ORDER BY created_at, id`.pipe(Effect.flatMap(decodeRows))
      if (rows.length === 0) return [] as Array<Workspace>
      const members = yield* sql`SELECT workspace_id, user_id, role FROM workspace_members
                                 WHERE workspace_id IN (SELECT id FROM workspaces WHERE ${where}) ORDER BY user_id`.pipe(
        Effect.flatMap(decodeMembers)
      )
      return withMembers(rows, members)
    }).pipe(Effect.orDie)
  const findOne = (where: Fragment) => Effect.map(loadMany(where), (all) => Option.fromNullable(all[0]))
  /*
   * Holding a workspace for a grant: compiled once, rows read by hand (is_personal is the table's 0/1, the role
   * its checked text). The lock, then the read in a statement of its own: a PostgreSQL statement that waited for
   * a row lock still reads other rows as of its start, so a role read with the lock would miss the change it
   * waited for.
   */
  const isPg = sql.onDialectOrElse({ pg: () => true, orElse: () => false })
  const lockShared = isPg ? sql`SELECT id FROM workspaces WHERE id = ${""} FOR SHARE`.compile()[0] : undefined
  const heldText = sql`SELECT w.is_personal,
        (SELECT m.role FROM workspace_members m WHERE m.workspace_id = w.id AND m.user_id = ${""}) AS role
      FROM workspaces w WHERE w.id = ${""}`.compile()[0]
  const readHeld = (id: string, userId: string) =>
    Effect.map(sql.unsafe<Record<string, unknown>>(heldText, [userId, id]), (rows) => Option.map(Option.fromNullable(rows[0]), heldRow))
  const heldOf = (id: string, userId: string) =>
    lockShared === undefined ? readHeld(id, userId) : Effect.zipRight(sql.unsafe(lockShared, [id]), readHeld(id, userId))
  const minterAndWorkspace = minterAndWorkspaceTextOf(sql)
  const minterAlone = userHoldText(sql)
  // PostgreSQL: the minter's role and the member added in one statement (`heldAddingTextOf`); SQLite: `readHeld`, then `addMember`
  const heldAddingText = isPg ? heldAddingTextOf(sql) : undefined
  const addMemberText = addMemberTextOf(sql)
  const memberRows = (id: string, members: ReadonlyArray<Member>) =>
    members.map((m) => ({ workspace_id: id, user_id: m.user_id, role: m.role }))
  return WorkspaceStore.of(transactional({
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
          yield* sql`INSERT INTO workspace_members ${sql.insert(memberRows(workspace.id, workspace.members))}`
        }
        return true
      }).pipe(Effect.orDie),
    findById: (id) => findOne(sql`id = ${id}`),
    findPersonal: (owner) => findOne(sql`owner_user_id = ${owner} AND is_personal = 1`),
    listForUser: (userId) => loadMany(sql`id IN (SELECT workspace_id FROM workspace_members WHERE user_id = ${userId})`),
    personalNeedingRepair: (after, limit) =>
      Effect.gen(function*() {
        // members are exactly [owner as admin] when the owner is an admin member and no one else is a member
        const rows = yield* sql`SELECT ${cols},
              CASE WHEN EXISTS (SELECT 1 FROM users u WHERE u.id = w.owner_user_id) THEN 1 ELSE 0 END AS owner_exists
            FROM workspaces w
            WHERE w.is_personal = 1 AND w.id > ${after ?? ""}
              AND (w.owner_user_id IS NULL
                OR NOT EXISTS (SELECT 1 FROM users u WHERE u.id = w.owner_user_id)
                OR NOT EXISTS (SELECT 1 FROM workspace_members m
                               WHERE m.workspace_id = w.id AND m.user_id = w.owner_user_id AND m.role = 'admin')
                OR EXISTS (SELECT 1 FROM workspace_members m WHERE m.workspace_id = w.id AND m.user_id <> w.owner_user_id))
            ORDER BY w.id LIMIT ${Math.min(limit, MAX_PAGE)}`.pipe(Effect.flatMap(decodeCandidates))
        if (rows.length === 0) return []
        // one page of ids at most (MAX_PAGE)
        const members = yield* sql`SELECT workspace_id, user_id, role FROM workspace_members
                                   WHERE ${sql.in("workspace_id", rows.map((r) => r.id))} ORDER BY user_id`.pipe(Effect.flatMap(decodeMembers))
        const workspaces = withMembers(rows.map(({ owner_exists: _, ...row }) => row), members)
        return rows.map((row, i) => ({ workspace: workspaces[i]!, ownerExists: row.owner_exists !== 0 }))
      }).pipe(Effect.orDie),
    listAll: loadMany(sql`1 = 1`),
    page: (member, after, limit) =>
      Effect.gen(function*() {
        const rows = yield* sql`SELECT ${cols} FROM workspaces
            WHERE id > ${after ?? ""}${member === null ? sql`` : sql` AND id IN (SELECT workspace_id FROM workspace_members WHERE user_id = ${member})`}
            ORDER BY id LIMIT ${limit}`.pipe(Effect.flatMap(decodeRows))
        if (rows.length === 0) return []
        // one page of ids at most (MAX_PAGE + 1)
        const members = yield* sql`SELECT workspace_id, user_id, role FROM workspace_members
                                   WHERE ${sql.in("workspace_id", rows.map((r) => r.id))} ORDER BY user_id`.pipe(Effect.flatMap(decodeMembers))
        return withMembers(rows, members)
      }).pipe(Effect.orDie),
    lock: (id) => lockRow(sql, "workspaces", id),
    hold: (id, userId) => Effect.orDie(heldOf(id, userId)),
    readHeld: (id, userId) => Effect.orDie(readHeld(id, userId)),
    readHeldAdding: (id, minterId, userId, role) =>
      (heldAddingText === undefined
        ? Effect.gen(function*() {
          const workspace = yield* readHeld(id, minterId)
          if (Option.isNone(workspace) || workspace.value.isPersonal) return { workspace, added: false }
          return { workspace, added: (yield* sql.unsafe(addMemberText, [id, userId, role])).length > 0 }
        })
        : Effect.map(sql.unsafe<Record<string, unknown>>(heldAddingText, [minterId, id, id, userId, role]), heldAddingOf)).pipe(Effect.orDie),
    holdWithMinter: (id, minterId) =>
      Effect.gen(function*() {
        const both = yield* sql.unsafe<Record<string, unknown>>(minterAndWorkspace, [minterId, id])
        if (both.length === 0) {
          // the minter or the workspace is gone: each held on its own, as `UserStore.hold` and `hold` do
          const minter = yield* sql.unsafe<Record<string, unknown>>(minterAlone, [minterId])
          return { minter: Option.map(Option.fromNullable(minter[0]), trustedUser), workspace: yield* heldOf(id, minterId) }
        }
        const row = both[0]!
        // PostgreSQL: the role in a statement after the locks; SQLite read it with them (its writer holds the file)
        const held = isPg ? yield* readHeld(id, minterId) : Option.some(heldRow({ is_personal: row.is_personal, role: row.member_role }))
        return { minter: Option.some(trustedUser(row)), workspace: held }
      }).pipe(Effect.orDie),
    update: (workspace) => {
      const row = Schema.encodeSync(WorkspaceRow)({ ...workspace, members: undefined })
      return sql`UPDATE workspaces SET name = ${row.name}, about = ${row.about}, custom_instructions = ${row.custom_instructions},
                   bundles = ${row.bundles}, updated_at = ${row.updated_at} WHERE id = ${row.id}`.pipe(Effect.asVoid, Effect.orDie)
    },
    replaceMembers: (id, members) =>
      Effect.gen(function*() {
        yield* sql`DELETE FROM workspace_members WHERE workspace_id = ${id}`
        if (members.length > 0) yield* sql`INSERT INTO workspace_members ${sql.insert(memberRows(id, members))}`
      }).pipe(Effect.orDie),
    lockAll: (ids) =>
      Effect.gen(function*() {
        if (ids.length === 0) return []
        const listed = sql.in("id", ids.slice(0, MAX_PAGE))
        yield* sql.onDialectOrElse({
          pg: () => sql`SELECT COUNT(*) AS n FROM (SELECT id FROM workspaces WHERE ${listed} ORDER BY id FOR UPDATE) AS locked`,
          orElse: () => Effect.succeed([])
        })
        return yield* loadMany(listed)
      }).pipe(Effect.orDie),
    replaceMembersOf: (changes) =>
      Effect.gen(function*() {
        if (changes.length === 0) return
        const page = changes.slice(0, MAX_PAGE)
        yield* sql`DELETE FROM workspace_members WHERE ${sql.in("workspace_id", page.map((c) => c.id))}`
        const rows = page.flatMap((c) => memberRows(c.id, c.members))
        for (let from = 0; from < rows.length; from += MEMBERS_PER_INSERT) {
          yield* sql`INSERT INTO workspace_members ${sql.insert(rows.slice(from, from + MEMBERS_PER_INSERT))}`
        }
      }).pipe(Effect.orDie),
    setMemberRole: (id, userId, role) =>
      sql`UPDATE workspace_members SET role = ${role} WHERE workspace_id = ${id} AND user_id = ${userId} RETURNING user_id`.pipe(
        Effect.map((rows) => rows.length > 0),
        Effect.orDie
      ),
    removeMember: (id, userId) =>
      sql`DELETE FROM workspace_members WHERE workspace_id = ${id} AND user_id = ${userId} RETURNING user_id`.pipe(
        Effect.map((rows) => rows.length > 0),
        Effect.orDie
      ),
    delete: (id) =>
      Effect.gen(function*() {
        yield* sql`DELETE FROM workspace_members WHERE workspace_id = ${id}`
        return (yield* sql`DELETE FROM workspaces WHERE id = ${id} RETURNING id`).length > 0
      }).pipe(Effect.orDie),
    addMember: (id, userId, role) =>
      sql.unsafe(addMemberText, [id, userId, role]).pipe(
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
  }, ["insert", "hold", "readHeld", "readHeldAdding", "holdWithMinter", "update", "replaceMembers", "lockAll", "replaceMembersOf", "setMemberRole", "removeMember", "delete", "addMember", "deletePersonalOf", "removeMembershipsOf"]))
}))
