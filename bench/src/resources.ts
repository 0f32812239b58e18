/**
 * Benchmarks of the resources hot paths on one store (run by `run.ts` inside each store's layer): the
 * permission check (`effectiveRoleOf`: one recursive query, then the pure rule) at depth 1, 8 and 32, and a
 * scope-changing move (`moveResource`: one transaction) of a root carrying 1k and 10k descendants under another
 * root. The big subtrees are written through the raw `ResourceStore.insert` port in one transaction (the use case
 * would check permissions and append an event per node); everything measured goes through the use cases.
 * Returns rows for run.ts's table; asserts nothing.
 */
import {
  createResource,
  createWorkspace,
  effectiveRoleOf,
  grantAccess,
  moveResource,
  type ResourceId,
  ResourceStore
} from "@tessera/domain"
import { performance } from "node:perf_hooks"
import { Effect } from "effect"
import { bulkSubtree, newUser } from "./setup.js"

const STEM = "res-bench"

export interface BenchRow {
  readonly name: string
  readonly ops: number
  readonly p50: number
  readonly p99: number
  readonly perSecond: number
}

/**
 * Times `op` `ops` times after a short warm-up; `reset`, if given, runs untimed after each op (to undo a move),
 * so ops/s counts the measured operations only.
 */
const measure = <E, R>(
  name: string,
  ops: number,
  op: (i: number) => Effect.Effect<unknown, E, R>,
  reset: Effect.Effect<unknown, E, R> = Effect.void
) =>
  Effect.gen(function*() {
    for (let i = 0; i < Math.min(5, ops); i++) yield* Effect.zipRight(op(ops + i), reset)
    const samples: Array<number> = []
    for (let i = 0; i < ops; i++) {
      const t = performance.now()
      yield* op(i)
      samples.push(performance.now() - t)
      yield* reset
    }
    const total = samples.reduce((a, b) => a + b, 0)
    samples.sort((a, b) => a - b)
    return {
      name,
      ops,
      p50: samples[Math.floor(ops * 0.5)]!,
      p99: samples[Math.min(ops - 1, Math.floor(ops * 0.99))]!,
      perSecond: (ops / total) * 1000
    } satisfies BenchRow
  })

/** `smoke`: a few operations of each, and the 1k subtree only. */
export const resourceBench = (store: string, smoke = false) =>
  Effect.gen(function*() {
    const rows: Array<BenchRow> = []
    const owner = yield* newUser(STEM)
    const reader = yield* newUser(STEM)

    // Checks: a chain of 32 under a root where the reader has a direct access, so the role is found at the top.
    const workspace = (yield* createWorkspace(owner, { name: "bench checks" })).id
    const chain: Array<ResourceId> = []
    for (let depth = 1; depth <= 32; depth++) {
      chain.push((yield* createResource(owner, workspace, { title: `d${depth}`, parent_id: chain[depth - 2] ?? null })).id)
    }
    yield* grantAccess(owner, chain[0]!, reader.user.id, "reader")
    for (const depth of [1, 8, 32]) {
      const id = chain[depth - 1]!
      rows.push(yield* measure(`${store}: check (effectiveRoleOf) at depth ${depth}`, smoke ? 100 : 2_000, () => effectiveRoleOf(reader.user.id, id)))
    }

    // Moves: a root with N descendants goes under another root (it leaves its scope: its accesses are reset);
    // untimed, it is moved back beside it (becoming a root again, with its owners restored).
    for (const size of smoke ? [1_000] : [1_000, 10_000]) {
      const space = (yield* createWorkspace(owner, { name: `bench moves ${size}` })).id
      const big = yield* createResource(owner, space, { title: `subtree of ${size}` })
      const other = yield* createResource(owner, space, { title: "other root" })
      yield* bulkSubtree(space, big.id, size)
      const stored = (yield* Effect.flatMap(ResourceStore, (s) => s.listWorkspace(space))).length
      if (stored !== size + 2) return yield* Effect.dieMessage(`expected ${size + 2} resources, found ${stored}`)
      const under = { targetId: other.id, position: "last-child" as const, dryRun: false }
      const back = { targetId: other.id, position: "right" as const, dryRun: false }
      rows.push(
        yield* measure(
          `${store}: move a root with ${size / 1000}k descendants under another root`,
          smoke ? 10 : 100,
          () =>
            Effect.tap(moveResource(owner, big.id, under), (report) =>
              report.scope_changed ? Effect.void : Effect.dieMessage("the bench move must change scope")),
          moveResource(owner, big.id, back)
        )
      )
    }
    return rows
  })
