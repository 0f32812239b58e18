/**
 * The doctor on a store (docs/domain.md#maintenance): data written by use cases only —
 * registrations, teams, trees, grants, invites, share links (one rotated),
 * a move and a revocation — holds no violation; then, for each check, a
 * fresh small world is broken by direct SQL and the doctor must report
 * exactly the violations named, with their ids, and nothing else; after
 * the repair it reports what it reported before. Windows of a few rows make
 * every check cross window boundaries even on a small store. Deleting users
 * leaves nothing new to report; only system admins may run it; a report
 * lists at most `maxListed` violations but counts them all.
 *
 * It drives the domain's use cases and `runDoctor`; it writes tables
 * directly only to break (then repair) rows, through `StoreSql.unchecked`,
 * which runs with the store's reference checks off. The unique indexes that
 * make some breakages impossible are dropped for that one case and made
 * again after the repair.
 */
import { describe, expect, layer } from "@effect/vitest"
import {
  addMember,
  authenticate,
  check,
  type CheckRequest,
  createResource,
  createWorkspace,
  deleteUser,
  type DoctorViolation,
  grantAccess,
  mintInvite,
  moveResource,
  type Principal,
  putShareLink,
  type ResourceId,
  revokeResource,
  runDoctor,
  type StoreInspector,
  SystemActor,
  type UserId,
  type WorkspaceId
} from "@tessera/domain"
import { Effect, Layer, Option } from "effect"
import { registerUser } from "./fixtures.js"
import { Admin, type StorePorts, withAdmin } from "./index.js"
import { sqlString, StoreSql } from "./invariants.js"

/** Ids of one small consistent world, built by use cases only. */
interface World {
  readonly a: UserId
  readonly b: UserId
  readonly aPersonal: WorkspaceId
  readonly bPersonal: WorkspaceId
  readonly team: WorkspaceId
  readonly elsewhere: WorkspaceId
  /** root → child → grandchild, in `team`; `root` has `a` as owner and `b` as editor. */
  readonly root: ResourceId
  readonly child: ResourceId
  readonly grandchild: ResourceId
  readonly ownerAccess: string
  readonly editorAccess: string
  /** A root of `team` with a pending resource invite. */
  readonly invited: ResourceId
  readonly resourceInvite: string
  readonly workspaceInvite: string
  /** A root of `team` with an active share link (its second: the first was rotated). */
  readonly linked: ResourceId
  readonly link: string
  /** The last root of `team`. */
  readonly spare: ResourceId
  /** The only resource of `elsewhere`, a root with no children. */
  readonly foreign: ResourceId
}

const GHOST_USER = "usr_00000000000000000000000000000d0c"
const GHOST_WORKSPACE = "ws_00000000000000000000000000000d0c"
const GHOST_RESOURCE = "res_00000000000000000000000000000d0c"
const AT = sqlString("2026-01-01T00:00:00.000Z")

const buildWorld = (admin: Principal) =>
  Effect.gen(function*() {
    const ra = yield* registerUser(admin)
    const rb = yield* registerUser(admin)
    const a = yield* authenticate(ra.apiKey)
    const team = yield* createWorkspace(a, { name: "doctor" })
    yield* addMember(a, team.id, rb.user.id, "member")
    const elsewhere = yield* createWorkspace(a, { name: "elsewhere" })
    const root = yield* createResource(a, team.id, { title: "root" })
    const child = yield* createResource(a, team.id, { title: "child", parent_id: root.id })
    const grandchild = yield* createResource(a, team.id, { title: "grandchild", parent_id: child.id })
    const editor = yield* grantAccess(a, root.id, rb.user.id, "editor")
    const invited = yield* createResource(a, team.id, { title: "invited" })
    const resourceInvite = yield* mintInvite(a, { kind: "grant", resource_id: invited.id, resource_role: "reader" })
    const workspaceInvite = yield* mintInvite(a, { kind: "grant", workspace_id: team.id, workspace_role: "member" })
    const linked = yield* createResource(a, team.id, { title: "linked" })
    yield* putShareLink(a, linked.id, "reader")
    const { link } = yield* putShareLink(a, linked.id, "editor")
    // a revoked subtree with its own invite and link, all swept by the use case
    const gone = yield* createResource(a, team.id, { title: "gone" })
    const goneChild = yield* createResource(a, team.id, { title: "gone child", parent_id: gone.id })
    yield* mintInvite(a, { kind: "grant", resource_id: goneChild.id, resource_role: "reader" })
    yield* putShareLink(a, goneChild.id, "reader")
    yield* revokeResource(a, gone.id, { dryRun: false })
    // a root moved under another: the roots after it close up
    const holder = yield* createResource(a, team.id, { title: "holder" })
    const moved = yield* createResource(a, team.id, { title: "moved" })
    yield* createResource(a, team.id, { title: "after moved" })
    yield* moveResource(a, moved.id, { targetId: holder.id, position: "last-child", dryRun: false })
    const spare = yield* createResource(a, team.id, { title: "spare" })
    const foreign = yield* createResource(a, elsewhere.id, { title: "foreign" })
    const sql = yield* StoreSql
    const [owner] = yield* sql.rows(`SELECT id FROM resource_accesses WHERE resource_id = ${sqlString(root.id)} AND role = 'owner'`)
    return {
      a: ra.user.id,
      b: rb.user.id,
      aPersonal: ra.personalWorkspace.id,
      bPersonal: rb.personalWorkspace.id,
      team: team.id,
      elsewhere: elsewhere.id,
      root: root.id,
      child: child.id,
      grandchild: grandchild.id,
      ownerAccess: String(owner?.["id"]),
      editorAccess: editor.id,
      invited: invited.id,
      resourceInvite: resourceInvite.invite.id,
      workspaceInvite: workspaceInvite.invite.id,
      linked: linked.id,
      link: link.id,
      spare: spare.id,
      foreign: foreign.id
    } satisfies World
  })

