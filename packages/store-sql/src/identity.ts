/**
 * SQL implementations of the identity ports, written once for both
 * dialects. Guarded writes use `RETURNING` so the caller learns whether the
 * write applied. Infrastructure failures become defects here.
 */
import { SqlClient, SqlSchema } from "@effect/sql"
import {
  ApiKeyId,
  ApiKeyStore,
  Conflict,
  type HeldWorkspace,
  Invite,
  InviteId,
  InviteStore,
  LinkBearer,
  MAX_PAGE,
  LinkCredentialStore,
  type Redemption,
  LinkRole,
  ResourceId,
  ShareLinkId,
  User,
  UserExists,
  UserId,
  UserStore,
  writing
} from "@tessera/domain"
import { Effect, Layer, Option, Schema } from "effect"
import { CountRow, lockRow, shareLock } from "./rows.js"
import { DirectStatements, hotStatement } from "./pool.js"
import { preparedAs, subtree } from "./resources.js"
import { uniqueViolation } from "./sqlErrors.js"

const USER_COLUMNS = "id, handle, role, status, sign_pub, kex_pub, created_at, revoked_at"

/** A user's row by id, held shared to commit (PostgreSQL), as one compiled text: read it with `trustedUser`. */
export const userHoldText = (sql: SqlClient.SqlClient) =>
  sql`SELECT ${sql.literal(USER_COLUMNS)} FROM users WHERE id = ${""}${shareLock(sql)}`.compile()[0]

export const UserStoreLive = Layer.effect(UserStore, Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const cols = sql.literal(USER_COLUMNS)
  const findById = SqlSchema.findOne({
    Request: UserId,
    Result: User,
    execute: (id) => sql`SELECT ${cols} FROM users WHERE id = ${id}`
  })
  const findByHandle = SqlSchema.findOne({
    Request: Schema.String,
    Result: User,
    execute: (handle) => sql`SELECT ${cols} FROM users WHERE handle = ${handle}`
  })
  // the actor of every write and the minter of every grant: compiled once, the row read by hand
  const holdText = userHoldText(sql)
  const hold = (id: UserId) =>
    sql.unsafe<Record<string, unknown>>(holdText, [id]).pipe(
      Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), trustedUser))
    )
  const list = SqlSchema.findAll({
    Request: Schema.Void,
    Result: User,
    execute: () => sql`SELECT ${cols} FROM users ORDER BY created_at, id`
  })
  const page = (after: UserId | null, limit: number) =>
    sql`SELECT ${cols} FROM users WHERE id > ${after ?? ""} ORDER BY id LIMIT ${limit}`.pipe(
      Effect.flatMap(Schema.decodeUnknown(Schema.Array(User))),
      Effect.orDie
    )
  const count = (query: string) =>
    SqlSchema.single({ Request: Schema.Void, Result: CountRow, execute: () => sql.unsafe(query) })(undefined).pipe(
      Effect.map((row) => row.n),
      Effect.orDie
    )
  return UserStore.of({
    insert: (user) =>
      writing(sql`INSERT INTO users ${sql.insert(Schema.encodeSync(User)(user))}`.pipe(
        Effect.asVoid,
        Effect.catchTag("SqlError", (error) => {
          const violated = uniqueViolation(error)
          if (violated === undefined) return Effect.die(error)
          const field = violated.includes("sign_pub") ? "sign_pub" : violated.includes("kex_pub") ? "kex_pub" : "handle"
          return Effect.fail(new UserExists({ field, message: `a user with this ${field} is already registered` }))
        })
      )),
    findById: (id) => Effect.orDie(findById(id)),
    findByHandle: (handle) => Effect.orDie(findByHandle(handle)),
    list: Effect.orDie(list(undefined)),
    page,
    count: count("SELECT COUNT(*) AS n FROM users"),
    countActiveAdmins: count("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND status = 'active'"),
    revoke: (id, at) =>
      writing(Effect.orDie(sql`UPDATE users SET status = 'revoked', revoked_at = ${at} WHERE id = ${id} AND status = 'active'`)),
    delete: (id) => writing(Effect.orDie(sql`DELETE FROM users WHERE id = ${id}`)),
    hold: (id) => writing(Effect.orDie(hold(id))),
    lock: (id) => lockRow(sql, "users", id)
  })
}))

