// A failure injected after a move's deletions, over HTTP on both stores: the
// request answers 500 `internal_error` and nothing it began is kept — the
// tree, the accesses, the pending invite and the event log are as before.
import { expect, layer } from "@effect/vitest"
import { ResourceStore } from "@tessera/domain"
import type { ConfiguredStore } from "@tessera/config"
import { Effect, Layer } from "effect"
import { asAdmin, byAdmin, served, storeOf, type StoreName } from "./harness.js"

let failInsertAccess = false

/** The store, with `insertAccess` dying while `failInsertAccess` is set (it runs after the move's deletions). */
const withInjectedFailure = (store: Layer.Layer<ConfiguredStore>): Layer.Layer<ConfiguredStore> =>
  Layer.effect(
    ResourceStore,
    Effect.map(ResourceStore, (base) =>
      ResourceStore.of({
        ...base,
        insertAccess: (access) => failInsertAccess ? Effect.die(new Error("injected failure")) : base.insertAccess(access)
      }))
  ).pipe(Layer.provideMerge(store))

for (const store of ["sqlite", "pg"] as const satisfies ReadonlyArray<StoreName>) {
  layer(served(withInjectedFailure(storeOf(store))), { timeout: "120 seconds", excludeTestServices: true })(
    `a failed move rolls back (${store})`,
    (it) => {
      it.effect("promoting a child fails while restoring owners: everything is as before", () =>
        Effect.gen(function*() {
          const me = (yield* byAdmin((admin) => admin.GET("/v1/me"))).user.id
          const team = (yield* byAdmin((admin) => admin.POST("/v1/workspaces", { body: { name: "rollback" } }))).id
          const create = (title: string, parent_id?: string) =>
            byAdmin((admin) =>
              admin.POST("/v1/workspaces/{id}/resources", { params: { path: { id: team } }, body: { title, ...(parent_id === undefined ? {} : { parent_id }) } }))
          const root = (yield* create("root")).id
          const child = (yield* create("child", root)).id
          yield* byAdmin((admin) => admin.POST("/v1/resources/{id}/accesses", { params: { path: { id: child } }, body: { user_id: me, role: "editor" } }))
          const invite = yield* byAdmin((admin) =>
            admin.POST("/v1/invites", { body: { kind: "grant", resource_id: child, resource_role: "reader" } }))

          const at = (id: string) => ({ params: { path: { id } } })
          const snapshot = Effect.gen(function*() {
            return JSON.stringify({
              children: yield* byAdmin((admin) => admin.GET("/v1/resources/{id}/children", at(root))),
              roots: yield* byAdmin((admin) => admin.GET("/v1/workspaces/{id}/resources", at(team))),
              child: yield* byAdmin((admin) => admin.GET("/v1/resources/{id}", at(child))),
              accesses: yield* byAdmin((admin) => admin.GET("/v1/resources/{id}/accesses", at(child))),
              invite: yield* byAdmin((admin) => admin.GET("/v1/invites/{id}", at(invite.invite.id))),
              events: yield* byAdmin((admin) => admin.GET("/v1/events", { params: { query: { limit: 1000 } } }))
            })
          })
          const before = yield* snapshot
          const dry = yield* asAdmin("POST", `/v1/resources/${child}/move`, { target_id: root, position: "right", dry_run: true })
          expect(dry.body).toMatchObject({ scope_changed: true, accesses_deleted: 1, invites_canceled: 1, owners_restored: 1 })

          failInsertAccess = true
          const failed = yield* asAdmin("POST", `/v1/resources/${child}/move`, { target_id: root, position: "right" })
          failInsertAccess = false
          expect(failed.status).toBe(500)
          expect(failed.body).toEqual({ error: "internal_error", message: expect.any(String) })
          expect(yield* snapshot).toBe(before)

          const moved = yield* asAdmin("POST", `/v1/resources/${child}/move`, { target_id: root, position: "right" })
          expect([moved.status, moved.body]).toMatchObject([200, { scope_changed: true, owners_restored: 1 }])
          expect(yield* snapshot).not.toBe(before)
        }))
    }
  )
}
