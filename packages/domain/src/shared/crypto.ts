/**
 * The Crypto port: CSPRNG bytes and SHA-256 digests. The live layer uses
 * what the runtime offers while the domain keeps depending on `effect`
 * alone: on Node, `node:crypto` found at run time
 * (`process.getBuiltinModule`), which hashes in place; elsewhere the Web
 * Crypto API that Deno and browsers provide. Digests are what is stored;
 * the secrets they come from never leave memory.
 */
import { Context, Effect, Layer } from "effect"

interface NodeHash {
  readonly createHash: (algorithm: "sha256") => {
    update: (input: string, encoding: "utf8") => { digest: (encoding: "hex") => string }
  }
}

/**
 * SHA-256 hex computed synchronously by Node's own `node:crypto`, or
 * `undefined` where the runtime has none. A token is digested on every
 * authenticated request and inside every redemption's transaction: Web
 * Crypto's digest is a promise settled from the thread pool, several times
 * the cost of hashing 80 bytes on the spot, and a transaction waiting for
 * it holds its connection (on SQLite, the process's only one) meanwhile.
 */
const inPlaceSha256: ((input: string) => string) | undefined = (() => {
  const runtime = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
  const crypto = runtime?.getBuiltinModule?.("node:crypto") as NodeHash | undefined
  if (crypto === undefined || typeof crypto.createHash !== "function") return undefined
  return (input) => crypto.createHash("sha256").update(input, "utf8").digest("hex")
})()

const randomBytes = (length: number) => Effect.sync(() => globalThis.crypto.getRandomValues(new Uint8Array(length)))

const webSha256Hex = (input: string) =>
  Effect.promise(() => globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(input))).pipe(
    Effect.map((buffer) => toHex(new Uint8Array(buffer)))
  )

export class Crypto extends Context.Tag("Tessera/Crypto")<Crypto, {
  readonly randomBytes: (length: number) => Effect.Effect<Uint8Array>
  readonly sha256Hex: (input: string) => Effect.Effect<string>
}>() {
  static readonly randomBytes = (length: number) => Effect.flatMap(Crypto, (c) => c.randomBytes(length))
  static readonly sha256Hex = (input: string) => Effect.flatMap(Crypto, (c) => c.sha256Hex(input))

  /** Web Crypto alone: the same digests, each a promise. What `Live` falls back to without `node:crypto`. */
  static readonly WebCrypto = Layer.succeed(Crypto, { randomBytes, sha256Hex: webSha256Hex })

  static readonly Live = inPlaceSha256 === undefined
    ? Crypto.WebCrypto
    : Layer.succeed(Crypto, { randomBytes, sha256Hex: (input: string) => Effect.sync(() => inPlaceSha256(input)) })
}

export const toHex = (bytes: Uint8Array): string => {
  let out = ""
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0")
  return out
}

export const fromHex = (hex: string): Uint8Array => {
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return out
}
