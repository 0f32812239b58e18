/**
 * The two reads on every request of the HTTP direct routes — an API key's
 * owner and the check's walk — run without the Effect runtime
 * (docs/performance.md, "Without the runtime"): the same compiled texts and
 * row readers as `ApiKeyStore.findActiveOwner` and
 * `ResourceStore.roleFactsBatch` (`keyOwnerText`/`keyOwnerOf`,
 * `checkTextsOf`/`checkCall`/`factsOf`), through the store's
 * `DirectStatements.runWith`: synchronously on SQLite's read connection,
 * with a callback on PostgreSQL's pool. Nothing is cached; each call reads
 * what is committed when it runs, as the ports' own direct path does.
 *
 * Provided beside the ports only where the store has `DirectStatements`; a
 * caller asks for it with `Context.getOption` and otherwise goes through the
 * use cases. Only for callers that would take the direct path anyway: the
 * tracer off, outside a transaction, with no statement transformer.
 */
import { SqlClient } from "@effect/sql"
import type { ApiKeyId, CheckFacts, RoleFactsRequest, User } from "@tessera/domain"
import { Context, Effect, Layer, type Option } from "effect"
import { keyOwnerOf, keyOwnerText } from "./identity.js"
import { DirectStatements } from "./pool.js"
import { CHECK_CHUNK, checkCall, checkTextsOf, factsOf } from "./resources.js"

export class HotReads extends Context.Tag("Tessera/HotReads")<HotReads, {
  /** `ApiKeyStore.findActiveOwner`: `done` gets a failure (a defect) or the key's active owner. */
  readonly keyOwner: (
    digest: string,
    done: (failure: unknown, owner: Option.Option<{ readonly apiKeyId: ApiKeyId; readonly user: User }>) => void
  ) => void
  /**
   * `ResourceStore.roleFactsBatch` for 1 to `CHECK_CHUNK` pairs (one
   * statement): `done` gets a failure (a defect) or the facts in order.
   */
  readonly roleFacts: (requests: ReadonlyArray<RoleFactsRequest>, done: (failure: unknown, facts: ReadonlyArray<CheckFacts>) => void) => void
}>() {}

/** The most pairs `HotReads.roleFacts` takes: one statement's worth. */
export const HOT_CHECKS = CHECK_CHUNK

/** `HotReads` on the store's `DirectStatements`; nothing where it has none. */
export const HotReadsLive: Layer.Layer<never, never, SqlClient.SqlClient> = Layer.unwrapEffect(
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const direct = yield* Effect.serviceOption(DirectStatements)
    if (direct._tag === "None") return Layer.empty
    const runWith = direct.value.runWith
    /** `text`'s rows read by `read` (which may throw: a defect like the statement's own failure), to `done`. */
    const readRows = <A>(
      text: string,
      params: ReadonlyArray<unknown>,
      read: (rows: ReadonlyArray<Record<string, unknown>>) => A,
      done: (failure: unknown, value: A) => void
    ) =>
      runWith(text, params, (error, rows) => {
        if (error !== undefined) return done(error, undefined as never)
        let value: A
        try {
          value = read(rows)
        } catch (failure) {
          return done(failure, undefined as never)
        }
        done(undefined, value)
      })
    const ownerText = keyOwnerText(sql)
    const checkTexts = checkTextsOf(sql)
    return Layer.succeed(HotReads, {
      keyOwner: (digest, done) => readRows(ownerText, [digest], keyOwnerOf, done),
      roleFacts: (requests, done) => {
        if (requests.length === 0 || requests.length > HOT_CHECKS) {
          return done(new Error(`HotReads.roleFacts takes 1 to ${HOT_CHECKS} pairs, not ${requests.length}`), [])
        }
        const [text, params] = checkCall(checkTexts, requests, false)
        readRows(text, params, (rows) => factsOf(requests, rows), done)
      }
    })
  })
)
