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
