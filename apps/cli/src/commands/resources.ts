/**
 * `tessera resources tree <workspace>` (an indented tree with each node's
 * direct accesses), `tessera resources roots|children|accesses` (one page of
 * a list, as the HTTP API's, docs/cli.md "Paging") and `tessera check <user>
 * <resource> <action>` (the permission check as the kernel computes it),
 * read as the system.
 */
import { Args, Command, Options } from "@effect/cli"
import { AccessesCursor, ChildrenCursor, RootsCursor } from "@tessera/api"
import {
  Access,
  Action,
  check,
  getWorkspace,
  listAccessesPage,
  listChildrenPage,
  listRootsPage,
  ResourceId,
  ResourceStore,
  Resource,
  SystemActor,
  WorkspaceId
} from "@tessera/domain"
import { Effect, Schema } from "effect"
import { accessSubcommands } from "./access.js"
import { table } from "./output.js"
import { cursor, decodeCursor, InvalidArguments, json, limit, present, presentPage, resolveUser, userArg } from "./shared.js"

interface Node {
  readonly resource: typeof Resource.Encoded
  readonly accesses: ReadonlyArray<{ readonly user_id: string; readonly role: string }>
  readonly children: ReadonlyArray<Node>
}

const workspaceId = Args.text({ name: "workspace-id" }).pipe(Args.withSchema(WorkspaceId))

const tree = Command.make("tree", { workspaceId, json }, ({ json, workspaceId }) =>
  Effect.gen(function*() {
    yield* getWorkspace(SystemActor, workspaceId)
    const store = yield* ResourceStore
    const all = yield* store.listWorkspace(workspaceId)
    const accesses = yield* store.accesses(all.map((r) => r.id))
    const byParent = new Map<string | null, Array<Resource>>()
    for (const r of all) byParent.set(r.parent_id, [...(byParent.get(r.parent_id) ?? []), r])
    // listWorkspace returns each parent's children in sibling order
    const build = (parent: string | null): Array<Node> =>
      (byParent.get(parent) ?? []).map((r) => ({
        resource: Schema.encodeSync(Resource)(r),
        accesses: accesses.filter((a: Access) => a.resource_id === r.id).map((a) => ({ user_id: a.user_id, role: a.role })),
        children: build(r.id)
      }))
    const roots = build(null)
    const lines = (nodes: ReadonlyArray<Node>, depth: number): Array<string> =>
      nodes.flatMap((n) => [
        `${"  ".repeat(depth)}${n.resource.title} (${n.resource.id}, ${n.resource.kind}${n.resource.revoked_at !== null ? ", revoked" : ""})` +
        (n.accesses.length > 0 ? `  ${n.accesses.map((a) => `${a.user_id}:${a.role}`).join(" ")}` : ""),
        ...lines(n.children, depth + 1)
      ])
    yield* present(json, {
      data: () => ({ workspace_id: workspaceId, resources: roots }),
      human: () => (roots.length === 0 ? "no resources" : lines(roots, 0).join("\n"))
    })
  })).pipe(Command.withDescription("print a workspace's resources as an indented tree with each node's direct accesses"))

const encodeResource = (resource: Resource) => Schema.encodeSync(Resource)(resource)
const resourceTable = (resources: ReadonlyArray<Resource>, empty: string) =>
  table(["ID", "KIND", "TITLE", "PARENT"], resources.map((r) => [r.id, r.kind, r.title, r.parent_id]), empty)

const resourceId = Args.text({ name: "resource-id" }).pipe(Args.withSchema(ResourceId))

const roots = Command.make("roots", { workspaceId, limit, cursor, json }, ({ cursor, json, limit, workspaceId }) =>
  Effect.gen(function*() {
    const page = yield* listRootsPage(SystemActor, workspaceId, { after: yield* decodeCursor(RootsCursor, cursor), limit })
    yield* presentPage(json, "resources", page, RootsCursor, encodeResource, (items) => resourceTable(items, "no resources"))
  })).pipe(Command.withDescription("a workspace's live roots in sibling order, a page at a time (--limit, --cursor)"))

const children = Command.make("children", { resourceId, limit, cursor, json }, ({ cursor, json, limit, resourceId }) =>
  Effect.gen(function*() {
    const page = yield* listChildrenPage(SystemActor, resourceId, { after: yield* decodeCursor(ChildrenCursor, cursor), limit })
    yield* presentPage(json, "resources", page, ChildrenCursor, encodeResource, (items) => resourceTable(items, "no children"))
  })).pipe(Command.withDescription("a resource's live children in sibling order, a page at a time (--limit, --cursor)"))

const inherited = Options.boolean("inherited").pipe(Options.withDescription("also the accesses on the resource's ancestors"))

const accesses = Command.make("accesses", { resourceId, inherited, limit, cursor, json }, ({ cursor, inherited, json, limit, resourceId }) =>
  Effect.gen(function*() {
    const page = yield* listAccessesPage(SystemActor, resourceId, inherited, { after: yield* decodeCursor(AccessesCursor, cursor), limit })
    yield* presentPage(json, "accesses", page, AccessesCursor, (a: Access) => Schema.encodeSync(Access)(a), (items) =>
      table(["ID", "RESOURCE", "USER", "ROLE"], items.map((a) => [a.id, a.resource_id, a.user_id, a.role]), "no accesses"))
  })).pipe(Command.withDescription("the direct accesses on a resource (--inherited: and on its ancestors) in access id order, a page at a time (--limit, --cursor)"))

export const resources = Command.make("resources").pipe(
  Command.withDescription("read resource trees and lists, who has access to a resource, and what a user can reach"),
  Command.withSubcommands([tree, roots, children, accesses, ...accessSubcommands])
)

const user = userArg()
const action = Args.choice(Action.literals.map((a) => [a, a] as const), { name: "action" })

export const checkCommand = Command.make("check", { user, resourceId, action, json }, ({ action, json, resourceId, user }) =>
  Effect.gen(function*() {
    const userId = yield* resolveUser(user)
    const [result] = yield* check(SystemActor, [{ user_id: userId, resource_id: resourceId, action }])
    if (result === undefined) return yield* new InvalidArguments({ message: "no result" })
    yield* present(json, {
      data: () => ({ user_id: userId, resource_id: resourceId, action, ...result }),
      human: () => `${result.allowed ? "allowed" : "denied"}: ${userId} may ${result.allowed ? "" : "not "}${action} ${resourceId} (effective role: ${result.role ?? "none"})`
    })
  })).pipe(Command.withDescription("may this user do this action (read|comment|edit|administer|own) on this resource?"))
