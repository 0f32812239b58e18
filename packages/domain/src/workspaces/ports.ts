/** Storage port for workspaces and their members. */
import { Context, Effect, Option } from "effect"
import type { UserId, WorkspaceId } from "../shared/ids.js"
import type { WorkspaceRole } from "../identity/invites.js"
import type { AlreadyMember, Workspace } from "./schemas.js"

export class WorkspaceStore extends Context.Tag("Tessera/WorkspaceStore")<WorkspaceStore, {
  /** Inserts the workspace and its members; `false` when the owner already has a personal workspace. */
  readonly insert: (workspace: Workspace) => Effect.Effect<boolean>
  readonly findById: (id: WorkspaceId) => Effect.Effect<Option.Option<Workspace>>
  readonly findPersonal: (owner: UserId) => Effect.Effect<Option.Option<Workspace>>
  readonly addMember: (
    id: WorkspaceId,
    userId: UserId,
    role: WorkspaceRole
  ) => Effect.Effect<void, AlreadyMember>
  /** Deletes the personal workspaces owned by the user; returns how many. */
  readonly deletePersonalOf: (owner: UserId) => Effect.Effect<number>
  /** Removes the user's memberships in workspaces they do not own; returns how many. */
  readonly removeMembershipsOf: (userId: UserId) => Effect.Effect<number>
}>() {}
