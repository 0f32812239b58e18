/**
 * User deletion against everything else the kernel writes (docs/domain.md#users-and-credentials):
 * random worlds in which users are deleted while every other writing use
 * case (team workspace deletion included) runs at the same moment, by
 * random actors, must end with no defect, a store that breaks no invariant
 * of `invariants.ts`, and no request of a deleted user taking effect after
 * the deletion. Beside the property: the same races asked for directly and
 * many times (writes on the resources of a workspace as it is deleted); the
 * deletion rules no other test pinned down — direct accesses elsewhere go
 * with the user, the sole owner of roots is refused or replaced in the same
 * transaction, no pending invite outlives its target; a root keeps an owner
 * whoever creates it; and who may mint a resource grant invite. The SQL
 * checks are first shown to report each breakage they name.
 *
 * It drives the domain's use cases through the store's ports; it reads the
 * store's tables only through `StoreSql`, and writes them directly only to
 * break (then repair) rows in the test of the checks. It runs on the live
 * clock: the concurrent operations sleep for real, so that their
 * interleavings differ from run to run.
 */
import { describe, expect, layer } from "@effect/vitest"
import {
  type Actor,
  addMember,
  authenticate,
  cancelInvite,
  changeAccess,
  createResource,
  createWorkspace,
  deleteUser,
  deleteWorkspace,
  EventLog,
  getInvite,
  grantAccess,
  type InviteTerms,
  mintInvite,
  moveResource,
  myPersonalWorkspace,
  patchResource,
  patchWorkspace,
  type Position,
  type Principal,
  redeemInvite,
  register,
  removeAccess,
  removeMember,
  type ResourceId,
  type ResourceRole,
  ResourceStore,
  revokeUser,
  setMemberRole,
  SystemActor,
  type UserId,
  type WorkspaceId,
  type WorkspaceRole
} from "@tessera/domain"
import { Cause, Effect, Exit, FastCheck as fc, Layer, Option, type Redacted } from "effect"
import { lastSeq, publicKeys, registerUser, uniqueHandle } from "./fixtures.js"
import { Admin, type StorePorts, withAdmin } from "./index.js"
import { newViolations, snapshotDiff, snapshotTables, sqlString, StoreSql, storeInvariants, type Violation } from "./invariants.js"

/** A registered user, authenticated. */
export interface Person {
  readonly id: UserId
  readonly principal: Principal
  readonly personal: WorkspaceId
}

export const person = Effect.gen(function*() {
  const { principal: admin } = yield* Admin
  const registered = yield* registerUser(admin)
  return {
    id: registered.user.id,
    principal: yield* authenticate(registered.apiKey),
    personal: registered.personalWorkspace.id
  } satisfies Person
})

export const people = (n: number) => Effect.all(Array.from({ length: n }, () => person))

/** Every event after `seq`, paging through the log. */
export const eventsAfter = (seq: number) =>
  Effect.flatMap(EventLog, (log) =>
    Effect.gen(function*() {
      const events = []
      for (let after = seq;;) {
        const page = yield* log.list({ after, limit: 1000 })
        if (page.length === 0) return events
        events.push(...page)
        after = page[page.length - 1]!.seq
      }
    }))

/** How an operation ended: `ok`, the tag of its domain error, or `defect: …` for anything else. */
const outcomeOf = (exit: Exit.Exit<unknown, unknown>): string => {
  if (Exit.isSuccess(exit)) return "ok"
  if (Cause.isDie(exit.cause) || Cause.isInterrupted(exit.cause) || Option.isNone(Cause.failureOption(exit.cause))) {
    // a database error carries the driver's own message one level down
    const defect = Option.getOrUndefined(Cause.dieOption(exit.cause)) as { readonly cause?: { readonly message?: unknown } } | undefined
    const detail = typeof defect?.cause?.message === "string" ? ` (${defect.cause.message})` : ""
    return `defect: ${Cause.pretty(exit.cause).split("\n")[0]}${detail}`
  }
  const error = Option.getOrThrow(Cause.failureOption(exit.cause)) as { readonly _tag?: string }
  return error._tag ?? "untagged failure"
}

// ---------------------------------------------------------------------------------------------
// The checks themselves, shown able to fail.

/** The ids of one small consistent world, built by use cases only. */
interface World {
  readonly owner: UserId
  readonly other: UserId
  readonly ownerPersonal: WorkspaceId
  readonly otherPersonal: WorkspaceId
  readonly team: WorkspaceId
  readonly elsewhere: WorkspaceId
  readonly root: ResourceId
  readonly child: ResourceId
  readonly leaf: ResourceId
  readonly foreign: ResourceId
  readonly resourceInvite: string
  readonly workspaceInvite: string
  readonly workspaceInviteExpiry: string
}

const GHOST = "usr_00000000000000000000000000g0057"

const buildWorld = (admin: Principal) =>
  Effect.gen(function*() {
    const a = yield* registerUser(admin)
    const b = yield* registerUser(admin)
    const owner = yield* authenticate(a.apiKey)
    const team = yield* createWorkspace(owner, { name: "invariants" })
    yield* addMember(owner, team.id, b.user.id, "member")
    const elsewhere = yield* createWorkspace(owner, { name: "elsewhere" })
    const root = yield* createResource(owner, team.id, { title: "root" })
    const child = yield* createResource(owner, team.id, { title: "child", parent_id: root.id })
    const leaf = yield* createResource(owner, team.id, { title: "leaf" })
    const foreign = yield* createResource(owner, elsewhere.id, { title: "foreign" })
    const resourceInvite = yield* mintInvite(owner, { kind: "grant", resource_id: child.id, resource_role: "reader" })
    const workspaceInvite = yield* mintInvite(owner, { kind: "grant", workspace_id: team.id, workspace_role: "member" })
    return {
      owner: a.user.id,
      other: b.user.id,
      ownerPersonal: a.personalWorkspace.id,
      otherPersonal: b.personalWorkspace.id,
      team: team.id,
      elsewhere: elsewhere.id,
      root: root.id,
      child: child.id,
      leaf: leaf.id,
      foreign: foreign.id,
      resourceInvite: resourceInvite.invite.id,
      workspaceInvite: workspaceInvite.invite.id,
      workspaceInviteExpiry: workspaceInvite.invite.expires_at
    } satisfies World
  })

/** One way to break the store: the statements that break it, those that repair it, and what must be reported. */
interface Breakage {
  readonly name: string
  readonly breaks: ReadonlyArray<string>
  readonly repairs: ReadonlyArray<string>
  readonly expected: ReadonlyArray<Violation>
}

