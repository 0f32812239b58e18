/**
 * Share links, revocation and the minter rule on a store (docs/domain.md#invites, docs/domain.md#share-links,
 * #revocation). A link's bearer is a principal of its own: its role opens its
 * resource and that resource's subtree and nothing else; rotating or
 * disabling the link kills its token at once; however many creations race,
 * one link stays active. Revoking a resource sweeps its subtree (resources,
 * pending invites, links) in one transaction that is all or nothing, reports
 * what it swept, touches nothing outside, leaves no credential for the
 * subtree working, and costs as many statements for ten thousand descendants
 * as for three. An invite grants nothing once its minter could no longer mint
 * it. After revocations and deletions the store breaks no invariant of
 * `invariants.ts`.
 *
 * It drives the domain's use cases through the store's ports and reads the
 * tables only through `StoreSql`. It writes around the use cases twice only:
 * through the raw ports, to build a subtree too large to build one use case
 * at a time, and by direct SQL, to remove a minter's row the way data written
 * before the rules could have. It runs on the live clock. Racers are
 * concurrent fibers; a store that can give each its own connection supplies
 * `gate`, and then every racer starts inside its own open transaction.
 */
import { describe, expect, layer } from "@effect/vitest"
import {
  addMember,
  authenticate,
  authenticateBearer,
  cancelInvite,
  changeAccess,
  check,
  createResource,
  createWorkspace,
  deleteUser,
  deleteWorkspace,
  disableShareLink,
  getInvite,
  getResource,
  getShareLink,
  getUser,
  getWorkspace,
  grantAccess,
  type InviteId,
  type InviteTerms,
  InviteStore,
  isLinkBearer,
  type LinkBearer,
  listAccesses,
  listChildren,
  listEvents,
  listInvites,
  listRoots,
  listWorkspaces,
  mintInvite,
  moveResource,
  myPersonalWorkspace,
  newResourceId,
  now,
  patchResource,
  type Principal,
  putShareLink,
  redeemInvite,
  register,
  removeAccess,
  removeMember,
  Resource,
  type ResourceId,
  ResourceStore,
  revokeResource,
  type RevokeReport,
  revokeUser,
  setMemberRole,
  ShareLinkStore,
  SystemActor,
  Transactor,
  type WorkspaceId,
  WorkspaceStore
} from "@tessera/domain"
import { Cause, Clock, type Context, Effect, Exit, FastCheck as fc, Layer, Option, Redacted, Tracer } from "effect"
import { lastSeq, publicKeys, registerUser, uniqueHandle } from "./fixtures.js"
import { Admin, type StorePorts, withAdmin } from "./index.js"
import { newViolations, snapshotDiff, snapshotTables, sqlString, StoreSql, storeInvariants } from "./invariants.js"
import { eventsAfter, type Person, people, person } from "./lifecycle.js"

export interface SharingContractOptions<R> {
  /**
   * The store's Transactor, made to hold each of `n` racing transactions,
   * once open, until all `n` are open on connections of their own. Without
   * it the racers are concurrent fibers queued by the store itself.
   */
  readonly gate?: (n: number) => Effect.Effect<Context.Tag.Service<Transactor>, never, StorePorts | R>
}

// ---------------------------------------------------------------------------------------------
// Outcomes, snapshots, clocks and statement counts.

/** How an operation ended: `ok`, the tag of its domain error, or `defect: …`. */
const outcomeOf = (exit: Exit.Exit<unknown, unknown>): string => {
  if (Exit.isSuccess(exit)) return "ok"
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure) || Option.isSome(Cause.dieOption(exit.cause))) {
    return `defect: ${Cause.pretty(exit.cause).split("\n")[0]}`
  }
  return (failure.value as { readonly _tag?: string })._tag ?? "untagged failure"
}

const outcome = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.map(Effect.exit(effect), outcomeOf)

/** What every table gained or lost since `before`. */
const changesSince = (before: Record<string, ReadonlyArray<string>>) => Effect.map(snapshotTables, (after) => snapshotDiff(before, after))

/** The ids of the rows of one table that a change touched. */
const touchedIds = (diff: ReturnType<typeof snapshotDiff>, table: string) =>
  [...new Set([...(diff[table]?.removed ?? []), ...(diff[table]?.added ?? [])].map((row) => String((JSON.parse(row) as { id: unknown }).id)))].sort()

/** The live clock moved `millis` ahead, for everything `effect` does. */
const aheadBy = (millis: number) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.clock, (live) => {
    const nanos = BigInt(millis) * 1_000_000n
    const ahead: Clock.Clock = {
      [Clock.ClockTypeId]: Clock.ClockTypeId,
      unsafeCurrentTimeMillis: () => live.unsafeCurrentTimeMillis() + millis,
      currentTimeMillis: Effect.sync(() => live.unsafeCurrentTimeMillis() + millis),
      unsafeCurrentTimeNanos: () => live.unsafeCurrentTimeNanos() + nanos,
      currentTimeNanos: Effect.sync(() => live.unsafeCurrentTimeNanos() + nanos),
      sleep: (duration) => live.sleep(duration)
    }
    return Effect.withClock(effect, ahead)
  })

/**
 * Runs `effect` and counts the SQL statements it executes: every statement
 * the SQL client runs is traced as a `sql.execute` span, whatever the
 * dialect, so a tracer that counts those spans counts statements.
 */
const countingStatements = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const live = yield* Effect.tracer
    let statements = 0
    const counting = Tracer.make({
      span: (name, parent, context, links, startTime, kind, options) => {
        if (name === "sql.execute") statements++
        return live.span(name, parent, context, links, startTime, kind, options)
      },
      context: (f, fiber) => live.context(f, fiber)
    })
    const started = performance.now()
    const result = yield* Effect.withTracer(effect, counting)
    return { result, statements, millis: Math.round(performance.now() - started) }
  })

// ---------------------------------------------------------------------------------------------
// A small world: a house with rooms, in a team workspace, and a resource elsewhere.

interface House {
  readonly owner: Person
  readonly team: WorkspaceId
  /** The root, owned by `owner`. */
  readonly house: ResourceId
  /** A child of the house. */
  readonly room: ResourceId
  /** A child of the room. */
  readonly nook: ResourceId
  /** A child of the nook. */
  readonly corner: ResourceId
  /** The room's sibling, another child of the house. */
  readonly sibling: ResourceId
  /** A root of another workspace of the same owner. */
  readonly elsewhere: ResourceId
}

const buildHouse = Effect.gen(function*() {
  const [owner] = yield* people(1)
  const o = owner!.principal
  const team = yield* createWorkspace(o, { name: "house" })
  const house = yield* createResource(o, team.id, { title: "house", kind: "folder" })
  const room = yield* createResource(o, team.id, { title: "room", kind: "room", parent_id: house.id })
  const nook = yield* createResource(o, team.id, { title: "nook", parent_id: room.id })
  const corner = yield* createResource(o, team.id, { title: "corner", parent_id: nook.id })
  const sibling = yield* createResource(o, team.id, { title: "sibling", kind: "room", parent_id: house.id })
  const other = yield* createWorkspace(o, { name: "elsewhere" })
  const elsewhere = yield* createResource(o, other.id, { title: "elsewhere" })
  return {
    owner: owner!,
    team: team.id,
    house: house.id,
    room: room.id,
    nook: nook.id,
    corner: corner.id,
    sibling: sibling.id,
    elsewhere: elsewhere.id
  } satisfies House
})

/** The bearer a share link's token authenticates as. */
const bearerOf = (token: Redacted.Redacted<string>) =>
  Effect.flatMap(authenticateBearer(token), (actor) =>
    isLinkBearer(actor) ? Effect.succeed(actor as LinkBearer) : Effect.die(new Error("a share link authenticated as a user")))

/** The ids of the resource's active links, as stored. */
const activeLinksOf = (id: ResourceId) =>
  Effect.flatMap(StoreSql, (sql) => sql.rows(`SELECT id FROM share_links WHERE resource_id = ${sqlString(id)} AND disabled_at IS NULL`)).pipe(
    Effect.map((rows) => rows.map((row) => String(row["id"])).sort())
  )

const grantOn = (resource_id: ResourceId, resource_role: "reader" | "editor" = "reader"): InviteTerms => ({
  kind: "grant",
  resource_id,
  resource_role
})

const zeros = (id: ResourceId): RevokeReport => ({
  resource_id: id,
  revoked: true,
  descendants_revoked: 0,
  invites_revoked: 0,
  share_link_disabled: false,
  share_links_disabled: 0
})

/** Races and the large subtree: a PostgreSQL deadlock costs its victim a second, and a loaded machine is slow. */
const RACE_TIMEOUT = 240_000

const MISSING_RESOURCE = "res_00000000000000000000000000000000" as ResourceId

// ---------------------------------------------------------------------------------------------
// Failures injected half-way through the revocation cascade.

/** Whether the cascade had already written when the injected failure struck. */
interface HalfWay {
  resourcesMarked: boolean
  invitesCanceled: boolean
}

/** Records in `seen` what the cascade wrote before `method`, then dies in its place. */
const lookThenDie = (
  seen: HalfWay,
  resources: Context.Tag.Service<ResourceStore>,
  invites: Context.Tag.Service<InviteStore>,
  invite: InviteId,
  rootId: ResourceId,
  method: string
) =>
  Effect.gen(function*() {
    const root = yield* resources.findById(rootId)
    seen.resourcesMarked = Option.isSome(root) && root.value.revoked_at !== null
    seen.invitesCanceled = Option.exists(yield* invites.findById(invite), (i) => i.status === "canceled")
    return yield* Effect.die(new Error(`injected: ${method}`))
  })

