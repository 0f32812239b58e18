/**
 * Who has access and why, and what a user can reach (docs/access.md), read
 * as the system: `tessera explain <user> <resource>` (the role the check
 * gives and the grants that decide it, or why there is none),
 * `tessera resources principals <resource>` (the share panel) and
 * `tessera resources reachable <user> --action read` (every live resource
 * the user can act on). The lists walk the store a page at a time and print
 * as they go; they never hold every row.
 */
import { Args, Command, Options } from "@effect/cli"
import {
  Action,
  DEFAULT_PAGE,
  explainAccess,
  listPrincipals,
  listReachable,
  type PrincipalsKey,
  type AccessReason,
  Resource,
  ResourceId,
  type ResourcePrincipal,
  SystemActor,
  WorkspaceId
} from "@tessera/domain"
import { Effect, Option, Schema, Stream } from "effect"
import { table } from "./output.js"
import { json, present, presentJsonPages, resolveUser, userArg, write } from "./shared.js"

const user = userArg()
const resourceId = Args.text({ name: "resource-id" }).pipe(Args.withSchema(ResourceId))

/** One grant or denial as a line of text. */
export const describeReason = (reason: AccessReason): string => {
  switch (reason.kind) {
    case "direct":
      return `direct ${reason.role} (access ${reason.access_id})`
    case "inherited":
      return `inherited ${reason.role} from ${reason.resource_id} (access ${reason.access_id})`
    case "workspace_admin":
      return "workspace admin: administrator"
    case "workspace_link":
      return `shared with the workspace on ${reason.resource_id}: ${reason.role}`
    case "revoked":
      return `revoked at ${reason.resource_id}`
    case "not_member":
      return "not a member of the workspace, and no access on the path"
    case "no_grant":
      return "a member of the workspace, but nothing on the path grants a role"
    case "user_inactive":
      return `user ${reason.user_id} does not exist or is revoked`
    case "not_found":
      return `resource ${reason.resource_id} does not exist`
  }
}

export const explainCommand = Command.make("explain", { user, resourceId, json }, ({ json, resourceId, user }) =>
  Effect.gen(function*() {
    const userId = yield* resolveUser(user)
    const answer = yield* explainAccess(SystemActor, userId, resourceId)
    yield* present(json, {
      data: () => ({ user_id: userId, resource_id: resourceId, role: answer.role, because: answer.because }),
      human: () =>
        [
          `${userId} on ${resourceId}: ${answer.role ?? "no role"}`,
          ...answer.because.map((reason) => `  ${describeReason(reason)}`)
        ].join("\n")
    })
  })).pipe(Command.withDescription("why does this user have the role they have on this resource (or none)? prints the grants that decide it"))

const pageSize = Options.integer("page-size").pipe(
  Options.withDefault(DEFAULT_PAGE),
  Options.withDescription("rows per store page (the output is the same; only memory and round trips change)")
)

const principals = Command.make("principals", { resourceId, json, pageSize }, ({ json, pageSize, resourceId }) =>
  Effect.gen(function*() {
    // the share links come with every page; the first page's are the resource's
    const first = yield* listPrincipals(SystemActor, resourceId, { limit: pageSize })
    const rest = first.next === null ? Stream.empty : Stream.paginateEffect(first.next as PrincipalsKey | null, (after) =>
      Effect.map(
        listPrincipals(SystemActor, resourceId, { after, limit: pageSize }),
        (page) => [page.principals, Option.fromNullable(page.next).pipe(Option.map((next) => next as PrincipalsKey | null))] as const
      ))
    const all = Stream.concat(Stream.succeed<ReadonlyArray<ResourcePrincipal>>(first.principals), rest).pipe(Stream.filter((rows) => rows.length > 0))
    if (json) {
      return yield* presentJsonPages({ resource_id: resourceId }, "principals", all, () => ({ share_links: first.share_links }))
    }
    let any = false
    yield* Stream.runForEach(all, (rows) => {
      const lines = rows.map((p) => `${p.user_id}  ${p.role.padEnd(13)}  ${p.grants.map(describeReason).join("; ")}`)
      any = true
      return write(lines.join("\n") + "\n")
    })
    if (!any) yield* write("no one has a role on it\n")
    if (first.share_links.length > 0) {
      yield* write(table(["SHARE_LINK", "ON", "ROLE"], first.share_links.map((l) => [l.id, l.resource_id, l.role]), "") + "\n")
    }
  })).pipe(Command.withDescription("every user with a role on this resource, with that role and the grants that give it, and the active share links on its path"))

const action = Options.choice("action", Action.literals).pipe(
  Options.withDefault("read" as const),
  Options.withDescription("what the user must be able to do (default read)")
)
const workspace = Options.text("workspace-id").pipe(
  Options.withSchema(WorkspaceId),
  Options.optional,
  Options.withDescription("only resources in this workspace")
)

const reachable = Command.make("reachable", { user, action, workspace, json, pageSize }, ({ action, json, pageSize, user, workspace }) =>
  Effect.gen(function*() {
    const userId = yield* resolveUser(user)
    const workspaceId = Option.getOrNull(workspace)
    // the first page is read before anything is printed, so an unknown user fails cleanly
    const first = yield* listReachable(SystemActor, userId, action, { workspaceId }, { limit: pageSize })
    const rest = first.next === null ? Stream.empty : Stream.paginateEffect(first.next as ResourceId | null, (after) =>
      Effect.map(
        listReachable(SystemActor, userId, action, { workspaceId }, { after, limit: pageSize }),
        (page) => [page.resources, Option.fromNullable(page.next).pipe(Option.map((next) => next as ResourceId | null))] as const
      ))
    const all = Stream.concat(Stream.succeed<ReadonlyArray<Resource>>(first.resources), rest).pipe(Stream.filter((rows) => rows.length > 0))
    const encode = Schema.encodeSync(Resource)
    if (json) {
      return yield* presentJsonPages({ user_id: userId, action, workspace_id: workspaceId }, "resources", Stream.map(all, (rows) => rows.map((r) => encode(r))), () => ({}))
    }
    let any = false
    yield* Stream.runForEach(all, (rows) => {
      any = true
      return write(rows.map((r) => `${r.id}  ${r.workspace_id}  ${r.kind}  ${r.title}`).join("\n") + "\n")
    })
    if (!any) yield* write(`${userId} can ${action} nothing\n`)
  })).pipe(Command.withDescription("every live resource this user can act on (--action read|comment|edit|administer|own), in id order"))

/** The access subcommands of `tessera resources`. */
export const accessSubcommands = [principals, reachable] as const
