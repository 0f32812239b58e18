/**
 * What each domain failure answers with (docs/http.md): its wire error — the
 * `error` code, a message and the details a caller needs — for the HTTP
 * service and for the CLI's `--json` alike, so both speak one vocabulary.
 * Status codes are attached to the wire classes in `errors.ts`. A message
 * never quotes more than a short prefix of what a client sent.
 */
import type * as Domain from "@tessera/domain"
import { ParseResult } from "effect"
import * as ApiErrors from "./errors.js"

export type DomainError =
  | Domain.Unauthenticated
  | Domain.Forbidden
  | Domain.UserNotFound
  | Domain.NotFound
  | Domain.UserExists
  | Domain.LastSystemAdmin
  | Domain.InvalidKey
  | Domain.InviteNotFound
  | Domain.InviteAlreadyRedeemed
  | Domain.InviteExpired
  | Domain.InviteCanceled
  | Domain.WrongInviteKind
  | Domain.Conflict
  | Domain.AlreadyMember
  | Domain.AlreadyBootstrapped
  | Domain.MalformedToken
  | Domain.PersonalWorkspaceInvariantError
  | Domain.PersonalWorkspaceUnavailable
  | Domain.LastAdmin
  | Domain.LastOwner
  | Domain.InvalidMove
  | Domain.ResourceRevoked
  | ParseResult.ParseError

const KEY_PROBLEMS = {
  format: "must be 32 bytes as 64 lowercase hex characters",
  not_on_curve: "is not a valid Ed25519 public key (not a point on the curve)",
  small_order: "is a small-order X25519 point"
} as const

/** How much of a client's value a message quotes. */
const QUOTED = 64

/** How many issues one reply lists; the message says how many there were. */
const MAX_ISSUES = 50

const shorten = (text: string, max = QUOTED) => {
  if (text.length <= max) return text
  // never split a surrogate pair
  const end = /[\uD800-\uDBFF]/.test(text[max - 1]!) ? max - 1 : max
  return `${text.slice(0, end)}…`
}

/**
 * A schema message with the client's value cut to a short prefix: Effect
 * Schema quotes the whole value (`Expected …, actual <value>`, or a string
 * literal inside a transformation's message), which may be most of a body.
 * Scanned by hand: a regular expression over a long value can exhaust the
 * stack of the regular-expression engine.
 */
const quotingShortly = (message: string) => {
  const actual = message.startsWith("Expected ") ? message.indexOf(", actual ") : -1
  if (actual >= 0) {
    const at = actual + ", actual ".length
    return message.slice(0, at) + shorten(message.slice(at))
  }
  let out = ""
  let i = 0
  while (i < message.length) {
    const open = message.indexOf("\"", i)
    if (open < 0) {
      out += message.slice(i)
      break
    }
    let close = open + 1
    while (close < message.length && message[close] !== "\"") close += message[close] === "\\" ? 2 : 1
    out += `${message.slice(i, open)}"${shorten(message.slice(open + 1, Math.min(close, message.length)))}"`
    i = close + 1
  }
  return shorten(out, 8 * QUOTED)
}

const toIssue = (issue: { readonly path: ReadonlyArray<PropertyKey>; readonly message: string }) =>
  new ApiErrors.Issue({ path: issue.path.map((key) => shorten(String(key))).join("."), message: quotingShortly(issue.message) })

export const invalidRequest = (issues: ReadonlyArray<ApiErrors.Issue>, message = "the request does not match its schema") =>
  new ApiErrors.InvalidRequest({ message, issues })

/** The 400 for schema issues: the first `MAX_ISSUES` of them, each quoting the bad value only shortly. */
interface SchemaIssue {
  readonly _tag: string
  readonly path: ReadonlyArray<PropertyKey>
  readonly message: string
}

/** `Expected <what>, actual <value>` as its two parts, found without a regular expression (the value may be long). */
const expectedOf = (message: string): readonly [string, string] | undefined => {
  if (!message.startsWith("Expected ")) return undefined
  const at = message.indexOf(", actual ")
  return at < 0 ? undefined : [message.slice("Expected ".length, at), message.slice(at + ", actual ".length)]
}

