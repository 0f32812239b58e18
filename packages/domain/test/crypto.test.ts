// The Crypto port's live layer: on Node it digests in place (no promise, so no thread-pool round trip inside a
// transaction), with the same SHA-256 hex as node:crypto and as the Web Crypto layer it falls back to elsewhere.
import { expect, it } from "@effect/vitest"
import { createHash } from "node:crypto"
import { Effect, FastCheck } from "effect"
import { Crypto } from "../src/index.js"

const expected = (input: string) => createHash("sha256").update(input, "utf8").digest("hex")

it.effect("the live layer digests synchronously, as node:crypto does", () =>
  Effect.gen(function*() {
    const crypto = yield* Crypto
    // runSync throws on an asynchronous effect: a promise here would fail the test
    for (const input of ["", "tsk_example", "é漢字🙂", "x".repeat(1000)]) {
      expect(Effect.runSync(crypto.sha256Hex(input))).toBe(expected(input))
    }
  }).pipe(Effect.provide(Crypto.Live)))

it.effect("Web Crypto and the live layer give the same digests", () =>
  Effect.gen(function*() {
    const inputs = FastCheck.sample(FastCheck.string({ unit: "binary", maxLength: 200 }), 100)
    for (const input of inputs) {
      const live = yield* Effect.provide(Crypto.sha256Hex(input), Crypto.Live)
      const web = yield* Effect.provide(Crypto.sha256Hex(input), Crypto.WebCrypto)
      expect(live).toBe(web)
      expect(live).toBe(expected(input))
    }
  }))
