/**
 * The permission check in batches (docs/domain.md#resources, `check`): random trees with random grants, link settings, revoked
 * subtrees and a revoked user, asked in one batch — every answer must be what the same check asked alone
 * answers, what `effectiveRoleOf` and the stored user say, and what a brute force over the stored state says;
 * and a batch costs a bounded number of statements (at most one per hundred checks), never one per check.
 * Statements are counted through the tracer (`sql.execute` spans), so the suite still never touches the store's
 * SQL. `accessWritersContract` is the exception: it writes accesses as any other writer of the database would
 * (raw statements, `AccessWriter`) and shows the check honours them at once.
 */
import { describe, expect, layer } from "@effect/vitest"
import {
  addMember,
  check,
  type CheckRequest,
  createResource,
  createWorkspace,
  effectiveRoleOf,
  grantAccess,
  type ResourceId,
  ResourceStore,
  revokeResource,
  revokeUser,
  type UserId,
  UserStore,
  WorkspaceStore
} from "@tessera/domain"
import { Context, Effect, FastCheck as fc, Layer, Option, Tracer } from "effect"
import { ACTIONS, person, ROLES } from "./fixtures.js"
import { Admin, type StorePorts, withAdmin } from "./index.js"
import { ancestorsIn, bruteRole } from "./resources.js"

/** Runs `effect` and counts the statements it sends (the `sql.execute` spans every `SqlClient` opens). */
export const countingStatements = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const base = yield* Effect.tracer
    let statements = 0
    const counting = Tracer.make({
      span: (name, ...rest) => {
        if (name === "sql.execute") statements++
        return base.span(name, ...rest)
      },
      context: base.context
    })
    const result = yield* Effect.withTracer(effect, counting)
    return { result, statements }
  })

const USERS = 4 // 0: workspace admin; 1, 2: members (2 is revoked when asked); 3: not a member
const NOWHERE_USER = "usr_0000000000000000000000000000dead" as UserId
const NOWHERE_RESOURCE = "res_0000000000000000000000000000dead" as ResourceId

const SceneArb = fc.record({
  tree: fc.array(
    fc.record({
      parent: fc.option(fc.nat(), { freq: 4, nil: null }),
      link_reach: fc.constantFrom("restricted" as const, "workspace" as const),
      link_role: fc.constantFrom("reader" as const, "editor" as const)
    }),
    { minLength: 2, maxLength: 10 }
  ),
  grants: fc.array(fc.record({ node: fc.nat(), user: fc.nat(USERS - 1), role: fc.constantFrom(...ROLES) }), { maxLength: 10 }),
  revokedNodes: fc.array(fc.nat(), { maxLength: 2 }),
  revokeMember: fc.boolean(),
  // a user index of USERS is nobody; a node of `null` is a resource that does not exist
  checks: fc.array(
    fc.record({
      user: fc.nat(USERS),
      node: fc.option(fc.nat(), { freq: 8, nil: null }),
      action: fc.constantFrom(...ACTIONS)
    }),
    { minLength: 1, maxLength: 100 }
  )
})

