/**
 * `tessera workspaces list|show` and `tessera cleanup
 * personal-workspace-members`: reading workspaces as the system, and the
 * dry-run-first repair of personal workspaces whose members are not exactly
 * their owner as admin (docs/domain.md#maintenance). The repair's report is printed page by
 * page as the walk goes, never held whole: a store with a million broken
 * workspaces prints a million lines in the memory of one page.
 */
import { Args, Command, Options } from "@effect/cli"
import { WorkspacesCursor } from "@tessera/api"
import {
  cleanupPersonalWorkspaceMembersPages,
  DEFAULT_PAGE,
  getWorkspace,
  listWorkspacesPage,
  type PersonalRepair,
  SystemActor,
  Workspace,
  WorkspaceId
} from "@tessera/domain"
import { Effect, Schema, Stream } from "effect"
import { fields, table } from "./output.js"
import { cursor, decodeCursor, json, limit, present, presentJsonPages, presentPage, write } from "./shared.js"

/** Personal workspaces with no owner: listed, left untouched, and the run fails (`missing_owner`). */
class MissingOwner extends Schema.TaggedError<MissingOwner>()("MissingOwner", { message: Schema.String }) {}

const encode = (workspace: Workspace) => Schema.encodeSync(Workspace)(workspace)
const memberList = (members: ReadonlyArray<{ readonly user_id: string; readonly role: string }>) =>
  members.length === 0 ? "(none)" : members.map((m) => `${m.user_id}:${m.role}`).join(", ")

const list = Command.make("list", { limit, cursor, json }, ({ cursor, json, limit }) =>
  Effect.gen(function*() {
    const page = yield* listWorkspacesPage(SystemActor, { after: yield* decodeCursor(WorkspacesCursor, cursor), limit })
    yield* presentPage(json, "workspaces", page, WorkspacesCursor, encode, (workspaces) =>
      table(
        ["ID", "NAME", "PERSONAL", "OWNER", "MEMBERS"],
        workspaces.map((w) => [w.id, w.name, w.is_personal ? "yes" : "no", w.owner_user_id ?? "", String(w.members.length)]),
        "no workspaces"
      ))
  })).pipe(Command.withDescription("list workspaces in id order with their members, a page at a time (--limit, --cursor)"))

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

/** How many ids of unrepairable workspaces the failure line names; the report lists every one. */
const NAMED_IN_FAILURE = 20

const plainRepair = (r: PersonalRepair) => ({ ...r, before: r.before.map((m) => ({ ...m })), after: r.after.map((m) => ({ ...m })) })

const repairLine = (r: PersonalRepair) =>
  r.status === "missing_owner"
    ? `${r.workspace_id}  ERROR: personal workspace with no owner; left untouched (members: ${memberList(r.before)})`
    : `${r.workspace_id}  ${r.status === "repaired" ? "repaired" : "would repair"}: ${memberList(r.before)} -> ${memberList(r.after)}`

const personalMembers = Command.make("personal-workspace-members", { apply, json }, ({ apply, json }) =>
  Effect.gen(function*() {
    let fixed = 0
    let errors = 0
    const unrepairable: Array<string> = []
    const pages = cleanupPersonalWorkspaceMembersPages(SystemActor, { apply }).pipe(
      Stream.tap((page) =>
        Effect.sync(() => {
          for (const r of page) {
            if (r.status !== "missing_owner") fixed++
            else if (errors++ < NAMED_IN_FAILURE) unrepairable.push(r.workspace_id)
          }
        })
      )
    )
    if (json) {
      yield* presentJsonPages({ dry_run: !apply }, "workspaces", Stream.map(pages, (page) => page.map(plainRepair)), () => ({ errors }))
    } else {
      yield* Stream.runForEach(pages, (page) => write(page.map((r) => `${repairLine(r)}\n`).join("")))
      yield* write(
        `${fixed} ${apply ? "repaired" : "to repair"}, ${errors} error${errors === 1 ? "" : "s"}${apply ? "" : " (dry run: pass --apply to write)"}\n`
      )
    }
    if (errors > 0) {
      const more = errors - unrepairable.length
      return yield* new MissingOwner({
        message: `${errors} personal workspace(s) have no owner and were left untouched: ${unrepairable.join(", ")}${
          more > 0 ? ` and ${more} more` : ""
        }`
      })
    }
  })).pipe(Command.withDescription(
    "repair personal workspaces whose members are not exactly their owner as admin; the store is walked in pages of " +
      `${DEFAULT_PAGE} workspaces (each page its own transaction with --apply) and each page is printed as it is done, ` +
      "so any number of workspaces takes the memory of one page (--json prints the same single JSON document, written as it goes)"
  ))

export const cleanup = Command.make("cleanup").pipe(
  Command.withDescription("idempotent, dry-run-first repairs of stored data"),
  Command.withSubcommands([personalMembers])
)
