/**
 * `tessera users list|show|revoke|delete`: system-admin user management,
 * run as the system. Users carry no secret (API keys are stored as digests
 * only), so nothing here can print one.
 */
import { Command, Options } from "@effect/cli"
import { UsersCursor } from "@tessera/api"
import { deleteUser, getUser, listUsersPage, revokeUser, SystemActor, User } from "@tessera/domain"
import { Effect, Option, Schema } from "effect"
import { fields, table } from "./output.js"
import { cursor, decodeCursor, json, limit, present, presentPage, resolveUser, userArg } from "./shared.js"

const user = userArg()

const encodeUser = (user: User) => Schema.encodeSync(User)(user)

const showUser = (json: boolean) => (user: User) =>
  present(json, { data: () => ({ user: encodeUser(user) }), human: () => fields(encodeUser(user)) })

const list = Command.make("list", { limit, cursor, json }, ({ cursor, json, limit }) =>
  Effect.gen(function*() {
    const page = yield* listUsersPage(SystemActor, { after: yield* decodeCursor(UsersCursor, cursor), limit })
    yield* presentPage(json, "users", page, UsersCursor, encodeUser, (users) =>
      table(
        ["ID", "HANDLE", "ROLE", "STATUS", "CREATED_AT"],
        users.map((u) => [u.id, u.handle, u.role, u.status, u.created_at]),
        "no users"
      ))
  })).pipe(Command.withDescription("list users in id order, a page at a time (--limit, --cursor)"))

const show = Command.make("show", { user, json }, ({ json, user }) =>
  resolveUser(user).pipe(Effect.flatMap((id) => getUser(SystemActor, id)), Effect.flatMap(showUser(json))))
  .pipe(Command.withDescription("show one user"))

const revoke = Command.make("revoke", { user, json }, ({ json, user }) =>
  resolveUser(user).pipe(Effect.flatMap((id) => revokeUser(SystemActor, id)), Effect.flatMap(showUser(json))))
  .pipe(Command.withDescription("revoke a user: every credential of theirs stops working, their data stays (idempotent)"))

const transferTo = Options.text("transfer-to").pipe(
  Options.optional,
  Options.withDescription("an active user (handle or id) who takes over the seats that would otherwise be left without an admin or owner")
)

const remove = Command.make("delete", { user, transferTo, json }, ({ json, transferTo, user }) =>
  Effect.gen(function*() {
    const userId = yield* resolveUser(user)
    const heir = Option.isSome(transferTo) ? Option.some(yield* resolveUser(transferTo.value)) : Option.none()
    const report = yield* deleteUser(SystemActor, userId, heir)
    yield* present(json, { data: () => report, human: () => `deleted user ${userId}\n${fields(report)}` })
  })).pipe(Command.withDescription("delete a user and everything that is only theirs, in one transaction"))

export const users = Command.make("users").pipe(
  Command.withDescription("manage users"),
  Command.withSubcommands([list, show, revoke, remove])
)
