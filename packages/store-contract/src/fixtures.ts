/**
 * Fixtures shared by the store suites and app tests: real key pairs (only
 * the public halves are ever sent), and small helpers around the use cases.
 */
import {
  EventLog,
  type Handle,
  type InviteTerms,
  mintInvite,
  type Principal,
  register
} from "@tessera/domain"
import { generateKeyPairSync } from "node:crypto"
import { Effect } from "effect"

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

/** Mints a registration invite and registers through it; returns the new user and their API key. */
export const registerUser = (admin: Principal, terms: Partial<Extract<InviteTerms, { kind: "registration" }>> = {}) =>
  Effect.gen(function*() {
    const { token } = yield* mintInvite(admin, { kind: "registration", handle: uniqueHandle(), ...terms })
    const keys = publicKeys()
    return yield* register({ token, ...keys })
  })


/** The seq of the newest event, paging through the whole log. */
export const lastSeq = Effect.flatMap(EventLog, (log) =>
  Effect.gen(function*() {
    let after = 0
    for (;;) {
      const page = yield* log.list({ after, limit: 1000 })
      if (page.length === 0) return after
      after = page[page.length - 1]!.seq
    }
  }))
