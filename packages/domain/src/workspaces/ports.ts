/**
 * Storage port for workspaces and their members. Members are one row per
 * (workspace, user), enforced by the store. Writers that check an invariant
 * over several rows first `lock` the workspace so that two of them cannot
 * both pass the check (on SQLite the write transaction already holds the
 * file's lock). Every write requires `InTransaction`; the lock order is
 * the one `identity/ports.ts` documents (users, then workspaces, then
 * resources).
 */
import { Context, Effect, Option } from "effect"
import type { User } from "../identity/schemas.js"
import type { UserId, WorkspaceId } from "../shared/ids.js"
import type { InTransaction } from "../shared/transactor.js"
import type { AlreadyMember, Member, Workspace, WorkspaceRole } from "./schemas.js"

/** A personal workspace the repair walk found, and whether its owner is a stored user. */
export interface PersonalCandidate {
  readonly workspace: Workspace
  readonly ownerExists: boolean
}

/** What a grant into a workspace needs to know of it: its kind and one user's role, never its member list. */
export interface HeldWorkspace {
  readonly isPersonal: boolean
  /** `userId`'s role in it, `null` when they are not a member. */
  readonly role: WorkspaceRole | null
}

export class WorkspaceStore extends Context.Tag("Tessera/WorkspaceStore")<WorkspaceStore, {
  /** Inserts the workspace and its members; `false` when the owner already has a personal workspace. */
  readonly insert: (workspace: Workspace) => Effect.Effect<boolean, never, InTransaction>
  readonly findById: (id: WorkspaceId) => Effect.Effect<Option.Option<Workspace>>
  readonly findPersonal: (owner: UserId) => Effect.Effect<Option.Option<Workspace>>
  /** The workspaces the user is a member of, oldest first. */
  readonly listForUser: (userId: UserId) => Effect.Effect<ReadonlyArray<Workspace>>
  /**
   * One keyset page of the personal workspaces that need repair: whose
   * members are not exactly their owner as admin, or whose owner is null or
   * not a stored user. Ids after `after` (all when `null`), in id order, at
   * most `limit` (≤ `MAX_PAGE`), each with its members. Decided
   * in the store (an anti-join): healthy workspaces never leave it.
   */
  readonly personalNeedingRepair: (after: WorkspaceId | null, limit: number) => Effect.Effect<ReadonlyArray<PersonalCandidate>>
  /** Every workspace, oldest first (operators only). */
  readonly listAll: Effect.Effect<ReadonlyArray<Workspace>>
  /**
   * A keyset page of workspaces with their members, in id order: those with
   * an id after `after` (all when `null`), at most `limit`; only those
   * `member` belongs to when given, every workspace otherwise.
   */
  readonly page: (
    member: UserId | null,
    after: WorkspaceId | null,
    limit: number
  ) => Effect.Effect<ReadonlyArray<Workspace>>
  /** Holds the workspace's row lock until the transaction ends. */
  readonly lock: (id: WorkspaceId) => Effect.Effect<void, never, InTransaction>
  /**
   * Holds the workspace's row under a shared lock until the transaction
   * ends — writers that `lock` it wait, other holders do not — and reads
   * whether it is personal and `userId`'s role in it; `None` when it does
   * not exist. One statement whatever the number of members, so adding a
   * member does not cost more as the workspace fills.
   */
  readonly hold: (id: WorkspaceId, userId: UserId) => Effect.Effect<Option.Option<HeldWorkspace>, never, InTransaction>
  /**
   * `UserStore.hold` of the minter, then `hold` of the workspace with the
   * minter's role in it: the same locks in the same order (the user row,
   * then the workspace, both shared) and the same reads, in as few
   * statements as the store can make them. On PostgreSQL the role is still
   * read in a statement after both locks: a statement that waited for a row
   * lock reads other rows as of its start.
   */
  /**
   * What `hold` reads (whether the workspace is personal, `userId`'s role),
   * for a transaction that already holds the workspace: in a statement of
   * its own, after the lock.
   */
  readonly readHeld: (id: WorkspaceId, userId: UserId) => Effect.Effect<Option.Option<HeldWorkspace>, never, InTransaction>
  /**
   * `readHeld` of `minterId`'s role, and `addMember` of `userId` with `role`
   * unless the workspace is personal or missing, in as few statements as the
   * store can make them (one on PostgreSQL): what a grant reads and writes
   * once its transaction holds the minter and the workspace. The caller
   * still decides: a refusal after this fails the transaction, which takes
   * the insert back (a caller that recovered from the refusal inside an
   * outer transaction would keep it: `redeemInvite` is never run so). `added` is false when nothing was inserted (already a
   * member, a personal workspace, no workspace).
   */
  readonly readHeldAdding: (
    id: WorkspaceId,
    minterId: UserId,
    userId: UserId,
    role: WorkspaceRole
  ) => Effect.Effect<{ readonly workspace: Option.Option<HeldWorkspace>; readonly added: boolean }, never, InTransaction>
  readonly holdWithMinter: (
    id: WorkspaceId,
    minterId: UserId
  ) => Effect.Effect<{ readonly minter: Option.Option<User>; readonly workspace: Option.Option<HeldWorkspace> }, never, InTransaction>
  /** Writes name, about, custom_instructions, bundles and updated_at. */
  readonly update: (workspace: Workspace) => Effect.Effect<void, never, InTransaction>
  readonly replaceMembers: (id: WorkspaceId, members: ReadonlyArray<Member>) => Effect.Effect<void, never, InTransaction>
  /**
   * Locks the workspaces (at most `MAX_PAGE`) in id order, held until the
   * transaction ends, and reads them as they are now, with their members;
   * the ones that no longer exist are left out.
   */
  readonly lockAll: (ids: ReadonlyArray<WorkspaceId>) => Effect.Effect<ReadonlyArray<Workspace>, never, InTransaction>
  /** `replaceMembers` for many workspaces at once (at most `MAX_PAGE`), in a few statements however many. */
  readonly replaceMembersOf: (
    changes: ReadonlyArray<{ readonly id: WorkspaceId; readonly members: ReadonlyArray<Member> }>
  ) => Effect.Effect<void, never, InTransaction>
  readonly addMember: (id: WorkspaceId, userId: UserId, role: WorkspaceRole) => Effect.Effect<void, AlreadyMember, InTransaction>
  readonly setMemberRole: (id: WorkspaceId, userId: UserId, role: WorkspaceRole) => Effect.Effect<boolean, never, InTransaction>
  readonly removeMember: (id: WorkspaceId, userId: UserId) => Effect.Effect<boolean, never, InTransaction>
  readonly delete: (id: WorkspaceId) => Effect.Effect<boolean, never, InTransaction>
  /** Deletes the personal workspaces owned by the user; returns how many. */
  readonly deletePersonalOf: (owner: UserId) => Effect.Effect<number, never, InTransaction>
  /** Removes the user's memberships in workspaces they do not own; returns how many. */
  readonly removeMembershipsOf: (userId: UserId) => Effect.Effect<number, never, InTransaction>
}>() {}
