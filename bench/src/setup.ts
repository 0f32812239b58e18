/**
 * Setup the workloads share: users registered the way an operator would
 * (an invite the system mints, then registration with fresh public keys),
 * and large subtrees written in one transaction through the resources port.
 */
import {
  authenticate,
  type Handle,
  mintInvite,
  newResourceId,
  register,
  Resource,
  type ResourceId,
  ResourceStore,
  SystemActor,
  timestampOf,
  Transactor,
  type WorkspaceId
} from "@tessera/domain"
import { publicKeys } from "@tessera/store-contract/fixtures"
import { Effect } from "effect"

let users = 0

/** A new user, signed in: handles `<stem>-<pid>-<n>`, unique within the process. */
export const newUser = (stem: string) =>
  Effect.gen(function*() {
    const handle = `${stem}-${process.pid}-${users++}` as Handle
    const { token } = yield* mintInvite(SystemActor, { kind: "registration", handle })
    const { apiKey } = yield* register({ token, ...publicKeys() })
    return yield* authenticate(apiKey)
  })

/** `count` resources below `root` as a tree of fan-out 8 (about log8(count) levels), in one transaction; their ids. */
export const bulkSubtree = (workspaceId: WorkspaceId, root: ResourceId, count: number) =>
  Transactor.run(Effect.gen(function*() {
    const store = yield* ResourceStore
    const at = timestampOf(Date.now())
    const ids: Array<ResourceId> = []
    for (let i = 0; i < count; i++) {
      const id = yield* newResourceId
      ids.push(id)
      yield* store.insert(
        new Resource({
          id,
          workspace_id: workspaceId,
          kind: "document",
          title: `node ${i}`,
          parent_id: i < 8 ? root : ids[Math.floor(i / 8) - 1]!,
          link_reach: "restricted",
          link_role: "reader",
          created_by: null,
          created_at: at,
          updated_at: at,
          revoked_at: null
        })
      )
    }
    return ids
  }))