/** A violation as compared: its check and ids (the message is prose). */
type Found = { readonly check: string; readonly ids: Record<string, unknown> }

const keyOf = (v: Found) => JSON.stringify([v.check, Object.entries(v.ids).sort(([p], [q]) => (p < q ? -1 : 1))])
const found = (violations: ReadonlyArray<DoctorViolation>): Array<Found> =>
  violations.map((v) => ({ check: v.check, ids: { ...v.ids } })).sort((p, q) => (keyOf(p) < keyOf(q) ? -1 : 1))

/** Every violation on the store now, walked in windows of 4 rows so that every check crosses window boundaries. */
const doctor = Effect.map(runDoctor(SystemActor, { pageSize: 4 }), (report) => found(report.violations))

/** The violations in `after` that were not in `before`. */
const added = (before: ReadonlyArray<Found>, after: ReadonlyArray<Found>) => {
  const known = new Set(before.map(keyOf))
  return after.filter((v) => !known.has(keyOf(v)))
}

interface Breakage {
  readonly breaks: ReadonlyArray<string>
  readonly repairs: ReadonlyArray<string>
  readonly expected: ReadonlyArray<Found>
}

const q = sqlString

const DROP_ONE_PERSONAL = "DROP INDEX workspaces_one_personal"
const MAKE_ONE_PERSONAL = "CREATE UNIQUE INDEX workspaces_one_personal ON workspaces (owner_user_id)"
const DROP_ONE_ACTIVE_LINK = "DROP INDEX share_links_one_active"
const MAKE_ONE_ACTIVE_LINK = "CREATE UNIQUE INDEX share_links_one_active ON share_links (resource_id) WHERE disabled_at IS NULL"

/** The repair docs/doctor.md gives for `access_on_unflagged_resource`: one statement, the same on both stores. */
const REFLAG = "UPDATE resources SET may_have_accesses = TRUE WHERE may_have_accesses = FALSE AND id IN (SELECT resource_id FROM resource_accesses)"

