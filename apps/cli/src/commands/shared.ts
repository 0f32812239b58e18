/**
 * What every command shares: the `--json` flag, how a result is printed in
 * either form (whole, or page by page when it may be too large to hold),
 * and how command-line input that fails a domain schema becomes one
 * readable failure. It prints only what a command hands it.
 */
import { Args, Options } from "@effect/cli"
import { DEFAULT_LIST_PAGE, Handle, MAX_PAGE, NotFound, type Page, UserId, UserStore } from "@tessera/domain"
import { Console, Effect, Option, ParseResult, Schema, Stream } from "effect"

/**
 * Every command's own option rather than the root's: an option of a parent
 * command is only recognised after a subcommand's options, never between
 * them, which would make `--json` work in some positions and not others.
 */
export const json = Options.boolean("json").pipe(
  Options.withDescription("print JSON (snake_case fields, as the HTTP API) instead of tables")
)

/** Command-line input that the domain's schemas refuse. */
export class InvalidArguments extends Schema.TaggedError<InvalidArguments>()("InvalidArguments", {
  message: Schema.String
}) {}

/** A user named on the command line by handle or by id (`usr_…`); `resolveUser` finds the id. */
export const userArg = (name = "user") =>
  Args.text({ name }).pipe(Args.withDescription("a user's handle or id (usr_…)"))

/**
 * The id of the user `ref` names: an id as it is (a missing user is then the
 * use case's `not_found`), a handle looked up; neither form is
 * `invalid_request`, an unknown handle `not_found`.
 */
export const resolveUser = (ref: string): Effect.Effect<UserId, InvalidArguments | NotFound, UserStore> => {
  if (ref.startsWith("usr_")) {
    return Schema.decodeUnknown(UserId)(ref).pipe(
      Effect.mapError(() => new InvalidArguments({ message: `${JSON.stringify(ref)} is not a user id (usr_ and 32 hex characters)` }))
    )
  }
  return Schema.decodeUnknown(Handle)(ref).pipe(
    Effect.mapError(() => new InvalidArguments({ message: `${JSON.stringify(ref)} is neither a handle nor a user id` })),
    Effect.flatMap((handle) => Effect.flatMap(UserStore, (users) => users.findByHandle(handle))),
    Effect.flatMap(Option.match({
      onNone: () => Effect.fail(new NotFound({ what: "user", id: ref })),
      onSome: (user) => Effect.succeed(user.id)
    }))
  )
}

/** Prints `data()` as one line of JSON under `--json`, `human()` otherwise. */
export const present = (json: boolean, output: { readonly data: () => unknown; readonly human: () => string }) =>
  Console.log(json ? JSON.stringify(output.data()) : output.human())

/**
 * Progress of a long command on a terminal: one line on stderr, rewritten by
 * each `show` and cleared by `done`. Never under `--json`, and never when
 * stderr is a file or a pipe.
 */
export const terminalProgress = (json: boolean) => {
  const on = !json && process.stderr.isTTY === true
  return {
    show: (text: string): Effect.Effect<void> => (on ? Effect.sync(() => void process.stderr.write(`\r\u001b[K${text}`)) : Effect.void),
    done: on ? Effect.sync(() => void process.stderr.write("\r\u001b[K")) : Effect.void
  }
}

/** Writes text on stdout as it is (no newline added); synchronous on files and pipes, so nothing piles up. */
export const write = (text: string) => Effect.sync(() => void process.stdout.write(text))

/**
 * Prints one JSON object whose `field` is an array too large to hold: the
 * object's other members around it, and the array's items page by page as
 * they come. The line is byte for byte what `present` prints for the whole
 * object built at once (`before`, then `field`, then what `after()` returns
 * once the pages are done, in that key order).
 */
