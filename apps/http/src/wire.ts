/**
 * Translation from domain failures to the wire errors of SPEC §4, and the
 * API-level middleware that gives framework failures (a body that fails its
 * schema or is refused by `limits.ts`, an unknown route) the same format.
 * Status codes live here and in @tessera/api only. A reply never quotes more
 * than a short prefix of what the client sent, and only defects are logged.
 */
import { HttpApiBuilder, HttpApiError, HttpServerError, type HttpServerRequest, type HttpServerResponse } from "@effect/platform"
import { ApiErrors } from "@tessera/api"
import type * as Domain from "@tessera/domain"
import { Cause, Effect, ParseResult, Predicate } from "effect"
import { isBodyRefusal } from "./limits.js"

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
const invalidFromIssues = (issues: ReadonlyArray<{ readonly path: ReadonlyArray<PropertyKey>; readonly message: string }>) =>
  issues.length <= MAX_ISSUES
    ? invalidRequest(issues.map(toIssue))
    : invalidRequest(
      issues.slice(0, MAX_ISSUES).map(toIssue),
      `the request does not match its schema (the first ${MAX_ISSUES} of ${issues.length} issues)`
    )

export const invalidRequestOf = (error: ParseResult.ParseError) =>
  invalidFromIssues(ParseResult.ArrayFormatter.formatErrorSync(error))

export const toWire = (error: DomainError): ApiErrors.WireError => {
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
      return new ApiErrors.Conflict({ error: "user_exists", message: error.message, field: error.field })
    case "LastSystemAdmin":
      return new ApiErrors.Conflict({ error: "last_system_admin", message: `${error.userId} is the last active system admin` })
    case "InvalidKey":
      return new ApiErrors.InvalidKey({ message: `${error.field} ${KEY_PROBLEMS[error.problem]}`, field: error.field })
    case "InviteNotFound":
      return new ApiErrors.InviteNotFound({ message: error.message })
    case "InviteAlreadyRedeemed":
      return new ApiErrors.Conflict({ error: "invite_already_redeemed", message: `invite ${error.inviteId} is already redeemed` })
    case "InviteExpired":
      return new ApiErrors.Gone({ error: "invite_expired", message: `invite ${error.inviteId} has expired` })
    case "InviteCanceled":
      return new ApiErrors.Gone({
        error: "invite_canceled",
        message: error.reason === "minter_lost_authority"
          ? `invite ${error.inviteId} is void: whoever minted it may no longer grant it`
          : `invite ${error.inviteId} was canceled`
      })
    case "WrongInviteKind":
      return new ApiErrors.WrongInviteKind({ message: `invite ${error.inviteId} is not a ${error.expected} invite` })
    case "Conflict":
    case "AlreadyBootstrapped":
      return new ApiErrors.Conflict({ error: "conflict", message: error.message })
    case "AlreadyMember":
      return new ApiErrors.Conflict({ error: "already_member", message: `${error.userId} is already a member of ${error.workspaceId}` })
    case "MalformedToken":
      return invalidRequest([], error.message)
    case "PersonalWorkspaceInvariantError":
      return new ApiErrors.PersonalWorkspaceInvariant({
        message: `${error.workspaceId === "" ? "a new workspace" : `workspace ${error.workspaceId}`} breaks a personal-workspace rule: ${error.reason}`,
        workspace_id: error.workspaceId,
        reason: error.reason
      })
    case "PersonalWorkspaceUnavailable":
      return new ApiErrors.Conflict({ error: "conflict", message: error.message })
    case "LastAdmin":
      return new ApiErrors.Conflict({
        error: "last_admin",
        message: `this would leave ${error.workspaceIds.join(", ")} without an admin`,
        workspace_ids: error.workspaceIds
      })
    case "LastOwner":
      return new ApiErrors.Conflict({
        error: "last_owner",
        message: `this would leave ${error.resourceIds.join(", ")} without an owner`,
        resource_ids: error.resourceIds
      })
    case "InvalidMove":
      return new ApiErrors.InvalidMove({ message: error.message })
    case "ResourceRevoked":
      return new ApiErrors.Gone({ error: "resource_revoked", message: `resource ${error.resourceId} is revoked` })
    case "ParseError":
      return invalidRequestOf(error)
  }
}

/** Runs a use case and turns its domain failures into wire errors. */
export const wire = <A, E extends DomainError, R>(effect: Effect.Effect<A, E, R>) => Effect.mapError(effect, toWire)

/**
 * Gives the framework's own failures the wire format: schema failures of a
 * body, query or path (`HttpApiDecodeError`), bodies that are not JSON,
 * unknown routes, and defects (500 `internal_error`, cause logged only).
 */
export const WireFormatLive = HttpApiBuilder.middleware((app) => {
  // The framework types the app as failure-free, but these failures do flow through it.
  const failing = app as Effect.Effect<HttpServerResponse.HttpServerResponse, unknown, HttpServerRequest.HttpServerRequest>
  // A body that is not JSON reaches here as a defect (the framework dies on it).
  return Effect.catchAllCause(failing, (cause) => {
    const e = Cause.squash(cause)
    if (e instanceof HttpApiError.HttpApiDecodeError) {
      return Effect.fail(invalidFromIssues(e.issues))
    }
    if (Predicate.isTagged(e, "RouteNotFound")) return Effect.fail(new ApiErrors.NotFound({ message: "no such route" }))
    if (e instanceof HttpServerError.RequestError) {
      return Effect.fail(isBodyRefusal(e.cause) ? e.cause : invalidRequest([], "the body could not be read"))
    }
    if (Cause.isDie(cause)) {
      return Effect.zipRight(
        Effect.logError("request failed unexpectedly", cause),
        Effect.fail(new ApiErrors.Internal({ message: "the request failed unexpectedly; see the server log" }))
      )
    }
    return Effect.failCause(cause)
  }) as typeof app
})
