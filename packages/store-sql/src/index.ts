/**
 * @tessera/store-sql — every port implemented once over `SqlClient`, for
 * both dialects, plus the migration runner. A store package supplies the
 * client (and how its transactions begin), its migration files and its
 * migration lock.
 */
import { Crypto } from "@tessera/domain"
import { Layer } from "effect"
import { AccessQueriesLive } from "./access.js"
import { StoreInspectorLive } from "./doctor.js"
import { EventLogLive } from "./events.js"
import { ApiKeyStoreLive, InviteStoreLive, LinkCredentialStoreLive, UserStoreLive } from "./identity.js"
import { TransactorLive } from "./transactor.js"
import { ResourceStoreLive } from "./resources.js"
import { ShareLinkStoreLive } from "./sharing.js"
import { FastGrantRedemptionLive } from "./grants.js"
import { HotReadsLive } from "./hot.js"
import { EventWakeupsLive } from "./wakeups.js"
import { WorkspaceStoreLive } from "./workspaces.js"

export * from "./migrations.js"
export * from "./hot.js"
export { RECOMPUTE_HOPS } from "./resources.js"
export { type AsyncConnection, FastGrantRedemptionLive, PooledWriter, type SyncConnection, SyncWriter } from "./grants.js"
export { NUMBERING_TEXT } from "./events.js"
export * from "./pool.js"
export * from "./sqlErrors.js"

/** All ports, given a `SqlClient`. */
export const PortsLive = Layer.mergeAll(
  UserStoreLive,
  ApiKeyStoreLive,
  InviteStoreLive,
  LinkCredentialStoreLive,
  ShareLinkStoreLive,
  WorkspaceStoreLive,
  ResourceStoreLive,
  AccessQueriesLive,
  EventLogLive,
  EventWakeupsLive,
  TransactorLive,
  StoreInspectorLive,
  HotReadsLive,
  FastGrantRedemptionLive,
  Crypto.Live
)
