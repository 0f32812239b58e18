/**
 * SQL implementation of the share-link port, for both dialects. The partial
 * unique index `share_links_one_active` keeps one active link per resource;
 * a violation is the domain's `Conflict`, anything else a defect.
 */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Conflict, ResourceId, ShareLink, ShareLinkStore } from "@tessera/domain"
import { Effect, Layer, Schema } from "effect"
import { subtree } from "./resources.js"
import { transactional } from "./rows.js"
import { uniqueViolation } from "./sqlErrors.js"

const COLUMNS = "id, resource_id, role, created_at, created_by, disabled_at"

export const ShareLinkStoreLive = Layer.effect(ShareLinkStore, Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const cols = sql.literal(COLUMNS)
  const findActive = SqlSchema.findOne({
    Request: ResourceId,
    Result: ShareLink,
    execute: (resourceId) => sql`SELECT ${cols} FROM share_links WHERE resource_id = ${resourceId} AND disabled_at IS NULL`
  })
  return ShareLinkStore.of(transactional({
    insert: (link, digest) =>
      sql`INSERT INTO share_links ${sql.insert({ ...Schema.encodeSync(ShareLink)(link), digest })}`.pipe(
        Effect.asVoid,
        Effect.catchTag("SqlError", (error) => {
          const violated = uniqueViolation(error)
          if (violated === undefined || !/share_links_one_active|share_links\.resource_id/.test(violated)) return Effect.die(error)
          return Effect.fail(new Conflict({ message: `resource ${link.resource_id} already has an active share link` }))
        })
      ),
    findActive: (resourceId) => Effect.orDie(findActive(resourceId)),
    disable: (id, at) =>
      sql`UPDATE share_links SET disabled_at = ${at} WHERE id = ${id} AND disabled_at IS NULL RETURNING id`.pipe(
        Effect.map((rows) => rows.length > 0),
        Effect.orDie
      ),
    disableInSubtree: (rootId, at) =>
      sql<{ resource_id: string }>`${subtree(sql, rootId)}
          UPDATE share_links SET disabled_at = ${at}
          WHERE disabled_at IS NULL AND resource_id IN (SELECT id FROM subtree) RETURNING resource_id`.pipe(
        Effect.map((rows) => ({ own: rows.some((r) => r.resource_id === rootId), total: rows.length })),
        Effect.orDie
      )
  }, ["insert", "disable", "disableInSubtree"]))
}))