export const checkContract = <E>(name: string, store: Layer.Layer<StorePorts, E>) =>
  layer(withAdmin(store), { timeout: "120 seconds" })(`${name} batch check contract`, (it) => {
    describe("a batch answers as each check alone, as effectiveRoleOf and as the brute force (property)", () => {
      it.effect.prop(
        "random trees, grants, links, revoked subtrees and a revoked user",
        [SceneArb],
        ([scene]) =>
          Effect.gen(function*() {
            const { principal: admin } = yield* Admin
            const users = [yield* person(admin), yield* person(admin), yield* person(admin), yield* person(admin)]
            const workspace = yield* createWorkspace(users[0]!.principal, { name: "checks" })
            for (const u of [users[1]!, users[2]!]) yield* addMember(users[0]!.principal, workspace.id, u.id, "member")
            const ids: Array<ResourceId> = []
            for (const [k, node] of scene.tree.entries()) {
              const parent = k === 0 || node.parent === null ? null : ids[node.parent % k]!
              const created = yield* createResource(parent === null ? users[0]!.principal : admin, workspace.id, {
                title: `n${k}`,
                parent_id: parent,
                link_reach: node.link_reach,
                link_role: node.link_role
              })
              ids.push(created.id)
            }
            // refusals (a second grant to the same user) leave the stored state as it is: the model reads it back
            for (const g of scene.grants) yield* Effect.either(grantAccess(admin, ids[g.node % ids.length]!, users[g.user]!.id, g.role))
            for (const n of scene.revokedNodes) yield* revokeResource(admin, ids[n % ids.length]!, { dryRun: false })
            if (scene.revokeMember) yield* revokeUser(admin, users[2]!.id)

            const checks: ReadonlyArray<CheckRequest> = scene.checks.map((c) => ({
              user_id: c.user === USERS ? NOWHERE_USER : users[c.user]!.id,
              resource_id: c.node === null ? NOWHERE_RESOURCE : ids[c.node % ids.length]!,
              action: c.action
            }))
            const { result: batch, statements } = yield* countingStatements(check(admin, checks))

            // the stored state, read back through the ports
            const store = yield* ResourceStore
            const resources = yield* store.listWorkspace(workspace.id)
            const byId = new Map(resources.map((r) => [r.id as string, r]))
            const accesses = yield* store.accesses(resources.map((r) => r.id))
            const members = new Map(Option.getOrThrow(yield* Effect.flatMap(WorkspaceStore, (s) => s.findById(workspace.id))).members.map((m) => [m.user_id as string, m.role]))
            for (const [k, c] of checks.entries()) {
              const alone = (yield* check(admin, [c]))[0]
              const user = yield* Effect.flatMap(UserStore, (s) => s.findById(c.user_id))
              const active = Option.isSome(user) && user.value.status === "active"
              const stored = byId.has(c.resource_id)
              const viaPolicy = active && stored ? yield* effectiveRoleOf(c.user_id, c.resource_id) : null
              const brute = active && stored ? bruteRole(ancestorsIn(byId, c.resource_id), accesses, members.get(c.user_id), c.user_id) : null
              expect({ k, check: c, batch: batch[k] }).toEqual({ k, check: c, batch: alone })
              expect({ k, check: c, role: batch[k]!.role }).toEqual({ k, check: c, role: viaPolicy })
              expect({ k, check: c, role: batch[k]!.role }).toEqual({ k, check: c, role: brute })
            }
            expect(batch.length).toBe(checks.length)
            expect(statements).toBeLessThanOrEqual(1)
          }),
        { timeout: 600_000, fastCheck: { numRuns: 15, interruptAfterTimeLimit: 240_000 } }
      )
    })

    describe("statements per batch", () => {
      it.effect("100 checks are one statement, 1000 at most ten; one check alone is one; 100 effectiveRoleOf are 100", () =>
        Effect.gen(function*() {
          const { principal: admin } = yield* Admin
          const [owner, reader] = [yield* person(admin), yield* person(admin)]
          const workspace = yield* createWorkspace(owner.principal, { name: "statements" })
          const chain: Array<ResourceId> = []
          for (let depth = 0; depth < 32; depth++) {
            chain.push((yield* createResource(depth === 0 ? owner.principal : admin, workspace.id, { title: `d${depth}`, parent_id: chain[depth - 1] ?? null })).id)
          }
          yield* grantAccess(admin, chain[0]!, reader.id, "reader")
          const asked = (n: number) =>
            Array.from({ length: n }, (_, i): CheckRequest => ({
              user_id: [owner.id, reader.id, NOWHERE_USER][i % 3]!,
              resource_id: i % 17 === 16 ? NOWHERE_RESOURCE : chain[i % chain.length]!,
              action: ACTIONS[i % ACTIONS.length]!
            }))

          const hundred = yield* countingStatements(check(admin, asked(100)))
          const thousand = yield* countingStatements(check(admin, asked(1000)))
          const one = yield* countingStatements(check(admin, asked(1)))
          const singles = yield* countingStatements(Effect.forEach(asked(100), (c) => effectiveRoleOf(c.user_id, c.resource_id)))
          expect({ hundred: hundred.statements, one: one.statements, singles: singles.statements })
            .toEqual({ hundred: 1, one: 1, singles: 100 })
          expect(thousand.statements).toBeGreaterThanOrEqual(1)
          expect(thousand.statements).toBeLessThanOrEqual(10)
          // the answers themselves: the owner owns the whole chain, the reader reads it, nobody is nobody
          const expected = (c: CheckRequest) =>
            c.resource_id === NOWHERE_RESOURCE || c.user_id === NOWHERE_USER ? null : c.user_id === owner.id ? "owner" : "reader"
          expect(thousand.result.map((a) => a.role)).toEqual(asked(1000).map(expected))
        }))
    })
  })