/**
 * A users row as stored, read by hand: its columns are the table's own,
 * written only through `User`, and the table's checks hold role and status,
 * so the class is built without validating them again.
 */
export const trustedUser = (row: Record<string, unknown>): User =>
  new User({
    id: row.id as User["id"],
    handle: row.handle as User["handle"],
    role: row.role as User["role"],
    status: row.status as User["status"],
    sign_pub: (row.sign_pub ?? null) as string | null,
    kex_pub: (row.kex_pub ?? null) as string | null,
    created_at: row.created_at as User["created_at"],
    revoked_at: (row.revoked_at ?? null) as User["revoked_at"]
  }, true)

/**
 * The active owner of a key by its digest, on every authenticated request: compiled once, named on PostgreSQL,
 * straight on the pool when nothing observes statements (`hotStatement`; `HotReads`), its row read by hand
 * (`keyOwnerOf`). One parameter: the digest.
 */
export const keyOwnerText = (sql: SqlClient.SqlClient) =>
  sql`${sql.literal(preparedAs("api_key_owner"))}
      SELECT k.id AS key_id, u.id, u.handle, u.role, u.status, u.sign_pub, u.kex_pub, u.created_at, u.revoked_at
      FROM api_keys k JOIN users u ON u.id = k.user_id
      WHERE k.digest = ${""} AND u.status = 'active'`.compile()[0]

/** The key and its owner from `keyOwnerText`'s rows. */
export const keyOwnerOf = (rows: ReadonlyArray<Record<string, unknown>>): Option.Option<{ readonly apiKeyId: ApiKeyId; readonly user: User }> => {
  const row = rows[0]
  return row === undefined ? Option.none() : Option.some({ apiKeyId: row.key_id as ApiKeyId, user: trustedUser(row) })
}

export const ApiKeyStoreLive = Layer.effect(ApiKeyStore, Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const ownerText = keyOwnerText(sql)
  const run = hotStatement(sql, yield* Effect.serviceOption(DirectStatements))
  return ApiKeyStore.of({
    insert: (key, digest) =>
      writing(Effect.orDie(sql`INSERT INTO api_keys ${sql.insert({ id: key.id, user_id: key.user_id, digest, created_at: key.created_at })}`)),
    findActiveOwner: (digest) =>
      run(ownerText, [digest]).pipe(Effect.map(keyOwnerOf), Effect.orDie),
    deleteForUser: (userId) =>
      writing(Effect.orDie(sql`DELETE FROM api_keys WHERE user_id = ${userId} RETURNING id`.pipe(Effect.map((rows) => rows.length))))
  })
}))

/**
 * Whether a text column holds a time in the one form the kernel writes
 * (`2026-01-02T03:04:05.678Z`), the form in which text order is time order.
 */
const wellFormedTime = (sql: SqlClient.SqlClient, column: string) =>
  sql.onDialectOrElse({
    pg: () => sql`(${sql.literal(column)} ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}Z$')`,
    orElse: () =>
      sql`(${sql.literal(column)} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z')`
  })

/**
 * An invites row just claimed, as it was before: pending, with no
 * redemption. Read by hand: the row was written through `Invite`, and the
 * table's checks hold kind and status.
 */
export const pendingInvite = (row: Record<string, unknown>): Invite =>
  new Invite({
    id: row.id as Invite["id"],
    kind: row.kind as Invite["kind"],
    status: "pending",
    handle: (row.handle ?? null) as Invite["handle"],
    role: (row.role ?? null) as Invite["role"],
    workspace_id: (row.workspace_id ?? null) as Invite["workspace_id"],
    workspace_role: (row.workspace_role ?? null) as Invite["workspace_role"],
    resource_id: (row.resource_id ?? null) as Invite["resource_id"],
    resource_role: (row.resource_role ?? null) as Invite["resource_role"],
    expires_at: row.expires_at as string,
    created_at: row.created_at as Invite["created_at"],
    created_by: (row.created_by ?? null) as Invite["created_by"],
    redeemed_at: null,
    redeemed_by: null,
    redeemed_sign_pub: null,
    redeemed_kex_pub: null,
    canceled_at: (row.canceled_at ?? null) as Invite["canceled_at"]
  }, true)

const INVITE_COLUMNS =
  "id, kind, status, handle, role, workspace_id, workspace_role, resource_id, resource_role, expires_at, created_at, created_by, redeemed_at, redeemed_by, redeemed_sign_pub, redeemed_kex_pub, canceled_at"

