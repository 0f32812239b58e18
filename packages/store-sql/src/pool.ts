/**
 * What a store's connections are doing, for the server's `/metrics`: each
 * store provides it beside its `SqlClient`. Reading it costs a few field
 * reads; it never touches a connection.
 */
import { Context } from "effect"

export interface PoolUsageSnapshot {
  /** Connections the store may open. */
  readonly max: number
  /** Connections open now. */
  readonly open: number
  /** Of those, the ones running a statement or a transaction. */
  readonly inUse: number
  /** Statements or transactions waiting for a connection. */
  readonly waiting: number
}

export class PoolUsage extends Context.Tag("Tessera/PoolUsage")<PoolUsage, { readonly read: () => PoolUsageSnapshot }>() {}