/**
 * One issue per bad value. With `errors: "all"`, a value that misses a
 * union is reported once per member (`Expected "read", actual "fly"`,
 * `Expected "comment", …`), and a field that may be left out once more as
 * `Expected undefined` — which JSON and query strings cannot carry. Such
 * alternatives at one path are joined into one issue naming them all, and
 * `undefined` is left out wherever the value fails otherwise too.
 */
const oneIssuePerValue = (issues: ReadonlyArray<SchemaIssue>): ReadonlyArray<SchemaIssue> => {
  const keyOf = (issue: SchemaIssue) => JSON.stringify(issue.path.map(String))
  const byPath = new Map<string, Array<SchemaIssue>>()
  for (const issue of issues) {
    const key = keyOf(issue)
    const siblings = byPath.get(key)
    if (siblings === undefined) byPath.set(key, [issue])
    else siblings.push(issue)
  }
  const out: Array<SchemaIssue> = []
  for (const issue of issues) {
    const siblings = byPath.get(keyOf(issue))!
    if (siblings.length === 1) {
      out.push(issue)
      continue
    }
    if (siblings[0] !== issue) continue
    const undefinedAlternative = (i: SchemaIssue) => i._tag === "Type" && expectedOf(i.message)?.[0] === "undefined"
    const rest = siblings.filter((i) => !undefinedAlternative(i))
    const alternatives = rest.filter((i) => i._tag === "Type").map((i) => expectedOf(i.message))
    const actuals = new Set(alternatives.map((m) => m?.[1]))
    if (alternatives.length > 1 && alternatives.length === rest.length && actuals.size === 1 && alternatives.every((m) => m !== undefined)) {
      out.push({ ...issue, message: `Expected ${alternatives.map((m) => m![0]).join(" | ")}, actual ${alternatives[0]![1]}` })
    } else {
      out.push(...(rest.length > 0 ? rest : siblings))
    }
  }
  return out
}

export const invalidFromIssues = (all: ReadonlyArray<SchemaIssue>) => {
  const issues = oneIssuePerValue(all)
  return issues.length <= MAX_ISSUES
    ? invalidRequest(issues.map(toIssue))
    : invalidRequest(
      issues.slice(0, MAX_ISSUES).map(toIssue),
      `the request does not match its schema (the first ${MAX_ISSUES} of ${issues.length} issues)`
    )
}

export const invalidRequestOf = (error: ParseResult.ParseError) =>
  invalidFromIssues(ParseResult.ArrayFormatter.formatErrorSync(error))

/** The wire error each domain failure becomes, by its tag: what an operation must declare when its use case can fail so. */
interface WireByTag {
  readonly Unauthenticated: ApiErrors.Unauthenticated
  readonly Forbidden: ApiErrors.Forbidden
  readonly UserNotFound: ApiErrors.NotFound
  readonly NotFound: ApiErrors.NotFound
  readonly UserExists: ApiErrors.UserExists
  readonly LastSystemAdmin: ApiErrors.LastSystemAdmin
  readonly InvalidKey: ApiErrors.InvalidKey
  readonly InviteNotFound: ApiErrors.InviteNotFound
  readonly InviteAlreadyRedeemed: ApiErrors.InviteAlreadyRedeemed
  readonly InviteExpired: ApiErrors.InviteExpired
  readonly InviteCanceled: ApiErrors.InviteCanceled
  readonly WrongInviteKind: ApiErrors.WrongInviteKind
  readonly Conflict: ApiErrors.Conflict
  readonly AlreadyBootstrapped: ApiErrors.Conflict
  readonly AlreadyMember: ApiErrors.AlreadyMember
  readonly MalformedToken: ApiErrors.InvalidRequest
  readonly PersonalWorkspaceInvariantError: ApiErrors.PersonalWorkspaceInvariant
  readonly PersonalWorkspaceUnavailable: ApiErrors.Conflict
  readonly LastAdmin: ApiErrors.LastAdmin
  readonly LastOwner: ApiErrors.LastOwner
  readonly InvalidMove: ApiErrors.InvalidMove
  readonly ResourceRevoked: ApiErrors.ResourceRevoked
  readonly ParseError: ApiErrors.InvalidRequest
}