/**
 * `columns` (a comma-separated list) read from the table aliased `alias`, each named `as` followed by the
 * column when `as` is given (`a.id AS actor_id`): for a statement's text, built once.
 */
const columnsOf = (columns: string, alias: string, as?: string) =>
  columns.split(", ").map((c) => (as === undefined ? `${alias}.${c}` : `${alias}.${c} AS ${as}${c}`)).join(", ")

/**
 * The claim: the lookup by digest and the single-use write in one statement, compiled once (named on
 * PostgreSQL), its row read by hand (`pendingInvite`). The expiry is compared as text only in the kernel's one
 * form. Parameters: at, by, sign_pub, kex_pub, digest, kind, at.
 */
export const claimTextOf = (sql: SqlClient.SqlClient) =>
  sql`${sql.literal(preparedAs("invite_claim"))}
      UPDATE invites SET status = 'redeemed', redeemed_at = ${""}, redeemed_by = ${""}, redeemed_sign_pub = ${""}, redeemed_kex_pub = ${""}
      WHERE digest = ${""} AND status = 'pending' AND kind = ${""} AND expires_at > ${""} AND ${wellFormedTime(sql, "expires_at")}
      RETURNING ${sql.literal(INVITE_COLUMNS)}`.compile()[0]

/**
 * PostgreSQL's `InviteStore.claimAs` in one statement, compiled once (named): the caller held, then the claim
 * only if they are active. The caller's row is locked (shared) by the CTE the update's guard reads, so before
 * the invite's row, and a caller whose row waited is read as committed; a claimed workspace grant's minter and
 * workspace are then locked (shared, users before workspaces) by the CTE that reads the claimed row, as
 * `WorkspaceStore.holdWithMinter` would lock them, and a row that waited is read as committed. The minter's
 * role is not read here: a statement that waited for a lock reads other rows as of its start. One row, read
 * by `claimedAsOf`. Parameters: the caller's id, at, by, sign_pub, kex_pub, digest, kind, at.
 */
export const claimAsTextOf = (sql: SqlClient.SqlClient) =>
  sql`${sql.literal(preparedAs("invite_claim_as"))}
      WITH actor AS MATERIALIZED (SELECT ${sql.literal(USER_COLUMNS)} FROM users WHERE id = ${""} FOR SHARE),
      claimed AS (
        UPDATE invites SET status = 'redeemed', redeemed_at = ${""}, redeemed_by = ${""}, redeemed_sign_pub = ${""}, redeemed_kex_pub = ${""}
        WHERE digest = ${""} AND status = 'pending' AND kind = ${""} AND expires_at > ${""} AND ${wellFormedTime(sql, "expires_at")}
          AND EXISTS (SELECT 1 FROM actor WHERE status = 'active')
        RETURNING ${sql.literal(INVITE_COLUMNS)}),
      minter AS MATERIALIZED (
        SELECT ${sql.literal(columnsOf(USER_COLUMNS, "u"))}
        FROM claimed c JOIN users u ON u.id = c.created_by JOIN workspaces w ON w.id = c.workspace_id
        WHERE c.workspace_role IS NOT NULL
        FOR SHARE OF u, w)
      SELECT ${sql.literal(columnsOf(USER_COLUMNS, "a", "actor_"))},
        ${sql.literal(columnsOf(USER_COLUMNS, "m", "minter_"))}, c.*
      FROM (SELECT 1) AS one LEFT JOIN actor a ON true LEFT JOIN claimed c ON true LEFT JOIN minter m ON true`.compile()[0]

/** A user's columns under `prefix` in a row, as `[column, prefixed column]` pairs: built once per prefix. */
const prefixedUser = (prefix: string) => USER_COLUMNS.split(", ").map((c) => [c, `${prefix}${c}`] as const)
const PREFIXED_USER: Record<"actor_" | "minter_", ReadonlyArray<readonly [string, string]>> = {
  actor_: prefixedUser("actor_"),
  minter_: prefixedUser("minter_")
}

const userAt = (row: Record<string, unknown>, prefix: "actor_" | "minter_") => {
  const columns = PREFIXED_USER[prefix]
  if (row[columns[0]![1]] === null || row[columns[0]![1]] === undefined) return Option.none()
  const user: Record<string, unknown> = {}
  for (const [column, prefixed] of columns) user[column] = row[prefixed]
  return Option.some(trustedUser(user))
}

