/**
 * Who may act on identities: system admins (and the system itself) manage
 * users; anyone may read themself. Pure functions of the actor, plus the
 * one refusal they lead to.
 */
import { Effect } from "effect"
import { Forbidden } from "../shared/errors.js"
import { type Actor, isSystem, isUser } from "./schemas.js"

/** The system, or an active user whose system role is `admin`. */
export const isSystemAdmin = (actor: Actor): boolean =>
  isSystem(actor) || (isUser(actor) && actor.user.role === "admin" && actor.user.status === "active")

export const requireSystemAdmin = (actor: Actor) =>
  isSystemAdmin(actor) ? Effect.void : Effect.fail(new Forbidden({ message: "this needs a system admin" }))
