/**
 * Public-key validation for registration (pure). The server only ever sees
 * public keys: `sign_pub` must be a canonical encoding of a point on the
 * Ed25519 curve (RFC 8032 §5.1.3 decoding), `kex_pub` a 32-byte X25519
 * u-coordinate that is not one of the small-order points (which would make
 * every shared secret predictable). Both are 64 lowercase hex characters.
 */
const P = 2n ** 255n - 19n
const D = (-121665n * modInverse(121666n)) % P

function mod(a: bigint): bigint {
  const r = a % P
  return r >= 0n ? r : r + P
}
function modPow(base: bigint, exp: bigint): bigint {
  let result = 1n
  let b = mod(base)
  let e = exp
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P
    b = (b * b) % P
    e >>= 1n
  }
  return result
}
function modInverse(a: bigint): bigint {
  return modPow(a, P - 2n)
}

const HEX32 = /^[0-9a-f]{64}$/

const littleEndian = (hex: string): bigint => {
  let n = 0n
  for (let i = 62; i >= 0; i -= 2) n = (n << 8n) | BigInt(parseInt(hex.slice(i, i + 2), 16))
  return n
}

export type KeyProblem = "format" | "not_on_curve" | "small_order"

/** Why `hex` is not a usable Ed25519 public key, or `undefined` when it is. */
export const ed25519PublicKeyProblem = (hex: string): KeyProblem | undefined => {
  if (!HEX32.test(hex)) return "format"
  const n = littleEndian(hex)
  const sign = n >> 255n
  const y = n & ((1n << 255n) - 1n)
  if (y >= P) return "not_on_curve"
  const y2 = (y * y) % P
  const u = mod(y2 - 1n)
  const v = mod(D * y2 + 1n)
  // x = u v^3 (u v^7)^((p-5)/8)
  const v3 = (v * v % P) * v % P
  const v7 = (v3 * v3 % P) * v % P
  let x = (u * v3 % P) * modPow(u * v7, (P - 5n) / 8n) % P
  const vx2 = (v * x % P) * x % P
  if (vx2 === u) {
    // x is a root
  } else if (vx2 === mod(-u)) {
    x = (x * modPow(2n, (P - 1n) / 4n)) % P
  } else {
    return "not_on_curve"
  }
  if (x === 0n && sign === 1n) return "not_on_curve"
  return undefined
}

// u-coordinates of the small-order points of Curve25519 (and their
// non-canonical encodings), as listed by the libsodium blocklist.
const X25519_SMALL_ORDER = new Set([
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
  "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"
])

/** Why `hex` is not a usable X25519 public key, or `undefined` when it is. */
export const x25519PublicKeyProblem = (hex: string): KeyProblem | undefined => {
  if (!HEX32.test(hex)) return "format"
  // The top bit is ignored by X25519; compare with it cleared.
  const masked = hex.slice(0, 62) + (parseInt(hex.slice(62), 16) & 0x7f).toString(16).padStart(2, "0")
  return X25519_SMALL_ORDER.has(masked) ? "small_order" : undefined
}