export const presentJsonPages = <E, R>(
  before: Readonly<Record<string, unknown>>,
  field: string,
  pages: Stream.Stream<ReadonlyArray<unknown>, E, R>,
  after: () => Readonly<Record<string, unknown>>
) =>
  Effect.gen(function*() {
    const head = JSON.stringify(before).slice(0, -1)
    yield* write(`${head}${head === "{" ? "" : ","}${JSON.stringify(field)}:[`)
    let first = true
    yield* Stream.runForEach(pages, (items) => {
      if (items.length === 0) return Effect.void
      const text = items.map((item) => JSON.stringify(item)).join(",")
      const sep = first ? "" : ","
      first = false
      return write(sep + text)
    })
    const tail = JSON.stringify(after()).slice(1)
    yield* write(`]${tail === "}" ? "" : ","}${tail}\n`)
  })

/** A schema field name as the flag that sets it (`ttl_seconds` → `--ttl-seconds`). */
const asFlag = (field: PropertyKey) => `--${String(field).replace(/_/g, "-")}`

/**
 * Decodes flags gathered into a record with a domain schema. Every field at
 * fault is named once, as its flag, with the first reason (a union reports a
 * reason per alternative; the first is the one that explains).
 */
export const decodeFlags = <A, I>(schema: Schema.Schema<A, I>, flags: Record<string, unknown>) =>
  Schema.decodeUnknown(schema, { errors: "all", onExcessProperty: "error" })(flags).pipe(
    Effect.mapError((error) => {
      const named = new Map<string, string>()
      for (const issue of ParseResult.ArrayFormatter.formatErrorSync(error)) {
        const flag = issue.path.map(asFlag).join(" ")
        if (!named.has(flag)) named.set(flag, issue._tag === "Unexpected" ? "does not apply here" : issue.message)
      }
      return new InvalidArguments({
        message: [...named].map(([flag, reason]) => flag === "" ? reason : `${flag}: ${reason}`).join("; ")
      })
    })
  )

/** The options that were given, by field name, for decoding as one record. */
export const givenFlags = (flags: Record<string, Option.Option<unknown>>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(flags).flatMap(([name, value]) => Option.isSome(value) ? [[name, value.value]] : []))

/**
 * A list's page options, as the HTTP API's `limit` and `cursor`
 * (docs/cli.md, "Paging"): one page per run, the next one asked for with
 * the `next_cursor` the run printed.
 */
export const limit = Options.integer("limit").pipe(
  Options.withSchema(Schema.Int.pipe(Schema.between(1, MAX_PAGE)).annotations({ message: () => `--limit must be from 1 to ${MAX_PAGE}` })),
  Options.withDefault(DEFAULT_LIST_PAGE),
  Options.withDescription(`items per page, 1 to ${MAX_PAGE} (default ${DEFAULT_LIST_PAGE})`)
)

export const cursor = Options.text("cursor").pipe(
  Options.optional,
  Options.withDescription("start after the page that printed this next_cursor (pass it back as it came)")
)

/**
 * The place `--cursor` names in the list whose cursor is `schema` (one of
 * @tessera/api's list cursors, the HTTP API's own); a cursor of another
 * list, or text no page printed, is `invalid_request` naming `--cursor`.
 */
export const decodeCursor = <K>(schema: Schema.Schema<K, string>, given: Option.Option<string>) =>
  Option.isNone(given)
    ? Effect.succeed(undefined)
    : Effect.map(decodeFlags(Schema.Struct({ cursor: schema }), { cursor: given.value }), (flags) => flags.cursor)

/**
 * Prints one page of a list: under `--json` `{field: items, next_cursor}`
 * as the HTTP API answers it (`next_cursor` only when more follow), else
 * `human(items)` and, when more follow, the option that reads the next page.
 */
export const presentPage = <A, K>(
  json: boolean,
  field: string,
  page: Page<A, K>,
  cursorSchema: Schema.Schema<K, string>,
  encodeItem: (item: A) => unknown,
  human: (items: ReadonlyArray<A>) => string
) => {
  const next = page.next === undefined ? undefined : Schema.encodeSync(cursorSchema)(page.next)
  return present(json, {
    data: () => ({ [field]: page.items.map(encodeItem), ...(next === undefined ? {} : { next_cursor: next }) }),
    human: () => human(page.items) + (next === undefined ? "" : `\nnext page: --cursor ${next}`)
  })
}
