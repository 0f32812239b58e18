/**
 * `tessera workspaces list|show` and `tessera cleanup
 * personal-workspace-members`: reading workspaces as the system, and the
 * dry-run-first repair of personal workspaces whose members are not exactly
 * their owner as admin (SPEC §3.9).
 */
import { Args, Command, Options } from "@effect/cli"
import { cleanupPersonalWorkspaceMembers, getWorkspace, listWorkspaces, SystemActor, Workspace, WorkspaceId } from "@tessera/domain"
import { Effect, Schema } from "effect"
import { fields, table } from "./output.js"
import { InvalidArguments, json, present } from "./shared.js"

const encode = (workspace: Workspace) => Schema.encodeSync(Workspace)(workspace)
const memberList = (members: ReadonlyArray<{ readonly user_id: string; readonly role: string }>) =>
  members.length === 0 ? "(none)" : members.map((m) => `${m.user_id}:${m.role}`).join(", ")

const list = Command.make("list", { json }, ({ json }) =>
  Effect.gen(function*() {
    const workspaces = yield* listWorkspaces(SystemActor)
    yield* present(json, {
      data: () => ({ workspaces: workspaces.map(encode) }),
      human: () =>
        table(
          ["ID", "NAME", "PERSONAL", "OWNER", "MEMBERS"],
          workspaces.map((w) => [w.id, w.name, w.is_personal ? "yes" : "no", w.owner_user_id ?? "", String(w.members.length)]),
          "no workspaces"
        )
    })
  })).pipe(Command.withDescription("list every workspace"))

const workspaceId = Args.text({ name: "workspace-id" }).pipe(Args.withSchema(WorkspaceId))

const show = Command.make("show", { workspaceId, json }, ({ json, workspaceId }) =>
  Effect.gen(function*() {
    const workspace = yield* getWorkspace(SystemActor, workspaceId)
    const { members, ...rest } = encode(workspace)
    yield* present(json, {
      data: () => encode(workspace),
      human: () => `${fields({ ...rest, bundles: rest.bundles.join(", ") })}\nmembers: ${memberList(members)}`
    })
  })).pipe(Command.withDescription("show one workspace with its members"))

export const workspaces = Command.make("workspaces").pipe(
  Command.withDescription("read workspaces"),
  Command.withSubcommands([list, show])
)

const apply = Options.boolean("apply").pipe(Options.withDescription("write the repairs (the default is a dry run)"))

const personalMembers = Command.make("personal-workspace-members", { apply, json }, ({ apply, json }) =>
  Effect.gen(function*() {
    const report = yield* cleanupPersonalWorkspaceMembers(SystemActor, { apply })
    const errors = report.filter((r) => r.status === "missing_owner")
    const fixed = report.filter((r) => r.status !== "missing_owner")
    yield* present(json, {
      data: () => ({ dry_run: !apply, workspaces: report.map((r) => ({ ...r, before: r.before.map((m) => ({ ...m })), after: r.after.map((m) => ({ ...m })) })), errors: errors.length }),
      human: () =>
        [
          ...report.map((r) =>
            r.status === "missing_owner"
              ? `${r.workspace_id}  ERROR: personal workspace with no owner; left untouched (members: ${memberList(r.before)})`
              : `${r.workspace_id}  ${r.status === "repaired" ? "repaired" : "would repair"}: ${memberList(r.before)} -> ${memberList(r.after)}`
          ),
          `${fixed.length} ${apply ? "repaired" : "to repair"}, ${errors.length} error${errors.length === 1 ? "" : "s"}${apply ? "" : " (dry run: pass --apply to write)"}`
        ].join("\n")
    })
    if (errors.length > 0) {
      return yield* new InvalidArguments({
        message: `${errors.length} personal workspace(s) have no owner and were left untouched: ${errors.map((e) => e.workspace_id).join(", ")}`
      })
    }
  })).pipe(Command.withDescription("repair personal workspaces whose members are not exactly their owner as admin"))

export const cleanup = Command.make("cleanup").pipe(
  Command.withDescription("idempotent, dry-run-first repairs of stored data"),
  Command.withSubcommands([personalMembers])
)
