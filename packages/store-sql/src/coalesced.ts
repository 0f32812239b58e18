/**
 * Many callers served by few runs of one piece of work: a caller waits for a
 * run of `work` that began after it called, one run at a time. A caller
 * that arrives while a run is under way joins the next run, which begins as
 * soon as that one ends and serves everyone who arrived during it; the
 * first of them runs it in its own fiber (with its own services, spans and
 * statement transformers), the others wait for it. With n callers at once
 * there are at most two runs, not n.
 *
 * Used for numbering the PostgreSQL event queue after commits
 * (`transactor.ts`): a run numbers every event committed before it began,
 * so each caller's events are numbered when its run ends, and concurrent
 * writers no longer queue one numbering each on the numbering's lock.
 *
 * Waiting is not interruptible (a caller that left would strand the run it
 * owes); each run is bounded by `bound` instead. `work`'s outcome is
 * ignored: it must not fail in a way its callers need to see.
 */
import { type Duration, Effect } from "effect"

/** Called once: `true` makes this caller the next run's runner, `false` says its run has ended. */
type Waiter = (lead: boolean) => void

export const coalesced = <R>(work: Effect.Effect<unknown, unknown, R>, bound: Duration.DurationInput): Effect.Effect<void, never, R> => {
  // whether a run is under way; its waiters; and those who arrived during it, for the next run
  let running = false
  let current: Array<Waiter> = []
  let arrived: Array<Waiter> = []

  /** The run under way has ended: its waiters are done; whoever arrived meanwhile starts the next run. */
  const ended = () => {
    const done = current
    const leader = arrived.shift()
    current = arrived
    arrived = []
    running = leader !== undefined
    for (const waiter of done) waiter(false)
    if (leader !== undefined) leader(true)
  }

  // not interruptible: a waiter that left would strand the run it owes or waits for; a run is bounded instead
  const turn = Effect.async<boolean>((resume) => {
    if (!running) {
      running = true
      return resume(Effect.succeed(true))
    }
    arrived.push((lead) => resume(Effect.succeed(lead)))
  })

  // disconnected: at the bound the waiters go on even if the work cannot be stopped at once (a query being cancelled)
  const run = Effect.ensuring(Effect.ignore(Effect.timeout(Effect.interruptible(Effect.disconnect(work)), bound)), Effect.sync(ended))
  return Effect.uninterruptible(Effect.flatMap(turn, (lead) => (lead ? run : Effect.void)))
}
