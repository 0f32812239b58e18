/**
 * Share links (a bearer secret, `tsl_`, granting `reader` or `editor` on one
 * resource and its subtree, to no account). At most one is active per
 * resource; creating one while one is active rotates it, and the old token
 * dies in the same transaction. A link's row outlives it, disabled, as
 * history; only the SHA-256 digest of its token is ever stored.
 */
import { Schema } from "effect"
import { LinkRole } from "../resources/schemas.js"
import { ResourceId, ShareLinkId, UserId } from "../shared/ids.js"
import { Timestamp } from "../shared/time.js"

export class ShareLink extends Schema.Class<ShareLink>("ShareLink")({
  id: ShareLinkId,
  resource_id: ResourceId,
  role: LinkRole,
  created_at: Timestamp,
  created_by: Schema.NullOr(UserId),
  disabled_at: Schema.NullOr(Timestamp)
}) {}
