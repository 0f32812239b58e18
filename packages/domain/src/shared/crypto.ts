/**
 * The Crypto port: CSPRNG bytes and SHA-256 digests. The live layer uses the
 * Web Crypto API that Node, Deno and browsers all provide, so the domain keeps
 * depending on `effect` alone. Digests are what is stored; the secrets they
 * come from never leave memory.
 */
import { Context, Effect, Layer } from "effect"

export class Crypto extends Context.Tag("Tessera/Crypto")<Crypto, {
  readonly randomBytes: (length: number) => Effect.Effect<Uint8Array>
  readonly sha256Hex: (input: string) => Effect.Effect<string>
}>() {
  static readonly randomBytes = (length: number) => Effect.flatMap(Crypto, (c) => c.randomBytes(length))
  static readonly sha256Hex = (input: string) => Effect.flatMap(Crypto, (c) => c.sha256Hex(input))

  static readonly Live = Layer.succeed(Crypto, {
    randomBytes: (length) => Effect.sync(() => globalThis.crypto.getRandomValues(new Uint8Array(length))),
    sha256Hex: (input) =>
      Effect.promise(() => globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(input))).pipe(
        Effect.map((buffer) => toHex(new Uint8Array(buffer)))
      )
  })
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
