/**
 * `tessera resources tree <workspace>` (an indented tree with each node's
 * direct accesses) and `tessera check <user> <resource> <action>` (the
 * permission check as the kernel computes it), read as the system.
 */
import { Args, Command } from "@effect/cli"
import { Access, Action, check, ResourceId, ResourceStore, Resource, SystemActor, WorkspaceId, getWorkspace } from "@tessera/domain"
import { Effect, Schema } from "effect"
import { accessSubcommands } from "./access.js"
import { InvalidArguments, json, present, resolveUser, userArg } from "./shared.js"

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

export const resources = Command.make("resources").pipe(
  Command.withDescription("read resource trees, who has access to a resource, and what a user can reach"),
  Command.withSubcommands([tree, ...accessSubcommands])
)

const user = userArg()
const resourceId = Args.text({ name: "resource-id" }).pipe(Args.withSchema(ResourceId))
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
