/**
 * Opaque, type-prefixed identifiers (`usr_`, `ws_`, `inv_`, …) and their
 * generation. Ids are not secrets: they are random only so that they cannot
 * be guessed in sequence. This module never touches a clock or the network.
 */
import { Effect, Schema } from "effect"
import { Crypto, toHex } from "./crypto.js"

const prefixed = <const P extends string, const B extends string>(prefix: P, brand: B) =>
  Schema.String.pipe(
    Schema.pattern(new RegExp(`^${prefix}_[0-9a-f]{32}$`)),
    Schema.brand(brand),
    Schema.annotations({ identifier: brand, description: `an id of the form ${prefix}_<32 hex>` })
  )

export const UserId = prefixed("usr", "UserId")
export type UserId = typeof UserId.Type
export const ApiKeyId = prefixed("key", "ApiKeyId")
export type ApiKeyId = typeof ApiKeyId.Type
export const InviteId = prefixed("inv", "InviteId")
export type InviteId = typeof InviteId.Type
export const WorkspaceId = prefixed("ws", "WorkspaceId")
export type WorkspaceId = typeof WorkspaceId.Type
export const ResourceId = prefixed("res", "ResourceId")
export type ResourceId = typeof ResourceId.Type
export const ShareLinkId = prefixed("lnk", "ShareLinkId")
export type ShareLinkId = typeof ShareLinkId.Type

/** Makes a fresh id with the given prefix from 16 CSPRNG bytes. */
const newId = <A extends string>(prefix: string): Effect.Effect<A, never, Crypto> =>
  Effect.map(Crypto.randomBytes(16), (bytes) => `${prefix}_${toHex(bytes)}` as A)

export const newUserId = newId<UserId>("usr")
export const newApiKeyId = newId<ApiKeyId>("key")
export const newInviteId = newId<InviteId>("inv")
export const newWorkspaceId = newId<WorkspaceId>("ws")
export const newResourceId = newId<ResourceId>("res")
export const newShareLinkId = newId<ShareLinkId>("lnk")
