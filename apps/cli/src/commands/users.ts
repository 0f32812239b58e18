/**
 * `tessera users list|show|revoke|delete`: system-admin user management,
 * run as the system. Users carry no secret (API keys are stored as digests
 * only), so nothing here can print one.
 */
import { Args, Command, Options } from "@effect/cli"
import { deleteUser, getUser, listUsers, revokeUser, SystemActor, User, UserId } from "@tessera/domain"
import { Effect, Schema } from "effect"
import { fields, table } from "./output.js"
import { json, present } from "./shared.js"

const userId = Args.text({ name: "user-id" }).pipe(Args.withSchema(UserId))

const encodeUser = (user: User) => Schema.encodeSync(User)(user)

const showUser = (json: boolean) => (user: User) =>
  present(json, { data: () => ({ user: encodeUser(user) }), human: () => fields(encodeUser(user)) })

const list = Command.make("list", { json }, ({ json }) =>
  Effect.gen(function*() {
    const users = yield* listUsers(SystemActor)
    yield* present(json, {
      data: () => ({ users: users.map(encodeUser) }),
      human: () =>
        table(
          ["ID", "HANDLE", "ROLE", "STATUS", "CREATED_AT"],
          users.map((u) => [u.id, u.handle, u.role, u.status, u.created_at]),
          "no users"
        )
    })
  })).pipe(Command.withDescription("list every user"))

const show = Command.make("show", { userId, json }, ({ json, userId }) =>
  Effect.flatMap(getUser(SystemActor, userId), showUser(json)))
  .pipe(Command.withDescription("show one user"))

const revoke = Command.make("revoke", { userId, json }, ({ json, userId }) =>
  Effect.flatMap(revokeUser(SystemActor, userId), showUser(json)))
  .pipe(Command.withDescription("revoke a user: every credential of theirs stops working, their data stays (idempotent)"))

const transferTo = Options.text("transfer-to").pipe(
  Options.withSchema(UserId),
  Options.optional,
  Options.withDescription("an active user who takes over the seats that would otherwise be left without an admin or owner")
)

const remove = Command.make("delete", { userId, transferTo, json }, ({ json, transferTo, userId }) =>
  Effect.gen(function*() {
    const report = yield* deleteUser(SystemActor, userId, transferTo)
    yield* present(json, { data: () => report, human: () => `deleted user ${userId}\n${fields(report)}` })
  })).pipe(Command.withDescription("delete a user and everything that is only theirs, in one transaction"))

export const users = Command.make("users").pipe(
  Command.withDescription("manage users"),
  Command.withSubcommands([list, show, revoke, remove])
)
