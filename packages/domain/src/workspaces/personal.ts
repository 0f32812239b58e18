/**
 * The personal workspace: one per user, created by the system with the user
 * as its only member (admin). Built here as a value; stored by the caller.
 */
import { Effect } from "effect"
import { newWorkspaceId } from "../shared/ids.js"
import type { Timestamp } from "../shared/time.js"
import type { User } from "../identity/schemas.js"
import { Member, Workspace } from "./schemas.js"

export const makePersonalWorkspace = (owner: User, at: Timestamp) =>
  Effect.map(newWorkspaceId, (id) =>
    new Workspace({
      id,
      name: owner.handle,
      about: "",
      custom_instructions: "",
      bundles: [],
      is_personal: true,
      owner_user_id: owner.id,
      members: [new Member({ user_id: owner.id, role: "admin" })],
      created_at: at,
      updated_at: at
    }))
