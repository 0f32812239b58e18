/**
 * A workspace's roots as each caller sees them (docs/http.md, "Paging parameters"):
 * `listRoots` and every page of `listRootsPage` decide visibility for a
 * whole store page at once (one `roleFactsBatch`), and the answer is the
 * rule applied one root at a time — `roleOfActor` on each live root, and a
 * workspace not found to a caller who is not a member and sees no root —
 * for random roots, memberships, grants, workspace links, revocations and
 * page sizes; a system admin, the workspace's admin, members, a stranger and
 * a share link's bearer each ask. And a page of fifty roots, with roots the
 * caller does not see among them, is read in a handful of statements, not
 * one per root.
 */
import { describe, expect, layer } from "@effect/vitest"
import {
  type Actor,
  addMember,
  canSeeWorkspace,
  createResource,
  createWorkspace,
  grantAccess,
  type LinkBearer,
  listRoots,
  listRootsPage,
  patchResource,
  type ResourceId,
  revokeResource,
  roleOfActor,
  type ShareLinkId,
  type SiblingKey,
  SystemActor,
  type WorkspaceId,
  WorkspaceStore
} from "@tessera/domain"
import { Effect, Either, FastCheck as fc, Layer, Option } from "effect"
import { countingStatements } from "./checks.js"
import { person, ROLES } from "./fixtures.js"
import { Admin, type StorePorts, withAdmin } from "./index.js"

const USERS = 3

const SceneArb = fc.record({
  roots: fc.array(
    fc.record({
      reach: fc.constantFrom("restricted" as const, "workspace" as const),
      revoked: fc.boolean()
    }),
    { minLength: 0, maxLength: 16 }
  ),
  memberships: fc.array(fc.constantFrom(null, "member" as const, "admin" as const), { minLength: USERS, maxLength: USERS }),
  grants: fc.array(fc.record({ root: fc.nat(), user: fc.nat(USERS - 1), role: fc.constantFrom(...ROLES) }), { maxLength: 12 }),
  link: fc.nat(),
  limit: fc.integer({ min: 1, max: 7 })
})

/** The rule one root at a time: the live roots `roleOfActor` gives a role on, or not found. */
const expected = (actor: Actor, workspaceId: WorkspaceId, roots: ReadonlyArray<ResourceId>) =>
  Effect.gen(function*() {
    const workspace = Option.getOrThrow(yield* Effect.flatMap(WorkspaceStore, (s) => s.findById(workspaceId)))
    const visible: Array<ResourceId> = []
    for (const id of roots) if ((yield* roleOfActor(actor, id)) !== null) visible.push(id)
    return visible.length === 0 && !canSeeWorkspace(actor, workspace) ? "NotFound" : visible
  })

/** Every page of `listRootsPage`, `limit` at a time, as ids, or the failure's tag. */
const paged = (actor: Actor, workspaceId: WorkspaceId, limit: number) =>
  Effect.gen(function*() {
    const ids: Array<ResourceId> = []
    let after: SiblingKey | undefined = undefined
    for (let pages = 0; pages < 100; pages++) {
      const page: Either.Either<Effect.Effect.Success<ReturnType<typeof listRootsPage>>, Effect.Effect.Error<ReturnType<typeof listRootsPage>>> = yield* Effect.either(
        listRootsPage(actor, workspaceId, { after, limit })
      )
      if (Either.isLeft(page)) return page.left._tag
      ids.push(...page.right.items.map((r) => r.id))
      expect(page.right.items.length === limit || page.right.next === undefined).toBe(true)
      if (page.right.next === undefined) return ids
      after = page.right.next
    }
    throw new Error("roots never ended")
  })

