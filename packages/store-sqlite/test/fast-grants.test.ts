// A workspace grant's redemption in one synchronous call on the SQLite file store (store-sql grants.ts,
// `FastGrantRedemption`): the contract every store's one-call path keeps (store-contract fastGrants.ts), and SQLite's
// own case: it reads the time inside its transaction, so an invite that expires while it waits for its turn is refused.
import { describe, expect } from "@effect/vitest"
import { Admin, withAdmin } from "@tessera/store-contract"
import { type FastAnswers, fastGrantContract, grantsAtOnce, scene, watchingFastGrants } from "@tessera/store-contract/fastGrants"
import { getInvite, redeemInvite, Transactor, WorkspaceStore } from "@tessera/domain"
import Database from "better-sqlite3"
import { migrateUp } from "@tessera/store-sql"
import { meterStatements } from "@tessera/store-sql/meter"
import { off } from "@tessera/store-contract/direct"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Deferred, Effect, Either, Fiber, Layer, Option, TestClock } from "effect"
import { dialect, layer as sqliteLayer, migrations } from "../src/index.js"

const answers: FastAnswers = { some: 0, none: 0 }

const store = withAdmin(
  Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(
    Layer.provideMerge(sqliteLayer(join(mkdtempSync(join(tmpdir(), "tessera-fast-grants-")), "tessera.db"))),
    (layer) => watchingFastGrants(layer, (committed) => void answers[committed ? "some" : "none"]++),
    Layer.orDie
  )
)

fastGrantContract("sqlite: a workspace grant redeemed in one call", store, answers, meterStatements, (it) => {
  describe("the time it redeems at", () => {
    it.effect("is read once its transaction holds the file: an invite that expires while it waits for its turn is refused", () =>
      Effect.gen(function*() {
        const s = yield* scene({ caller: "active", minter: "team admin", invite: "pending", alreadyMember: false })
        // another write holds this process's turn on the file while the redemption queues behind it
        const release = yield* Deferred.make<void>()
        const holding = yield* Deferred.make<void>()
        const holder = yield* Effect.fork(Transactor.run(Effect.zipRight(Deferred.succeed(holding, undefined), Deferred.await(release))))
        yield* Deferred.await(holding)
        const redeeming = yield* Effect.fork(Effect.either(off(redeemInvite(s.caller.principal, s.minted.token))))
        yield* Effect.yieldNow()
        // the invite's time runs out while it waits (the default lifetime is at most a few weeks)
        yield* TestClock.adjust("400 days")
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(holder)
        const answer = yield* Fiber.join(redeeming)
        expect(Either.isLeft(answer) ? answer.left._tag : "redeemed").toBe("InviteExpired")
        const { principal: admin } = yield* Admin
        expect((yield* getInvite(admin, s.minted.invite.id)).status).toBe("expired")
        const members = Option.getOrThrow(yield* Effect.flatMap(WorkspaceStore, (w) => w.findById(s.team))).members
        expect(members.some((m) => m.user_id === s.caller.id)).toBe(false)
      }))
  })

  describe("grouped", () => {
    it.effect(`${GROUPED} redemptions at once commit together, fewer commits than redemptions, every one a member`, () =>
      Effect.gen(function*() {
        const { redeemAll, strangers } = yield* grantsAtOnce(GROUPED)
        const { some } = answers
        const { result: outcomes, commits } = yield* counting(redeemAll)
        expect(outcomes.filter(Either.isLeft)).toEqual([])
        expect(answers.some - some).toBe(GROUPED)
        expect(yield* strangers).toEqual([])
        expect(commits).toBeGreaterThan(0)
        expect(commits).toBeLessThan(GROUPED)
      }))
  })
})

const GROUPED = 60

/** `effect`'s result and the `COMMIT`s every SQLite connection of this process ran meanwhile (counted in the driver). */
const counting = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    const probe = new Database(":memory:")
    const prototype = Object.getPrototypeOf(probe.prepare("SELECT 1")) as Record<string, (...args: Array<unknown>) => unknown>
    probe.close()
    const originals = { run: prototype.run!, all: prototype.all! }
    let commits = 0
    for (const method of ["run", "all"] as const) {
      prototype[method] = function(this: { source: string }, ...args: Array<unknown>) {
        if (this.source === "COMMIT") commits++
        return originals[method].apply(this, args)
      }
    }
    return Effect.map(
      Effect.ensuring(effect, Effect.sync(() => Object.assign(prototype, originals))),
      (result) => ({ result, commits })
    )
  })