/** One case per check (and a few that must stay clean), each on a world of its own. */
const CASES: ReadonlyArray<readonly [string, (w: World) => Breakage]> = [
  ["personal_workspace_members: a second member", (w) => ({
    breaks: [`INSERT INTO workspace_members (workspace_id, user_id, role) VALUES (${q(w.aPersonal)}, ${q(w.b)}, 'member')`],
    repairs: [`DELETE FROM workspace_members WHERE workspace_id = ${q(w.aPersonal)} AND user_id = ${q(w.b)}`],
    expected: [{ check: "personal_workspace_members", ids: { workspace_id: w.aPersonal, owner_user_id: w.a } }]
  })],
  ["personal_workspace_members: the owner only a member", (w) => ({
    breaks: [`UPDATE workspace_members SET role = 'member' WHERE workspace_id = ${q(w.bPersonal)}`],
    repairs: [`UPDATE workspace_members SET role = 'admin' WHERE workspace_id = ${q(w.bPersonal)}`],
    expected: [{ check: "personal_workspace_members", ids: { workspace_id: w.bPersonal, owner_user_id: w.b } }]
  })],
  ["personal_workspace_without_owner", (w) => ({
    breaks: [
      `INSERT INTO workspaces (id, name, about, custom_instructions, bundles, is_personal, owner_user_id, created_at, updated_at)
       VALUES (${q(w.team.replace("ws_", "ws_f"))}, 'orphan', '', '', '[]', 1, NULL, ${AT}, ${AT})`
    ],
    repairs: [`DELETE FROM workspaces WHERE id = ${q(w.team.replace("ws_", "ws_f"))}`],
    expected: [{ check: "personal_workspace_without_owner", ids: { workspace_id: w.team.replace("ws_", "ws_f") } }]
  })],
  ["team_workspace_without_admin", (w) => ({
    breaks: [`UPDATE workspace_members SET role = 'member' WHERE workspace_id = ${q(w.team)}`],
    repairs: [`UPDATE workspace_members SET role = 'admin' WHERE workspace_id = ${q(w.team)} AND user_id = ${q(w.a)}`],
    expected: [{ check: "team_workspace_without_admin", ids: { workspace_id: w.team } }]
  })],
  ["team_workspace_with_owner", (w) => ({
    breaks: [DROP_ONE_PERSONAL, `UPDATE workspaces SET owner_user_id = ${q(w.b)} WHERE id = ${q(w.elsewhere)}`],
    repairs: [`UPDATE workspaces SET owner_user_id = NULL WHERE id = ${q(w.elsewhere)}`, MAKE_ONE_PERSONAL],
    expected: [{ check: "team_workspace_with_owner", ids: { workspace_id: w.elsewhere, owner_user_id: w.b } }]
  })],
  ["user_without_personal_workspace", (w) => ({
    breaks: [`UPDATE workspaces SET is_personal = 0, owner_user_id = NULL WHERE id = ${q(w.bPersonal)}`],
    repairs: [`UPDATE workspaces SET is_personal = 1, owner_user_id = ${q(w.b)} WHERE id = ${q(w.bPersonal)}`],
    expected: [{ check: "user_without_personal_workspace", ids: { user_id: w.b } }]
  })],
  ["user_with_several_personal_workspaces", (w) => {
    const second = w.aPersonal.replace("ws_", "ws_f")
    return {
      breaks: [
        DROP_ONE_PERSONAL,
        `INSERT INTO workspaces (id, name, about, custom_instructions, bundles, is_personal, owner_user_id, created_at, updated_at)
         VALUES (${q(second)}, 'second', '', '', '[]', 1, ${q(w.a)}, ${AT}, ${AT})`,
        `INSERT INTO workspace_members (workspace_id, user_id, role) VALUES (${q(second)}, ${q(w.a)}, 'admin')`
      ],
      repairs: [`DELETE FROM workspace_members WHERE workspace_id = ${q(second)}`, `DELETE FROM workspaces WHERE id = ${q(second)}`, MAKE_ONE_PERSONAL],
      expected: [{
        check: "user_with_several_personal_workspaces",
        ids: { user_id: w.a, workspace_ids: [w.aPersonal, second].sort() }
      }]
    }
  }],
  ["root_without_owner", (w) => ({
    breaks: [`UPDATE resource_accesses SET role = 'administrator' WHERE id = ${q(w.ownerAccess)}`],
    repairs: [`UPDATE resource_accesses SET role = 'owner' WHERE id = ${q(w.ownerAccess)}`],
    expected: [{ check: "root_without_owner", ids: { resource_id: w.root, workspace_id: w.team } }]
  })],
  ["a revoked root with no owner is no violation", (w) => ({
    breaks: [`DELETE FROM resource_accesses WHERE resource_id = ${q(w.invited)}`, `UPDATE resources SET revoked_at = ${AT} WHERE id = ${q(w.spare)}`,
      `DELETE FROM resource_accesses WHERE resource_id = ${q(w.spare)}`],
    repairs: [],
    expected: [{ check: "root_without_owner", ids: { resource_id: w.invited, workspace_id: w.team } }]
  })],
  ["invite_on_revoked_resource", (w) => ({
    breaks: [`UPDATE resources SET revoked_at = ${AT} WHERE id = ${q(w.invited)}`],
    repairs: [`UPDATE resources SET revoked_at = NULL WHERE id = ${q(w.invited)}`],
    expected: [{ check: "invite_on_revoked_resource", ids: { invite_id: w.resourceInvite, resource_id: w.invited } }]
  })],
  ["share_link_on_revoked_resource", (w) => ({
    breaks: [`UPDATE resources SET revoked_at = ${AT} WHERE id = ${q(w.linked)}`],
    repairs: [`UPDATE resources SET revoked_at = NULL WHERE id = ${q(w.linked)}`],
    expected: [{ check: "share_link_on_revoked_resource", ids: { share_link_id: w.link, resource_id: w.linked } }]
  })],
  ["tree_revocation_gap: a live child under a revoked parent", (w) => ({
    breaks: [`UPDATE resources SET revoked_at = ${AT} WHERE id = ${q(w.child)}`],
    repairs: [`UPDATE resources SET revoked_at = NULL WHERE id = ${q(w.child)}`],
    // revoked by hand, the child is no longer plain, and the grandchild's hop (the root) skips it
    expected: [
      { check: "tree_revocation_gap", ids: { resource_id: w.grandchild, revoked_ancestor_id: w.child, workspace_id: w.team } },
      { check: "hop_skips_a_node", ids: { resource_id: w.grandchild, hop_id: w.root } }
    ]
  })],
  ["hop_skips_a_node: a node shared with the workspace by hand, which the hop below it skips", (w) => ({
    breaks: [`UPDATE resources SET link_reach = 'workspace' WHERE id = ${q(w.child)}`],
    // the quick repair docs/doctor.md gives: a NULL hop steps to the parent, which is always right
    repairs: [`UPDATE resources SET hop_id = NULL WHERE workspace_id = ${q(w.team)}`],
    expected: [{ check: "hop_skips_a_node", ids: { resource_id: w.grandchild, hop_id: w.root } }]
  })],
  ["hop_skips_a_node: a hop to a node that is not an ancestor", (w) => ({
    breaks: [`UPDATE resources SET hop_id = ${q(w.foreign)} WHERE id = ${q(w.grandchild)}`],
    repairs: [`UPDATE resources SET hop_id = NULL WHERE id = ${q(w.grandchild)}`],
    expected: [{ check: "hop_skips_a_node", ids: { resource_id: w.grandchild, hop_id: w.foreign } }]
  })],
  ["tree_revocation_gap: every live descendant of a revoked root, each with its nearest revoked ancestor", (w) => ({
    breaks: [`UPDATE resources SET revoked_at = ${AT} WHERE id = ${q(w.root)}`],
    repairs: [`UPDATE resources SET revoked_at = NULL WHERE id = ${q(w.root)}`],
    expected: [
      { check: "tree_revocation_gap", ids: { resource_id: w.child, revoked_ancestor_id: w.root, workspace_id: w.team } },
      { check: "tree_revocation_gap", ids: { resource_id: w.grandchild, revoked_ancestor_id: w.root, workspace_id: w.team } }
    ]
  })],
  ["several_active_share_links", (w) => {
    const second = w.link.replace("lnk_", "lnk_f")
    return {
      breaks: [
        DROP_ONE_ACTIVE_LINK,
        `INSERT INTO share_links (id, resource_id, digest, role, created_at, created_by, disabled_at)
         VALUES (${q(second)}, ${q(w.linked)}, ${q(`digest-${second}`)}, 'reader', ${AT}, ${q(w.a)}, NULL)`
      ],
      repairs: [`DELETE FROM share_links WHERE id = ${q(second)}`, MAKE_ONE_ACTIVE_LINK],
      expected: [{ check: "several_active_share_links", ids: { resource_id: w.linked, share_link_ids: [w.link, second].sort() } }]
    }
  }],
  ["membership_user_missing", (w) => ({
    breaks: [`INSERT INTO workspace_members (workspace_id, user_id, role) VALUES (${q(w.team)}, ${q(GHOST_USER)}, 'member')`],
    repairs: [`DELETE FROM workspace_members WHERE workspace_id = ${q(w.team)} AND user_id = ${q(GHOST_USER)}`],
    expected: [{ check: "membership_user_missing", ids: { workspace_id: w.team, user_id: GHOST_USER } }]
  })],
  ["workspace_owner_missing (its owner's membership refers to the missing user too)", (w) => {
    const ghostly = w.team.replace("ws_", "ws_f")
    return {
      breaks: [
        `INSERT INTO workspaces (id, name, about, custom_instructions, bundles, is_personal, owner_user_id, created_at, updated_at)
         VALUES (${q(ghostly)}, 'ghost', '', '', '[]', 1, ${q(GHOST_USER)}, ${AT}, ${AT})`,
        `INSERT INTO workspace_members (workspace_id, user_id, role) VALUES (${q(ghostly)}, ${q(GHOST_USER)}, 'admin')`
      ],
      repairs: [`DELETE FROM workspace_members WHERE workspace_id = ${q(ghostly)}`, `DELETE FROM workspaces WHERE id = ${q(ghostly)}`],
      expected: [
        { check: "membership_user_missing", ids: { workspace_id: ghostly, user_id: GHOST_USER } },
        { check: "workspace_owner_missing", ids: { workspace_id: ghostly, owner_user_id: GHOST_USER } }
      ]
    }
  }],
  ["access_user_missing", (w) => {
    const id = w.editorAccess.replace("acc_", "acc_f")
    return {
      // on a resource that has accesses already, so its flag is set however the row is written
      breaks: [`INSERT INTO resource_accesses (id, resource_id, user_id, role) VALUES (${q(id)}, ${q(w.root)}, ${q(GHOST_USER)}, 'reader')`],
      repairs: [`DELETE FROM resource_accesses WHERE id = ${q(id)}`],
      expected: [{ check: "access_user_missing", ids: { access_id: id, resource_id: w.root, user_id: GHOST_USER } }]
    }
  }],
  ["api_key_user_missing", (w) => {
    const id = `key_f${w.a.slice(5)}`
    return {
      breaks: [`INSERT INTO api_keys (id, user_id, digest, created_at) VALUES (${q(id)}, ${q(GHOST_USER)}, ${q(`digest-${id}`)}, ${AT})`],
      repairs: [`DELETE FROM api_keys WHERE id = ${q(id)}`],
      expected: [{ check: "api_key_user_missing", ids: { api_key_id: id, user_id: GHOST_USER } }]
    }
  }],
  ["invite_minter_missing", (w) => ({
    breaks: [`UPDATE invites SET created_by = ${q(GHOST_USER)} WHERE id = ${q(w.resourceInvite)}`],
    repairs: [`UPDATE invites SET created_by = ${q(w.a)} WHERE id = ${q(w.resourceInvite)}`],
    expected: [{ check: "invite_minter_missing", ids: { invite_id: w.resourceInvite, user_id: GHOST_USER } }]
  })],
  ["access_resource_missing", (w) => ({
    breaks: [`UPDATE resource_accesses SET resource_id = ${q(GHOST_RESOURCE)} WHERE id = ${q(w.editorAccess)}`],
    repairs: [`UPDATE resource_accesses SET resource_id = ${q(w.root)} WHERE id = ${q(w.editorAccess)}`],
    expected: [{ check: "access_resource_missing", ids: { access_id: w.editorAccess, resource_id: GHOST_RESOURCE } }]
  })],
  ["access_on_unflagged_resource: the flag cleared on a resource with accesses (each access is listed)", (w) => ({
    breaks: [`UPDATE resources SET may_have_accesses = FALSE WHERE id = ${q(w.root)}`],
    repairs: [REFLAG],
    expected: [
      { check: "access_on_unflagged_resource", ids: { access_id: w.ownerAccess, resource_id: w.root, user_id: w.a } },
      { check: "access_on_unflagged_resource", ids: { access_id: w.editorAccess, resource_id: w.root, user_id: w.b } }
    ]
  })],
  ["access_on_unflagged_resource: an access written where the flag was never set (as a restore without the triggers)", (w) => {
    const id = w.editorAccess.replace("acc_", "acc_f")
    return {
      breaks: [
        `INSERT INTO resource_accesses (id, resource_id, user_id, role) VALUES (${q(id)}, ${q(w.grandchild)}, ${q(w.b)}, 'reader')`,
        `UPDATE resources SET may_have_accesses = FALSE WHERE id = ${q(w.grandchild)}`
      ],
      repairs: [REFLAG],
      expected: [{ check: "access_on_unflagged_resource", ids: { access_id: id, resource_id: w.grandchild, user_id: w.b } }]
    }
  }],
  ["a flag left set on a resource with no access is no violation", (w) => ({
    breaks: [`UPDATE resources SET may_have_accesses = TRUE WHERE id = ${q(w.spare)}`, `DELETE FROM resource_accesses WHERE id = ${q(w.editorAccess)}`],
    repairs: [],
    expected: []
  })],
  ["invite_resource_missing", (w) => ({
    breaks: [`UPDATE invites SET resource_id = ${q(GHOST_RESOURCE)} WHERE id = ${q(w.resourceInvite)}`],
    repairs: [`UPDATE invites SET resource_id = ${q(w.invited)} WHERE id = ${q(w.resourceInvite)}`],
    expected: [{ check: "invite_resource_missing", ids: { invite_id: w.resourceInvite, resource_id: GHOST_RESOURCE } }]
  })],
  ["invite_workspace_missing", (w) => ({
    breaks: [`UPDATE invites SET workspace_id = ${q(GHOST_WORKSPACE)} WHERE id = ${q(w.workspaceInvite)}`],
    repairs: [`UPDATE invites SET workspace_id = ${q(w.team)} WHERE id = ${q(w.workspaceInvite)}`],
    expected: [{ check: "invite_workspace_missing", ids: { invite_id: w.workspaceInvite, workspace_id: GHOST_WORKSPACE } }]
  })],
  ["a canceled or an expired invite naming missing targets is no violation", (w) => ({
    breaks: [
      `UPDATE invites SET workspace_id = ${q(GHOST_WORKSPACE)}, status = 'canceled' WHERE id = ${q(w.workspaceInvite)}`,
      `UPDATE invites SET resource_id = ${q(GHOST_RESOURCE)}, created_by = ${q(GHOST_USER)}, expires_at = '2000-01-01T00:00:00.000Z'
       WHERE id = ${q(w.resourceInvite)}`
    ],
    repairs: [],
    expected: []
  })],
  ["share_link_resource_missing", (w) => ({
    breaks: [`UPDATE share_links SET resource_id = ${q(GHOST_RESOURCE)} WHERE id = ${q(w.link)}`],
    repairs: [`UPDATE share_links SET resource_id = ${q(w.linked)} WHERE id = ${q(w.link)}`],
    expected: [{ check: "share_link_resource_missing", ids: { share_link_id: w.link, resource_id: GHOST_RESOURCE } }]
  })],
  ["resource_workspace_missing", (w) => ({
    // the last root, so the roots left behind stay dense
    breaks: [`UPDATE resources SET workspace_id = ${q(GHOST_WORKSPACE)}, position = 0 WHERE id = ${q(w.spare)}`],
    repairs: [],
    expected: [{ check: "resource_workspace_missing", ids: { resource_id: w.spare, workspace_id: GHOST_WORKSPACE } }]
  })],
  ["resource_parent_missing", (w) => ({
    breaks: [`UPDATE resources SET parent_id = ${q(GHOST_RESOURCE)} WHERE id = ${q(w.grandchild)}`],
    repairs: [`UPDATE resources SET parent_id = ${q(w.child)} WHERE id = ${q(w.grandchild)}`],
    expected: [
      { check: "resource_parent_missing", ids: { resource_id: w.grandchild, parent_id: GHOST_RESOURCE } },
      { check: "hop_skips_a_node", ids: { resource_id: w.grandchild, hop_id: w.root } }
    ]
  })],
  ["resource_parent_in_other_workspace", (w) => ({
    breaks: [`UPDATE resources SET parent_id = ${q(w.foreign)} WHERE id = ${q(w.grandchild)}`],
    repairs: [`UPDATE resources SET parent_id = ${q(w.child)} WHERE id = ${q(w.grandchild)}`],
    expected: [{
      check: "resource_parent_in_other_workspace",
      ids: { resource_id: w.grandchild, workspace_id: w.team, parent_id: w.foreign, parent_workspace_id: w.elsewhere }
    }, { check: "hop_skips_a_node", ids: { resource_id: w.grandchild, hop_id: w.root } }]
  })],
  ["resource_cycle: two resources each other's parent", (w) => ({
    breaks: [`UPDATE resources SET parent_id = ${q(w.grandchild)} WHERE id = ${q(w.child)}`],
    repairs: [`UPDATE resources SET parent_id = ${q(w.root)} WHERE id = ${q(w.child)}`],
    expected: [
      { check: "resource_cycle", ids: { resource_id: w.child, parent_id: w.grandchild, workspace_id: w.team } },
      { check: "resource_cycle", ids: { resource_id: w.grandchild, parent_id: w.child, workspace_id: w.team } }
    ]
  })],
  ["resource_cycle: a resource its own parent, with a live subtree under it that is not in the cycle", (w) => ({
    breaks: [`UPDATE resources SET parent_id = ${q(w.child)} WHERE id = ${q(w.child)}`, `UPDATE resources SET position = 1 WHERE id = ${q(w.grandchild)}`],
    repairs: [`UPDATE resources SET parent_id = ${q(w.root)} WHERE id = ${q(w.child)}`, `UPDATE resources SET position = 0 WHERE id = ${q(w.grandchild)}`],
    expected: [{ check: "resource_cycle", ids: { resource_id: w.child, parent_id: w.child, workspace_id: w.team } }]
  })],
  ["sibling_positions_not_dense: a gap among children", (w) => ({
    breaks: [`UPDATE resources SET position = 1 WHERE id = ${q(w.child)}`],
    repairs: [`UPDATE resources SET position = 0 WHERE id = ${q(w.child)}`],
    expected: [{ check: "sibling_positions_not_dense", ids: { workspace_id: w.team, parent_id: w.root } }]
  })],
  ["sibling_positions_not_dense: two roots at one position", (w) => ({
    breaks: [`UPDATE resources SET position = 0 WHERE id = ${q(w.spare)}`],
    repairs: [],
    expected: [{ check: "sibling_positions_not_dense", ids: { workspace_id: w.team } }]
  })]
]

