// Proves coalesced.ts: every caller waits for a run of the work that began after it called and has ended; runs never
// overlap; callers who arrive together share runs (at most two for any number at once); a run that fails or hangs past
// its bound still lets its callers go, and the next caller runs the work again.
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, FastCheck as fc } from "effect"
import { coalesced } from "../src/coalesced.js"

/** The work, recording when each run begins and ends on a counter of steps; `step` is that counter. */
const recorder = (takes: Effect.Effect<void>) => {
  const log = { step: 0, started: [] as Array<number>, ended: [] as Array<number>, running: 0, overlapped: false }
  const work = Effect.acquireUseRelease(
    Effect.sync(() => {
      log.started.push(++log.step)
      log.running++
      if (log.running > 1) log.overlapped = true
    }),
    () => takes,
    () =>
      Effect.sync(() => {
        log.running--
        log.ended.push(++log.step)
      })
  )
  return { log, work }
}

/** Whether a caller that arrived at `arrived` and answered at `answered` was served by a run wholly between the two. */
const served = (log: { started: Array<number>; ended: Array<number> }, arrived: number, answered: number) =>
  log.started.some((start, i) => start > arrived && (log.ended[i] ?? Infinity) < answered)

describe("coalesced", () => {
  it.live("callers arriving at random moments are each served by a run that began after they arrived; runs never overlap", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 24 }),
          async (callers) => {
            const { log, work } = recorder(Effect.sleep(Duration.millis(2)))
            const once = coalesced(work, "5 seconds")
            const answers = await Effect.runPromise(Effect.forEach(callers, ([delay, after]) =>
              Effect.gen(function*() {
                yield* Effect.sleep(Duration.millis(delay))
                const arrived = ++log.step
                yield* once
                const answered = ++log.step
                // some callers come back at once, as a writer committing again would
                if (after > 1) yield* once
                return { arrived, answered }
              }), { concurrency: "unbounded" }))
            expect(log.overlapped).toBe(false)
            for (const { answered, arrived } of answers) expect(served(log, arrived, answered)).toBe(true)
          }
        ),
        { numRuns: 40 }
      )
    ))

  it.live("64 callers at once share two runs at most", () =>
    Effect.gen(function*() {
      const { log, work } = recorder(Effect.sleep(Duration.millis(5)))
      const once = coalesced(work, "5 seconds")
      yield* Effect.forEach(Array.from({ length: 64 }), () => once, { concurrency: "unbounded", discard: true })
      expect(log.started.length).toBeLessThanOrEqual(2)
    }))

  it.live("callers one after another each get a run of their own", () =>
    Effect.gen(function*() {
      const { log, work } = recorder(Effect.void)
      const once = coalesced(work, "5 seconds")
      for (let i = 0; i < 5; i++) yield* once
      expect(log.started.length).toBe(5)
    }))

  it.live("a run that fails, or hangs past its bound, lets its callers go; the next caller runs the work again", () =>
    Effect.gen(function*() {
      let runs = 0
      const failing = coalesced(Effect.suspend(() => (++runs === 1 ? Effect.fail("refused") : Effect.void)), "5 seconds")
      yield* Effect.forEach(Array.from({ length: 8 }), () => failing, { concurrency: "unbounded", discard: true })
      yield* failing
      expect(runs).toBeGreaterThanOrEqual(2)

      let hung = 0
      const hanging = coalesced(Effect.suspend(() => (++hung === 1 ? Effect.never : Effect.void)), "50 millis")
      const took = yield* Effect.timed(Effect.forEach(Array.from({ length: 8 }), () => hanging, { concurrency: "unbounded", discard: true }))
      expect(Duration.toMillis(took[0])).toBeLessThan(5_000)
      yield* hanging
      expect(hung).toBeGreaterThanOrEqual(2)
    }))
})