/** The wire errors a use case failing with `E` can answer. */
export type WireOf<E extends DomainError> = E extends { readonly _tag: infer Tag extends keyof WireByTag } ? WireByTag[Tag] : never

const toWireError = (error: DomainError): WireByTag[keyof WireByTag] => {
  switch (error._tag) {
    case "Unauthenticated":
      return new ApiErrors.Unauthenticated({ message: error.message })
    case "Forbidden":
      return new ApiErrors.Forbidden({ message: error.message })
    case "UserNotFound":
      return new ApiErrors.NotFound({ message: `no user ${error.userId}` })
    case "NotFound":
      return new ApiErrors.NotFound({ message: `no ${error.what} ${error.id}` })
    case "UserExists":
      return new ApiErrors.UserExists({ message: error.message, field: error.field })
    case "LastSystemAdmin":
      return new ApiErrors.LastSystemAdmin({ message: `${error.userId} is the last active system admin` })
    case "InvalidKey":
      return new ApiErrors.InvalidKey({ message: `${error.field} ${KEY_PROBLEMS[error.problem]}`, field: error.field })
    case "InviteNotFound":
      return new ApiErrors.InviteNotFound({ message: error.message })
    case "InviteAlreadyRedeemed":
      return new ApiErrors.InviteAlreadyRedeemed({ message: `invite ${error.inviteId} is already redeemed` })
    case "InviteExpired":
      return new ApiErrors.InviteExpired({ message: `invite ${error.inviteId} has expired` })
    case "InviteCanceled":
      return new ApiErrors.InviteCanceled({
        message: error.reason === "minter_lost_authority"
          ? `invite ${error.inviteId} is void: whoever minted it may no longer grant it`
          : `invite ${error.inviteId} was canceled`
      })
    case "WrongInviteKind":
      return new ApiErrors.WrongInviteKind({ message: `invite ${error.inviteId} is not a ${error.expected} invite` })
    case "Conflict":
      // Only cancelling an invite raises this reason, and its operation declares it.
      return error.reason === "invite_already_redeemed"
        ? new ApiErrors.InviteAlreadyRedeemed({ message: error.message }) as never
        : new ApiErrors.Conflict({ message: error.message })
    case "AlreadyBootstrapped":
    case "PersonalWorkspaceUnavailable":
      return new ApiErrors.Conflict({ message: error.message })
    case "AlreadyMember":
      return new ApiErrors.AlreadyMember({ message: `${error.userId} is already a member of ${error.workspaceId}` })
    case "MalformedToken":
      return invalidRequest([], error.message)
    case "PersonalWorkspaceInvariantError": {
      // A refused creation has no workspace to name.
      const created = error.workspaceId === ""
      return new ApiErrors.PersonalWorkspaceInvariant({
        message: `${created ? "a new workspace" : `workspace ${error.workspaceId}`} breaks a personal-workspace rule: ${error.reason}`,
        workspace_id: created ? null : error.workspaceId,
        reason: error.reason
      })
    }
    case "LastAdmin":
      return new ApiErrors.LastAdmin({
        message: `this would leave ${error.workspaceIds.join(", ")} without an admin`,
        workspace_ids: error.workspaceIds
      })
    case "LastOwner":
      return new ApiErrors.LastOwner({
        message: `this would leave ${error.resourceIds.join(", ")} without an owner`,
        resource_ids: error.resourceIds
      })
    case "InvalidMove":
      return new ApiErrors.InvalidMove({ message: error.message })
    case "ResourceRevoked":
      return new ApiErrors.ResourceRevoked({ message: `resource ${error.resourceId} is revoked` })
    case "ParseError":
      return invalidRequestOf(error)
  }
}

/** A domain failure as the wire error it answers with. */
export const toWire = <E extends DomainError>(error: E): WireOf<E> => toWireError(error) as WireOf<E>

