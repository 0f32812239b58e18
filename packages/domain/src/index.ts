/**
 * @tessera/domain — the pure kernel: schemas, tagged errors, invariants,
 * use cases and the ports they run through. It imports nothing but `effect`
 * and performs no I/O except through its ports.
 *
 * Areas build on each other in one direction only:
 * shared ← events ← identity ← workspaces ← resources ← sharing ← lifecycle.
 * `lifecycle/` holds the flows that cross areas (registration, bootstrap,
 * user deletion, grants, moves, revocation, team workspace deletion, the
 * audit read).
 */
export * from "./shared/ids.js"
export * from "./shared/pages.js"
export * from "./shared/crypto.js"
export * from "./shared/errors.js"
export * from "./shared/text.js"
export * from "./shared/time.js"
export * from "./shared/tokens.js"
export * from "./shared/transactor.js"
export * from "./events/schemas.js"
export * from "./events/ports.js"
export * from "./identity/schemas.js"
export * from "./identity/errors.js"
export * from "./identity/keys.js"
export * from "./identity/policy.js"
export * from "./identity/ports.js"
export * from "./identity/usecases.js"
export * from "./workspaces/schemas.js"
export * from "./workspaces/errors.js"
export * from "./workspaces/ports.js"
export * from "./workspaces/personal.js"
export * from "./workspaces/policy.js"
export * from "./workspaces/rules.js"
export * from "./workspaces/usecases.js"
export * from "./resources/schemas.js"
export * from "./resources/rules.js"
export * from "./resources/ports.js"
export * from "./resources/errors.js"
export * from "./resources/policy.js"
export * from "./resources/usecases.js"
export * from "./resources/explain.js"
export * from "./resources/accessQueries.js"
export * from "./resources/access.js"
export * from "./sharing/invites.js"
export * from "./sharing/links.js"
export * from "./sharing/errors.js"
export * from "./sharing/ports.js"
export * from "./sharing/policy.js"
export * from "./sharing/usecases.js"
export * from "./lifecycle/audit.js"
export * from "./lifecycle/doctor.js"
export * from "./lifecycle/grants.js"
export * from "./lifecycle/moves.js"
export * from "./lifecycle/revoke.js"
export * from "./lifecycle/users.js"
export * from "./lifecycle/workspaces.js"
