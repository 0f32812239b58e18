/**
 * Fixtures shared by the store suites and app tests: real key pairs (only
 * the public halves are ever sent), and small helpers around the use cases.
 */
import {
  bootstrapAdmin,
  type Handle,
  type InviteTerms,
  mintInvite,
  type Principal,
  register
} from "@tessera/domain"
import { generateKeyPairSync } from "node:crypto"
import { Effect, Option, Redacted } from "effect"

const rawPublicHex = (type: "ed25519" | "x25519") => {
  const { publicKey } = generateKeyPairSync(type as "ed25519")
  const jwk = publicKey.export({ format: "jwk" }) as { x: string }
  return Buffer.from(jwk.x, "base64url").toString("hex")
}

/** A fresh Ed25519 signing key and X25519 key-exchange key, public halves in lowercase hex. */
export const publicKeys = () => ({ signPub: rawPublicHex("ed25519"), kexPub: rawPublicHex("x25519") })

let counter = 0
/** A handle unique within this process. */
export const uniqueHandle = (stem = "user"): Handle =>
  `${stem}-${process.pid.toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 6)}` as Handle

/** Bootstraps the store's admin, or authenticates as an existing one made by an earlier test. */
export const adminPrincipal = Effect.gen(function*() {
  const { user } = yield* bootstrapAdmin({ handle: "admin" as Handle, apiKey: Option.none() }).pipe(
    Effect.catchTag("AlreadyBootstrapped", () => Effect.die("the store is already bootstrapped"))
  )
  return { user, apiKeyId: "key_00000000000000000000000000000000" } as unknown as Principal
})

/** Mints a registration invite and registers through it; returns the new user and their API key. */
export const registerUser = (admin: Principal, terms: Partial<Extract<InviteTerms, { kind: "registration" }>> = {}) =>
  Effect.gen(function*() {
    const { token } = yield* mintInvite(admin, { kind: "registration", handle: uniqueHandle(), ...terms })
    const keys = publicKeys()
    return yield* register({ token, ...keys })
  })

export const secretValue = (r: Redacted.Redacted<string>) => Redacted.value(r)
