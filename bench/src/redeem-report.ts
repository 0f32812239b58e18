/**
 * The redemption section of the report (`report.ts` prints and writes it): one row per workload and store with
 * Tessera beside its peer, and the redemption targets of issue 9 — at least 0.7× the guarded update at 64
 * clients, no collapse from 1 client to 64, at least 2× better-auth's concurrent accept, exactly one winner among
 * 64 racers with nothing but "already redeemed" for the rest. Formats only; measures nothing.
 */
import type { RedeemResults } from "./redeem.js"

export interface RedeemTarget {
  readonly store: string
  readonly what: string
  readonly value: number
  readonly bound: string
  readonly met: boolean
}

const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : "—")

export const redeemTargets = (results: RedeemResults): ReadonlyArray<RedeemTarget> =>
  [...new Set(results.rows.map((r) => r.store))].flatMap((store) => {
    const rows = results.rows.filter((r) => r.store === store)
    const one = rows.find((r) => r.clients === 1)
    const many = rows.find((r) => r.clients === 64)
    const peer = rows.find((r) => r.peerName === "better-auth accept")
    const race = results.races.find((r) => r.store === store)
    const targets: Array<RedeemTarget> = []
    if (many !== undefined) {
      const value = many.tessera.perSecond / many.peer.perSecond
      targets.push({ store, what: "redeem at 64 clients: Tessera / guarded update", value, bound: "≥ 0.7", met: value >= 0.7 })
    }
    if (one !== undefined && many !== undefined) {
      const value = many.tessera.perSecond / one.tessera.perSecond
      targets.push({ store, what: "Tessera's redemptions/s: 64 clients / 1 client", value, bound: "≥ 1", met: value >= 1 })
    }
    if (peer !== undefined) {
      const value = peer.tessera.perSecond / peer.peer.perSecond
      targets.push({ store, what: `${peer.clients} at once: Tessera (authenticate + redeem) / better-auth accept`, value, bound: "≥ 2", met: value >= 2 })
    }
    if (race !== undefined) {
      targets.push({
        store,
        what: `${race.racers} racers on one invite: winners (${race.alreadyRedeemed} already redeemed, ${race.other} other outcomes)`,
        value: race.winners,
        bound: "= 1, others all already redeemed",
        met: race.winners === 1 && race.other === 0
      })
    }
    return targets
  })

/** SQLite's own time per redemption beside the comparator's, and the ratio Tessera would reach with no overhead. */
const floorRows = (results: RedeemResults) =>
  results.floor === undefined ? [] : [{
    "Tessera µs in SQLite": fixed(results.floor.tesseraMicros, 0),
    "Tessera statements": fixed(results.floor.tesseraStatements, 1),
    "guarded update µs in SQLite": fixed(results.floor.guardedMicros, 0),
    "guarded update statements": fixed(results.floor.guardedStatements, 1),
    "guarded update µs per operation": fixed(results.floor.guardedWallMicros, 0),
    "ceiling: guarded update's operation / Tessera's SQLite time": fixed(results.floor.guardedWallMicros / results.floor.tesseraMicros, 2)
  }]

export const redeemTables = (results: RedeemResults) => ({
  floor: floorRows(results),
  rows: results.rows.map((r) => ({
    store: r.store,
    workload: r.workload,
    "Tessera ops/s": Math.round(r.tessera.perSecond),
    "Tessera p50 ms": fixed(r.tessera.p50, 1),
    "Tessera p99 ms": fixed(r.tessera.p99, 1),
    peer: r.peerName,
    "peer ops/s": Math.round(r.peer.perSecond),
    "peer p50 ms": fixed(r.peer.p50, 1),
    "Tessera / peer": fixed(r.tessera.perSecond / r.peer.perSecond, 2)
  })),
  targets: redeemTargets(results).map((t) => ({
    store: t.store,
    ratio: t.what,
    value: fixed(t.value, 2),
    target: t.bound,
    met: t.met ? "yes" : "no"
  }))
})

/** The markdown section, given the report's table formatter. */
export const redeemSection = (results: RedeemResults, markdown: (rows: ReadonlyArray<Record<string, string | number>>) => string) => {
  const tables = redeemTables(results)
  return [
    "## Redemption under concurrency",
    "",
    "Tessera: `redeemInvite` of a workspace-membership grant invite in process, every redeemer a user of their own",
    "with an invite of their own into one team workspace, at 1 and 64 concurrent clients and all at once, the tracer",
    "off as the server runs it without an exporter (redemptions that arrive together share a transaction: docs/performance.md,",
    "\"Group commit for redemptions\"). Guarded",
    "update: one transaction of the single-use `UPDATE invites … WHERE digest = ? AND status = 'pending' RETURNING`",
    "and the membership insert, through the same driver on the same database. better-auth: its organization plugin's",
    "`acceptInvitation`, each invitee with their own session, on its own tables in a database of its own; Tessera's",
    "side of that row authenticates an API key before redeeming. Throughput is operations over the wall time of the",
    "whole run; latencies are per operation. The first three workloads run in alternated rounds (Tessera, then the",
    "guarded update, at 1 client, at 64, all at once, and again), each reported by its median round.",
    "",
    markdown(tables.rows),
    "",
    markdown(tables.targets),
    "",
    ...(tables.floor.length === 0 ? [] : [
      "Inside SQLite, one client: the wall time of the driver's statement calls per redemption (begin and commit",
      "included; `bench/src/sqlite-clock.ts`), from the round where Tessera's was least. The ceiling is the ratio",
      "Tessera would reach at one client if nothing but SQLite took any time.",
      "",
      markdown(tables.floor),
      ""
    ])
  ]
}
