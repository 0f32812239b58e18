/**
 * How this process takes turns on its one SQLite connection: strictly in
 * arrival order, the connection handed from each holder straight to the
 * next waiter. It never runs two holders at once and never lets a waiter
 * pass another.
 *
 * Why not the client's own semaphore: Effect's semaphore wakes every waiter
 * on each release and lets them race for the permit (the losers queue
 * again), so with n fibers waiting each transaction costs O(n) wake-ups
 * while the connection sits idle. Under load that is the whole cost: grant
 * redemption on one connection fell from 305/s with one caller to 132/s
 * with 64 and about 50/s with 500. Here a release wakes exactly one fiber.
 */
import { Effect, Scope } from "effect"

interface Waiter {
  granted: boolean
  readonly wake: () => void
}

/** A FIFO turn on `connection`: `take` is scoped, the turn passes on when its scope closes. */
export const turns = <C>(connection: C) => {
  let busy = false
  // a queue with a moving head, so handing over is O(1) however many wait
  let queue: Array<Waiter | undefined> = []
  let head = 0

  const release = (): void => {
    while (head < queue.length) {
      const next = queue[head]
      queue[head++] = undefined
      if (next !== undefined) {
        next.granted = true // the turn passes without ever being free
        return next.wake()
      }
    }
    queue = []
    head = 0
    busy = false
  }

  const wait = Effect.async<void>((resume) => {
    if (!busy) {
      busy = true
      return resume(Effect.void)
    }
    const waiter: Waiter = { granted: false, wake: () => resume(Effect.void) }
    const at = queue.push(waiter) - 1
    return Effect.sync(() => {
      // interrupted while waiting: give the turn on if it had just arrived, else leave the queue
      if (waiter.granted) release()
      else queue[at] = undefined
    })
  })

  /** Waits for this process's turn (interruptibly) and holds it until the enclosing scope closes. */
  const take: Effect.Effect<C, never, Scope.Scope> = Effect.uninterruptibleMask((restore) =>
    Effect.zipRight(restore(wait), Effect.as(Effect.flatMap(Effect.scope, (scope) => Scope.addFinalizer(scope, Effect.sync(release))), connection))
  )
  return { take }
}
