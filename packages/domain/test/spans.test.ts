// Proves shared/spans.ts: a use case built with `spanned` records its span, under the caller's, whenever the tracer
// is on, and with it off runs the same program without building one.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Tracer } from "effect"
import { spanned } from "../src/shared/spans.js"

const double = spanned("double", function*(n: number) {
  const parent = yield* Effect.currentParentSpan.pipe(Effect.option)
  return { value: n * 2, parent: parent._tag === "Some" ? parent.value : undefined }
})

/** The tracer in place, recording the name of every span it builds. */
const recording = Effect.map(Effect.tracer, (native) => {
  const names: Array<string> = []
  const tracer = Tracer.make({
    span: (...args) => {
      names.push(args[0])
      return native.span(...args)
    },
    context: native.context
  })
  return { names, tracer }
})

describe("spanned", () => {
  it.effect("with the tracer on, each call builds its span, a child of the caller's", () =>
    Effect.gen(function*() {
      const { names, tracer } = yield* recording
      const result = yield* double(21).pipe(Effect.withSpan("caller"), Effect.withTracer(tracer), Effect.withTracerEnabled(true))
      expect(result.value).toBe(42)
      expect(names).toEqual(["caller", "double"])
      expect(result.parent?._tag === "Span" ? result.parent.name : undefined).toBe("double")
    }))

  it.effect("with the tracer off, the same answer and no span built", () =>
    Effect.gen(function*() {
      const { names, tracer } = yield* recording
      const result = yield* double(21).pipe(Effect.withTracer(tracer), Effect.withTracerEnabled(false))
      expect(result.value).toBe(42)
      expect(names).toEqual([])
      expect(result.parent).toBeUndefined()
    }))
})
