// Bearer token format (docs/domain.md#users-and-credentials): prefix + 32 bytes hex + CRC-32, refused before any lookup when malformed.
import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck as fc, Option, Redacted } from "effect"
import { createHash } from "node:crypto"
import { crc32 } from "node:zlib"
import { Crypto, crc32Hex, formatToken, mintToken, parseToken, type TokenPrefix, tokenDigest } from "../src/index.js"

const PREFIXES: ReadonlyArray<TokenPrefix> = ["tsk", "tsi", "tsl"]
const prefix = fc.constantFrom(...PREFIXES)
const body = fc.uint8Array({ minLength: 32, maxLength: 32 })
const HEX = "0123456789abcdef"
const accepts = (p: TokenPrefix, raw: string) => Option.isSome(parseToken(p, raw))
const acceptedByAny = (raw: string) => PREFIXES.some((p) => accepts(p, raw))

describe("formatToken / parseToken", () => {
  it.prop("a formatted token parses with its own prefix only, unchanged", [prefix, body], ([p, bytes]) => {
    const token = formatToken(p, bytes)
    expect(token).toMatch(new RegExp(`^${p}_[0-9a-f]{72}$`))
    expect(Option.map(parseToken(p, token), Redacted.value)).toEqual(Option.some(token))
    for (const other of PREFIXES.filter((o) => o !== p)) expect(accepts(other, token)).toBe(false)
  })

  it.prop("relabelling a token with another prefix breaks its checksum", [prefix, prefix, body], ([p, q, bytes]) => {
    fc.pre(p !== q)
    const relabelled = q + formatToken(p, bytes).slice(3)
    expect(acceptedByAny(relabelled)).toBe(false)
  })

  it.prop(
    "any single-character substitution is refused",
    [prefix, body, fc.nat(75), fc.constantFrom(..."0123456789abcdefABCDEF_gz- ")],
    ([p, bytes, position, replacement]) => {
      const token = formatToken(p, bytes)
      fc.pre(token[position] !== replacement)
      const changed = token.slice(0, position) + replacement + token.slice(position + 1)
      expect(acceptedByAny(changed)).toBe(false)
    }
  )

  it("every hex substitution in body and checksum of a token is refused (exhaustive)", () => {
    const token = formatToken("tsi", new Uint8Array(32).map((_, i) => i * 37))
    let tried = 0
    for (let position = 4; position < token.length; position++) {
      for (const c of HEX) {
        if (c === token[position]) continue
        tried++
        expect(acceptedByAny(token.slice(0, position) + c + token.slice(position + 1))).toBe(false)
      }
    }
    expect(tried).toBe(72 * 15)
  })

  it.prop("truncated or extended tokens are refused", [prefix, body, fc.integer({ min: 1, max: 8 })], ([p, bytes, n]) => {
    const token = formatToken(p, bytes)
    expect(accepts(p, token.slice(0, -n))).toBe(false)
    expect(accepts(p, token + HEX.slice(0, n))).toBe(false)
    expect(accepts(p, token.slice(0, -n - 8) + token.slice(-8))).toBe(false)
  })

  it.prop("uppercase hex is refused", [prefix, body], ([p, bytes]) => {
    const token = formatToken(p, bytes)
    const upper = p + token.slice(3).toUpperCase()
    fc.pre(upper !== token)
    expect(accepts(p, upper)).toBe(false)
    expect(accepts(p, token.toUpperCase())).toBe(false)
  })

  it.prop("garbage is refused", [fc.string({ maxLength: 100 })], ([raw]) => {
    expect(acceptedByAny(raw)).toBe(false)
    expect(acceptedByAny(`tsk_${raw}`)).toBe(false)
  })

  it("surrounding whitespace is refused", () => {
    const token = formatToken("tsk", new Uint8Array(32).fill(7))
    expect(accepts("tsk", token)).toBe(true)
    for (const padded of [` ${token}`, `${token} `, `${token}\n`, `\t${token}`]) expect(accepts("tsk", padded)).toBe(false)
    expect(accepts("tsk", "")).toBe(false)
    expect(accepts("tsk", "tsk_")).toBe(false)
  })
})

describe("crc32Hex", () => {
  it("matches the standard CRC-32 (IEEE) check values", () => {
    expect(crc32Hex("123456789")).toBe("cbf43926")
    expect(crc32Hex("")).toBe("00000000")
    expect(crc32Hex("a")).toBe("e8b7be43")
    expect(crc32Hex("The quick brown fox jumps over the lazy dog")).toBe("414fa339")
  })

  it.prop("agrees with zlib's crc32 on ASCII input", [fc.string({ unit: "binary-ascii", maxLength: 200 })], ([s]) => {
    expect(crc32Hex(s)).toBe(crc32(Buffer.from(s, "latin1")).toString(16).padStart(8, "0"))
  })
})

describe("mintToken / tokenDigest", () => {
  it.effect("mints distinct well-formed tokens whose digest is the SHA-256 hex of the whole token", () =>
    Effect.gen(function*() {
      const seen = new Set<string>()
      for (let i = 0; i < 200; i++) {
        const p = PREFIXES[i % 3]!
        const token = yield* mintToken(p)
        const raw = Redacted.value(token)
        expect(accepts(p, raw)).toBe(true)
        seen.add(raw)
        const digest = yield* tokenDigest(token)
        expect(digest).toBe(createHash("sha256").update(raw).digest("hex"))
        expect(digest).not.toBe(raw)
        expect(digest).not.toContain(raw.slice(4, 68))
      }
      expect(seen.size).toBe(200)
    }).pipe(Effect.provide(Crypto.Live)))

  it.effect("a minted token does not show its secret when printed", () =>
    Effect.gen(function*() {
      const token = yield* mintToken("tsk")
      expect(String(token)).not.toContain(Redacted.value(token))
      expect(JSON.stringify({ token })).not.toContain(Redacted.value(token))
    }).pipe(Effect.provide(Crypto.Live)))
})
