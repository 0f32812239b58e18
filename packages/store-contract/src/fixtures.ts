/**
 * Fixtures shared by the store suites and app tests: real key pairs (only
 * the public halves are ever sent), and small helpers around the use cases.
 */
import {
  type Action,
  type Actor,
  authenticate,
  EventLog,
  type Handle,
  type InviteTerms,
  mintInvite,
  register,
  type ResourceRole,
  SystemActor
} from "@tessera/domain"
import { generateKeyPairSync } from "node:crypto"
import { Effect } from "effect"

const rawPublicHex = (type: "ed25519" | "x25519") => {
  const { publicKey } = generateKeyPairSync(type as "ed25519")
  const jwk = publicKey.export({ format: "jwk" }) as { x: string }
  return Buffer.from(jwk.x, "base64url").toString("hex")
}

/** A fresh Ed25519 signing key and X25519 key-exchange key, public halves in lowercase hex. */
export const publicKeys = () => ({ signPub: rawPublicHex("ed25519"), kexPub: rawPublicHex("x25519") })

let counter = 0
/** A handle unique within this process. */
export const uniqueHandle = (stem = "user"): Handle =>
  `${stem}-${process.pid.toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 6)}` as Handle

/** Mints a registration invite and registers through it; returns the new user and their API key. */
export const registerUser = (minter: Actor, terms: Partial<Extract<InviteTerms, { kind: "registration" }>> = {}) =>
  Effect.gen(function*() {
    const { token } = yield* mintInvite(minter, { kind: "registration", handle: uniqueHandle(), ...terms })
    const keys = publicKeys()
    return yield* register({ token, ...keys })
  })

/** A user registered through an invite `admin` mints, and signed in: their id and principal. */
export const person = (admin: Actor) =>
  Effect.gen(function*() {
    const registered = yield* registerUser(admin)
    return { id: registered.user.id, principal: yield* authenticate(registered.apiKey) }
  })

/** Every action, weakest first, each beside the role it needs (`ROLES[i]` for `ACTIONS[i]`). */
export const ACTIONS = ["read", "comment", "edit", "administer", "own"] as const satisfies ReadonlyArray<Action>
export const ROLES = ["reader", "commenter", "editor", "administrator", "owner"] as const satisfies ReadonlyArray<ResourceRole>

/** A user registered through an invite the system mints, and signed in: the user, their API key, personal workspace and principal. */
export const newUser = Effect.gen(function*() {
  const { apiKey, personalWorkspace, user } = yield* registerUser(SystemActor)
  return { user, apiKey, personal: personalWorkspace.id, principal: yield* authenticate(apiKey) }
})

/**
 * Every stored row that refers to a missing user, every team workspace without an admin and every live root
 * without a direct owner (docs/doctor.md), as one SELECT both stores run: what a user's deletion, however it
 * races, must never leave. The foreign keys of migration 0003 refuse the first kinds at write time; the query
 * still looks, so that a test using it does not depend on them.
 */
export const deletionLeftovers = `
  SELECT 'member of a missing user' AS problem, workspace_id AS id FROM workspace_members WHERE user_id NOT IN (SELECT id FROM users)
  UNION ALL SELECT 'workspace owned by a missing user', id FROM workspaces WHERE owner_user_id IS NOT NULL AND owner_user_id NOT IN (SELECT id FROM users)
  UNION ALL SELECT 'access of a missing user', id FROM resource_accesses WHERE user_id NOT IN (SELECT id FROM users)
  UNION ALL SELECT 'api key of a missing user', id FROM api_keys WHERE user_id NOT IN (SELECT id FROM users)
  UNION ALL SELECT 'team without an admin', w.id FROM workspaces w WHERE w.is_personal = 0
    AND NOT EXISTS (SELECT 1 FROM workspace_members m WHERE m.workspace_id = w.id AND m.role = 'admin')
  UNION ALL SELECT 'live root without an owner', r.id FROM resources r WHERE r.parent_id IS NULL AND r.revoked_at IS NULL
    AND NOT EXISTS (SELECT 1 FROM resource_accesses a WHERE a.resource_id = r.id AND a.role = 'owner')
  UNION ALL SELECT 'resource in a missing workspace', id FROM resources WHERE workspace_id NOT IN (SELECT id FROM workspaces)`

/** The seq of the newest event, paging through the whole log. */
export const lastSeq = Effect.flatMap(EventLog, (log) =>
  Effect.gen(function*() {
    let after = 0
    for (;;) {
      const page = yield* log.list({ after, limit: 1000 })
      if (page.length === 0) return after
      after = page[page.length - 1]!.seq
    }
  }))