/** The store's InviteStore, except that canceling a subtree's invites dies, after looking at what was written before it. */
const inviteCascadeDies = (seen: HalfWay, invite: InviteId) =>
  Layer.effect(
    InviteStore,
    Effect.gen(function*() {
      const live = yield* InviteStore
      const resources = yield* ResourceStore
      return InviteStore.of({
        ...live,
        cancelPendingInSubtree: (rootId) => lookThenDie(seen, resources, live, invite, rootId, "cancelPendingInSubtree")
      })
    })
  )

/** The store's ShareLinkStore, except that disabling a subtree's links dies, after looking at what was written before it. */
const linkCascadeDies = (seen: HalfWay, invite: InviteId) =>
  Layer.effect(
    ShareLinkStore,
    Effect.gen(function*() {
      const live = yield* ShareLinkStore
      const resources = yield* ResourceStore
      const invites = yield* InviteStore
      return ShareLinkStore.of({
        ...live,
        disableInSubtree: (rootId) => lookThenDie(seen, resources, invites, invite, rootId, "disableInSubtree")
      })
    })
  )

// ---------------------------------------------------------------------------------------------
// Ways a minter loses the authority to mint what they minted.

interface MinterWay {
  readonly name: string
  /** A minter with authority, the terms they mint (fresh each call), and how they lose the authority. */
  readonly arrange: (owner: Person, admin: Principal) => Effect.Effect<{
    readonly minter: Principal
    readonly terms: () => InviteTerms
    readonly lose: Effect.Effect<unknown, unknown, StorePorts | StoreSql>
  }, unknown, StorePorts | Admin>
}

/** A team of `owner` with `minter` as a second admin. */
const teamWithAdmin = (owner: Person, minter: Person) =>
  Effect.gen(function*() {
    const team = yield* createWorkspace(owner.principal, { name: "minters" })
    yield* addMember(owner.principal, team.id, minter.id, "admin")
    return team.id
  })

/** A team root of `owner` with a child, and `minter` holding a direct administrator access on the root (no membership). */
const rootWithAdministrator = (owner: Person, minter: Person) =>
  Effect.gen(function*() {
    const team = yield* createWorkspace(owner.principal, { name: "administered" })
    const root = yield* createResource(owner.principal, team.id, { title: "root" })
    const child = yield* createResource(owner.principal, team.id, { title: "child", parent_id: root.id })
    const access = yield* grantAccess(owner.principal, root.id, minter.id, "administrator")
    return { team: team.id, root: root.id, child: child.id, access: access.id }
  })

const MINTER_WAYS: ReadonlyArray<MinterWay> = [
  {
    name: "demoted from workspace admin (a workspace grant)",
    arrange: (o) =>
      Effect.gen(function*() {
        const m = yield* person
        const team = yield* teamWithAdmin(o, m)
        return {
          minter: m.principal,
          terms: (): InviteTerms => ({ kind: "grant", workspace_id: team, workspace_role: "member" }),
          lose: setMemberRole(o.principal, team, m.id, "member")
        }
      })
  },
  {
    name: "removed from the workspace (a workspace grant)",
    arrange: (o) =>
      Effect.gen(function*() {
        const m = yield* person
        const team = yield* teamWithAdmin(o, m)
        return {
          minter: m.principal,
          terms: (): InviteTerms => ({ kind: "grant", workspace_id: team, workspace_role: "admin" }),
          lose: removeMember(o.principal, team, m.id)
        }
      })
  },
  {
    name: "demoted from workspace admin (a resource grant it held as admin)",
    arrange: (o) =>
      Effect.gen(function*() {
        const m = yield* person
        const team = yield* teamWithAdmin(o, m)
        const root = yield* createResource(o.principal, team, { title: "root" })
        const child = yield* createResource(o.principal, team, { title: "child", parent_id: root.id })
        return { minter: m.principal, terms: () => grantOn(child.id, "editor"), lose: setMemberRole(o.principal, team, m.id, "member") }
      })
  },
  {
    name: "removed from the workspace (a resource grant it held as admin)",
    arrange: (o) =>
      Effect.gen(function*() {
        const m = yield* person
        const team = yield* teamWithAdmin(o, m)
        const root = yield* createResource(o.principal, team, { title: "root" })
        return { minter: m.principal, terms: () => grantOn(root.id), lose: removeMember(o.principal, team, m.id) }
      })
  },
  {
    name: "an administrator whose access was changed to editor",
    arrange: (o) =>
      Effect.gen(function*() {
        const m = yield* person
        const r = yield* rootWithAdministrator(o, m)
        return { minter: m.principal, terms: () => grantOn(r.child), lose: changeAccess(o.principal, r.root, r.access, "editor") }
      })
  },
  {
    name: "an administrator whose access was removed",
    arrange: (o) =>
      Effect.gen(function*() {
        const m = yield* person
        const r = yield* rootWithAdministrator(o, m)
        return { minter: m.principal, terms: () => grantOn(r.root), lose: removeAccess(o.principal, r.root, r.access) }
      })
  },
  {
    name: "an administrator of a root whose resource then moved out of that root's scope",
    arrange: (o) =>
      Effect.gen(function*() {
        const m = yield* person
        const r = yield* rootWithAdministrator(o, m)
        const grandchild = yield* createResource(o.principal, r.team, { title: "grandchild", parent_id: r.child })
        const other = yield* createResource(o.principal, r.team, { title: "other root" })
        return {
          minter: m.principal,
          // the invite is on the grandchild: the move cancels the moved child's own invites, not those below it
          terms: () => grantOn(grandchild.id, "editor"),
          lose: moveResource(o.principal, r.child, { targetId: other.id, position: "last-child", dryRun: false })
        }
      })
  },
  {
    name: "revoked (a workspace grant)",
    arrange: (o, admin) =>
      Effect.gen(function*() {
        const m = yield* person
        const team = yield* teamWithAdmin(o, m)
        return {
          minter: m.principal,
          terms: (): InviteTerms => ({ kind: "grant", workspace_id: team, workspace_role: "member" }),
          lose: revokeUser(admin, m.id)
        }
      })
  },
  {
    name: "revoked (a resource grant)",
    arrange: (o, admin) =>
      Effect.gen(function*() {
        const m = yield* person
        const r = yield* rootWithAdministrator(o, m)
        return { minter: m.principal, terms: () => grantOn(r.child), lose: revokeUser(admin, m.id) }
      })
  },
  {
    name: "a system admin, revoked (a registration invite)",
    arrange: (_, admin) =>
      Effect.gen(function*() {
        const deputy = yield* registerUser(admin, { role: "admin" })
        return {
          minter: yield* authenticate(deputy.apiKey),
          terms: (): InviteTerms => ({ kind: "registration", handle: uniqueHandle("minted") }),
          lose: revokeUser(admin, deputy.user.id)
        }
      })
  },
  {
    name: "gone from the users table while its invite stayed pending (rows written by hand)",
    arrange: (o) =>
      Effect.gen(function*() {
        const m = yield* person
        const team = yield* teamWithAdmin(o, m)
        return {
          minter: m.principal,
          terms: (): InviteTerms => ({ kind: "grant", workspace_id: team, workspace_role: "member" }),
          lose: Effect.flatMap(StoreSql, (sql) => sql.unchecked([`DELETE FROM users WHERE id = ${sqlString(m.id)}`]))
        }
      })
  }
]

/** Redeems an invite as its kind is redeemed: a registration with fresh keys, a grant by `redeemer`. */
const redeemAs = (
  terms: InviteTerms,
  redeemer: Person | undefined,
  token: Redacted.Redacted<string>
): Effect.Effect<void, unknown, StorePorts> =>
  terms.kind === "registration"
    ? Effect.asVoid(register({ token, ...publicKeys() }))
    : Effect.asVoid(redeemInvite(redeemer!.principal, token))

/** The failure a redemption ended with, as a plain record (`ok` when it succeeded). */
const refusalOf = (exit: Exit.Exit<unknown, unknown>) => {
  if (Exit.isSuccess(exit)) return "ok"
  const failure = Cause.failureOption(exit.cause)
  return Option.isSome(failure) ? { ...(failure.value as object), _tag: (failure.value as { _tag: string })._tag } : outcomeOf(exit)
}

// ---------------------------------------------------------------------------------------------
// The minter rule as a property: authority moves, and redemptions follow it.

const MINTERS = 3

const MinterOpArb = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant("workspaceRole" as const), m: fc.nat(MINTERS - 1), admin: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("accessRole" as const), m: fc.nat(MINTERS - 1), administrator: fc.boolean() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("mint" as const),
      m: fc.nat(MINTERS - 1),
      target: fc.constantFrom("workspace" as const, "root" as const, "shared" as const)
    })
  },
  // most redemptions pick an invite nobody redeemed yet; some present a redeemed one again
  { weight: 4, arbitrary: fc.record({ op: fc.constant("redeem" as const), i: fc.nat(), again: fc.constant(false) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("redeem" as const), i: fc.nat(), again: fc.constant(true) }) }
)

// ---------------------------------------------------------------------------------------------