const breakages = (w: World, ownerAccess: string): ReadonlyArray<Breakage> => {
  const at = sqlString("2026-01-01T00:00:00.000Z")
  return [
    {
      name: "a membership of a missing user",
      breaks: [`INSERT INTO workspace_members (workspace_id, user_id, role) VALUES (${sqlString(w.team)}, ${sqlString(GHOST)}, 'member')`],
      repairs: [`DELETE FROM workspace_members WHERE user_id = ${sqlString(GHOST)}`],
      expected: [{ rule: "member_user_missing", id: `${w.team}/${GHOST}` }]
    },
    {
      name: "a personal workspace of a missing user",
      breaks: [
        `INSERT INTO workspaces (id, name, about, custom_instructions, bundles, is_personal, owner_user_id, created_at, updated_at)
         VALUES ('ws_ghost', 'ghost', '', '', '[]', 1, ${sqlString(GHOST)}, ${at}, ${at})`,
        `INSERT INTO workspace_members (workspace_id, user_id, role) VALUES ('ws_ghost', ${sqlString(GHOST)}, 'admin')`
      ],
      repairs: [`DELETE FROM workspace_members WHERE workspace_id = 'ws_ghost'`, `DELETE FROM workspaces WHERE id = 'ws_ghost'`],
      expected: [{ rule: "member_user_missing", id: `ws_ghost/${GHOST}` }, { rule: "workspace_owner_missing", id: "ws_ghost" }]
    },
    {
      name: "an access of a missing user",
      breaks: [
        `INSERT INTO resource_accesses (id, resource_id, user_id, role) VALUES ('acc_ghost', ${sqlString(w.child)}, ${sqlString(GHOST)}, 'reader')`,
        // as the access trigger would (writes with checks off run without triggers on PostgreSQL)
        `UPDATE resources SET may_have_accesses = TRUE WHERE id = ${sqlString(w.child)}`
      ],
      repairs: [`DELETE FROM resource_accesses WHERE id = 'acc_ghost'`],
      expected: [{ rule: "access_user_missing", id: "acc_ghost" }]
    },
    {
      name: "an access on a resource whose access flag is unset",
      breaks: [`UPDATE resources SET may_have_accesses = FALSE WHERE id = (SELECT resource_id FROM resource_accesses WHERE id = ${sqlString(ownerAccess)})`],
      repairs: [`UPDATE resources SET may_have_accesses = TRUE WHERE id = (SELECT resource_id FROM resource_accesses WHERE id = ${sqlString(ownerAccess)})`],
      expected: [{ rule: "access_on_unflagged_resource", id: ownerAccess }]
    },
    {
      name: "an API key of a missing user",
      breaks: [`INSERT INTO api_keys (id, user_id, digest, created_at) VALUES ('key_ghost', ${sqlString(GHOST)}, 'ghost-digest', ${at})`],
      repairs: [`DELETE FROM api_keys WHERE id = 'key_ghost'`],
      expected: [{ rule: "api_key_user_missing", id: "key_ghost" }]
    },
    {
      name: "a team workspace with no admin",
      breaks: [`UPDATE workspace_members SET role = 'member' WHERE workspace_id = ${sqlString(w.team)}`],
      repairs: [`UPDATE workspace_members SET role = 'admin' WHERE workspace_id = ${sqlString(w.team)} AND user_id = ${sqlString(w.owner)}`],
      expected: [{ rule: "team_without_admin", id: w.team }]
    },
    {
      name: "a team workspace with an owner",
      breaks: [`UPDATE workspaces SET owner_user_id = ${sqlString(GHOST)} WHERE id = ${sqlString(w.elsewhere)}`],
      repairs: [`UPDATE workspaces SET owner_user_id = NULL WHERE id = ${sqlString(w.elsewhere)}`],
      expected: [{ rule: "workspace_owner_missing", id: w.elsewhere }, { rule: "team_with_owner", id: w.elsewhere }]
    },
    {
      name: "a personal workspace with a second member",
      breaks: [`INSERT INTO workspace_members (workspace_id, user_id, role) VALUES (${sqlString(w.ownerPersonal)}, ${sqlString(w.other)}, 'member')`],
      repairs: [`DELETE FROM workspace_members WHERE workspace_id = ${sqlString(w.ownerPersonal)} AND user_id = ${sqlString(w.other)}`],
      expected: [{ rule: "personal_members", id: w.ownerPersonal }]
    },
    {
      name: "a personal workspace whose owner is only a member",
      breaks: [`UPDATE workspace_members SET role = 'member' WHERE workspace_id = ${sqlString(w.otherPersonal)}`],
      repairs: [`UPDATE workspace_members SET role = 'admin' WHERE workspace_id = ${sqlString(w.otherPersonal)}`],
      expected: [{ rule: "personal_members", id: w.otherPersonal }]
    },
    {
      name: "a user without a personal workspace",
      breaks: [`UPDATE workspaces SET is_personal = 0, owner_user_id = NULL WHERE id = ${sqlString(w.otherPersonal)}`],
      repairs: [`UPDATE workspaces SET is_personal = 1, owner_user_id = ${sqlString(w.other)} WHERE id = ${sqlString(w.otherPersonal)}`],
      expected: [{ rule: "personal_workspace_count", id: w.other }]
    },
    {
      name: "a live root with no direct owner",
      breaks: [`UPDATE resource_accesses SET role = 'administrator' WHERE id = ${sqlString(ownerAccess)}`],
      repairs: [`UPDATE resource_accesses SET role = 'owner' WHERE id = ${sqlString(ownerAccess)}`],
      expected: [{ rule: "root_without_owner", id: w.root }]
    },
    {
      name: "a revoked root with no direct owner (allowed)",
      breaks: [
        `UPDATE resource_accesses SET role = 'administrator' WHERE id = ${sqlString(ownerAccess)}`,
        `UPDATE resources SET revoked_at = ${at} WHERE id = ${sqlString(w.root)}`
      ],
      repairs: [
        `UPDATE resource_accesses SET role = 'owner' WHERE id = ${sqlString(ownerAccess)}`,
        `UPDATE resources SET revoked_at = NULL WHERE id = ${sqlString(w.root)}`
      ],
      expected: []
    },
    {
      name: "a resource whose parent is missing",
      // its hop cleared with it (a NULL hop steps to the parent): only the parent is broken here
      breaks: [`UPDATE resources SET parent_id = 'res_ghost', hop_id = NULL WHERE id = ${sqlString(w.child)}`],
      repairs: [`UPDATE resources SET parent_id = ${sqlString(w.root)} WHERE id = ${sqlString(w.child)}`],
      expected: [{ rule: "parent_missing_or_elsewhere", id: w.child }]
    },
    {
      name: "a resource whose parent is in another workspace",
      breaks: [`UPDATE resources SET parent_id = ${sqlString(w.foreign)}, hop_id = NULL WHERE id = ${sqlString(w.child)}`],
      repairs: [`UPDATE resources SET parent_id = ${sqlString(w.root)} WHERE id = ${sqlString(w.child)}`],
      expected: [{ rule: "parent_missing_or_elsewhere", id: w.child }]
    },
    {
      name: "a resource whose hop is not one of its ancestors",
      breaks: [`UPDATE resources SET hop_id = ${sqlString(w.foreign)} WHERE id = ${sqlString(w.leaf)}`],
      repairs: [`UPDATE resources SET hop_id = NULL WHERE id = ${sqlString(w.leaf)}`],
      expected: [{ rule: "hop_skips_a_node", id: w.leaf }]
    },
    {
      name: "two resources that are each other's parent",
      breaks: [`UPDATE resources SET parent_id = ${sqlString(w.child)} WHERE id = ${sqlString(w.root)}`],
      repairs: [`UPDATE resources SET parent_id = NULL WHERE id = ${sqlString(w.root)}`],
      expected: [{ rule: "resource_in_cycle", id: w.child }, { rule: "resource_in_cycle", id: w.root }].sort((p, q) => (p.id < q.id ? -1 : 1))
    },
    {
      name: "a resource whose workspace is missing",
      breaks: [`UPDATE resources SET workspace_id = 'ws_missing' WHERE id = ${sqlString(w.leaf)}`],
      repairs: [`UPDATE resources SET workspace_id = ${sqlString(w.team)} WHERE id = ${sqlString(w.leaf)}`],
      expected: [{ rule: "resource_workspace_missing", id: w.leaf }]
    },
    {
      name: "a pending invite for a missing resource",
      breaks: [`UPDATE invites SET resource_id = 'res_ghost' WHERE id = ${sqlString(w.resourceInvite)}`],
      repairs: [`UPDATE invites SET resource_id = ${sqlString(w.child)} WHERE id = ${sqlString(w.resourceInvite)}`],
      expected: [{ rule: "pending_invite_target_missing", id: w.resourceInvite }]
    },
    {
      name: "a pending invite for a missing workspace",
      breaks: [`UPDATE invites SET workspace_id = 'ws_ghost' WHERE id = ${sqlString(w.workspaceInvite)}`],
      repairs: [`UPDATE invites SET workspace_id = ${sqlString(w.team)} WHERE id = ${sqlString(w.workspaceInvite)}`],
      expected: [{ rule: "pending_invite_target_missing", id: w.workspaceInvite }]
    },
    {
      name: "a canceled invite for a missing workspace (allowed)",
      breaks: [`UPDATE invites SET workspace_id = 'ws_ghost', status = 'canceled' WHERE id = ${sqlString(w.workspaceInvite)}`],
      repairs: [`UPDATE invites SET workspace_id = ${sqlString(w.team)}, status = 'pending' WHERE id = ${sqlString(w.workspaceInvite)}`],
      expected: []
    },
    {
      name: "an expired invite for a missing workspace (allowed: it grants nothing)",
      breaks: [`UPDATE invites SET workspace_id = 'ws_ghost', expires_at = '2000-01-01T00:00:00.000Z' WHERE id = ${sqlString(w.workspaceInvite)}`],
      repairs: [`UPDATE invites SET workspace_id = ${sqlString(w.team)}, expires_at = ${sqlString(w.workspaceInviteExpiry)} WHERE id = ${sqlString(w.workspaceInvite)}`],
      expected: []
    },
    {
      name: "a pending invite on a revoked resource",
      breaks: [`UPDATE resources SET revoked_at = ${at} WHERE id = ${sqlString(w.child)}`],
      repairs: [`UPDATE resources SET revoked_at = NULL WHERE id = ${sqlString(w.child)}`],
      expected: [{ rule: "pending_invite_on_revoked_resource", id: w.resourceInvite }]
    },
    {
      name: "a share link on a missing resource",
      breaks: [`INSERT INTO share_links (id, resource_id, digest, role, created_at, created_by, disabled_at)
                VALUES ('shl_ghost', 'res_ghost', 'ghost-link-digest', 'reader', ${at}, NULL, NULL)`],
      repairs: [`DELETE FROM share_links WHERE id = 'shl_ghost'`],
      expected: [{ rule: "share_link_resource_missing", id: "shl_ghost" }]
    },
    {
      name: "an active share link on a revoked resource",
      breaks: [
        `INSERT INTO share_links (id, resource_id, digest, role, created_at, created_by, disabled_at)
         VALUES ('shl_live', ${sqlString(w.leaf)}, 'live-link-digest', 'reader', ${at}, NULL, NULL)`,
        `UPDATE resources SET revoked_at = ${at} WHERE id = ${sqlString(w.leaf)}`
      ],
      repairs: [`DELETE FROM share_links WHERE id = 'shl_live'`, `UPDATE resources SET revoked_at = NULL WHERE id = ${sqlString(w.leaf)}`],
      expected: [{ rule: "active_share_link_on_revoked_resource", id: "shl_live" }]
    },
    {
      name: "a disabled share link on a revoked resource (allowed)",
      breaks: [
        `INSERT INTO share_links (id, resource_id, digest, role, created_at, created_by, disabled_at)
         VALUES ('shl_off', ${sqlString(w.leaf)}, 'off-link-digest', 'reader', ${at}, NULL, ${at})`,
        `UPDATE resources SET revoked_at = ${at} WHERE id = ${sqlString(w.leaf)}`
      ],
      repairs: [`DELETE FROM share_links WHERE id = 'shl_off'`, `UPDATE resources SET revoked_at = NULL WHERE id = ${sqlString(w.leaf)}`],
      expected: []
    },
    {
      name: "a pending invite minted by a missing user",
      breaks: [`UPDATE invites SET created_by = ${sqlString(GHOST)} WHERE id = ${sqlString(w.resourceInvite)}`],
      repairs: [`UPDATE invites SET created_by = ${sqlString(w.owner)} WHERE id = ${sqlString(w.resourceInvite)}`],
      expected: [{ rule: "pending_invite_minter_missing", id: w.resourceInvite }]
    }
  ]
}

