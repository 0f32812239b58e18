/**
 * How this process takes turns on its one SQLite connection: strictly in
 * arrival order, the connection handed from each holder straight to the
 * next waiter. It never runs two holders at once and never lets a waiter
 * pass another.
 *
 * Why not the client's own semaphore: Effect's semaphore wakes every waiter
 * on each release and lets them race for the permit (the losers queue
 * again), so with n fibers waiting each transaction costs O(n) wake-ups
 * while the connection sits idle: 500 grant redemptions at once ran at
 * 57–108/s that way and at 214–622/s handed over in order (on a loaded
 * machine). Here a release wakes exactly one fiber.
 */
import { Effect, Scope } from "effect"

interface Waiter {
  granted: boolean
  readonly wake: () => void
}

/** A FIFO turn on `connection`: `take` is scoped, the turn passes on when its scope closes. */
export const turns = <C>(connection: C) => {
  let busy = false
  // in arrival order (a Set iterates in insertion order); leaving it is O(1) however many wait
  const waiting = new Set<Waiter>()

  const release = (): void => {
    const next = waiting.values().next()
    if (next.done === true) {
      busy = false
      return
    }
    waiting.delete(next.value)
    next.value.granted = true // the turn passes without ever being free
    next.value.wake()
  }

  const wait = Effect.async<void>((resume) => {
    if (!busy) {
      busy = true
      return resume(Effect.void)
    }
    const waiter: Waiter = { granted: false, wake: () => resume(Effect.void) }
    waiting.add(waiter)
    return Effect.sync(() => {
      // interrupted while waiting: give the turn on if it had just arrived, else leave the queue
      if (waiter.granted) release()
      else waiting.delete(waiter)
    })
  })

  /** Waits for this process's turn (interruptibly) and holds it until the enclosing scope closes. */
  const take: Effect.Effect<C, never, Scope.Scope> = Effect.uninterruptibleMask((restore) =>
    Effect.zipRight(restore(wait), Effect.as(Effect.flatMap(Effect.scope, (scope) => Scope.addFinalizer(scope, Effect.sync(release))), connection))
  )
  /**
   * Runs `use` (synchronous) within a turn, without a scope: at once when
   * the connection is free, else when its turn comes; the turn passes on as
   * soon as `use` returns or throws (its failure).
   */
  const during = <A>(use: () => A): Effect.Effect<A, unknown> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.zipRight(
        restore(wait),
        Effect.try({
          try: () => {
            try {
              return use()
            } finally {
              release()
            }
          },
          catch: (cause) => cause
        })
      )
    )
  /** Whether the connection is held, and how many wait for it. */
  const usage = () => ({ busy, waiting: waiting.size })
  return { during, take, usage }
}
