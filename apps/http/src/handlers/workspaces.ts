/** Handlers of the workspaces area: team workspaces, members, and the caller's personal workspace. */
import { HttpApiBuilder } from "@effect/platform"
import { CurrentPrincipal, TesseraApi } from "@tessera/api"
import * as Domain from "@tessera/domain"
import { Effect } from "effect"
import { pageBody, pageRequest } from "../pages.js"
import { wire } from "../wire.js"

export const WorkspacesLive = HttpApiBuilder.group(TesseraApi, "workspaces", (handlers) =>
  handlers
    .handle("create", ({ payload }) => Effect.flatMap(CurrentPrincipal, (p) => Domain.createWorkspace(p, payload)).pipe(wire))
    .handle("list", ({ urlParams }) =>
      Effect.flatMap(CurrentPrincipal, (p) => Domain.listWorkspacesPage(p, pageRequest(urlParams))).pipe(
        Effect.map((page) => pageBody("workspaces", page)),
        wire
      ))
    .handle("show", ({ path }) => Effect.flatMap(CurrentPrincipal, (p) => Domain.getWorkspace(p, path.id)).pipe(wire))
    .handle("update", ({ path, payload }) =>
      Effect.flatMap(CurrentPrincipal, (p) => Domain.patchWorkspace(p, path.id, payload)).pipe(wire))
    .handle("delete", ({ path }) => Effect.flatMap(CurrentPrincipal, (p) => Domain.deleteWorkspace(p, path.id)).pipe(wire))
    .handle("addMember", ({ path, payload }) =>
      Effect.flatMap(CurrentPrincipal, (p) => Domain.addMember(p, path.id, payload.user_id, payload.role)).pipe(wire))
    .handle("setMemberRole", ({ path, payload }) =>
      Effect.flatMap(CurrentPrincipal, (p) => Domain.setMemberRole(p, path.id, path.user_id, payload.role)).pipe(wire))
    .handle("removeMember", ({ path }) =>
      Effect.flatMap(CurrentPrincipal, (p) => Domain.removeMember(p, path.id, path.user_id)).pipe(
        Effect.as({ workspace_id: path.id, user_id: path.user_id, removed: true as const }),
        wire
      )))