/** `recomputeHops`: the store's full repair of the hops (store-sql `RECOMPUTE_HOPS`, docs/doctor.md "Hops"). */
export const doctorContract = <E, R = never>(
  name: string,
  store: Layer.Layer<StorePorts | StoreInspector | StoreSql | R, E>,
  recomputeHops: string
) =>
  layer(Layer.merge(withAdmin(store), store), { timeout: "180 seconds", excludeTestServices: true })(
    `${name} doctor`,
    (it) => {
      it.effect("data written by use cases holds no violation; every table is counted", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          yield* buildWorld(admin)
          yield* buildWorld(admin)
          for (const pageSize of [1, 2, 1000]) {
            const report = yield* runDoctor(SystemActor, { pageSize })
            expect({ pageSize, violations: report.violations }).toEqual({ pageSize, violations: [] })
            expect(report.ok).toBe(true)
            const sql = yield* StoreSql
            const n = (table: string, where = "1 = 1") =>
              Effect.map(sql.rows(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`), (rows) => Number(rows[0]?.["n"]))
            expect(report.checked).toEqual({
              users: yield* n("users"),
              api_keys: yield* n("api_keys"),
              workspaces: yield* n("workspaces"),
              memberships: yield* n("workspace_members"),
              resources: yield* n("resources"),
              accesses: yield* n("resource_accesses"),
              pending_invites: yield* n("invites", "status = 'pending'"),
              share_links: yield* n("share_links")
            })
          }
        }))

      it.effect("only a system admin runs the doctor", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const registered = yield* registerUser(admin)
          const member = yield* authenticate(registered.apiKey)
          expect((yield* Effect.flip(runDoctor(member)))._tag).toBe("Forbidden")
          expect((yield* runDoctor(admin)).ok).toBe(true)
        }))

      describe("each check reports exactly the rows broken by direct SQL", () => {
        for (const [title, breakage] of CASES) {
          it.effect(title, () =>
            Effect.gen(function*() {
              const { principal: admin } = yield* Admin
              const sql = yield* StoreSql
              const world = yield* buildWorld(admin)
              const before = yield* doctor
              const { breaks, expected, repairs } = breakage(world)
              yield* sql.unchecked(breaks)
              const broken = added(before, yield* doctor)
              if (repairs.length > 0) yield* sql.unchecked(repairs)
              expect(broken).toEqual(found(expected.map((v) => v as DoctorViolation)))
              if (repairs.length > 0) expect(yield* doctor).toEqual(before)
            }))
        }
      })

      it.effect("the full hops repair brings back every hop the doctor reports, a root's included, and the check with them", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const sql = yield* StoreSql
          const w = yield* buildWorld(admin)
          const before = yield* doctor
          const roleOfB = Effect.map(check(admin, [{ user_id: w.b, resource_id: w.grandchild, action: "edit" }]), ([answer]) => answer!.role)
          const hopOf = (id: string) => Effect.map(sql.rows(`SELECT hop_id FROM resources WHERE id = ${q(id)}`), (rows) => rows[0]?.["hop_id"])
          // by hand: the child shared with the workspace (the grandchild's hop, the root, now skips it), a root given a
          // hop, and a hop to a node that is no ancestor
          yield* sql.unchecked([
            `UPDATE resources SET link_reach = 'workspace' WHERE id = ${q(w.child)}`,
            `UPDATE resources SET hop_id = ${q(w.foreign)} WHERE id = ${q(w.root)}`,
            `UPDATE resources SET hop_id = ${q(w.foreign)} WHERE id = ${q(w.child)}`
          ])
          const expected: ReadonlyArray<Found> = [
            { check: "hop_skips_a_node", ids: { resource_id: w.grandchild, hop_id: w.root } },
            { check: "hop_skips_a_node", ids: { resource_id: w.root, hop_id: w.foreign } },
            { check: "hop_skips_a_node", ids: { resource_id: w.child, hop_id: w.foreign } }
          ]
          expect(added(before, yield* doctor)).toEqual(found(expected.map((v) => v as DoctorViolation)))
          yield* sql.unchecked([recomputeHops])
          expect(yield* doctor).toEqual(before)
          expect([yield* hopOf(w.grandchild), yield* hopOf(w.child), yield* hopOf(w.root)]).toEqual([w.child, w.root, null])
          expect(yield* roleOfB).toBe("editor")
          // run again, it finds nothing to change
          yield* sql.unchecked([recomputeHops])
          expect(yield* doctor).toEqual(before)
        }))

      it.effect("the check does not see an access on an unflagged resource, so the doctor reports it; accesses written with the triggers in place leave nothing to report", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const sql = yield* StoreSql
          const w = yield* buildWorld(admin)
          const before = yield* doctor
          const asked: CheckRequest = { user_id: w.b, resource_id: w.grandchild, action: "edit" }
          const roleOfB = Effect.map(check(admin, [asked]), ([answer]) => answer!.role)
          expect(yield* roleOfB).toBe("editor")

          // raw writes on the store's own connection (triggers in place): an access moved and one inserted
          const id = w.editorAccess.replace("acc_", "acc_f")
          yield* sql.rows(`UPDATE resource_accesses SET resource_id = ${q(w.child)} WHERE id = ${q(w.editorAccess)}`)
          yield* sql.rows(`INSERT INTO resource_accesses (id, resource_id, user_id, role) VALUES (${q(id)}, ${q(w.spare)}, ${q(w.b)}, 'reader')`)
          expect(added(before, yield* doctor)).toEqual([])
          expect(yield* roleOfB).toBe("editor")

          yield* sql.rows(`UPDATE resources SET may_have_accesses = FALSE WHERE id = ${q(w.child)}`)
          const unseen = yield* roleOfB
          const reported = added(before, yield* doctor)
          yield* sql.rows(REFLAG)
          expect(unseen).not.toBe("editor")
          expect(reported).toEqual([{ check: "access_on_unflagged_resource", ids: { access_id: w.editorAccess, resource_id: w.child, user_id: w.b } }])
          expect(yield* roleOfB).toBe("editor")
          expect(yield* doctor).toEqual(before)
        }))

      it.effect("deleting users, one handing their seats to another, leaves the doctor nothing new to report", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const w = yield* buildWorld(admin)
          const before = yield* doctor
          // b: a member, an editor and a personal workspace; a: the team's only admin and its roots' owner
          yield* deleteUser(admin, w.b, Option.none())
          yield* deleteUser(admin, w.a, Option.some(admin.user.id))
          expect(added(before, yield* doctor)).toEqual([])
        }))

      it.effect("lists at most maxListed violations but counts them all", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const sql = yield* StoreSql
          const w = yield* buildWorld(admin)
          const before = yield* runDoctor(SystemActor, { pageSize: 3 })
          const ghosts = ["a", "b", "c"].map((x) => w.editorAccess.replace("acc_", `acc_${x}`))
          yield* sql.unchecked(ghosts.map((id, i) =>
            `INSERT INTO resource_accesses (id, resource_id, user_id, role)
             VALUES (${q(id)}, ${q(w.child)}, ${q(GHOST_USER.slice(0, -1) + String(i))}, 'reader')`
          ))
          const report = yield* runDoctor(SystemActor, { pageSize: 3, maxListed: before.violations.length + 1 })
          yield* sql.unchecked([`DELETE FROM resource_accesses WHERE id IN (${ghosts.map(q).join(", ")})`])
          expect(report.ok).toBe(false)
          expect(report.truncated).toBe(true)
          expect(report.violations).toHaveLength(before.violations.length + 1)
          expect(report.counts.access_user_missing).toBe((before.counts.access_user_missing ?? 0) + 3)
        }))
    }
  )