/** What `claimAsTextOf`'s one row says: the caller, the invite claimed (before the claim), the claimed grant's minter held. */
export const claimedAsOf = (row: Record<string, unknown>) => ({
  actor: userAt(row, "actor_"),
  invite: row.id === null || row.id === undefined ? Option.none<Invite>() : Option.some(pendingInvite(row)),
  minterHeld: Option.getOrNull(userAt(row, "minter_"))
})

/**
 * PostgreSQL's one-call redemptions of workspace grants (store-sql grants.ts) as one statement for a batch of
 * them, compiled once (named), so a batch's transaction is `BEGIN`, this, and `COMMIT` or `ROLLBACK`. The rows
 * are taken in the lock order (docs/consistency.md), as the general path takes them:
 * - all the callers held shared, in id order, before any claim; each claim only if its caller is active
 *   (`claimAsTextOf`); the invites in the order the plan reaches them;
 * - then all the claimed grants' minters held shared, in id order, then all their workspaces, in id order, a
 *   row that waited read as committed (each CTE sorts what it locks, so it reads all it depends on first);
 * - then each minter's membership row held shared: only a writer holding the workspace exclusively changes it,
 *   so once it is held nothing can change the minter's role before commit, and a change committed while this
 *   statement waited is read (a row updated meanwhile is read as committed; one deleted meanwhile reads as no
 *   role). The general path reads the role by a second statement instead (`heldAddingTextOf`);
 * - each caller added as a member (in a team workspace, if not one already);
 * - and for each caller added, the grant's two events queued as `redeemInvite` appends them (`inviteRedeemed`,
 *   `memberAdded`), in the batch's order: their `data` is the JSON text `JSON.stringify` writes for those
 *   objects, every value a JSON string through `to_json`.
 * Nothing here decides: the domain does on the facts each row returns (`redeemedGrantOf`), and the caller
 * commits only when it finds, for every grant claimed, the plain success, and exactly their events queued;
 * else it rolls the whole batch back. Parameters: the callers' ids, their times, the digests (three arrays in
 * the batch's order; a caller at most once). One row per redemption, in that order.
 */
