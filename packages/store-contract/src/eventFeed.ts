/**
 * The live reader's part of the event log (docs/events.md), for every store:
 * a subscriber is woken by a commit that appends events, not before it
 * commits, and not by a rollback; `newest` is the last committed `seq`; and
 * who may read which events (`listEvents`, the one rule the paged list and
 * the stream share) — a system admin everything, a workspace admin the
 * workspaces they administer, nobody else anything.
 */
import { describe, expect, layer } from "@effect/vitest"
import {
  addMember,
  createWorkspace,
  EventLog,
  EventWakeups,
  listEvents,
  Transactor,
  type WorkspaceId
} from "@tessera/domain"
import { Deferred, Duration, Effect, Either, Fiber, Layer, Option, Queue } from "effect"
import { Admin, type StorePorts, withAdmin } from "./index.js"
import { person } from "./lifecycle.js"

/** How long a wake-up may take after a commit (SQLite polls; PostgreSQL is told at commit). */
const WAKE_WITHIN = Duration.seconds(1)

const appendOne = (type: string) =>
  Effect.flatMap(EventLog, (log) => log.append(new Date().toISOString() as never, [{ type, actor: "system", data: {} }]))

/** Whether a wake-up arrives within `within`. */
const wokenWithin = (queue: Queue.Dequeue<void>, within: Duration.Duration) =>
  Queue.take(queue).pipe(Effect.timeout(within), Effect.option, Effect.map(Option.isSome))

export const eventFeedContract = <E>(name: string, store: Layer.Layer<StorePorts | EventWakeups, E>) =>
  layer(Layer.merge(withAdmin(store), store), { timeout: "60 seconds", excludeTestServices: true })(
    `${name} event feed contract`,
    (it) => {
      describe("wake-ups", () => {
        it.scoped("a subscriber is woken by a commit that appends, not while it is open, not by a rollback", () =>
          Effect.gen(function*() {
            const feed = yield* EventWakeups
            const queue = yield* feed.subscribe
            yield* Queue.takeAll(queue)
            // let a first poll's wake-up (SQLite) arrive and be drained
            yield* Effect.sleep(Duration.millis(300))
            yield* Queue.takeAll(queue)

            const appended = yield* Deferred.make<void>()
            const release = yield* Deferred.make<void>()
            const open = yield* Effect.fork(Transactor.run(
              Effect.zipRight(appendOne("test.held"), Effect.zipRight(Deferred.succeed(appended, undefined), Deferred.await(release)))
            ))
            yield* Deferred.await(appended)
            // (a reader of the log is not asked here: SQLite's one connection is the open transaction's until it ends)
            const whileOpen = yield* wokenWithin(queue, Duration.millis(500))
            const started = Date.now()
            yield* Deferred.succeed(release, undefined)
            yield* Fiber.join(open)
            const afterCommit = yield* wokenWithin(queue, WAKE_WITHIN)
            const latency = Date.now() - started
            const after = yield* Effect.flatMap(EventLog, (log) => log.list({ after: 0, limit: 1000, type: "test.held" }))

            yield* Effect.sleep(Duration.millis(300))
            yield* Queue.takeAll(queue)
            const rolledBack = yield* Transactor.run(Effect.zipRight(appendOne("test.rolled_back"), Effect.fail("undo" as const))).pipe(Effect.either)
            const afterRollback = yield* wokenWithin(queue, Duration.millis(500))

            expect({ whileOpen, afterCommit, after: after.length, rolledBack: Either.isLeft(rolledBack), afterRollback })
              .toEqual({ whileOpen: false, afterCommit: true, after: 1, rolledBack: true, afterRollback: false })
            expect(latency).toBeLessThan(Duration.toMillis(WAKE_WITHIN))
          }))

        it.scoped("every subscriber is woken, and one who leaves does not silence the others", () =>
          Effect.gen(function*() {
            const feed = yield* EventWakeups
            const staying = yield* feed.subscribe
            const leaving = yield* Effect.scoped(Effect.gen(function*() {
              const queue = yield* feed.subscribe
              yield* Effect.sleep(Duration.millis(300))
              yield* Queue.takeAll(queue)
              yield* Transactor.run(appendOne("test.both"))
              return yield* wokenWithin(queue, WAKE_WITHIN)
            }))
            yield* Effect.sleep(Duration.millis(300))
            yield* Queue.takeAll(staying)
            yield* Transactor.run(appendOne("test.one_left"))
            expect({ leaving, staying: yield* wokenWithin(staying, WAKE_WITHIN) }).toEqual({ leaving: true, staying: true })
          }))

        it.effect("newest is the last committed seq", () =>
          Effect.gen(function*() {
            const feed = yield* EventWakeups
            yield* Transactor.run(appendOne("test.newest"))
            const newest = yield* feed.newest
            const [last] = yield* Effect.flatMap(EventLog, (log) => log.list({ after: newest - 1, limit: 10 }))
            expect({ type: last?.type, newest: yield* feed.newest }).toEqual({ type: "test.newest", newest: last?.seq })
          }))
      })

      describe("who reads which events (listEvents, shared with the stream)", () => {
        it.effect("a system admin reads all; a workspace admin only a workspace they administer, named; a member or stranger nothing", () =>
          Effect.gen(function*() {
            const { principal: admin } = yield* Admin
            const [alice, bob] = [yield* person, yield* person]
            const team = (yield* createWorkspace(alice.principal, { name: "events team" })).id as WorkspaceId
            yield* addMember(alice.principal, team, bob.id, "member")
            const other = (yield* createWorkspace(bob.principal, { name: "bob's team" })).id as WorkspaceId
            const outcome = (actor: typeof admin, workspaceId?: string) =>
              listEvents(actor, { after: 0, limit: 1000, workspaceId }).pipe(
                Effect.map(({ events }) => [...new Set(events.map((e) => e.workspace_id))]),
                Effect.catchTag("Forbidden", () => Effect.succeed("Forbidden" as const))
              )
            const all = yield* outcome(admin)
            expect({
              adminAll: Array.isArray(all) && all.includes(team) && all.includes(other) && all.includes(null),
              adminTeam: yield* outcome(admin, team),
              aliceTeam: yield* outcome(alice.principal, team),
              alicePersonal: yield* outcome(alice.principal, alice.personal),
              aliceAll: yield* outcome(alice.principal),
              aliceOther: yield* outcome(alice.principal, other),
              bobTeam: yield* outcome(bob.principal, team),
              bobMissing: yield* outcome(bob.principal, "ws_00000000000000000000000000000000")
            }).toEqual({
              adminAll: true,
              adminTeam: [team],
              aliceTeam: [team],
              alicePersonal: [alice.personal],
              aliceAll: "Forbidden",
              aliceOther: "Forbidden",
              bobTeam: "Forbidden",
              bobMissing: "Forbidden"
            })
          }))
      })
    }
  )
