/**
 * Use cases whose span is built only when someone records it. `Effect.fn(name)`
 * builds a span and captures its call site on every call, tracer on or off
 * (about 11 µs a call on the bench machine); the server runs with the tracer
 * off unless an exporter is configured (docs/operations.md, "Logs, traces and
 * metrics"). `spanned(name, body)` is `Effect.fn(name)(body)` when the
 * calling fiber's tracer is on and `Effect.fnUntraced(body)` when it is off:
 * the same program, with the same span whenever spans are kept.
 */
import { Effect, FiberRef, type Utils } from "effect"

export const spanned = <Eff extends Utils.YieldWrap<Effect.Effect<any, any, any>>, AEff, Args extends Array<any>>(
  name: string,
  body: (...args: Args) => Generator<Eff, AEff, never>
) => {
  // no call site captured: both would be this file's lines, for every use case
  const traced = Effect.fn(name, { captureStackTrace: false })(body)
  const plain = Effect.fnUntraced(body)
  return (...args: Args): ReturnType<typeof plain> =>
    Effect.withFiberRuntime((fiber) => (fiber.getFiberRef(FiberRef.currentTracerEnabled) ? traced(...args) : plain(...args))) as ReturnType<
      typeof plain
    >
}
