/**
 * @tessera/domain — the pure kernel: schemas, tagged errors, invariants,
 * use cases and the ports they run through. It imports nothing but `effect`
 * and performs no I/O except through its ports.
 */
export * from "./shared/ids.js"
export * from "./shared/crypto.js"
export * from "./shared/time.js"
export * from "./shared/transactor.js"
export * from "./identity/schemas.js"
export * from "./identity/errors.js"
export * from "./identity/invites.js"
export * from "./identity/keys.js"
export * from "./identity/tokens.js"
export * from "./identity/ports.js"
export * from "./identity/usecases.js"
export * from "./workspaces/schemas.js"
export * from "./workspaces/errors.js"
export * from "./workspaces/ports.js"
export * from "./workspaces/personal.js"
export * from "./workspaces/rules.js"
export * from "./workspaces/usecases.js"
export * from "./events/schemas.js"
export * from "./events/ports.js"
export * from "./events/usecases.js"
