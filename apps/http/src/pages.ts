/**
 * Pages of the use cases on the wire: a `Page` becomes the list's body —
 * its items under the list's field and `next_cursor` (which the contract
 * encodes as the list's cursor) only when more follow — and a query's
 * `cursor` and `limit` become the use case's `PageRequest`.
 */
import type { Page, PageRequest } from "@tessera/domain"

export const pageRequest = <K>(query: { readonly cursor?: K; readonly limit?: number }): PageRequest<K> => ({
  after: query.cursor,
  limit: query.limit
})

export const pageBody = <F extends string, A, K>(field: F, page: Page<A, K>) =>
  ({ [field]: page.items, ...(page.next === undefined ? {} : { next_cursor: page.next }) }) as
    & { readonly [P in F]: ReadonlyArray<A> }
    & { readonly next_cursor?: K }
