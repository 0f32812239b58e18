// The HTTP contract itself: every identity and workspace route is in the
// OpenAPI document, and wire errors encode to `{ error, message, ... }`.
import { OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { ApiErrors, TesseraApi } from "../src/index.js"

describe("the HTTP contract", () => {
  it("documents every route of the identity and workspaces areas", () => {
    const spec = OpenApi.fromApi(TesseraApi)
    const routes = Object.entries(spec.paths).flatMap(([path, item]) =>
      Object.keys(item).filter((k) => ["get", "post", "patch", "delete", "put"].includes(k)).map((m) => `${m.toUpperCase()} ${path}`))
    for (const route of [
      "GET /healthz", "GET /readyz", "POST /v1/register", "POST /v1/invites", "GET /v1/invites", "POST /v1/invites/redeem",
      "GET /v1/invites/{id}", "DELETE /v1/invites/{id}", "GET /v1/me", "GET /v1/me/workspace", "GET /v1/users",
      "GET /v1/users/{id}", "POST /v1/users/{id}/revoke", "DELETE /v1/users/{id}", "GET /v1/events",
      "POST /v1/workspaces", "GET /v1/workspaces", "GET /v1/workspaces/{id}", "PATCH /v1/workspaces/{id}",
      "DELETE /v1/workspaces/{id}", "POST /v1/workspaces/{id}/members", "PATCH /v1/workspaces/{id}/members/{user_id}",
      "DELETE /v1/workspaces/{id}/members/{user_id}"
    ]) expect(routes).toContain(route)
  })

  it("encodes wire errors in the shape of docs/http.md", () => {
    expect(Schema.encodeSync(ApiErrors.PersonalWorkspaceInvariant)(new ApiErrors.PersonalWorkspaceInvariant({
      message: "m",
      workspace_id: "ws_1",
      reason: "members_mutation"
    }))).toEqual({ error: "personal_workspace_invariant", message: "m", workspace_id: "ws_1", reason: "members_mutation" })
    expect(Schema.encodeSync(ApiErrors.InvalidRequest)(new ApiErrors.InvalidRequest({ message: "m", issues: [] })))
      .toEqual({ error: "invalid_request", message: "m", issues: [] })
    expect(() => Schema.decodeUnknownSync(ApiErrors.Conflict)({ error: "nope", message: "m" })).toThrow()
  })
})
