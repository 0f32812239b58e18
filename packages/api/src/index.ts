/** @tessera/api — the HttpApi contract of Tessera and a typed client. */
export * from "./api.js"
export * as ApiErrors from "./errors.js"
export * from "./client.js"
export * from "./wire.js"
export * from "./stream.js"