export const redeemGrantsTextOf = (sql: SqlClient.SqlClient) =>
  sql`${sql.literal(preparedAs("invite_redeem_grants"))}
      WITH input AS MATERIALIZED (
        SELECT i.n, i.actor_id, i.at, i.digest FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS i (actor_id, at, digest, n)),
      actor AS MATERIALIZED (
        SELECT i.n, ${sql.literal(columnsOf(USER_COLUMNS, "u"))}
        FROM input i JOIN users u ON u.id = i.actor_id ORDER BY u.id FOR SHARE OF u),
      claimed AS (
        UPDATE invites v SET status = 'redeemed', redeemed_at = i.at, redeemed_by = i.actor_id, redeemed_sign_pub = NULL, redeemed_kex_pub = NULL
        FROM input i
        WHERE v.digest = i.digest AND v.status = 'pending' AND v.kind = 'grant' AND v.expires_at > i.at AND ${wellFormedTime(sql, "v.expires_at")}
          AND v.workspace_id IS NOT NULL AND v.workspace_role IS NOT NULL
          AND EXISTS (SELECT 1 FROM actor a WHERE a.n = i.n AND a.status = 'active')
          -- every caller held before any invite is claimed: evaluated once, before the first row is updated
          AND (SELECT count(*) FROM actor) > 0
        RETURNING i.n, ${sql.literal(columnsOf(INVITE_COLUMNS, "v"))}),
      minter AS MATERIALIZED (
        SELECT c.n, ${sql.literal(columnsOf(USER_COLUMNS, "u"))}
        FROM claimed c JOIN users u ON u.id = c.created_by ORDER BY u.id FOR SHARE OF u),
      workspace AS MATERIALIZED (
        SELECT c.n, w.is_personal FROM claimed c JOIN minter mi ON mi.n = c.n JOIN workspaces w ON w.id = c.workspace_id
        ORDER BY w.id FOR SHARE OF w),
      held AS MATERIALIZED (
        SELECT c.n, m.role FROM claimed c JOIN minter mi ON mi.n = c.n JOIN workspace ws ON ws.n = c.n
          JOIN workspace_members m ON m.workspace_id = c.workspace_id AND m.user_id = mi.id
        ORDER BY m.workspace_id, m.user_id FOR SHARE OF m),
      added AS (
        INSERT INTO workspace_members (workspace_id, user_id, role)
        SELECT c.workspace_id, c.redeemed_by, c.workspace_role FROM claimed c JOIN workspace ws ON ws.n = c.n AND ws.is_personal = 0
        ORDER BY c.n
        ON CONFLICT DO NOTHING RETURNING workspace_id, user_id),
      queued AS (
        INSERT INTO event_queue (type, at, actor, workspace_id, resource_id, data)
        SELECT e.type, c.redeemed_at, c.redeemed_by, c.workspace_id, e.resource_id, e.data
        FROM claimed c JOIN added a ON a.workspace_id = c.workspace_id AND a.user_id = c.redeemed_by
        CROSS JOIN LATERAL (VALUES
          (1, 'invite.redeemed', c.resource_id,
            '{"invite_id":' || to_json(c.id) || ',"kind":' || to_json(c.kind) || ',"redeemed_by":' || to_json(c.redeemed_by) || '}'),
          (2, 'workspace.member_added', NULL,
            '{"user_id":' || to_json(c.redeemed_by) || ',"role":' || to_json(c.workspace_role) || ',"invite_id":' || to_json(c.id) || '}')
        ) AS e (k, type, resource_id, data)
        ORDER BY c.n, e.k
        RETURNING id, type, at, actor, workspace_id, resource_id, data)
      SELECT i.n,
        ${sql.literal(columnsOf(USER_COLUMNS, "a", "actor_"))},
        ${sql.literal(columnsOf(USER_COLUMNS, "mi", "minter_"))},
        ws.is_personal, h.role AS member_role, (ad.user_id IS NOT NULL) AS added,
        ${sql.literal(columnsOf(INVITE_COLUMNS, "c"))},
        -- the batch's queued rows once, on its first row
        CASE WHEN i.n = 1 THEN (SELECT json_agg(json_build_array(q.type, q.at, q.actor, q.workspace_id, q.resource_id, q.data) ORDER BY q.id)
          FROM queued q)::text END AS queued
      FROM input i LEFT JOIN actor a ON a.n = i.n LEFT JOIN claimed c ON c.n = i.n LEFT JOIN minter mi ON mi.n = i.n
        LEFT JOIN workspace ws ON ws.n = i.n LEFT JOIN held h ON h.n = i.n
        LEFT JOIN added ad ON ad.workspace_id = c.workspace_id AND ad.user_id = c.redeemed_by
      ORDER BY i.n`.compile()[0]

/**
 * What one of `redeemGrantsTextOf`'s rows says: the caller, the grant claimed (before the claim), its minter
 * and workspace held with the minter's role, and whether the caller was added; and, on the first row only, the
 * batch's queued rows (each `[type, at, actor, workspace_id, resource_id, data]`, in order).
 */
export const redeemedGrantOf = (row: Record<string, unknown>) => ({
  actor: userAt(row, "actor_"),
  invite: row.id === null || row.id === undefined ? Option.none<Invite>() : Option.some(pendingInvite(row)),
  minter: userAt(row, "minter_"),
  workspace: row.is_personal === null || row.is_personal === undefined
    ? Option.none<HeldWorkspace>()
    : Option.some<HeldWorkspace>({ isPersonal: Number(row.is_personal) !== 0, role: (row.member_role ?? null) as HeldWorkspace["role"] }),
  added: row.added === true
})

/** The batch's queued rows, from the first of `redeemGrantsTextOf`'s rows. */
export const queuedOf = (row: Record<string, unknown>): ReadonlyArray<ReadonlyArray<string | null>> =>
  typeof row.queued === "string" ? JSON.parse(row.queued) : []