export const rootsVisibilityContract = <E>(name: string, store: Layer.Layer<StorePorts, E>) =>
  layer(withAdmin(store), { timeout: "300 seconds" })(`${name} roots visibility contract`, (it) => {
    describe("roots seen a store page at a time", () => {
      it.effect.prop(
        "listRoots and every page of listRootsPage equal roleOfActor on each live root (property)",
        [SceneArb],
        ([scene]) =>
          Effect.gen(function*() {
            const { principal: admin } = yield* Admin
            const owner = yield* person(admin)
            const users = yield* Effect.all(Array.from({ length: USERS }, () => person(admin)))
            const workspace = yield* createWorkspace(owner.principal, { name: "roots" })
            for (const [k, role] of scene.memberships.entries()) {
              if (role !== null) yield* addMember(owner.principal, workspace.id, users[k]!.id, role)
            }
            const roots: Array<ResourceId> = []
            for (const [k, root] of scene.roots.entries()) {
              const created = yield* createResource(owner.principal, workspace.id, { title: `root ${k}` })
              if (root.reach === "workspace") yield* patchResource(owner.principal, created.id, { link_reach: "workspace" })
              roots.push(created.id)
            }
            const granted = new Set<string>()
            for (const g of scene.grants) {
              const root = roots[g.root % Math.max(roots.length, 1)]
              // one direct access per user and resource
              if (root === undefined || granted.has(`${root} ${g.user}`)) continue
              granted.add(`${root} ${g.user}`)
              yield* grantAccess(owner.principal, root, users[g.user]!.id, g.role)
            }
            for (const [k, root] of scene.roots.entries()) {
              if (root.revoked) yield* revokeResource(owner.principal, roots[k]!, { dryRun: false })
            }
            const live = roots.filter((_, k) => !scene.roots[k]!.revoked)
            const bearer: LinkBearer = {
              _tag: "ShareLink",
              linkId: "lnk_00000000000000000000000000000001" as ShareLinkId,
              resourceId: roots.length > 0 ? roots[scene.link % roots.length]! : ("res_0000000000000000000000000000dead" as ResourceId),
              role: "reader"
            }
            const actors: ReadonlyArray<readonly [string, Actor]> = [
              ["system", SystemActor],
              ["system admin", admin],
              ["owner", owner.principal],
              ...users.map((u, k) => [`user ${k} (${scene.memberships[k] ?? "not a member"})`, u.principal] as const),
              ["share link bearer", bearer]
            ]
            for (const [who, actor] of actors) {
              const want = yield* expected(actor, workspace.id, live)
              const whole = yield* Effect.either(listRoots(actor, workspace.id))
              expect({ who, listRoots: Either.isLeft(whole) ? whole.left._tag : whole.right.map((r) => r.id) }).toEqual({ who, listRoots: want })
              expect({ who, pages: yield* paged(actor, workspace.id, scene.limit) }).toEqual({ who, pages: want })
            }
          }).pipe(Effect.orDie),
        { timeout: 280_000, fastCheck: { numRuns: 12, interruptAfterTimeLimit: 240_000 } }
      )

      it.effect("a page of 50 of 120 roots, a third of them unseen, is read in a handful of statements, not one per root", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const owner = yield* person(admin)
          const member = yield* person(admin)
          const workspace = yield* createWorkspace(owner.principal, { name: "many roots" })
          yield* addMember(owner.principal, workspace.id, member.id, "member")
          for (let k = 0; k < 120; k++) {
            const root = yield* createResource(owner.principal, workspace.id, { title: `root ${k}` })
            // every third root is not shared with the workspace: the member does not see it
            if (k % 3 !== 0) yield* patchResource(owner.principal, root.id, { link_reach: "workspace" })
          }
          const { result: first, statements } = yield* countingStatements(listRootsPage(member.principal, workspace.id, { limit: 50 }))
          const { result: whole, statements: wholeStatements } = yield* countingStatements(listRoots(member.principal, workspace.id))
          // the workspace, then per store page (51 rows) one page read and one batch of role facts: three store pages
          expect({ items: first.items.length, statements: statements <= 8 }).toEqual({ items: 50, statements: true })
          expect({ items: whole.length, statements: wholeStatements <= 6 }).toEqual({ items: 80, statements: true })
        }).pipe(Effect.orDie))
    })
  })
