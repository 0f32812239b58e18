/**
 * Identity use cases: authentication, the transaction every write runs in
 * on behalf of an actor, and the users a system admin manages. Flows that
 * reach into other areas (registration, bootstrap, deletion) live in
 * `lifecycle/`.
 */
import { Effect, Option, Redacted } from "effect"
import { EventLog } from "../events/ports.js"
import { Unauthenticated } from "../shared/errors.js"
import type { UserId } from "../shared/ids.js"
import { keysetPage, type PageRequest } from "../shared/pages.js"
import { now } from "../shared/time.js"
import { parseToken, tokenDigest } from "../shared/tokens.js"
import { type InTransaction, Transactor } from "../shared/transactor.js"
import { LastSystemAdmin, UserNotFound } from "./errors.js"
import { requireSystemAdmin } from "./policy.js"
import { ApiKeyStore, LinkCredentialStore, UserStore } from "./ports.js"
import { type Actor, actorName, actorUserId, isLinkBearer, isSystem, type LinkBearer, type Principal, User } from "./schemas.js"
import { spanned } from "../shared/spans.js"

/**
 * Resolves a bearer API key to its active owner. A malformed token is
 * refused before any lookup. On every request, so untraced: a span and its
 * call-site capture cost more than the lookup (docs/performance.md, "The
 * check path"); the owner's statement keeps its own span when traced.
 */
export const authenticate = Effect.fnUntraced(function*(presented: Redacted.Redacted<string>) {
  const raw = Redacted.value(presented)
  if (raw.startsWith("tsl_")) return yield* new Unauthenticated({ message: "a share link opens its resource only, not this" })
  const token = parseToken("tsk", raw)
  if (Option.isNone(token)) return yield* new Unauthenticated({ message: "malformed API key" })
  const digest = yield* tokenDigest(token.value)
  const owner = yield* Effect.flatMap(ApiKeyStore, (keys) => keys.findActiveOwner(digest))
  if (Option.isNone(owner)) return yield* new Unauthenticated({ message: "unknown or revoked API key" })
  return owner.value satisfies Principal
})

/**
 * Resolves a bearer that may be an API key or a share link (`tsl_`): the
 * resources' endpoints accept both. A disabled or rotated link is refused
 * at once.
 */
export const authenticateBearer = spanned("authenticateBearer", function*(presented: Redacted.Redacted<string>) {
  const raw = Redacted.value(presented)
  if (!raw.startsWith("tsl_")) return (yield* authenticate(presented)) as Principal | LinkBearer
  const token = parseToken("tsl", raw)
  if (Option.isNone(token)) return yield* new Unauthenticated({ message: "malformed share link" })
  const bearer = yield* Effect.flatMap(LinkCredentialStore, (links) =>
    Effect.flatMap(tokenDigest(token.value), (digest) => links.findActive(digest)))
  if (Option.isNone(bearer)) return yield* new Unauthenticated({ message: "unknown, disabled or rotated share link" })
  return bearer.value as Principal | LinkBearer
})

/**
 * The actor as the store holds them now, under a shared lock held to
 * commit. A request authenticates before its transaction opens; a user
 * deleted or revoked in between (or a link disabled or rotated) is refused
 * here, and a delete or revocation that starts later waits until this
 * transaction is done.
 */
const revalidate = (
  actor: Actor
): Effect.Effect<Actor, Unauthenticated, UserStore | LinkCredentialStore | InTransaction> => {
  if (isSystem(actor)) return Effect.succeed(actor)
  if (isLinkBearer(actor)) {
    return Effect.flatMap(LinkCredentialStore, (links) => links.hold(actor.linkId)).pipe(
      Effect.flatMap(Option.match({
        onNone: () => Effect.fail(new Unauthenticated({ message: "the share link was disabled or rotated" })),
        onSome: (held) => Effect.succeed<Actor>(held)
      }))
    )
  }
  return Effect.flatMap(UserStore, (users) => users.hold(actor.user.id)).pipe(
    Effect.flatMap((held) => Effect.map(requireActiveHeld(held), (user): Actor => ({ ...actor, user })))
  )
}

/** The calling user's row as the transaction holds it: refused when they were deleted or revoked meanwhile. */
export const requireActiveHeld = (held: Option.Option<User>): Effect.Effect<User, Unauthenticated> =>
  Option.isNone(held)
    ? Effect.fail(new Unauthenticated({ message: "the calling user no longer exists" }))
    : held.value.status === "active"
    ? Effect.succeed(held.value)
    : Effect.fail(new Unauthenticated({ message: "the calling user is revoked" }))

/**
 * Runs a use case's whole program — its reads, permission checks and
 * writes — in one transaction on behalf of `actor`, re-read and held first
 * (`revalidate`). The program receives the actor as held: every decision
 * inside is made on the state this transaction commits against.
 */
export const transactAs = <A, E, R>(
  actor: Actor,
  program: (actor: Actor) => Effect.Effect<A, E, R>
): Effect.Effect<A, E | Unauthenticated, Exclude<R, InTransaction> | UserStore | LinkCredentialStore | Transactor> =>
  Transactor.run(Effect.flatMap(revalidate(actor), program)) as Effect.Effect<
    A,
    E | Unauthenticated,
    Exclude<R, InTransaction> | UserStore | LinkCredentialStore | Transactor
  >

export const listUsers = spanned("listUsers", function*(actor: Actor) {
  yield* requireSystemAdmin(actor)
  return yield* Effect.flatMap(UserStore, (users) => users.list)
})

/** One page of every user, active and revoked, in id order (system admins). */
export const listUsersPage = spanned("listUsersPage", function*(actor: Actor, request: PageRequest<UserId>) {
  yield* requireSystemAdmin(actor)
  const users = yield* UserStore
  return yield* keysetPage(request, users.page, (user) => user.id)
})

export const loadUser = (id: UserId) =>
  Effect.flatMap(UserStore, (users) => users.findById(id)).pipe(
    Effect.flatMap(Option.match({
      onNone: () => Effect.fail(new UserNotFound({ userId: id })),
      onSome: Effect.succeed
    }))
  )

/** A system admin sees any user; anyone sees themself. */
export const getUser = spanned("getUser", function*(actor: Actor, id: UserId) {
  if (actorUserId(actor) !== id) yield* requireSystemAdmin(actor)
  return yield* loadUser(id)
})

/** Refuses to take away the last active system admin. */
export const guardLastSystemAdmin = spanned("guardLastSystemAdmin", function*(target: User) {
  if (target.role !== "admin" || target.status !== "active") return
  if ((yield* Effect.flatMap(UserStore, (u) => u.countActiveAdmins)) <= 1) {
    return yield* new LastSystemAdmin({ userId: target.id })
  }
})

/** Revokes a user: their credentials stop working at once, their data stays. Idempotent. */
export const revokeUser = spanned("revokeUser", function*(actor: Actor, id: UserId) {
  return yield* transactAs(actor, (actor) =>
    Effect.gen(function*() {
      yield* requireSystemAdmin(actor)
      const users = yield* UserStore
      yield* users.lock(id)
      const target = yield* loadUser(id)
      if (target.status === "revoked") return target
      yield* guardLastSystemAdmin(target)
      const at = yield* now
      yield* users.revoke(id, at)
      yield* Effect.flatMap(EventLog, (log) => log.append(at, [{ type: "user.revoked", actor: actorName(actor), data: { user_id: id } }]))
      return new User({ ...target, status: "revoked", revoked_at: at })
    }))
})