export const InviteStoreLive = Layer.effect(InviteStore, Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const cols = sql.literal(INVITE_COLUMNS)
  const findById = SqlSchema.findOne({
    Request: InviteId,
    Result: Invite,
    execute: (id) => sql`SELECT ${cols} FROM invites WHERE id = ${id}`
  })
  const findByDigest = SqlSchema.findOne({
    Request: Schema.String,
    Result: Invite,
    execute: (digest) => sql`SELECT ${cols} FROM invites WHERE digest = ${digest}`
  })
  const applied = (rows: ReadonlyArray<unknown>) => rows.length > 0
  const claimText = claimTextOf(sql)
  const claim = (digest: string, kind: string, r: Redemption) =>
    sql.unsafe<Record<string, unknown>>(claimText, [r.at, r.by, r.signPub, r.kexPub, digest, kind, r.at]).pipe(
      Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), pendingInvite))
    )
  // the caller held, then the claim only if they are active: PostgreSQL in one statement, SQLite the hold, then the claim
  const isPg = sql.onDialectOrElse({ pg: () => true, orElse: () => false })
  const actorText = userHoldText(sql)
  const claimAsText = isPg ? claimAsTextOf(sql) : undefined
  return InviteStore.of({
    claim: (digest, kind, r) => writing(Effect.orDie(claim(digest, kind, r))),
    claimAs: (actorId, digest, kind, r) =>
      writing(
        (claimAsText === undefined
          ? Effect.gen(function*() {
            const actor = Option.map(Option.fromNullable((yield* sql.unsafe<Record<string, unknown>>(actorText, [actorId]))[0]), trustedUser)
            const active = Option.isSome(actor) && actor.value.status === "active"
            return { actor, invite: active ? yield* claim(digest, kind, r) : Option.none(), minterHeld: null }
          })
          : Effect.map(
            sql.unsafe<Record<string, unknown>>(claimAsText, [actorId, r.at, r.by, r.signPub, r.kexPub, digest, kind, r.at]),
            (rows) => claimedAsOf(rows[0]!)
          )).pipe(Effect.orDie)
      ),
    insert: (invite, digest) =>
      writing(sql`INSERT INTO invites ${sql.insert({ ...Schema.encodeSync(Invite)(invite), digest })}`.pipe(
        Effect.asVoid,
        Effect.catchTag("SqlError", (error) => {
          const violated = uniqueViolation(error)
          if (violated === undefined || !/invites_one_pending_registration|invites\.handle/.test(violated)) return Effect.die(error)
          return Effect.fail(new Conflict({ message: `a pending invite already holds handle ${invite.handle}` }))
        })
      )),
    findById: (id) => Effect.orDie(findById(id)),
    findByDigest: (digest) => Effect.orDie(findByDigest(digest)),
    list: (query) => {
      const clauses = [
        ...(query.workspaceId !== undefined ? [sql`workspace_id = ${query.workspaceId}`] : []),
        ...(query.resourceId !== undefined ? [sql`resource_id = ${query.resourceId}`] : []),
        ...(query.handle !== undefined ? [sql`handle = ${query.handle}`] : []),
        ...(query.createdBy !== undefined ? [sql`created_by = ${query.createdBy}`] : []),
        ...(query.storedStatuses !== undefined ? [sql.in("status", query.storedStatuses)] : [])
      ]
      return sql`SELECT ${cols} FROM invites WHERE ${sql.and(clauses)} ORDER BY created_at, id`.pipe(
        Effect.flatMap(Schema.decodeUnknown(Schema.Array(Invite))),
        Effect.orDie
      )
    },
    page: (query, after, limit) => {
      const pending = sql`(status = 'pending' AND expires_at > ${query.now} AND ${wellFormedTime(sql, "expires_at")})`
      const clauses = [
        ...(after === null ? [] : [sql`(created_at, id) > (${after[0]}, ${after[1]})`]),
        ...(query.workspaceId !== undefined ? [sql`workspace_id = ${query.workspaceId}`] : []),
        ...(query.resourceId !== undefined ? [sql`resource_id = ${query.resourceId}`] : []),
        ...(query.createdBy !== undefined ? [sql`created_by = ${query.createdBy}`] : []),
        ...(query.status === undefined
          ? []
          : query.status === "pending"
          ? [pending]
          : query.status === "expired"
          ? [sql`(status = 'expired' OR (status = 'pending' AND NOT ${pending}))`]
          : [sql`status = ${query.status}`])
      ]
      return sql`SELECT ${cols} FROM invites WHERE ${sql.and(clauses)} ORDER BY created_at, id LIMIT ${limit}`.pipe(
        Effect.flatMap(Schema.decodeUnknown(Schema.Array(Invite))),
        Effect.orDie
      )
    },
    markRedeemed: (id, r) =>
      writing(sql`UPDATE invites SET status = 'redeemed', redeemed_at = ${r.at}, redeemed_by = ${r.by},
            redeemed_sign_pub = ${r.signPub}, redeemed_kex_pub = ${r.kexPub}
          WHERE id = ${id} AND status = 'pending' RETURNING id`.pipe(Effect.map(applied), Effect.orDie)),
    markCanceled: (id, at) =>
      writing(sql`UPDATE invites SET status = 'canceled', canceled_at = ${at}
          WHERE id = ${id} AND status = 'pending' RETURNING id`.pipe(Effect.map(applied), Effect.orDie)),
    cancelPendingForWorkspace: (workspaceId, at) =>
      writing(sql<{ id: InviteId }>`UPDATE invites SET status = 'canceled', canceled_at = ${at}
          WHERE status = 'pending' AND expires_at > ${at}
            AND (workspace_id = ${workspaceId} OR resource_id IN (SELECT id FROM resources WHERE workspace_id = ${workspaceId}))
          RETURNING id`.pipe(Effect.map((rows) => rows.map((r) => r.id)), Effect.orDie)),
    cancelPendingInSubtree: (rootId, at) =>
      writing(sql`${subtree(sql, rootId)}
          UPDATE invites SET status = 'canceled', canceled_at = ${at}
          WHERE status = 'pending' AND expires_at > ${at} AND resource_id IN (SELECT id FROM subtree) RETURNING id`.pipe(
        Effect.map((rows) => rows.length),
        Effect.orDie
      )),
    markExpired: (id) =>
      writing(sql`UPDATE invites SET status = 'expired' WHERE id = ${id} AND status = 'pending' RETURNING id`.pipe(
        Effect.map(applied),
        Effect.orDie
      )),
    markExpiredAll: (ids) =>
      ids.length === 0
        ? writing(Effect.succeed([]))
        : writing(sql<{ id: InviteId }>`UPDATE invites SET status = 'expired'
            WHERE ${sql.in("id", ids.slice(0, MAX_PAGE))} AND status = 'pending' RETURNING id`.pipe(
          Effect.map((rows) => rows.map((r) => r.id)),
          Effect.orDie
        )),
    pendingExpired: (after, limit, now) =>
      sql`SELECT ${cols} FROM invites
          WHERE status = 'pending' AND id > ${after ?? ""} AND (expires_at <= ${now} OR NOT ${wellFormedTime(sql, "expires_at")})
          ORDER BY id LIMIT ${Math.min(limit, MAX_PAGE)}`.pipe(
        Effect.flatMap(Schema.decodeUnknown(Schema.Array(Invite))),
        Effect.orDie
      ),
    cancelPendingMintedBy: (userId, at) =>
      writing(sql`UPDATE invites SET status = 'canceled', canceled_at = ${at}
          WHERE created_by = ${userId} AND status = 'pending' AND expires_at > ${at} RETURNING id`.pipe(
        Effect.map((rows) => rows.length),
        Effect.orDie
      ))
  })
}))