// ---------------------------------------------------------------------------------------------
// The property: a small random world, then user deletions racing every other writer.

const WS_ROLES: ReadonlyArray<WorkspaceRole> = ["admin", "member"]
const RES_ROLES: ReadonlyArray<ResourceRole> = ["reader", "commenter", "editor", "administrator", "owner"]
const POSITIONS: ReadonlyArray<Position> = ["first-child", "last-child", "first-sibling", "last-sibling", "left", "right"]

const WsRoleArb = fc.constantFrom(...WS_ROLES)
const ResRoleArb = fc.constantFrom(...RES_ROLES)
/** 0-6: one of the world's users; 7, 8: the suite's system admin; 9: the system itself. */
const ByArb = fc.nat(9)

const WorldArb = fc.record({
  users: fc.integer({ min: 3, max: 5 }),
  teams: fc.array(
    fc.record({ creator: fc.nat(), members: fc.array(fc.record({ user: fc.nat(), role: WsRoleArb }), { maxLength: 3 }) }),
    { minLength: 1, maxLength: 2 }
  ),
  resources: fc.array(
    fc.record({ creator: fc.nat(), personal: fc.boolean(), ws: fc.nat(), parent: fc.option(fc.nat(), { nil: null }) }),
    { minLength: 3, maxLength: 8 }
  ),
  accesses: fc.array(fc.record({ res: fc.nat(), user: fc.nat(), role: ResRoleArb }), { maxLength: 6 }),
  invites: fc.array(
    fc.oneof(
      fc.record({ kind: fc.constant("workspace" as const), ws: fc.nat(), role: WsRoleArb }),
      fc.record({ kind: fc.constant("resource" as const), res: fc.nat(), role: fc.constantFrom<ResourceRole>("reader", "editor", "administrator") }),
      fc.record({ kind: fc.constant("registration" as const), ws: fc.option(fc.nat(), { nil: null }) })
    ),
    { minLength: 2, maxLength: 5 }
  )
})
type WorldSpec = typeof WorldArb extends fc.Arbitrary<infer T> ? T : never

