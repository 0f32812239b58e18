// Authentication's owner lookup straight on a pooled connection (`DirectStatements`, `hotStatement` in
// store-sql), its row read by hand: with the tracer off it goes direct and answers exactly as through
// `SqlClient` and as `UserStore` decodes the owner; a revoked or deleted user's key, an unknown key and a
// malformed one are refused on the direct path as soon as the change has committed.
import { describe, expect, layer } from "@effect/vitest"
import {
  ApiKeyStore,
  authenticate,
  deleteUser,
  mintToken,
  revokeUser,
  UserStore
} from "@tessera/domain"
import { Admin, withAdmin } from "@tessera/store-contract"
import { counted, type DirectCount, directRuns, off } from "@tessera/store-contract/direct"
import { registerUser } from "@tessera/store-contract/fixtures"
import { DirectStatements, migrateUp, PortsLive } from "@tessera/store-sql"
import { Context, Effect, Layer, Option, Redacted } from "effect"
import { createHash } from "node:crypto"
import { clientLayer, dialect, migrations } from "../src/index.js"
import { freshDatabaseLayer } from "../src/testing.js"

const count: DirectCount = { n: 0 }

const store = withAdmin<never, DirectStatements>(freshDatabaseLayer((url) => {
  const client = Layer.map(clientLayer({ url, maxConnections: 2 }), (context) =>
    Context.add(context, DirectStatements, counted(Context.get(context, DirectStatements), count)))
  return Layer.effectDiscard(migrateUp(migrations(), dialect)).pipe(
    Layer.provideMerge(PortsLive.pipe(Layer.provideMerge(client))),
    Layer.orDie
  )
}))

/** `authenticate` with the tracer off: its outcome and how many statements went direct. */
const direct = (apiKey: Redacted.Redacted<string>) => directRuns(count)(off(Effect.either(authenticate(apiKey))))

layer(store, { timeout: "120 seconds" })("pg: authentication straight on the pool", (it) => {
  describe("an active user's key", () => {
    it.effect("goes direct and resolves to the owner exactly as through SqlClient and as UserStore decodes them", () =>
      Effect.gen(function*() {
        const { principal: admin } = yield* Admin
        for (const registered of [yield* registerUser(admin), yield* registerUser(admin, { role: "admin" })]) {
          const { result, direct: went } = yield* direct(registered.apiKey)
          expect(went).toBe(1)
          if (result._tag === "Left") throw new Error(`refused: ${result.left.message}`)
          const traced = yield* authenticate(registered.apiKey)
          const stored = Option.getOrThrow(yield* Effect.flatMap(UserStore, (users) => users.findById(registered.user.id)))
          expect(result.right.apiKeyId).toBe(traced.apiKeyId)
          expect({ ...result.right.user }).toEqual({ ...stored })
          expect({ ...traced.user }).toEqual({ ...stored })
          expect(result.right.user.sign_pub).not.toBeNull()
        }
      }))
  })

  describe("a key that must not authenticate", () => {
    it.effect("a revoked user's key is refused on the direct path once the revocation has committed", () =>
      Effect.gen(function*() {
        const { principal: admin } = yield* Admin
        const registered = yield* registerUser(admin)
        expect((yield* direct(registered.apiKey)).result._tag).toBe("Right")
        yield* revokeUser(admin, registered.user.id)
        const after = yield* direct(registered.apiKey)
        expect(after.direct).toBe(1)
        expect(after.result._tag === "Left" && after.result.left._tag).toBe("Unauthenticated")
      }))

    it.effect("a deleted user's key is refused on the direct path", () =>
      Effect.gen(function*() {
        const { principal: admin } = yield* Admin
        const registered = yield* registerUser(admin)
        expect((yield* direct(registered.apiKey)).result._tag).toBe("Right")
        yield* deleteUser(admin, registered.user.id, Option.none())
        const after = yield* direct(registered.apiKey)
        expect(after.result._tag === "Left" && after.result.left._tag).toBe("Unauthenticated")
        const digest = createHash("sha256").update(Redacted.value(registered.apiKey)).digest("hex")
        expect(yield* off(Effect.flatMap(ApiKeyStore, (keys) => keys.findActiveOwner(digest)))).toEqual(Option.none())
      }))

    it.effect("an unknown key is refused after one lookup, a malformed one before any", () =>
      Effect.gen(function*() {
        const unknown = yield* direct(yield* mintToken("tsk"))
        expect(unknown.direct).toBe(1)
        expect(unknown.result._tag === "Left" && unknown.result.left.message).toBe("unknown or revoked API key")
        const { apiKey } = yield* Admin
        const raw = Redacted.value(apiKey)
        const flipped = raw.slice(0, 10) + (raw[10] === "0" ? "1" : "0") + raw.slice(11)
        const malformed = yield* direct(Redacted.make(flipped))
        expect(malformed.direct).toBe(0)
        expect(malformed.result._tag === "Left" && malformed.result.left.message).toBe("malformed API key")
      }))
  })
})
