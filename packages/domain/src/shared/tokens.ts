/**
 * Bearer secrets: `tsk_` API keys, `tsi_` invites, `tsl_` share links.
 *
 * Format: `<prefix>_` + 64 lowercase hex (32 CSPRNG bytes) + 8 hex CRC-32 of
 * everything before it. The checksum lets a mistyped or forged token be
 * refused by a pure function, before any store lookup. Only the SHA-256 digest
 * of a whole token is ever stored; in memory a token lives in a `Redacted`.
 */
import { Effect, Option, Redacted } from "effect"
import { Crypto, toHex } from "../shared/crypto.js"

export type TokenPrefix = "tsk" | "tsi" | "tsl"

const BODY_BYTES = 32
const BODY_HEX = BODY_BYTES * 2
const CHECKSUM_HEX = 8

const CRC_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

/** CRC-32 (IEEE) of an ASCII string, as 8 lowercase hex digits. */
export const crc32Hex = (input: string): string => {
  let crc = 0xffffffff
  for (let i = 0; i < input.length; i++) crc = CRC_TABLE[(crc ^ input.charCodeAt(i)) & 0xff]! ^ (crc >>> 8)
  return ((crc ^ 0xffffffff) >>> 0).toString(16).padStart(CHECKSUM_HEX, "0")
}

/** Builds a token from a prefix and its 32 random body bytes (pure). */
export const formatToken = (prefix: TokenPrefix, body: Uint8Array): string => {
  const head = `${prefix}_${toHex(body)}`
  return head + crc32Hex(head)
}

const shape = /^(tsk|tsi|tsl)_[0-9a-f]{72}$/

/**
 * Checks a presented token's prefix, shape and checksum (pure). `None` means
 * the token is refused without looking anything up.
 */
export const parseToken = (prefix: TokenPrefix, raw: string): Option.Option<Redacted.Redacted<string>> => {
  if (!shape.test(raw) || !raw.startsWith(`${prefix}_`)) return Option.none()
  const head = raw.slice(0, prefix.length + 1 + BODY_HEX)
  return crc32Hex(head) === raw.slice(head.length) ? Option.some(Redacted.make(raw)) : Option.none()
}

/** Mints a fresh token of the given kind from the CSPRNG. */
export const mintToken = (prefix: TokenPrefix) =>
  Effect.map(Crypto.randomBytes(BODY_BYTES), (body) => Redacted.make(formatToken(prefix, body)))

/** The digest stored for a token: SHA-256 of the whole token, lowercase hex. */
export const tokenDigest = (token: Redacted.Redacted<string>) => Crypto.sha256Hex(Redacted.value(token))