const OpArb = fc.oneof(
  fc.record({ op: fc.constant("createWorkspace" as const), by: ByArb }),
  fc.record({
    op: fc.constant("patchWorkspace" as const),
    by: ByArb,
    ws: fc.nat(),
    members: fc.option(fc.array(fc.record({ user: fc.nat(), role: WsRoleArb }), { maxLength: 3 }), { nil: null })
  }),
  fc.record({ op: fc.constant("addMember" as const), by: ByArb, ws: fc.nat(), user: fc.nat(), role: WsRoleArb }),
  fc.record({ op: fc.constant("setMemberRole" as const), by: ByArb, ws: fc.nat(), user: fc.nat(), role: WsRoleArb }),
  fc.record({ op: fc.constant("removeMember" as const), by: ByArb, ws: fc.nat(), user: fc.nat() }),
  fc.record({ op: fc.constant("myPersonalWorkspace" as const), by: ByArb }),
  fc.record({ op: fc.constant("createResource" as const), by: ByArb, ws: fc.nat(), parent: fc.option(fc.nat(), { nil: null }) }),
  fc.record({ op: fc.constant("patchResource" as const), by: ByArb, res: fc.nat(), link: fc.boolean() }),
  fc.record({ op: fc.constant("grantAccess" as const), by: ByArb, res: fc.nat(), user: fc.nat(), role: ResRoleArb }),
  fc.record({ op: fc.constant("changeAccess" as const), by: ByArb, access: fc.nat(), role: ResRoleArb }),
  fc.record({ op: fc.constant("removeAccess" as const), by: ByArb, access: fc.nat() }),
  fc.record({ op: fc.constant("moveResource" as const), by: ByArb, res: fc.nat(), target: fc.nat(), position: fc.constantFrom(...POSITIONS) }),
  fc.record({
    op: fc.constant("mintInvite" as const),
    by: ByArb,
    kind: fc.constantFrom("workspace" as const, "resource" as const, "registration" as const),
    target: fc.nat(),
    wsRole: WsRoleArb,
    resRole: ResRoleArb
  }),
  fc.record({ op: fc.constant("cancelInvite" as const), by: ByArb, invite: fc.nat() }),
  fc.record({ op: fc.constant("redeemInvite" as const), by: ByArb, invite: fc.nat() }),
  fc.record({ op: fc.constant("register" as const), invite: fc.nat() }),
  fc.record({ op: fc.constant("revokeUser" as const), by: ByArb, user: fc.nat() }),
  fc.record({ op: fc.constant("deleteWorkspace" as const), by: ByArb, ws: fc.nat() })
)
const DeletionArb = fc.record({
  op: fc.constant("deleteUser" as const),
  asSystem: fc.boolean(),
  user: fc.nat(),
  transferTo: fc.option(fc.nat(), { nil: null })
})
type Op = (typeof OpArb extends fc.Arbitrary<infer T> ? T : never) | (typeof DeletionArb extends fc.Arbitrary<infer T> ? T : never)

/** Sleeping up to this long before starting lets the operations start in a different order each run. */
const DelayArb = fc.nat(12)

/** The ids a random world was built with; operations pick among them by index. */
interface RandomWorld {
  readonly people: ReadonlyArray<Person>
  readonly workspaces: ReadonlyArray<WorkspaceId>
  readonly resources: ReadonlyArray<ResourceId>
  readonly accesses: ReadonlyArray<{ readonly resource: ResourceId; readonly id: string }>
  readonly invites: ReadonlyArray<{ readonly id: string; readonly token: Redacted.Redacted<string> }>
}

