/**
 * @tessera/config — what every entry point shares: the configuration record,
 * the store it configures with that store's migrations, and how a command is
 * run and its failure reported. No app imports another app; they all import
 * this.
 */
export * from "./run.js"
export * from "./settings.js"
export * from "./store.js"