export const sharingContract = <E, R = never>(
  name: string,
  store: Layer.Layer<StorePorts | StoreSql | R, E>,
  options: SharingContractOptions<R> = {}
) => {
  /** Runs the racers at once (each in its own gated transaction when the store has a gate); returns how each ended. */
  const race = <A, E2, R2>(racers: ReadonlyArray<Effect.Effect<A, E2, R2>>) =>
    Effect.gen(function*() {
      const all = Effect.all(racers.map((racer) => Effect.exit(racer)), { concurrency: "unbounded" })
      if (options.gate === undefined) return yield* all
      const gated = yield* options.gate(racers.length)
      return yield* Effect.provideService(all, Transactor, gated)
    })

  return layer(Layer.merge(withAdmin(store), store), { timeout: "300 seconds", excludeTestServices: true })(
    `${name} sharing contract`,
    (it) => {
      describe("share links", () => {
        it.effect("a link's bearer opens its resource and its subtree, nothing else, and is refused what an account does", () =>
          Effect.gen(function*() {
            const h = yield* buildHouse
            const o = h.owner.principal
            const [x] = yield* people(1)
            const { link, token } = yield* putShareLink(o, h.room, "reader")
            expect(Redacted.value(token).startsWith("tsl_")).toBe(true)
            const bearer = yield* bearerOf(token)
            expect(bearer).toEqual({ _tag: "ShareLink", linkId: link.id, resourceId: h.room, role: "reader" })
            for (const id of [h.room, h.nook, h.corner]) {
              const seen = yield* getResource(bearer, id)
              expect({ id, role: seen.effectiveRole }).toEqual({ id, role: "reader" })
            }
            expect((yield* listChildren(bearer, h.room)).map((r) => r.id)).toEqual([h.nook])
            expect((yield* listChildren(bearer, h.nook)).map((r) => r.id)).toEqual([h.corner])

            const before = yield* snapshotTables
            const refused = {
              "getResource of a sibling": yield* outcome(getResource(bearer, h.sibling)),
              "getResource of the parent": yield* outcome(getResource(bearer, h.house)),
              "getResource in another workspace": yield* outcome(getResource(bearer, h.elsewhere)),
              "listChildren of the parent": yield* outcome(listChildren(bearer, h.house)),
              "listChildren of a sibling": yield* outcome(listChildren(bearer, h.sibling)),
              "listRoots of the workspace": yield* outcome(listRoots(bearer, h.team)),
              "getWorkspace": yield* outcome(getWorkspace(bearer, h.team)),
              "mintInvite for its resource": yield* outcome(mintInvite(bearer, grantOn(h.room))),
              "mintInvite for its workspace": yield* outcome(mintInvite(bearer, { kind: "grant", workspace_id: h.team, workspace_role: "member" })),
              "mintInvite for a registration": yield* outcome(mintInvite(bearer, { kind: "registration", handle: uniqueHandle("bearer") })),
              "listAccesses": yield* outcome(listAccesses(bearer, h.room, false)),
              "listAccesses with inherited": yield* outcome(listAccesses(bearer, h.nook, true)),
              "getShareLink": yield* outcome(getShareLink(bearer, h.room)),
              "putShareLink": yield* outcome(putShareLink(bearer, h.nook, "reader")),
              "disableShareLink": yield* outcome(disableShareLink(bearer, h.room)),
              "grantAccess": yield* outcome(grantAccess(bearer, h.room, x!.id, "reader")),
              "revokeResource": yield* outcome(revokeResource(bearer, h.nook, { dryRun: false })),
              "createResource as a root": yield* outcome(createResource(bearer, h.team, { title: "a root" })),
              "createWorkspace": yield* outcome(createWorkspace(bearer, { name: "the link's own" })),
              "deleteWorkspace": yield* outcome(deleteWorkspace(bearer, h.team)),
              "myPersonalWorkspace": yield* outcome(myPersonalWorkspace(bearer)),
              "listEvents": yield* outcome(listEvents(bearer, {})),
              "getUser": yield* outcome(getUser(bearer, h.owner.id)),
              "check": yield* outcome(check(bearer, [{ user_id: h.owner.id, resource_id: h.room, action: "read" }]))
            }
            expect(refused).toEqual({
              "getResource of a sibling": "NotFound",
              "getResource of the parent": "NotFound",
              "getResource in another workspace": "NotFound",
              "listChildren of the parent": "NotFound",
              "listChildren of a sibling": "NotFound",
              "listRoots of the workspace": "NotFound",
              "getWorkspace": "NotFound",
              "mintInvite for its resource": "Forbidden",
              "mintInvite for its workspace": "NotFound",
              "mintInvite for a registration": "Forbidden",
              "listAccesses": "Forbidden",
              "listAccesses with inherited": "Forbidden",
              "getShareLink": "Forbidden",
              "putShareLink": "Forbidden",
              "disableShareLink": "Forbidden",
              "grantAccess": "Forbidden",
              "revokeResource": "Forbidden",
              "createResource as a root": "NotFound",
              "createWorkspace": "Forbidden",
              "deleteWorkspace": "NotFound",
              "myPersonalWorkspace": "Forbidden",
              "listEvents": "Forbidden",
              "getUser": "Forbidden",
              "check": "Forbidden"
            })
            // a link has no account: it has minted no invite
            expect(yield* listInvites(bearer, {})).toEqual([])
            expect(yield* changesSince(before)).toEqual({})
            // and the door of API keys stays shut to it
            expect(yield* outcome(authenticate(token))).toBe("Unauthenticated")
          }))

        it.effect("a link's bearer belongs to no workspace: listing workspaces is refused", () =>
          Effect.gen(function*() {
            const h = yield* buildHouse
            const bearer = yield* bearerOf((yield* putShareLink(h.owner.principal, h.room, "editor")).token)
            const listed = yield* Effect.exit(listWorkspaces(bearer))
            const seen = Exit.isSuccess(listed)
              ? `listed ${listed.value.length} workspaces${listed.value.some((w) => w.id === h.team) ? ", its own among them" : ""}`
              : outcomeOf(listed)
            expect(seen).toMatch(/^(Forbidden|NotFound|Unauthenticated)$/)
          }))

        it.effect("a reader link cannot edit; an editor link edits and creates children inside its subtree only, and its events name the link", () =>
          Effect.gen(function*() {
            const h = yield* buildHouse
            const o = h.owner.principal
            const reader = yield* putShareLink(o, h.sibling, "reader")
            const editor = yield* putShareLink(o, h.room, "editor")
            const readerBearer = yield* bearerOf(reader.token)
            const editorBearer = yield* bearerOf(editor.token)
            const seq = yield* lastSeq

            let before = yield* snapshotTables
            expect({
              patch: yield* outcome(patchResource(readerBearer, h.sibling, { title: "scribbled" })),
              "create a child": yield* outcome(createResource(readerBearer, h.team, { title: "scribble", parent_id: h.sibling }))
            }).toEqual({ patch: "Forbidden", "create a child": "Forbidden" })
            expect(yield* changesSince(before)).toEqual({})

            const patched = yield* patchResource(editorBearer, h.nook, { title: "nook, repainted" })
            expect(patched.effectiveRole).toBe("editor")
            yield* patchResource(editorBearer, h.room, { title: "room, repainted" })
            const shelf = yield* createResource(editorBearer, h.team, { title: "shelf", parent_id: h.corner })
            expect(shelf.created_by).toBe(null)
            expect((yield* getResource(editorBearer, shelf.id)).effectiveRole).toBe("editor")
            expect((yield* listChildren(o, h.corner)).map((r) => r.id)).toEqual([shelf.id])

            before = yield* snapshotTables
            expect({
              "patch a sibling": yield* outcome(patchResource(editorBearer, h.sibling, { title: "x" })),
              "patch the parent": yield* outcome(patchResource(editorBearer, h.house, { title: "x" })),
              "patch elsewhere": yield* outcome(patchResource(editorBearer, h.elsewhere, { title: "x" })),
              "a child of a sibling": yield* outcome(createResource(editorBearer, h.team, { title: "x", parent_id: h.sibling })),
              "a child of the parent": yield* outcome(createResource(editorBearer, h.team, { title: "x", parent_id: h.house })),
              "a root": yield* outcome(createResource(editorBearer, h.team, { title: "x" })),
              "the link settings": yield* outcome(patchResource(editorBearer, h.room, { link_reach: "workspace" })),
              "a move inside": yield* outcome(moveResource(editorBearer, h.corner, { targetId: h.room, position: "last-child", dryRun: false }))
            }).toEqual({
              "patch a sibling": "NotFound",
              "patch the parent": "NotFound",
              "patch elsewhere": "NotFound",
              "a child of a sibling": "NotFound",
              "a child of the parent": "NotFound",
              "a root": "NotFound",
              "the link settings": "Forbidden",
              "a move inside": "Forbidden"
            })
            expect(yield* changesSince(before)).toEqual({})

            const events = (yield* eventsAfter(seq)).map((e) => [e.type, e.actor, e.resource_id])
            const as = `share_link:${editor.link.id}`
            expect(events).toEqual([
              ["resource.updated", as, h.nook],
              ["resource.updated", as, h.room],
              ["resource.created", as, shelf.id]
            ])
          }))

        it.effect("putShareLink on a resource with an active link rotates it: the old token dies at once, the new one works, one row stays active", () =>
          Effect.gen(function*() {
            const h = yield* buildHouse
            const o = h.owner.principal
            const seq = yield* lastSeq
            const first = yield* putShareLink(o, h.room, "editor")
            // a bearer authenticated before the rotation, whose write comes after it
            const early = yield* bearerOf(first.token)
            const second = yield* putShareLink(o, h.room, "reader")
            expect(second.link.id).not.toBe(first.link.id)
            expect(yield* outcome(authenticateBearer(first.token))).toBe("Unauthenticated")
            expect(yield* outcome(patchResource(early, h.room, { title: "too late" }))).toBe("Unauthenticated")
            expect(yield* outcome(createResource(early, h.team, { title: "too late", parent_id: h.room }))).toBe("Unauthenticated")
            const current = yield* bearerOf(second.token)
            expect(current).toEqual({ _tag: "ShareLink", linkId: second.link.id, resourceId: h.room, role: "reader" })
            expect((yield* getResource(current, h.nook)).effectiveRole).toBe("reader")
            expect(yield* activeLinksOf(h.room)).toEqual([second.link.id])
            expect((yield* getShareLink(o, h.room)).id).toBe(second.link.id)
            const events = yield* eventsAfter(seq)
            expect(events.map((e) => [e.type, e.data])).toEqual([
              ["share_link.created", { share_link_id: first.link.id, role: "editor" }],
              ["share_link.rotated", { share_link_id: second.link.id, role: "reader", previous_share_link_id: first.link.id }]
            ])
            for (const secret of [first.token, second.token]) expect(JSON.stringify(events)).not.toContain(Redacted.value(secret).slice(4, 40))
          }))

        it.effect("disabling is idempotent and kills the token; only an administrator manages the link", () =>
          Effect.gen(function*() {
            const h = yield* buildHouse
            const o = h.owner.principal
            const [administrator, editor, stranger] = yield* people(3)
            yield* grantAccess(o, h.room, administrator!.id, "administrator")
            yield* grantAccess(o, h.room, editor!.id, "editor")
            const { link, token } = yield* putShareLink(administrator!.principal, h.room, "reader")

            let before = yield* snapshotTables
            expect({
              "editor disables": yield* outcome(disableShareLink(editor!.principal, h.room)),
              "editor rotates": yield* outcome(putShareLink(editor!.principal, h.room, "editor")),
              "editor reads": yield* outcome(getShareLink(editor!.principal, h.room)),
              "stranger disables": yield* outcome(disableShareLink(stranger!.principal, h.room)),
              "stranger rotates": yield* outcome(putShareLink(stranger!.principal, h.room, "editor")),
              "stranger reads": yield* outcome(getShareLink(stranger!.principal, h.room))
            }).toEqual({
              "editor disables": "Forbidden",
              "editor rotates": "Forbidden",
              "editor reads": "Forbidden",
              "stranger disables": "NotFound",
              "stranger rotates": "NotFound",
              "stranger reads": "NotFound"
            })
            expect(yield* changesSince(before)).toEqual({})
            expect(yield* outcome(authenticateBearer(token))).toBe("ok")

            const seq = yield* lastSeq
            const first = yield* disableShareLink(administrator!.principal, h.room)
            expect(first.disabled).toBe(true)
            expect(first.share_link?.id).toBe(link.id)
            expect(first.share_link?.disabled_at).not.toBe(null)
            expect(yield* outcome(authenticateBearer(token))).toBe("Unauthenticated")
            before = yield* snapshotTables
            expect(yield* disableShareLink(administrator!.principal, h.room)).toEqual({ disabled: false, share_link: null })
            expect(yield* disableShareLink(o, h.room)).toEqual({ disabled: false, share_link: null })
            expect(yield* changesSince(before)).toEqual({})
            expect((yield* eventsAfter(seq)).map((e) => e.type)).toEqual(["share_link.disabled"])
            expect(yield* outcome(getShareLink(o, h.room))).toBe("NotFound")
            expect(yield* activeLinksOf(h.room)).toEqual([])
            // a link created after a disable is a creation, not a rotation
            const again = yield* lastSeq
            yield* putShareLink(o, h.room, "reader")
            expect((yield* eventsAfter(again)).map((e) => e.type)).toEqual(["share_link.created"])
          }))

        const CREATORS = 16
        it.effect(`${CREATORS} concurrent putShareLink on one resource leave exactly one active link, and every other token dead`, () =>
          Effect.gen(function*() {
            const h = yield* buildHouse
            const o = h.owner.principal
            const [deputy] = yield* people(1)
            yield* addMember(o, h.team, deputy!.id, "admin")
            const rounds: Array<unknown> = []
            for (const round of [0, 1, 2]) {
              const contested = yield* createResource(o, h.team, { title: `contested ${round}`, parent_id: h.house })
              // from the second round on, a link is already active when they start
              const earlier = round === 0 ? [] : [yield* putShareLink(o, contested.id, "reader")]
              const seq = yield* lastSeq
              const exits = yield* race(Array.from({ length: CREATORS }, (_, i) =>
                putShareLink(i % 2 === 0 ? o : deputy!.principal, contested.id, i % 3 === 0 ? "editor" : "reader")))
              const won = exits.flatMap((exit) => (Exit.isSuccess(exit) ? [exit.value] : []))
              const active = yield* activeLinksOf(contested.id)
              const alive: Array<string> = []
              const otherwise: Array<string> = []
              for (const created of [...earlier, ...won]) {
                const seen = yield* outcome(authenticateBearer(created.token))
                if (seen === "ok") alive.push(created.link.id)
                else if (seen !== "Unauthenticated") otherwise.push(`${created.link.id}: ${seen}`)
              }
              const events = (yield* eventsAfter(seq)).filter((e) => e.resource_id === contested.id)
              rounds.push({
                round,
                // a creation that loses may only be refused as a conflict (the partial unique index)
                refusals: exits.map(outcomeOf).filter((o) => o !== "ok" && o !== "Conflict"),
                winners: won.length > 0,
                active: active.length,
                activeIsAWinner: won.some((w) => w.link.id === active[0]),
                alive: alive.sort(),
                otherwise,
                eventsPerWinner: events.filter((e) => e.type === "share_link.created" || e.type === "share_link.rotated").length === won.length
              })
              expect(rounds[rounds.length - 1]).toEqual({
                round,
                refusals: [],
                winners: true,
                active: 1,
                activeIsAWinner: true,
                alive: active,
                otherwise: [],
                eventsPerWinner: true
              })
            }
          }), RACE_TIMEOUT)

        const WRITE_ROUNDS = 24
        it.effect(`a bearer writing while its link is disabled, rotated or revoked at once (${WRITE_ROUNDS} rounds) succeeds before or is unauthenticated, never a defect`, () =>
          Effect.gen(function*() {
            const h = yield* buildHouse
            const o = h.owner.principal
            const baseline = yield* storeInvariants
            const kinds = ["disable", "rotate", "revoke"] as const
            const wrong: Array<unknown> = []
            const seen: Record<string, number> = {}
            for (let round = 0; round < WRITE_ROUNDS; round++) {
              const kind = kinds[round % 3]!
              const write = Math.floor(round / 3) % 2 === 0 ? "patch" : "child"
              const bearerFirst = Math.floor(round / 6) % 2 === 0
              const room = yield* createResource(o, h.team, { title: `room ${round}`, parent_id: h.house })
              const { link, token } = yield* putShareLink(o, room.id, "editor")
              const bearer = yield* bearerOf(token)
              const seq = yield* lastSeq
              const byBearer: Effect.Effect<void, unknown, StorePorts> = write === "patch"
                ? Effect.asVoid(patchResource(bearer, room.id, { title: "written through the link" }))
                : Effect.asVoid(createResource(bearer, h.team, { title: "made through the link", parent_id: room.id }))
              const byOwner: Effect.Effect<void, unknown, StorePorts> = kind === "disable"
                ? Effect.asVoid(disableShareLink(o, room.id))
                : kind === "rotate"
                ? Effect.asVoid(putShareLink(o, room.id, "reader"))
                : Effect.asVoid(revokeResource(o, room.id, { dryRun: false }))
              const exits = yield* race(bearerFirst ? [byBearer, byOwner] : [byOwner, byBearer])
              const [bearerExit, ownerExit] = bearerFirst ? exits : [exits[1]!, exits[0]!]
              const events = yield* eventsAfter(seq)
              const byLink = events.filter((e) => e.actor === `share_link:${link.id}`)
              const ownerEvent = events.find((e) =>
                e.type === { disable: "share_link.disabled", rotate: "share_link.rotated", revoke: "resource.revoked" }[kind])
              const bearerOutcome = outcomeOf(bearerExit!)
              const result = {
                round,
                kind,
                write,
                bearer: bearerOutcome,
                owner: outcomeOf(ownerExit!),
                // a write that succeeded committed before the link died; one that was refused left no trace
                inOrder: bearerOutcome === "ok"
                  ? byLink.length > 0 && ownerEvent !== undefined && byLink.every((e) => e.seq < ownerEvent.seq)
                  : byLink.length === 0,
                tokenDead: (yield* outcome(authenticateBearer(token))) === "Unauthenticated"
              }
              seen[bearerOutcome] = (seen[bearerOutcome] ?? 0) + 1
              if (
                !(result.owner === "ok" && (result.bearer === "ok" || result.bearer === "Unauthenticated") && result.inOrder &&
                  result.tokenDead)
              ) wrong.push(result)
            }
            expect({ wrong, seen: Object.keys(seen).filter((k) => k !== "ok" && k !== "Unauthenticated") }).toEqual({ wrong: [], seen: [] })
            expect(newViolations(baseline, yield* storeInvariants)).toEqual([])
          }), RACE_TIMEOUT)
      })

      describe("revocation", () => {
        it.effect("the report counts the newly revoked descendants, the pending invites and the active links of the subtree; a second call reports zeros", () =>
          Effect.gen(function*() {
            const h = yield* buildHouse
            const o = h.owner.principal
            const [r] = yield* people(1)
            // in the subtree: three pending invites, the room's link and the corner's
            const pending = [
              yield* mintInvite(o, grantOn(h.room)),
              yield* mintInvite(o, grantOn(h.room, "editor")),
              yield* mintInvite(o, grantOn(h.nook))
            ]
            yield* putShareLink(o, h.room, "reader")
            yield* putShareLink(o, h.corner, "editor")
            // in the subtree but not swept again: a canceled invite, a redeemed one, a disabled link
            const canceled = yield* mintInvite(o, grantOn(h.room))
            yield* cancelInvite(o, canceled.invite.id)
            const redeemed = yield* mintInvite(o, grantOn(h.nook))
            yield* redeemInvite(r!.principal, redeemed.token)
            yield* putShareLink(o, h.nook, "reader")
            yield* disableShareLink(o, h.nook)
            // outside the subtree
            yield* mintInvite(o, grantOn(h.sibling))
            yield* putShareLink(o, h.sibling, "reader")
            yield* putShareLink(o, h.house, "reader")
            yield* mintInvite(o, { kind: "grant", workspace_id: h.team, workspace_role: "member" })

            const seq = yield* lastSeq
            const report = yield* revokeResource(o, h.room, { dryRun: false })
            expect(report).toEqual({
              resource_id: h.room,
              revoked: true,
              descendants_revoked: 2,
              invites_revoked: 3,
              share_link_disabled: true,
              share_links_disabled: 2
            })
            const events = yield* eventsAfter(seq)
            expect(events.map((e) => [e.type, e.actor, e.workspace_id, e.resource_id])).toEqual([
              ["resource.revoked", h.owner.id, h.team, h.room],
              ["resource.accesses_reset", h.owner.id, h.team, h.room]
            ])
            expect(events[0]!.data).toEqual({ ...report })
            for (const { invite } of pending) {
              expect({ invite: invite.id, status: (yield* getInvite(o, invite.id)).status }).toEqual({ invite: invite.id, status: "canceled" })
            }
            expect((yield* getInvite(o, redeemed.invite.id)).status).toBe("redeemed")

            const before = yield* snapshotTables
            expect(yield* revokeResource(o, h.room, { dryRun: false })).toEqual(zeros(h.room))
            expect(yield* revokeResource(o, h.nook, { dryRun: false })).toEqual(zeros(h.nook))
            expect(yield* changesSince(before)).toEqual({})

            // a resource with no link of its own over a linked descendant, then its root over a half-revoked tree
            const g = yield* buildHouse
            yield* putShareLink(g.owner.principal, g.corner, "reader")
            expect(yield* revokeResource(g.owner.principal, g.nook, { dryRun: false })).toEqual({
              ...zeros(g.nook),
              descendants_revoked: 1,
              share_links_disabled: 1
            })
            // the house: the room and the sibling are new, the nook and the corner were revoked already
            expect(yield* revokeResource(g.owner.principal, g.house, { dryRun: false })).toEqual({ ...zeros(g.house), descendants_revoked: 2 })
          }))

        it.effect("an invite of the subtree that had already expired is neither counted nor canceled", () =>
          Effect.gen(function*() {
            const h = yield* buildHouse
            const o = h.owner.principal
            const lapsed = yield* mintInvite(o, { ...grantOn(h.nook), ttl_seconds: 60 })
            const live = yield* mintInvite(o, grantOn(h.nook))
            const later = aheadBy(61_000)
            const report = yield* later(revokeResource(o, h.room, { dryRun: false }))
            expect(report.invites_revoked).toBe(1)
            expect((yield* later(getInvite(o, lapsed.invite.id))).status).toBe("expired")
            expect((yield* later(getInvite(o, live.invite.id))).status).toBe("canceled")
          }))

        it.effect("a dry run returns the report the revocation then returns, and changes nothing", () =>
          Effect.gen(function*() {
            const h = yield* buildHouse
            const o = h.owner.principal
            const invite = yield* mintInvite(o, grantOn(h.nook))
            yield* mintInvite(o, grantOn(h.room))
            const { token } = yield* putShareLink(o, h.room, "reader")
            yield* putShareLink(o, h.corner, "reader")
            const before = yield* snapshotTables
            const dry = yield* revokeResource(o, h.room, { dryRun: true })
            expect(yield* changesSince(before)).toEqual({})
            expect(dry).toEqual({
              resource_id: h.room,
              revoked: true,
              descendants_revoked: 2,
              invites_revoked: 2,
              share_link_disabled: true,
              share_links_disabled: 2
            })
            expect(yield* outcome(authenticateBearer(token))).toBe("ok")
            expect((yield* getInvite(o, invite.invite.id)).status).toBe("pending")
            expect((yield* getResource(o, h.corner)).effectiveRole).toBe("owner")
            expect(yield* revokeResource(o, h.room, { dryRun: false })).toEqual(dry)
            const after = yield* snapshotTables
            expect(yield* revokeResource(o, h.room, { dryRun: true })).toEqual(zeros(h.room))
            expect(yield* changesSince(after)).toEqual({})
          }))

        it.effect("only the subtree is touched: a sibling room's invite and link, the parent's link and the workspace's invite keep working", () =>
          Effect.gen(function*() {
            const h = yield* buildHouse
            const o = h.owner.principal
            const [q, q2] = yield* people(2)
            const inside = [yield* mintInvite(o, grantOn(h.room)), yield* mintInvite(o, grantOn(h.corner))]
            const insideLinks = [yield* putShareLink(o, h.nook, "reader"), yield* putShareLink(o, h.room, "editor")]
            const sideInvite = yield* mintInvite(o, grantOn(h.sibling, "editor"))
            const sideLink = yield* putShareLink(o, h.sibling, "editor")
            const parentLink = yield* putShareLink(o, h.house, "reader")
            const teamInvite = yield* mintInvite(o, { kind: "grant", workspace_id: h.team, workspace_role: "member" })

            const before = yield* snapshotTables
            yield* revokeResource(o, h.room, { dryRun: false })
            const diff = yield* changesSince(before)
            expect(Object.keys(diff).filter((t) => t !== "events" && t !== "event_counter").sort()).toEqual(["invites", "resources", "share_links"])
            expect(touchedIds(diff, "resources")).toEqual([h.room, h.nook, h.corner].sort())
            expect(touchedIds(diff, "invites")).toEqual(inside.map((i) => i.invite.id).sort())
            expect(touchedIds(diff, "share_links")).toEqual(insideLinks.map((l) => l.link.id).sort())

            yield* redeemInvite(q!.principal, sideInvite.token)
            expect((yield* getResource(q!.principal, h.sibling)).effectiveRole).toBe("editor")
            const side = yield* bearerOf(sideLink.token)
            expect((yield* patchResource(side, h.sibling, { title: "sibling, still open" })).effectiveRole).toBe("editor")
            const parent = yield* bearerOf(parentLink.token)
            expect((yield* getResource(parent, h.house)).effectiveRole).toBe("reader")
            expect((yield* getResource(parent, h.sibling)).effectiveRole).toBe("reader")
            expect(yield* outcome(getResource(parent, h.room))).toBe("NotFound")
            yield* redeemInvite(q2!.principal, teamInvite.token)
            expect(yield* outcome(getWorkspace(q2!.principal, h.team))).toBe("ok")
            expect((yield* getResource(o, h.house)).effectiveRole).toBe("owner")
            expect((yield* listChildren(o, h.house)).map((r) => r.id)).toEqual([h.sibling])
          }))

        it.effect("once it has returned, no credential for the subtree opens anything in it", () =>
          Effect.gen(function*() {
            const { principal: admin } = yield* Admin
            const h = yield* buildHouse
            const o = h.owner.principal
            const [reader, member, invitee, latecomer, wsAdmin] = yield* people(5)
            yield* grantAccess(o, h.room, reader!.id, "reader")
            yield* addMember(o, h.team, member!.id, "member")
            yield* addMember(o, h.team, wsAdmin!.id, "admin")
            yield* patchResource(o, h.room, { link_reach: "workspace", link_role: "editor" })
            yield* redeemInvite(invitee!.principal, (yield* mintInvite(o, grantOn(h.nook))).token)
            const pending = yield* mintInvite(o, grantOn(h.room))
            const { token } = yield* putShareLink(o, h.room, "editor")
            const bearer = yield* bearerOf(token)

            const holders = [
              ["a reader by a direct access", reader!.principal, h.room],
              ["a member by the workspace link", member!.principal, h.nook],
              ["a redeemed invite's access", invitee!.principal, h.nook],
              ["a workspace admin", wsAdmin!.principal, h.room],
              ["the owner", o, h.corner],
              ["the share link", bearer, h.corner]
            ] as const
            for (const [who, actor, id] of holders) expect({ who, before: yield* outcome(getResource(actor, id)) }).toEqual({ who, before: "ok" })

            yield* revokeResource(o, h.room, { dryRun: false })

            const after: Record<string, string> = {}
            for (const [who, actor, id] of holders) {
              for (const target of [h.room, h.nook, h.corner]) after[`${who} reads ${target === h.room ? "the room" : target === h.nook ? "the nook" : "the corner"}`] = yield* outcome(getResource(actor, target))
              after[`${who} writes`] = yield* outcome(patchResource(actor, id, { title: "after the revocation" }))
              after[`${who} lists children`] = yield* outcome(listChildren(actor, h.room))
            }
            after["the token"] = yield* outcome(authenticateBearer(token))
            after["the pending invite"] = yield* outcome(redeemInvite(latecomer!.principal, pending.token))
            after["a new child"] = yield* outcome(createResource(o, h.team, { title: "after", parent_id: h.nook }))
            after["a new access"] = yield* outcome(grantAccess(o, h.room, latecomer!.id, "reader"))
            after["a new invite"] = yield* outcome(mintInvite(o, grantOn(h.corner)))
            after["a new link"] = yield* outcome(putShareLink(o, h.room, "reader"))
            after["a system admin reads"] = yield* outcome(getResource(admin, h.nook))
            const allowed = yield* check(admin, [
              { user_id: reader!.id, resource_id: h.room, action: "read" },
              { user_id: member!.id, resource_id: h.nook, action: "read" },
              { user_id: invitee!.id, resource_id: h.nook, action: "read" },
              { user_id: wsAdmin!.id, resource_id: h.corner, action: "read" },
              { user_id: h.owner.id, resource_id: h.room, action: "read" }
            ])
            // those who may know it existed (members, system admins) are told it is revoked; everyone else, that it is not there
            const revokedOrGone = (who: string) => (who === "a member by the workspace link" || who === "a workspace admin" || who === "the owner" ? "ResourceRevoked" : "NotFound")
            const expected: Record<string, string> = {}
            for (const [who] of holders) {
              const seen = who === "the share link" ? "Unauthenticated" : revokedOrGone(who)
              for (const target of ["the room", "the nook", "the corner"]) expected[`${who} reads ${target}`] = who === "the share link" ? "NotFound" : revokedOrGone(who)
              expected[`${who} writes`] = seen
              expected[`${who} lists children`] = who === "the share link" ? "NotFound" : revokedOrGone(who)
            }
            Object.assign(expected, {
              "the token": "Unauthenticated",
              "the pending invite": "InviteCanceled",
              "a new child": "ResourceRevoked",
              "a new access": "ResourceRevoked",
              "a new invite": "ResourceRevoked",
              "a new link": "ResourceRevoked",
              "a system admin reads": "ResourceRevoked"
            })
            expect(after).toEqual(expected)
            expect(allowed.map((a) => a.allowed)).toEqual([false, false, false, false, false])
          }))

        it.effect("only an owner revokes: administrators and editors are forbidden, a stranger is not told it exists, and nothing changes", () =>
          Effect.gen(function*() {
            const { principal: admin } = yield* Admin
            const h = yield* buildHouse
            const o = h.owner.principal
            const [wsAdmin, administrator, editor, stranger, directOwner] = yield* people(5)
            yield* addMember(o, h.team, wsAdmin!.id, "admin")
            yield* grantAccess(o, h.room, administrator!.id, "administrator")
            yield* grantAccess(o, h.room, editor!.id, "editor")
            const bearer = yield* bearerOf((yield* putShareLink(o, h.room, "editor")).token)
            const before = yield* snapshotTables
            const attempts: Record<string, string> = {}
            for (const dryRun of [false, true]) {
              for (const [who, actor] of [
                ["a workspace admin", wsAdmin!.principal],
                ["an administrator", administrator!.principal],
                ["an editor", editor!.principal],
                ["an editor link", bearer],
                ["a stranger", stranger!.principal]
              ] as const) attempts[`${who}${dryRun ? ", dry run" : ""}`] = yield* outcome(revokeResource(actor, h.room, { dryRun }))
            }
            expect(attempts).toEqual({
              "a workspace admin": "Forbidden",
              "an administrator": "Forbidden",
              "an editor": "Forbidden",
              "an editor link": "Forbidden",
              "a stranger": "NotFound",
              "a workspace admin, dry run": "Forbidden",
              "an administrator, dry run": "Forbidden",
              "an editor, dry run": "Forbidden",
              "an editor link, dry run": "Forbidden",
              "a stranger, dry run": "NotFound"
            })
            expect(yield* changesSince(before)).toEqual({})
            // owners may: directly on the resource, by inheritance from the root; and a system admin
            yield* grantAccess(o, h.nook, directOwner!.id, "owner")
            expect((yield* revokeResource(directOwner!.principal, h.nook, { dryRun: false })).descendants_revoked).toBe(1)
            expect((yield* revokeResource(o, h.room, { dryRun: false })).resource_id).toBe(h.room)
            expect((yield* revokeResource(admin, h.sibling, { dryRun: false })).resource_id).toBe(h.sibling)
            // and a second call needs the same rights as the first
            expect(yield* outcome(revokeResource(administrator!.principal, h.room, { dryRun: false }))).toBe("Forbidden")
          }))

        it.effect("an unknown resource is not found, and nothing changes", () =>
          Effect.gen(function*() {
            const { principal: admin } = yield* Admin
            const h = yield* buildHouse
            const before = yield* snapshotTables
            for (const actor of [h.owner.principal, admin]) {
              for (const dryRun of [false, true]) {
                expect(yield* outcome(revokeResource(actor, MISSING_RESOURCE, { dryRun }))).toBe("NotFound")
              }
            }
            expect(yield* outcome(revokeResource(SystemActor, MISSING_RESOURCE, { dryRun: false }))).toBe("NotFound")
            expect(yield* changesSince(before)).toEqual({})
          }))

        it.effect("a failure injected half-way through the cascade leaves nothing revoked, and the same call then succeeds", () =>
          Effect.gen(function*() {
            for (const [point, dying] of [["canceling the invites", inviteCascadeDies], ["disabling the links", linkCascadeDies]] as const) {
              const h = yield* buildHouse
              const o = h.owner.principal
              const invite = yield* mintInvite(o, grantOn(h.nook))
              const { token } = yield* putShareLink(o, h.room, "reader")
              yield* putShareLink(o, h.corner, "editor")
              const seen: HalfWay = { resourcesMarked: false, invitesCanceled: false }
              const before = yield* snapshotTables
              const revoking = revokeResource(o, h.room, { dryRun: false })
              const exit = yield* Effect.exit(
                dying === inviteCascadeDies
                  ? Effect.provide(revoking, inviteCascadeDies(seen, invite.invite.id))
                  : Effect.provide(revoking, linkCascadeDies(seen, invite.invite.id))
              )
              const defect = Exit.isFailure(exit) ? Option.getOrNull(Option.map(Cause.dieOption(exit.cause), String)) : null
              expect({ point, defect }).toEqual({ point, defect: `Error: injected: ${point === "canceling the invites" ? "cancelPendingInSubtree" : "disableInSubtree"}` })
              // it struck after the cascade had written: the resources marked (and, at the links, the invites canceled)
              expect({ point, ...seen }).toEqual({ point, resourcesMarked: true, invitesCanceled: point === "disabling the links" })
              expect({ point, changes: yield* changesSince(before) }).toEqual({ point, changes: {} })
              expect(yield* outcome(authenticateBearer(token))).toBe("ok")
              expect((yield* getInvite(o, invite.invite.id)).status).toBe("pending")
              expect((yield* getResource(o, h.corner)).effectiveRole).toBe("owner")
              expect(yield* revokeResource(o, h.room, { dryRun: false })).toEqual({
                resource_id: h.room,
                revoked: true,
                descendants_revoked: 2,
                invites_revoked: 1,
                share_link_disabled: true,
                share_links_disabled: 2
              })
            }
          }))

        const FOLDERS = 100
        const DOCUMENTS = 99
        it.effect(`a subtree of ${FOLDERS * (DOCUMENTS + 1)} descendants revokes in as many statements as one of six`, () =>
          Effect.gen(function*() {
            const [o] = yield* people(1)
            const estate = yield* createWorkspace(o!.principal, { name: "estate" })
            const grounds = yield* createResource(o!.principal, estate.id, { title: "grounds" })

            /** A wing under the grounds: `folders` folders of `documents` documents, through the raw ports in one transaction. */
            const wing = (title: string, folders: number, documents: number) =>
              Effect.gen(function*() {
                const top = yield* createResource(o!.principal, estate.id, { title, parent_id: grounds.id })
                const leaves: Array<ResourceId> = []
                yield* Transactor.run(Effect.gen(function*() {
                  const store = yield* ResourceStore
                  const at = yield* now
                  const node = (parent: ResourceId, title: string, kind: string) =>
                    Effect.gen(function*() {
                      const id = yield* newResourceId
                      yield* store.insert(new Resource({
                        id,
                        workspace_id: estate.id,
                        kind,
                        title,
                        parent_id: parent,
                        link_reach: "restricted",
                        link_role: "reader",
                        created_by: o!.id,
                        created_at: at,
                        updated_at: at,
                        revoked_at: null
                      }))
                      return id
                    })
                  for (let f = 0; f < folders; f++) {
                    const folder = yield* node(top.id, `folder ${f}`, "folder")
                    for (let d = 0; d < documents; d++) leaves.push(yield* node(folder, `document ${f}.${d}`, "document"))
                  }
                }))
                return { top: top.id, leaves }
              })

            const small = yield* wing("small wing", 2, 2)
            yield* mintInvite(o!.principal, grantOn(small.leaves[0]!))
            yield* putShareLink(o!.principal, small.top, "reader")
            yield* putShareLink(o!.principal, small.leaves[1]!, "reader")

            const big = yield* wing("big wing", FOLDERS, DOCUMENTS)
            const every = (n: number) => big.leaves.filter((_, i) => i % Math.floor(big.leaves.length / n) === 0).slice(0, n)
            for (const leaf of every(50)) yield* mintInvite(o!.principal, grantOn(leaf))
            for (const leaf of every(50)) yield* putShareLink(o!.principal, leaf, "reader")
            yield* putShareLink(o!.principal, big.top, "editor")
            // beside it, untouched: a sibling wing with its own invite and link
            const beside = yield* createResource(o!.principal, estate.id, { title: "beside", parent_id: grounds.id })
            yield* mintInvite(o!.principal, grantOn(beside.id))
            const besideLink = yield* putShareLink(o!.principal, beside.id, "reader")

            const few = yield* countingStatements(revokeResource(o!.principal, small.top, { dryRun: false }))
            expect(few.result).toEqual({ ...zeros(small.top), descendants_revoked: 6, invites_revoked: 1, share_link_disabled: true, share_links_disabled: 2 })
            const many = yield* countingStatements(revokeResource(o!.principal, big.top, { dryRun: false }))
            expect(many.result).toEqual({
              ...zeros(big.top),
              descendants_revoked: FOLDERS * (DOCUMENTS + 1),
              invites_revoked: 50,
              share_link_disabled: true,
              share_links_disabled: 51
            })
            console.info(`[${name}] revoking ${FOLDERS * (DOCUMENTS + 1)} descendants: ${many.millis} ms, ${many.statements} statements (6 descendants: ${few.millis} ms, ${few.statements} statements)`)
            // the counting sees the statements at all (a revocation reads and writes several tables) …
            expect(few.statements).toBeGreaterThanOrEqual(5)
            // … and a subtree a thousand times larger takes not one more
            expect({ statements: many.statements }).toEqual({ statements: few.statements })

            const sql = yield* StoreSql
            const count = (statement: string) => Effect.map(sql.rows(statement), (rows) => Number(rows[0]?.["n"]))
            const inEstate = `SELECT id FROM resources WHERE workspace_id = ${sqlString(estate.id)}`
            expect({
              live: yield* count(`SELECT COUNT(*) AS n FROM resources WHERE workspace_id = ${sqlString(estate.id)} AND revoked_at IS NULL`),
              pending: yield* count(`SELECT COUNT(*) AS n FROM invites WHERE status = 'pending' AND resource_id IN (${inEstate})`),
              active: yield* count(`SELECT COUNT(*) AS n FROM share_links WHERE disabled_at IS NULL AND resource_id IN (${inEstate})`)
            }).toEqual({ live: 2, pending: 1, active: 1 })
            expect(yield* outcome(authenticateBearer(besideLink.token))).toBe("ok")
          }), RACE_TIMEOUT)
      })

      describe("the redeemer is held as every caller is", () => {
        it.effect("a redeemer revoked or deleted after authenticating redeems nothing: Unauthenticated, the invite stays pending for another", () =>
          Effect.gen(function*() {
            const { principal: admin } = yield* Admin
            const [owner, revoked, deleted, later] = yield* people(4)
            const team = yield* createWorkspace(owner!.principal, { name: "held redeemers" })
            const { invite, token } = yield* mintInvite(owner!.principal, { kind: "grant", workspace_id: team.id, workspace_role: "member" })
            yield* revokeUser(admin, revoked!.id)
            yield* deleteUser(admin, deleted!.id, Option.none())
            const before = yield* snapshotTables
            const refusal = (exit: Exit.Exit<unknown, { readonly _tag: string; readonly message: string }>) =>
              Exit.isSuccess(exit) ? "ok" : Option.match(Cause.failureOption(exit.cause), { onNone: () => "defect", onSome: (e) => `${e._tag}: ${e.message}` })
            expect(refusal(yield* Effect.exit(redeemInvite(revoked!.principal, token)))).toBe("Unauthenticated: the calling user is revoked")
            expect(refusal(yield* Effect.exit(redeemInvite(deleted!.principal, token)))).toBe("Unauthenticated: the calling user no longer exists")
            expect(yield* changesSince(before)).toEqual({})
            expect(yield* outcome(redeemInvite(later!.principal, token))).toBe("ok")
            expect((yield* getInvite(owner!.principal, invite.id)).redeemed_by).toBe(later!.id)
          }))
      })

      describe("an invite is only as good as its minter", () => {
        for (const way of MINTER_WAYS) {
          it.effect(`an invite whose minter was ${way.name} is refused at redemption as minter_lost_authority and grants nothing`, () =>
            Effect.gen(function*() {
              const { principal: admin } = yield* Admin
              const [o, first, second] = yield* people(3)
              const { lose, minter, terms } = yield* way.arrange(o!, admin)
              const kept = terms()
              const early = yield* mintInvite(minter, kept)
              const late = yield* mintInvite(minter, terms())
              // while the minter holds authority, the same terms are granted
              expect(yield* outcome(redeemAs(kept, first, early.token))).toBe("ok")
              yield* lose
              const before = yield* snapshotTables
              const refused = refusalOf(yield* Effect.exit(redeemAs(kept, second, late.token)))
              expect(refused).toMatchObject({ _tag: "InviteCanceled", inviteId: late.invite.id, reason: "minter_lost_authority" })
              expect(yield* changesSince(before)).toEqual({})
              // refused, not canceled: the stored invite stays pending
              expect(Option.map(yield* Effect.flatMap(InviteStore, (s) => s.findById(late.invite.id)), (i) => i.status)).toEqual(Option.some("pending"))
            }))
        }

        it.effect("a deleted minter's invites are canceled with them and grant nothing", () =>
          Effect.gen(function*() {
            const { principal: admin } = yield* Admin
            const [o, m, r1, r2] = yield* people(4)
            const team = yield* teamWithAdmin(o!, m!)
            const r = yield* rootWithAdministrator(o!, m!)
            const toTeam = yield* mintInvite(m!.principal, { kind: "grant", workspace_id: team, workspace_role: "member" })
            const toRoot = yield* mintInvite(m!.principal, grantOn(r.child))
            const report = yield* deleteUser(admin, m!.id, Option.none())
            expect(report.invites_canceled).toBe(2)
            const before = yield* snapshotTables
            expect(refusalOf(yield* Effect.exit(redeemInvite(r1!.principal, toTeam.token)))).toMatchObject({ _tag: "InviteCanceled", inviteId: toTeam.invite.id })
            expect(refusalOf(yield* Effect.exit(redeemInvite(r2!.principal, toRoot.token)))).toMatchObject({ _tag: "InviteCanceled", inviteId: toRoot.invite.id })
            expect(yield* changesSince(before)).toEqual({})
          }))

        it.effect("an invite works while its minter holds authority, at the moment of redemption; system-minted invites work", () =>
          Effect.gen(function*() {
            const { principal: admin } = yield* Admin
            const [o, m, other, r1, r2, r3, r4, r5] = yield* people(8)
            const team = yield* teamWithAdmin(o!, m!)
            yield* addMember(o!.principal, team, other!.id, "admin")
            const root = yield* createResource(o!.principal, team, { title: "root" })
            const terms: InviteTerms = { kind: "grant", workspace_id: team, workspace_role: "member" }
            const kept = yield* mintInvite(m!.principal, terms)
            const waiting = yield* mintInvite(m!.principal, terms)
            // someone else losing authority changes nothing for m's invites
            yield* setMemberRole(o!.principal, team, other!.id, "member")
            expect(yield* outcome(redeemInvite(r1!.principal, kept.token))).toBe("ok")
            // m demoted: refused; m an admin again: the same invite works
            yield* setMemberRole(o!.principal, team, m!.id, "member")
            expect(refusalOf(yield* Effect.exit(redeemInvite(r2!.principal, waiting.token)))).toMatchObject({ _tag: "InviteCanceled", reason: "minter_lost_authority" })
            yield* setMemberRole(o!.principal, team, m!.id, "admin")
            expect(yield* outcome(redeemInvite(r2!.principal, waiting.token))).toBe("ok")
            // the system mints with no minter (created_by null), a system admin without being a member
            const bySystem = [yield* mintInvite(SystemActor, terms), yield* mintInvite(SystemActor, grantOn(root.id, "editor"))]
            for (const { invite } of bySystem) expect(invite.created_by).toBe(null)
            const byAdmin = yield* mintInvite(admin, terms)
            expect(yield* outcome(redeemInvite(r3!.principal, bySystem[0]!.token))).toBe("ok")
            expect(yield* outcome(redeemInvite(r4!.principal, bySystem[1]!.token))).toBe("ok")
            expect((yield* getResource(r4!.principal, root.id)).effectiveRole).toBe("editor")
            expect(yield* outcome(redeemInvite(r5!.principal, byAdmin.token))).toBe("ok")
            const members = Option.getOrThrow(yield* Effect.flatMap(WorkspaceStore, (s) => s.findById(team))).members.map((x) => x.user_id)
            expect(members).toEqual(expect.arrayContaining([r1!.id, r2!.id, r3!.id, r5!.id]))
          }))

        const LOSS_ROUNDS = 30
        it.effect(`a redemption racing its minter's loss of authority (${LOSS_ROUNDS} rounds) grants only if it committed before the loss`, () =>
          Effect.gen(function*() {
            const wrong: Array<unknown> = []
            const seen: Record<string, number> = {}
            const losses = ["demoted", "removed", "access changed"] as const
            for (let round = 0; round < LOSS_ROUNDS; round++) {
              const loss = losses[round % losses.length]!
              const redeemFirst = Math.floor(round / losses.length) % 2 === 0
              const [o, m, r] = yield* people(3)
              let terms: InviteTerms
              let lose: Effect.Effect<unknown, unknown, StorePorts>
              let lossEvent: string
              if (loss === "access changed") {
                const administered = yield* rootWithAdministrator(o!, m!)
                terms = grantOn(administered.child)
                lose = changeAccess(o!.principal, administered.root, administered.access, "editor")
                lossEvent = "resource.access_changed"
              } else {
                const team = yield* teamWithAdmin(o!, m!)
                terms = { kind: "grant", workspace_id: team, workspace_role: "member" }
                lose = loss === "demoted" ? setMemberRole(o!.principal, team, m!.id, "member") : removeMember(o!.principal, team, m!.id)
                lossEvent = loss === "demoted" ? "workspace.member_role_changed" : "workspace.member_removed"
              }
              const { token } = yield* mintInvite(m!.principal, terms)
              const seq = yield* lastSeq
              const redeem = Effect.asVoid(redeemInvite(r!.principal, token))
              const exits = yield* race<void, unknown, StorePorts>(redeemFirst ? [redeem, Effect.asVoid(lose)] : [Effect.asVoid(lose), redeem])
              const [redeemExit, loseExit] = redeemFirst ? exits : [exits[1]!, exits[0]!]
              const events = yield* eventsAfter(seq)
              const redeemed = events.find((e) => e.type === "invite.redeemed")
              const lost = events.find((e) => e.type === lossEvent)
              const refusal = refusalOf(redeemExit!)
              const got = typeof refusal === "string" ? refusal : `${refusal._tag}${"reason" in refusal && refusal.reason !== undefined ? `: ${String(refusal.reason)}` : ""}`
              seen[got] = (seen[got] ?? 0) + 1
              const result = {
                round,
                loss,
                redemption: got,
                loss_outcome: outcomeOf(loseExit!),
                // granted: the redemption committed while the minter still held authority, before the loss
                order: redeemed !== undefined && lost !== undefined ? (redeemed.seq < lost.seq ? "redeemed, then lost" : "lost, then redeemed") : "-"
              }
              const fine = result.loss_outcome === "ok" &&
                (got === "ok" ? result.order === "redeemed, then lost" : got === "InviteCanceled: minter_lost_authority" && redeemed === undefined)
              if (!fine) wrong.push(result)
            }
            expect({ wrong, seen: Object.keys(seen).filter((k) => k !== "ok" && k !== "InviteCanceled: minter_lost_authority") })
              .toEqual({ wrong: [], seen: [] })
          }), RACE_TIMEOUT)

        it.effect.prop(
          "random demotions and promotions interleaved with mints and redemptions: each redemption succeeds iff its minter holds authority at that moment",
          [
            // every minter starts out mostly with authority, so that there are invites for the losses to void
            fc.array(fc.constantFrom(true, true, false), { minLength: MINTERS, maxLength: MINTERS }),
            fc.array(fc.constantFrom(true, true, false), { minLength: MINTERS, maxLength: MINTERS }),
            fc.array(MinterOpArb, { minLength: 8, maxLength: 30 })
          ],
          ([wsAdmin, resAdmin, ops]) =>
            Effect.gen(function*() {
              const [o, o2] = yield* people(2)
              const minters = yield* people(MINTERS)
              // a team in which the minters are admins or members, and a root of it
              const team = yield* createWorkspace(o!.principal, { name: "authority" })
              const root = yield* createResource(o!.principal, team.id, { title: "root" })
              // another team's root, shared with the minters by direct access only
              const shared = yield* createWorkspace(o2!.principal, { name: "shared" })
              const sharedRoot = yield* createResource(o2!.principal, shared.id, { title: "shared root" })
              const sharedChild = yield* createResource(o2!.principal, shared.id, { title: "shared child", parent_id: sharedRoot.id })
              const accesses: Array<string> = []
              const model = { ws: [...wsAdmin], res: [...resAdmin] }
              for (let i = 0; i < MINTERS; i++) {
                yield* addMember(o!.principal, team.id, minters[i]!.id, model.ws[i] ? "admin" : "member")
                accesses.push((yield* grantAccess(o2!.principal, sharedRoot.id, minters[i]!.id, model.res[i] ? "administrator" : "reader")).id)
              }
              const authority = (m: number, target: "workspace" | "root" | "shared") => (target === "shared" ? model.res[m]! : model.ws[m]!)
              const minted: Array<{ m: number; target: "workspace" | "root" | "shared"; token: Redacted.Redacted<string>; redeemed: boolean }> = []
              const steps: Array<string> = []
              for (const op of ops) {
                if (op.op === "workspaceRole") {
                  yield* setMemberRole(o!.principal, team.id, minters[op.m]!.id, op.admin ? "admin" : "member")
                  model.ws[op.m] = op.admin
                  steps.push(`minter ${op.m} ${op.admin ? "promoted to" : "demoted from"} workspace admin`)
                } else if (op.op === "accessRole") {
                  yield* changeAccess(o2!.principal, sharedRoot.id, accesses[op.m]!, op.administrator ? "administrator" : "reader")
                  model.res[op.m] = op.administrator
                  steps.push(`minter ${op.m} made ${op.administrator ? "administrator" : "reader"} of the shared root`)
                } else if (op.op === "mint") {
                  const terms: InviteTerms = op.target === "workspace"
                    ? { kind: "grant", workspace_id: team.id, workspace_role: "member" }
                    : grantOn(op.target === "root" ? root.id : sharedChild.id)
                  const exit = yield* Effect.exit(mintInvite(minters[op.m]!.principal, terms))
                  // a member who is no admin has no role at all on the team's root (it is not shared with the workspace)
                  const expected = authority(op.m, op.target) ? "ok" : op.target === "root" ? "NotFound" : "Forbidden"
                  steps.push(`minter ${op.m} mints for the ${op.target}: ${outcomeOf(exit)} (expected ${expected})`)
                  expect(outcomeOf(exit), steps.join("\n")).toBe(expected)
                  if (Exit.isSuccess(exit)) minted.push({ m: op.m, target: op.target, token: exit.value.token, redeemed: false })
                } else {
                  const candidates = op.again ? minted.filter((x) => x.redeemed) : minted.filter((x) => !x.redeemed)
                  if (candidates.length === 0) continue
                  const invite = candidates[op.i % candidates.length]!
                  const redeemer = yield* person
                  const exit = yield* Effect.exit(redeemInvite(redeemer.principal, invite.token))
                  const refusal = refusalOf(exit)
                  const got = typeof refusal === "string" ? refusal : `${refusal._tag}${"reason" in refusal && refusal.reason !== undefined ? `: ${String(refusal.reason)}` : ""}`
                  const expected = invite.redeemed
                    ? "InviteAlreadyRedeemed"
                    : authority(invite.m, invite.target)
                    ? "ok"
                    : "InviteCanceled: minter_lost_authority"
                  steps.push(`an invite of minter ${invite.m} for the ${invite.target} redeemed: ${got} (expected ${expected})`)
                  expect(got, steps.join("\n")).toBe(expected)
                  if (got === "ok") {
                    invite.redeemed = true
                    const reach: Effect.Effect<unknown, unknown, StorePorts> = invite.target === "workspace"
                      ? getWorkspace(redeemer.principal, team.id)
                      : getResource(redeemer.principal, invite.target === "root" ? root.id : sharedChild.id)
                    expect(yield* outcome(reach), steps.join("\n")).toBe("ok")
                  }
                }
              }
            }),
          { timeout: 300_000, fastCheck: { numRuns: 20, interruptAfterTimeLimit: 120_000 } }
        )
      })

      describe("the store's invariants after revocations and deletions", () => {
        it.effect("revoking subtrees and roots, with and without a failure half-way, breaks no invariant", () =>
          Effect.gen(function*() {
            const baseline = yield* storeInvariants
            const h = yield* buildHouse
            const o = h.owner.principal
            const [x] = yield* people(1)
            yield* grantAccess(o, h.nook, x!.id, "editor")
            for (const id of [h.house, h.room, h.nook, h.corner, h.sibling]) {
              yield* mintInvite(o, grantOn(id))
              yield* putShareLink(o, id, "reader")
            }
            const mine = yield* createResource(x!.principal, x!.personal, { title: "mine" })
            yield* putShareLink(x!.principal, mine.id, "editor")
            yield* mintInvite(x!.principal, grantOn(mine.id))
            const seen: HalfWay = { resourcesMarked: false, invitesCanceled: false }
            yield* Effect.exit(Effect.provide(revokeResource(o, h.room, { dryRun: false }), linkCascadeDies(seen, "inv_00000000000000000000000000000000" as InviteId)))
            expect(newViolations(baseline, yield* storeInvariants)).toEqual([])
            yield* revokeResource(o, h.nook, { dryRun: false })
            expect(newViolations(baseline, yield* storeInvariants)).toEqual([])
            yield* revokeResource(o, h.house, { dryRun: false })
            yield* revokeResource(x!.principal, mine.id, { dryRun: false })
            expect(newViolations(baseline, yield* storeInvariants)).toEqual([])
            // and a revoked root's owner may then be deleted without transfer
            yield* deleteUser(SystemActor, x!.id, Option.none())
            expect(newViolations(baseline, yield* storeInvariants)).toEqual([])
          }))

        it.effect("deleting a user who minted invites, created links, held accesses and owned roots breaks no invariant, and leaves nothing of theirs granting", () =>
          Effect.gen(function*() {
            const { principal: admin } = yield* Admin
            const baseline = yield* storeInvariants
            const h = yield* buildHouse
            const o = h.owner.principal
            const [heir] = yield* people(1)
            const registered = yield* registerUser(admin)
            const u: Person = {
              id: registered.user.id,
              principal: yield* authenticate(registered.apiKey),
              personal: registered.personalWorkspace.id
            }
            yield* addMember(o, h.team, u.id, "admin")
            yield* addMember(o, h.team, heir!.id, "member")
            yield* grantAccess(o, h.elsewhere, u.id, "editor")
            // links and invites made by u in the team
            yield* putShareLink(u.principal, h.nook, "editor")
            const minted = [
              yield* mintInvite(u.principal, { kind: "grant", workspace_id: h.team, workspace_role: "member" }),
              yield* mintInvite(u.principal, grantOn(h.corner))
            ]
            // a root u alone owns, with its own link and invite
            const solo = yield* createResource(u.principal, h.team, { title: "u's root" })
            yield* putShareLink(u.principal, solo.id, "reader")
            yield* mintInvite(o, grantOn(solo.id))
            // u's personal workspace: resources, a link on one, an invite minted by someone else
            const mine = yield* createResource(u.principal, u.personal, { title: "mine" })
            const below = yield* createResource(u.principal, u.personal, { title: "below", parent_id: mine.id })
            const personalLink = yield* putShareLink(u.principal, below.id, "reader")
            const personalInvite = yield* mintInvite(admin, grantOn(mine.id))
            // a revoked subtree in the team, so that deletion meets revoked rows too
            yield* revokeResource(o, h.sibling, { dryRun: false })

            expect(yield* outcome(deleteUser(admin, u.id, Option.none()))).toBe("LastOwner")
            yield* deleteUser(admin, u.id, Option.some(heir!.id))
            expect(newViolations(baseline, yield* storeInvariants)).toEqual([])
            expect(yield* outcome(authenticateBearer(personalLink.token))).toBe("Unauthenticated")
            for (const { invite } of [...minted, personalInvite]) {
              expect({ invite: invite.id, status: (yield* getInvite(admin, invite.id)).status }).toEqual({ invite: invite.id, status: "canceled" })
            }
            const sql = yield* StoreSql
            const refs = yield* sql.rows(`SELECT 'member' AS what FROM workspace_members WHERE user_id = ${sqlString(u.id)}
              UNION ALL SELECT 'access' FROM resource_accesses WHERE user_id = ${sqlString(u.id)}
              UNION ALL SELECT 'key' FROM api_keys WHERE user_id = ${sqlString(u.id)}
              UNION ALL SELECT 'workspace' FROM workspaces WHERE owner_user_id = ${sqlString(u.id)}
              UNION ALL SELECT 'invite' FROM invites WHERE status = 'pending' AND created_by = ${sqlString(u.id)}`)
            expect(refs).toEqual([])
            expect(yield* outcome(authenticate(registered.apiKey))).toBe("Unauthenticated")
          }))
      })
    }
  )
}