/** Builds the world one use case at a time; the few refusals it may meet (a grant that already exists) are skipped. */
const buildRandomWorld = (spec: WorldSpec, admin: Principal) =>
  Effect.gen(function*() {
    const ppl = yield* people(spec.users)
    const n = ppl.length
    const teams: Array<{ readonly id: WorkspaceId; readonly members: Array<Person> }> = []
    for (const t of spec.teams) {
      const creator = ppl[t.creator % n]!
      const workspace = yield* createWorkspace(creator.principal, { name: "team" })
      const members = [creator]
      for (const m of t.members) {
        const who = ppl[m.user % n]!
        if (members.includes(who)) continue
        yield* addMember(creator.principal, workspace.id, who.id, m.role)
        members.push(who)
      }
      teams.push({ id: workspace.id, members })
    }
    const resources: Array<{ readonly id: ResourceId; readonly workspace: WorkspaceId }> = []
    for (const r of spec.resources) {
      const team = teams[r.ws % teams.length]!
      const creator = r.personal ? ppl[r.creator % n]! : team.members[r.creator % team.members.length]!
      const workspace = r.personal ? creator.personal : team.id
      const siblings = resources.filter((x) => x.workspace === workspace)
      const parent = r.parent === null || siblings.length === 0 ? null : siblings[r.parent % siblings.length]!.id
      // roots by a member, who becomes their owner; children by the system admin, who gets no access
      const created = yield* createResource(parent === null ? creator.principal : admin, workspace, {
        title: `r${resources.length}`,
        parent_id: parent
      })
      resources.push({ id: created.id, workspace })
    }
    const accesses: Array<{ resource: ResourceId; id: string }> = []
    for (const a of spec.accesses) {
      const resource = resources[a.res % resources.length]!.id
      const granted = yield* Effect.either(grantAccess(admin, resource, ppl[a.user % n]!.id, a.role))
      if (granted._tag === "Right") accesses.push({ resource, id: granted.right.id })
    }
    const invites: Array<{ id: string; token: Redacted.Redacted<string> }> = []
    for (const i of spec.invites) {
      const terms: InviteTerms = i.kind === "workspace"
        ? { kind: "grant", workspace_id: teams[i.ws % teams.length]!.id, workspace_role: i.role }
        : i.kind === "resource"
        ? { kind: "grant", resource_id: resources[i.res % resources.length]!.id, resource_role: i.role }
        : {
          kind: "registration",
          handle: uniqueHandle("joiner"),
          ...(i.ws === null ? {} : { workspace_id: teams[i.ws % teams.length]!.id, workspace_role: "member" as const })
        }
      const minted = yield* mintInvite(admin, terms)
      invites.push({ id: minted.invite.id, token: minted.token })
    }
    return {
      people: ppl,
      workspaces: [...teams.map((t) => t.id), ...ppl.map((p) => p.personal)],
      resources: resources.map((r) => r.id),
      accesses,
      invites
    } satisfies RandomWorld
  })

/** The use case an operation names, on the world's ids. */
const runOp = (op: Op, world: RandomWorld, admin: Principal): Effect.Effect<unknown, unknown, StorePorts> => {
  const n = world.people.length
  const actorOf = (by: number): Actor => (by <= 6 ? world.people[by % n]!.principal : by <= 8 ? admin : SystemActor)
  const principalOf = (by: number): Principal => (by <= 6 ? world.people[by % n]!.principal : admin)
  const userOf = (i: number) => world.people[i % n]!.id
  const workspaceOf = (i: number) => world.workspaces[i % world.workspaces.length]!
  const resourceOf = (i: number) => world.resources[i % world.resources.length]!
  const inviteOf = (i: number) => world.invites[i % world.invites.length]!
  switch (op.op) {
    case "createWorkspace":
      return createWorkspace(actorOf(op.by), { name: "raced" })
    case "patchWorkspace": {
      const members = op.members === null ? undefined : [...new Map(op.members.map((m) => [userOf(m.user), m.role])).entries()]
      return patchWorkspace(
        actorOf(op.by),
        workspaceOf(op.ws),
        members === undefined ? { name: "renamed" } : { members: members.map(([user_id, role]) => ({ user_id, role })) }
      )
    }
    case "addMember":
      return addMember(actorOf(op.by), workspaceOf(op.ws), userOf(op.user), op.role)
    case "setMemberRole":
      return setMemberRole(actorOf(op.by), workspaceOf(op.ws), userOf(op.user), op.role)
    case "removeMember":
      return removeMember(actorOf(op.by), workspaceOf(op.ws), userOf(op.user))
    case "myPersonalWorkspace":
      return myPersonalWorkspace(actorOf(op.by))
    case "createResource":
      return createResource(actorOf(op.by), workspaceOf(op.ws), {
        title: "raced",
        parent_id: op.parent === null ? null : resourceOf(op.parent)
      })
    case "patchResource":
      return patchResource(actorOf(op.by), resourceOf(op.res), op.link ? { link_reach: "workspace", link_role: "editor" } : { title: "edited" })
    case "grantAccess":
      return grantAccess(actorOf(op.by), resourceOf(op.res), userOf(op.user), op.role)
    case "changeAccess": {
      if (world.accesses.length === 0) return Effect.void
      const access = world.accesses[op.access % world.accesses.length]!
      return changeAccess(actorOf(op.by), access.resource, access.id, op.role)
    }
    case "removeAccess": {
      if (world.accesses.length === 0) return Effect.void
      const access = world.accesses[op.access % world.accesses.length]!
      return removeAccess(actorOf(op.by), access.resource, access.id)
    }
    case "moveResource":
      return moveResource(actorOf(op.by), resourceOf(op.res), { targetId: resourceOf(op.target), position: op.position, dryRun: false })
    case "mintInvite":
      return mintInvite(
        actorOf(op.by),
        op.kind === "workspace"
          ? { kind: "grant", workspace_id: workspaceOf(op.target), workspace_role: op.wsRole }
          : op.kind === "resource"
          ? { kind: "grant", resource_id: resourceOf(op.target), resource_role: op.resRole }
          : { kind: "registration", handle: uniqueHandle("raced") }
      )
    case "cancelInvite":
      return cancelInvite(actorOf(op.by), inviteOf(op.invite).id as never)
    case "redeemInvite":
      return redeemInvite(principalOf(op.by), inviteOf(op.invite).token)
    case "register":
      return Effect.suspend(() => register({ token: inviteOf(op.invite).token, ...publicKeys() }))
    case "revokeUser":
      return revokeUser(actorOf(op.by), userOf(op.user))
    case "deleteWorkspace":
      return deleteWorkspace(actorOf(op.by), workspaceOf(op.ws))
    case "deleteUser":
      return deleteUser(
        op.asSystem ? SystemActor : admin,
        userOf(op.user),
        op.transferTo === null ? Option.none() : Option.some(userOf(op.transferTo))
      )
  }
}

// ---------------------------------------------------------------------------------------------

/** A resource's direct owners, by user id. */
const ownersOf = (id: ResourceId) =>
  Effect.map(Effect.flatMap(ResourceStore, (s) => s.accesses([id])), (accesses) =>
    accesses.filter((a) => a.role === "owner").map((a) => a.user_id as string).sort())

const accessRowsOf = (user: UserId) => Effect.flatMap(StoreSql, (sql) => sql.rows(`SELECT id FROM resource_accesses WHERE user_id = ${sqlString(user)}`))