const BearerRow = Schema.Struct({ id: ShareLinkId, resource_id: ResourceId, role: LinkRole })
const toBearer = (row: typeof BearerRow.Type): LinkBearer => ({ _tag: "ShareLink", linkId: row.id, resourceId: row.resource_id, role: row.role })

/** Share links as credentials: an active link on a live resource. */
export const LinkCredentialStoreLive = Layer.effect(LinkCredentialStore, Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const findActive = SqlSchema.findOne({
    Request: Schema.String,
    Result: BearerRow,
    execute: (digest) =>
      sql`SELECT l.id, l.resource_id, l.role FROM share_links l JOIN resources r ON r.id = l.resource_id
          WHERE l.digest = ${digest} AND l.disabled_at IS NULL AND r.revoked_at IS NULL`
  })
  const hold = SqlSchema.findOne({
    Request: ShareLinkId,
    Result: BearerRow,
    execute: (id) => sql`SELECT id, resource_id, role FROM share_links WHERE id = ${id} AND disabled_at IS NULL${shareLock(sql)}`
  })
  return LinkCredentialStore.of({
    findActive: (digest) => findActive(digest).pipe(Effect.map(Option.map(toBearer)), Effect.orDie),
    hold: (id) => writing(hold(id).pipe(Effect.map(Option.map(toBearer)), Effect.orDie))
  })
}))
