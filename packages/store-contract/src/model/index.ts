/**
 * The reference model of the kernel and what drives it against a store:
 * `model.ts` (pure state and rules), `commands.ts` (random sequences),
 * `runner.ts` (the same commands through the use cases on a real store).
 * `docs/model.md` says what it covers and how the side-by-side test runs.
 */
export * from "./commands.js"
export * from "./model.js"
export * from "./runner.js"
