/**
 * The Crypto port on Node's own `node:crypto`: the same SHA-256 hex digests
 * and CSPRNG bytes as the Web Crypto layer the store provides, computed in
 * place. A digest is taken on every authenticated request; Web Crypto's is a
 * promise settled from the thread pool, several times the cost of hashing
 * 80 bytes on the spot. It must never be used to compare secrets by time.
 */
import { Crypto } from "@tessera/domain"
import { createHash, randomBytes } from "node:crypto"
import { Effect, Layer } from "effect"

/** The SHA-256 hex digest of `input`'s UTF-8, now: the port's `sha256Hex`, and the direct routes' own (`direct.ts`). */
export const sha256HexNow = (input: string) => createHash("sha256").update(input, "utf8").digest("hex")

export const NodeCryptoLive = Layer.succeed(Crypto, {
  randomBytes: (length) => Effect.sync(() => new Uint8Array(randomBytes(length))),
  sha256Hex: (input) => Effect.sync(() => sha256HexNow(input))
})