/** The store's side of `accessWritersContract`: a raw statement on its database, in the SQL both dialects share. */
export class AccessWriter extends Context.Tag("StoreContract/AccessWriter")<AccessWriter, {
  readonly run: (statement: string) => Effect.Effect<void>
}>() {}

/**
 * A check honours every direct access as soon as it is written, whoever writes it: the walk probes accesses
 * only on nodes the store marks as possibly holding one (docs/performance.md, "The check path"), so the mark
 * must follow every writer, not only `insertAccess`. Accesses written, moved to another node and deleted by
 * raw statements, on a chain of 32, each followed by checks at every depth, alone and in one batch.
 */
export const accessWritersContract = <E>(name: string, store: Layer.Layer<StorePorts | AccessWriter, E>) =>
  layer(withAdmin<E, AccessWriter>(store), { timeout: "60 seconds" })(`${name} access writers`, (it) => {
    it.effect("an access inserted, moved or deleted by a raw statement changes the next check at every depth", () =>
      Effect.gen(function*() {
        const { principal: admin } = yield* Admin
        const writer = yield* AccessWriter
        const [owner, reader] = [yield* person(admin), yield* person(admin)]
        const workspace = yield* createWorkspace(owner.principal, { name: "writers" })
        const chain: Array<ResourceId> = []
        for (let depth = 0; depth < 32; depth++) {
          chain.push((yield* createResource(depth === 0 ? owner.principal : admin, workspace.id, { title: `d${depth}`, parent_id: chain[depth - 1] ?? null })).id)
        }
        const roles = Effect.gen(function*() {
          const asked = chain.map((id): CheckRequest => ({ user_id: reader.id, resource_id: id, action: "read" }))
          const batch = (yield* check(admin, asked)).map((a) => a.role)
          const alone = yield* Effect.forEach(asked, (c) => Effect.map(check(admin, [c]), ([a]) => a!.role))
          expect(alone).toEqual(batch)
          return batch
        })
        const from = (depth: number, role: string | null) => chain.map((_, d) => (d >= depth ? role : null))
        const none = from(0, null)

        expect(yield* roles).toEqual(none)
        yield* writer.run(`INSERT INTO resource_accesses (id, resource_id, user_id, role) VALUES ('acc_writer_1', '${chain[20]}', '${reader.id}', 'editor')`)
        expect(yield* roles).toEqual(from(20, "editor"))
        yield* writer.run(`UPDATE resource_accesses SET resource_id = '${chain[5]}' WHERE id = 'acc_writer_1'`)
        expect(yield* roles).toEqual(from(5, "editor"))
        yield* writer.run(`DELETE FROM resource_accesses WHERE id = 'acc_writer_1'`)
        expect(yield* roles).toEqual(none)
        yield* writer.run(`INSERT INTO resource_accesses (id, resource_id, user_id, role) VALUES ('acc_writer_2', '${chain[5]}', '${reader.id}', 'commenter')`)
        yield* writer.run(`INSERT INTO resource_accesses (id, resource_id, user_id, role) VALUES ('acc_writer_3', '${chain[31]}', '${reader.id}', 'administrator')`)
        expect(yield* roles).toEqual([...from(5, "commenter").slice(0, 31), "administrator"])
      }))
  })
