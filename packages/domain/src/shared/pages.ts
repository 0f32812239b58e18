/**
 * Keyset pages for the maintenance walks (cleanup, purge): a walk asks its
 * port for the rows after the last key it saw, at most one page at a time,
 * so it never holds or binds more than a page however large the store. It
 * owns no I/O of its own and never offsets (an offset rescans every row
 * before it, and skips rows when earlier ones change under a rerun).
 */
import { Effect, Option, Stream } from "effect"

/** Rows per page when the caller does not say. */
export const DEFAULT_PAGE = 500
/** The most rows a page may hold (and so the most ids a page's statement may bind). */
export const MAX_PAGE = 1000

/** A page size within `1..MAX_PAGE`. */
export const clampPage = (size: number | undefined) => Math.min(Math.max(Math.floor(size ?? DEFAULT_PAGE), 1), MAX_PAGE)

/**
 * The pages `fetch(after, limit)` returns, the first after `null`, each
 * next one after the key of the last row of the one before; a short page is
 * the last. Empty pages are not emitted.
 */
export const keysetPages = <K, A, E, R>(
  pageSize: number,
  fetch: (after: K | null, limit: number) => Effect.Effect<ReadonlyArray<A>, E, R>,
  keyOf: (row: A) => K
): Stream.Stream<ReadonlyArray<A>, E, R> =>
  Stream.paginateEffect(null as K | null, (after) =>
    Effect.map(fetch(after, pageSize), (rows) =>
      [rows, rows.length < pageSize ? Option.none() : Option.some(keyOf(rows[rows.length - 1]!))] as const)).pipe(
      Stream.filter((rows) => rows.length > 0)
    )

/** Items per page of a listed collection when the caller does not say (the HTTP `limit`). */
export const DEFAULT_LIST_PAGE = 100

/**
 * One page of a list: at most `limit` items in the list's order, and the
 * key of the last one when more follow (`undefined` on the last page).
 */
export interface Page<A, K> {
  readonly items: ReadonlyArray<A>
  readonly next: K | undefined
}

/** Where a page of a list starts and how long it may be; `after` is a key a previous page gave. */
export interface PageRequest<K> {
  readonly after?: K | undefined
  readonly limit?: number | undefined
}

/**
 * One page of a list read by keyset: asks the store for one row more than
 * the page holds, so a page is known to be the last without a second query
 * and a full last page has no next key.
 */
export const keysetPage = <K, A, E, R>(
  request: PageRequest<K>,
  fetch: (after: K | null, limit: number) => Effect.Effect<ReadonlyArray<A>, E, R>,
  keyOf: (row: A) => K
): Effect.Effect<Page<A, K>, E, R> => {
  const limit = Math.min(Math.max(Math.floor(request.limit ?? DEFAULT_LIST_PAGE), 1), MAX_PAGE)
  return Effect.map(fetch(request.after ?? null, limit + 1), (rows) =>
    rows.length > limit
      ? { items: rows.slice(0, limit), next: keyOf(rows[limit - 1]!) }
      : { items: rows, next: undefined })
}
