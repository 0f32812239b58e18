/**
 * `tessera invites mint|list|show|cancel|purge-expired`, run as the system.
 * `mint` is the only place an invite token is printed, once; every other
 * command shows invites as stored, which holds a digest, never the token.
 * `purge-expired` is a dry run unless `--apply` is given; it walks the
 * store page by page and never holds every invite it finds.
 */
import { Args, Command, Options } from "@effect/cli"
import { InvitesCursor } from "@tessera/api"
import {
  cancelInvite,
  DEFAULT_PAGE,
  getInvite,
  Invite,
  InviteId,
  InviteKind,
  InviteStatus,
  InviteTerms,
  listInvitesPage,
  mintInvite,
  purgeExpiredInvitesPages,
  ResourceRole,
  SystemActor,
  SystemRole,
  WorkspaceRole
} from "@tessera/domain"
import { Console, Effect, Option, Redacted, Schema, Stream } from "effect"
import { fields, table } from "./output.js"
import {
  cursor,
  decodeCursor,
  decodeFlags,
  givenFlags,
  json,
  limit,
  present,
  presentJsonPages,
  presentPage,
  terminalProgress
} from "./shared.js"

const encodeInvite = (invite: Invite) => Schema.encodeSync(Invite)(invite)

const termsOf = (invite: Invite) =>
  [
    invite.handle === null ? null : `handle=${invite.handle}`,
    invite.role === null ? null : `role=${invite.role}`,
    invite.workspace_id === null ? null : `workspace=${invite.workspace_id} as ${invite.workspace_role}`,
    invite.resource_id === null ? null : `resource=${invite.resource_id} as ${invite.resource_role}`
  ].filter((term) => term !== null).join(" ")

const inviteTable = (invites: ReadonlyArray<Invite>, empty: string) =>
  table(
    ["ID", "KIND", "STATUS", "TERMS", "EXPIRES_AT"],
    invites.map((i) => [i.id, i.kind, i.status, termsOf(i), i.expires_at]),
    empty
  )

const showInvite = (json: boolean) => (invite: Invite) =>
  present(json, { data: () => ({ invite: encodeInvite(invite) }), human: () => fields(encodeInvite(invite)) })

const inviteId = Args.text({ name: "invite-id" }).pipe(Args.withSchema(InviteId))

// Mint's flags are gathered as written and validated by the domain's
// InviteTerms, so the command line accepts exactly what the HTTP API does.
const mintFlags = {
  kind: Options.choice("kind", InviteKind.literals).pipe(Options.withDescription("who the invite is for")),
  handle: Options.text("handle").pipe(Options.optional, Options.withDescription("registration: the new user's handle")),
  role: Options.choice("role", SystemRole.literals).pipe(
    Options.optional,
    Options.withDescription("registration: the new user's system role (default member)")
  ),
  workspace_id: Options.text("workspace-id").pipe(Options.optional, Options.withDescription("grant a membership of this workspace")),
  workspace_role: Options.choice("workspace-role", WorkspaceRole.literals).pipe(Options.optional),
  resource_id: Options.text("resource-id").pipe(Options.optional, Options.withDescription("grant an access to this resource")),
  resource_role: Options.choice("resource-role", ResourceRole.literals).pipe(Options.optional),
  ttl_seconds: Options.integer("ttl-seconds").pipe(
    Options.optional,
    Options.withDescription("lifetime, 60 s to 30 days (default 7 days)")
  )
}

const mint = Command.make("mint", { ...mintFlags, json }, ({ json, kind, ...optional }) =>
  Effect.gen(function*() {
    const terms = yield* decodeFlags(InviteTerms, { kind, ...givenFlags(optional) })
    const { invite, token } = yield* mintInvite(SystemActor, terms)
    yield* present(json, {
      data: () => ({ invite: encodeInvite(invite), token: Redacted.value(token) }),
      human: () =>
        [
          `minted ${invite.kind} invite ${invite.id} (${termsOf(invite)}), expires ${invite.expires_at}`,
          `token (shown only now): ${Redacted.value(token)}`
        ].join("\n")
    })
  })).pipe(Command.withDescription("mint an invite with fixed terms and print its token once"))

const list = Command.make("list", {
  status: Options.choice("status", InviteStatus.literals).pipe(Options.optional),
  workspaceId: Options.text("workspace-id").pipe(Options.optional),
  resourceId: Options.text("resource-id").pipe(Options.optional),
  limit,
  cursor,
  json
}, (query) =>
  Effect.gen(function*() {
    const page = yield* listInvitesPage(SystemActor, {
      status: Option.getOrUndefined(query.status),
      workspaceId: Option.getOrUndefined(query.workspaceId),
      resourceId: Option.getOrUndefined(query.resourceId)
    }, { after: yield* decodeCursor(InvitesCursor, query.cursor), limit: query.limit })
    yield* presentPage(query.json, "invites", page, InvitesCursor, encodeInvite, (invites) => inviteTable(invites, "no invites"))
  })).pipe(Command.withDescription("list invites with their current state, oldest first, a page at a time (--limit, --cursor)"))

const show = Command.make("show", { inviteId, json }, ({ inviteId, json }) =>
  Effect.flatMap(getInvite(SystemActor, inviteId), showInvite(json)))
  .pipe(Command.withDescription("show one invite"))

const cancel = Command.make("cancel", { inviteId, json }, ({ inviteId, json }) =>
  Effect.flatMap(cancelInvite(SystemActor, inviteId), showInvite(json))).pipe(
    Command.withDescription("cancel a pending invite (idempotent; a redeemed invite is a conflict)")
  )

const apply = Options.boolean("apply").pipe(Options.withDescription("record them as expired (default: only list them)"))

/** How many of the invites found the human report shows; `--json` lists every one. */
const SHOWN = 100

const purgeExpired = Command.make("purge-expired", { apply, json }, ({ apply, json }) =>
  Effect.gen(function*() {
    const pages = purgeExpiredInvitesPages(SystemActor, { apply })
    if (json) return yield* presentJsonPages({ dry_run: !apply }, "invites", Stream.map(pages, (page) => page.map(encodeInvite)), () => ({}))
    let found = 0
    const shown: Array<Invite> = []
    const progress = terminalProgress(json)
    yield* Stream.runForEach(pages, (page) => {
      found += page.length
      shown.push(...page.slice(0, SHOWN - shown.length))
      return progress.show(`${apply ? "recording" : "finding"} expired invites… ${found}`)
    }).pipe(Effect.ensuring(progress.done))
    const more = found - shown.length
    yield* Console.log(
      [
        apply
          ? `recorded ${found} invite(s) as expired`
          : `${found} pending invite(s) past their expiry (dry run: run with --apply to record them)`,
        inviteTable(shown, ""),
        more > 0 ? `… and ${more} more (--json lists every one)` : ""
      ].join("\n").trimEnd()
    )
  })).pipe(Command.withDescription(
    "find pending invites past their expiry and, with --apply, record them as expired; the store is walked in pages of " +
      `${DEFAULT_PAGE} invites (each page its own transaction with --apply), so any number of invites takes the memory of one page: ` +
      `the table shows the count and the first ${SHOWN}, --json prints every one (the same single JSON document, written as it goes)`
  ))

export const invites = Command.make("invites").pipe(
  Command.withDescription("mint and manage invites"),
  Command.withSubcommands([mint, list, show, cancel, purgeExpired])
)