export const lifecycleContract = <E, R = never>(name: string, store: Layer.Layer<StorePorts | StoreSql | R, E>) =>
  layer(Layer.merge(withAdmin(store), store), { timeout: "120 seconds", excludeTestServices: true })(
    `${name} lifecycle contract`,
    (it) => {
      describe("the store's invariants by SQL", () => {
        it.effect("a store written by use cases breaks none; each breakage is reported as exactly its rows", () =>
          Effect.gen(function*() {
            const { principal: admin } = yield* Admin
            const before = yield* storeInvariants
            const world = yield* buildWorld(admin)
            expect(newViolations(before, yield* storeInvariants)).toEqual([])
            const sql = yield* StoreSql
            const [access] = yield* sql.rows(`SELECT id FROM resource_accesses WHERE resource_id = ${sqlString(world.root)} AND role = 'owner'`)
            const ownerAccess = String(access?.["id"])
            for (const breakage of breakages(world, ownerAccess)) {
              yield* sql.unchecked(breakage.breaks)
              const broken = newViolations(before, yield* storeInvariants)
              yield* sql.unchecked(breakage.repairs)
              expect({ breakage: breakage.name, violations: broken }).toEqual({ breakage: breakage.name, violations: breakage.expected })
              expect({ repaired: breakage.name, violations: newViolations(before, yield* storeInvariants) })
                .toEqual({ repaired: breakage.name, violations: [] })
            }
          }))
      })

      describe("user deletion racing every writer (property)", () => {
        it.effect.prop(
          "no defect, no broken invariant, and nothing done on behalf of a deleted user after their deletion",
          [
            WorldArb,
            fc.array(fc.record({ op: OpArb, delay: DelayArb }), { minLength: 8, maxLength: 20 }),
            fc.array(fc.record({ op: DeletionArb, delay: DelayArb, at: fc.nat() }), { minLength: 1, maxLength: 2 })
          ],
          ([spec, ops, deletions]) =>
            Effect.gen(function*() {
              const { principal: admin } = yield* Admin
              const world = yield* buildRandomWorld(spec, admin)
              const baseline = yield* storeInvariants
              const startSeq = yield* lastSeq
              const all: Array<{ readonly op: Op; readonly delay: number }> = [...ops]
              for (const d of deletions) all.splice(d.at % (all.length + 1), 0, d)
              const exits = yield* Effect.all(
                all.map(({ delay, op }) => Effect.exit(Effect.zipRight(Effect.sleep(`${delay} millis`), runOp(op, world, admin)))),
                { concurrency: "unbounded" }
              )
              const outcomes = all.map(({ op }, i) => `${JSON.stringify(op)} → ${outcomeOf(exits[i]!)}`)
              // a use case may be refused, never die
              expect(outcomes.filter((o) => o.includes("→ defect")), outcomes.join("\n")).toEqual([])

              const deleted = all.flatMap(({ op }, i) =>
                op.op === "deleteUser" && Exit.isSuccess(exits[i]!) ? [world.people[op.user % world.people.length]!.id as string] : []
              )
              const events = yield* eventsAfter(startSeq)
              const late = deleted.flatMap((id) => {
                const deletion = events.find((e) => e.type === "user.deleted" && e.data["user_id"] === id)
                if (deletion === undefined) return [{ user: id, problem: "no user.deleted event" }]
                return events.filter((e) => e.actor === id && e.seq > deletion.seq)
                  .map((e) => ({ user: id, problem: `${e.type} at seq ${e.seq}, after the deletion at seq ${deletion.seq}` }))
              })
              const violations = newViolations(baseline, yield* storeInvariants).map((v) => `${v.rule} ${v.id}`)
              // the operations and their outcomes go with any failure, so that a counterexample reads as a story
              const problems = [...late.map((l) => `${l.user}: ${l.problem}`), ...violations]
              expect(problems, [...problems, "operations (→ outcome):", ...outcomes].join("\n")).toEqual([])
            }),
          // each run replays a whole world against the store: bound the runs and the shrinking
          { timeout: 600_000, fastCheck: { numRuns: 15, interruptAfterTimeLimit: 30_000 } }
        )
      })

      describe("user deletion rules", () => {
        it.effect("deleting a user removes their direct accesses on resources elsewhere and reports them", () =>
          Effect.gen(function*() {
            const { principal: admin } = yield* Admin
            const [owner, u] = yield* people(2)
            const team = yield* createWorkspace(owner!.principal, { name: "elsewhere" })
            const root = yield* createResource(owner!.principal, team.id, { title: "root" })
            const child = yield* createResource(owner!.principal, team.id, { title: "child", parent_id: root.id })
            const shared = yield* createResource(owner!.principal, team.id, { title: "co-owned" })
            // u is no member of the team: these direct accesses are all that let them in
            const granted = [
              yield* grantAccess(owner!.principal, root.id, u!.id, "editor"),
              yield* grantAccess(owner!.principal, child.id, u!.id, "reader"),
              yield* grantAccess(owner!.principal, shared.id, u!.id, "owner")
            ]
            // a root in u's own personal workspace goes with that workspace, not counted as an access elsewhere
            yield* createResource(u!.principal, u!.personal, { title: "mine" })
            const baseline = yield* storeInvariants
            const before = yield* snapshotTables

            const report = yield* deleteUser(admin, u!.id, Option.none())
            expect(report).toEqual({
              user_id: u!.id,
              personal_workspaces_deleted: 1,
              memberships_removed: 0,
              accesses_removed: 3,
              api_keys_deleted: 1,
              invites_canceled: 0
            })
            expect(yield* accessRowsOf(u!.id)).toEqual([])
            expect(yield* Effect.flatMap(ResourceStore, (s) => s.accessesOfUser(u!.id))).toEqual([])
            const gone = (snapshotDiff(before, yield* snapshotTables)["resource_accesses"]?.removed ?? [])
              .map((row) => JSON.parse(row) as { id: string; user_id: string })
            // exactly u's accesses went: the three elsewhere and the owner access in their personal workspace
            expect(gone.every((row) => row.user_id === u!.id)).toBe(true)
            expect(gone.map((row) => row.id)).toEqual(expect.arrayContaining(granted.map((a) => a.id)))
            expect(gone).toHaveLength(4)
            expect(yield* ownersOf(root.id)).toEqual([owner!.id])
            expect(yield* ownersOf(shared.id)).toEqual([owner!.id])
            expect(newViolations(baseline, yield* storeInvariants)).toEqual([])
          }))

        it.effect("deleting the sole owner of roots elsewhere is last_owner listing them and changes nothing; transfer_to makes the heir their direct owner in the same transaction", () =>
          Effect.gen(function*() {
            const { principal: admin } = yield* Admin
            const [o, u, heir, x] = yield* people(4)
            const team = yield* createWorkspace(o!.principal, { name: "roots" })
            for (const p of [u!, heir!]) yield* addMember(o!.principal, team.id, p.id, "member")
            const r1 = yield* createResource(u!.principal, team.id, { title: "r1" })
            const r2 = yield* createResource(u!.principal, team.id, { title: "r2" })
            const shared = yield* createResource(u!.principal, team.id, { title: "shared" })
            yield* grantAccess(u!.principal, shared.id, o!.id, "owner")
            yield* createResource(u!.principal, team.id, { title: "child", parent_id: r1.id })
            yield* grantAccess(u!.principal, r1.id, heir!.id, "reader")
            // a root of another team, in which u is no member, left to u alone
            const other = yield* createWorkspace(x!.principal, { name: "other" })
            const r3 = yield* createResource(x!.principal, other.id, { title: "r3" })
            yield* grantAccess(x!.principal, r3.id, u!.id, "owner")
            const xAccess = (yield* Effect.flatMap(ResourceStore, (s) => s.accesses([r3.id]))).find((a) => a.user_id === x!.id)!
            yield* removeAccess(u!.principal, r3.id, xAccess.id)
            // u's personal roots go with the personal workspace and block nothing
            yield* createResource(u!.principal, u!.personal, { title: "personal" })
            const soleRoots = [r1.id, r2.id, r3.id].sort()
            const baseline = yield* storeInvariants
            const before = yield* snapshotTables

            const refused = yield* Effect.flip(deleteUser(admin, u!.id, Option.none()))
            expect(refused._tag).toBe("LastOwner")
            expect(refused._tag === "LastOwner" && [...refused.resourceIds].sort()).toEqual(soleRoots)
            expect(snapshotDiff(before, yield* snapshotTables)).toEqual({})

            const seq = yield* lastSeq
            yield* deleteUser(admin, u!.id, Option.some(heir!.id))
            for (const id of soleRoots) expect({ root: id, owners: yield* ownersOf(id) }).toEqual({ root: id, owners: [heir!.id] })
            expect(yield* ownersOf(shared.id)).toEqual([o!.id])
            const heirs = (yield* Effect.flatMap(ResourceStore, (s) => s.accessesOfUser(heir!.id)))
              .map((a) => [a.resource_id, a.role]).sort()
            // exactly those roots: the reader access on r1 became owner, nothing else was given
            expect(heirs).toEqual(soleRoots.map((id) => [id, "owner"]).sort())
            const events = yield* eventsAfter(seq)
            expect(events.map((e) => e.type)).toEqual([
              "resource.owner_transferred",
              "resource.owner_transferred",
              "resource.owner_transferred",
              "user.deleted"
            ])
            // one transaction: the counter gave them consecutive numbers
            expect(events.map((e) => e.seq - events[0]!.seq)).toEqual([0, 1, 2, 3])
            expect(events.slice(0, 3).map((e) => e.resource_id).sort()).toEqual(soleRoots)
            expect(newViolations(baseline, yield* storeInvariants)).toEqual([])
          }))
      })

      describe("deletions leave no pending invite behind", () => {
        it.effect("deleting a user cancels the pending invites for resources of their personal workspace", () =>
          Effect.gen(function*() {
            const { principal: admin } = yield* Admin
            const [u] = yield* people(1)
            const root = yield* createResource(u!.principal, u!.personal, { title: "mine" })
            const child = yield* createResource(u!.principal, u!.personal, { title: "below", parent_id: root.id })
            // minted by someone else, so not canceled as an invite the user minted
            const invites = [
              yield* mintInvite(admin, { kind: "grant", resource_id: root.id, resource_role: "reader" }),
              yield* mintInvite(admin, { kind: "grant", resource_id: child.id, resource_role: "editor" })
            ]
            const baseline = yield* storeInvariants
            yield* deleteUser(admin, u!.id, Option.none())
            for (const { invite } of invites) {
              expect({ invite: invite.id, status: (yield* getInvite(admin, invite.id)).status }).toEqual({ invite: invite.id, status: "canceled" })
            }
            expect(newViolations(baseline, yield* storeInvariants)).toEqual([])
          }))

        it.effect("deleting a team workspace cancels the pending invites for it and for its resources", () =>
          Effect.gen(function*() {
            const { principal: admin } = yield* Admin
            const [o] = yield* people(1)
            const team = yield* createWorkspace(o!.principal, { name: "doomed" })
            const root = yield* createResource(o!.principal, team.id, { title: "root" })
            const invites = [
              yield* mintInvite(o!.principal, { kind: "grant", workspace_id: team.id, workspace_role: "member" }),
              yield* mintInvite(o!.principal, { kind: "grant", resource_id: root.id, resource_role: "reader" }),
              yield* mintInvite(admin, { kind: "registration", handle: uniqueHandle("doomed"), workspace_id: team.id, workspace_role: "member" })
            ]
            const baseline = yield* storeInvariants
            yield* deleteWorkspace(o!.principal, team.id)
            for (const { invite } of invites) {
              expect({ invite: invite.id, status: (yield* getInvite(admin, invite.id)).status }).toEqual({ invite: invite.id, status: "canceled" })
            }
            expect(newViolations(baseline, yield* storeInvariants)).toEqual([])
          }))
      })

      describe("deletions racing writes on what they delete", () => {
        // What the property finds now and then, asked for directly and many times: writes that lock only the
        // resource they touch, at the very moment its workspace goes.
        const ATTEMPTS = 25

        /** Runs the deletion and the writes at once; returns what died and what was left broken. */
        const race = (deletion: Effect.Effect<unknown, unknown, StorePorts>, writes: ReadonlyArray<Effect.Effect<unknown, unknown, StorePorts>>) =>
          Effect.gen(function*() {
            const baseline = yield* storeInvariants
            const exits = yield* Effect.all([deletion, ...writes].map((e) => Effect.exit(e)), { concurrency: "unbounded" })
            const outcomes = exits.map(outcomeOf)
            const violations = newViolations(baseline, yield* storeInvariants).map((v) => `${v.rule} ${v.id}`)
            return [...outcomes.flatMap((o, i) => (o.startsWith("defect") ? [`${i === 0 ? "the deletion" : `write ${i}`}: ${o}`] : [])), ...violations]
          })

        it.effect("a team workspace deleted while its resources get accesses and invites: each wins or loses whole", () =>
          Effect.gen(function*() {
            const { principal: admin } = yield* Admin
            const [o, a, b] = yield* people(3)
            const problems: Array<string> = []
            for (let attempt = 0; attempt < ATTEMPTS && problems.length === 0; attempt++) {
              const team = yield* createWorkspace(o!.principal, { name: "racing" })
              const root = yield* createResource(o!.principal, team.id, { title: "root" })
              const child = yield* createResource(o!.principal, team.id, { title: "child", parent_id: root.id })
              problems.push(...(yield* race(deleteWorkspace(o!.principal, team.id), [
                grantAccess(o!.principal, root.id, a!.id, "reader"),
                grantAccess(admin, child.id, b!.id, "editor"),
                mintInvite(o!.principal, { kind: "grant", resource_id: child.id, resource_role: "reader" }),
                mintInvite(admin, { kind: "grant", resource_id: root.id, resource_role: "editor" })
              ])).map((p) => `attempt ${attempt}: ${p}`))
            }
            expect(problems).toEqual([])
          }))

        it.effect("a user deleted while others grant and invite on their personal resources: each wins or loses whole", () =>
          Effect.gen(function*() {
            const { principal: admin } = yield* Admin
            const [a] = yield* people(1)
            const problems: Array<string> = []
            for (let attempt = 0; attempt < ATTEMPTS && problems.length === 0; attempt++) {
              const [u] = yield* people(1)
              const root = yield* createResource(u!.principal, u!.personal, { title: "mine" })
              const child = yield* createResource(u!.principal, u!.personal, { title: "below", parent_id: root.id })
              problems.push(...(yield* race(deleteUser(admin, u!.id, Option.none()), [
                grantAccess(admin, root.id, a!.id, "reader"),
                grantAccess(SystemActor, child.id, a!.id, "editor"),
                mintInvite(admin, { kind: "grant", resource_id: child.id, resource_role: "reader" }),
                mintInvite(SystemActor, { kind: "grant", resource_id: root.id, resource_role: "editor" })
              ])).map((p) => `attempt ${attempt}: ${p}`))
            }
            expect(problems).toEqual([])
          }))
      })

      describe("every live root keeps a direct owner", () => {
        it.effect("a root created by the system itself is refused or gets a direct owner", () =>
          Effect.gen(function*() {
            const [o] = yield* people(1)
            const team = yield* createWorkspace(o!.principal, { name: "operated" })
            const baseline = yield* storeInvariants
            const created = yield* Effect.either(createResource(SystemActor, team.id, { title: "by the operator" }))
            if (created._tag === "Right") {
              expect({ root: created.right.id, owners: (yield* ownersOf(created.right.id)).length > 0 })
                .toEqual({ root: created.right.id, owners: true })
            }
            expect(newViolations(baseline, yield* storeInvariants)).toEqual([])
          }))
      })

      describe("who may mint a resource grant invite", () => {
        it.effect("an invite granting owner is refused to everyone, system admins included, and writes nothing", () =>
          Effect.gen(function*() {
            const { principal: admin } = yield* Admin
            const [o] = yield* people(1)
            const team = yield* createWorkspace(o!.principal, { name: "owners" })
            const root = yield* createResource(o!.principal, team.id, { title: "root" })
            const before = yield* snapshotTables
            for (const [who, actor] of [["system", SystemActor], ["system admin", admin], ["owner", o!.principal]] as const) {
              const grant = yield* Effect.flip(mintInvite(actor, { kind: "grant", resource_id: root.id, resource_role: "owner" }))
              expect({ who, refused: grant._tag }).toEqual({ who, refused: "Forbidden" })
            }
            const registration = yield* Effect.flip(mintInvite(admin, {
              kind: "registration",
              handle: uniqueHandle("owner"),
              resource_id: root.id,
              resource_role: "owner"
            }))
            expect(registration._tag).toBe("Forbidden")
            expect(snapshotDiff(before, yield* snapshotTables)).toEqual({})
            // the refusal is about the role: administrator is granted by the same actors
            for (const actor of [SystemActor, admin, o!.principal]) {
              const minted = yield* mintInvite(actor, { kind: "grant", resource_id: root.id, resource_role: "administrator" })
              expect(minted.invite.resource_role).toBe("administrator")
            }
          }))

        it.effect("a reader, commenter or editor of a resource is forbidden to mint for it, an administrator may, a stranger is not told it exists", () =>
          Effect.gen(function*() {
            const [o, reader, commenter, editor, administrator, stranger] = yield* people(6)
            const team = yield* createWorkspace(o!.principal, { name: "minters" })
            const root = yield* createResource(o!.principal, team.id, { title: "root" })
            const child = yield* createResource(o!.principal, team.id, { title: "child", parent_id: root.id })
            // none of them is a member of the team: their direct access on the root is their only role
            const holders = [[reader!, "reader"], [commenter!, "commenter"], [editor!, "editor"], [administrator!, "administrator"]] as const
            for (const [p, role] of holders) yield* grantAccess(o!.principal, root.id, p.id, role)
            const before = yield* snapshotTables
            const mint = (p: Person, id: ResourceId) =>
              Effect.either(mintInvite(p.principal, { kind: "grant", resource_id: id, resource_role: "reader" }))
            for (const [p, role] of holders.slice(0, 3)) {
              for (const id of [root.id, child.id]) {
                const result = yield* mint(p, id)
                expect({ role, on: id, outcome: result._tag === "Left" ? result.left._tag : "ok" })
                  .toEqual({ role, on: id, outcome: "Forbidden" })
              }
            }
            for (const id of [root.id, child.id]) {
              const result = yield* mint(stranger!, id)
              expect({ on: id, outcome: result._tag === "Left" ? result.left._tag : "ok" }).toEqual({ on: id, outcome: "NotFound" })
            }
            expect(snapshotDiff(before, yield* snapshotTables)).toEqual({})
            for (const id of [root.id, child.id]) {
              const result = yield* mint(administrator!, id)
              expect({ on: id, outcome: result._tag === "Left" ? result.left._tag : "ok" }).toEqual({ on: id, outcome: "ok" })
            }
            const owner = yield* Effect.flip(mintInvite(administrator!.principal, { kind: "grant", resource_id: root.id, resource_role: "owner" }))
            expect(owner._tag).toBe("Forbidden")
          }))
      })
    }
  )
