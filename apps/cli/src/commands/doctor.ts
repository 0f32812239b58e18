/**
 * `tessera doctor [--json]` (docs/domain.md#maintenance): checks every rule of the kernel
 * over the stored data and lists each violation with the ids involved. It
 * only reads, so it may run beside a live server; it never repairs (that is
 * `tessera cleanup …`).
 *
 * Exit status: 0 when the store is clean; 2 when the doctor found at least
 * one violation (the report is still printed in full on stdout, and one
 * `tessera: …` line on stderr says how many); 1, as for every command, when
 * it could not check at all (configuration, store unreachable).
 */
import { Command } from "@effect/cli"
import { CHECKED_TABLES, DOCTOR_CHECKS, type DoctorCheck, runDoctor, SystemActor } from "@tessera/domain"
import { Effect } from "effect"
import { table } from "./output.js"
import { json, present, terminalProgress } from "./shared.js"

/** The exit status of a check that found violations: distinct from 1, which means the check itself failed. */
export const VIOLATIONS_FOUND = 2

const idList = (ids: Readonly<Record<string, string | ReadonlyArray<string>>>) =>
  Object.entries(ids).map(([name, value]) => `${name}=${typeof value === "string" ? value : value.join(",")}`).join(" ")

export const doctor = Command.make("doctor", { json }, ({ json }) =>
  Effect.gen(function*() {
    const progress = terminalProgress(json)
    const report = yield* runDoctor(SystemActor, {
      onPage: (checked) => progress.show(`checking… ${Object.values(checked).reduce((sum, n) => sum + n, 0)} rows`)
    }).pipe(Effect.ensuring(progress.done))
    const total = Object.values(report.counts).reduce((sum, n) => sum + (n ?? 0), 0)
    const checked = CHECKED_TABLES.map((name) => `${report.checked[name]} ${name.replace(/_/g, " ")}`).join(", ")
    yield* present(json, {
      data: () => ({
        ok: report.ok,
        violations: report.violations.map((v) => ({ check: v.check, ids: v.ids, message: v.message })),
        counts: report.counts,
        truncated: report.truncated,
        checked: report.checked
      }),
      human: () =>
        report.ok
          ? `no violations\nchecked: ${checked}`
          : [
            table(["CHECK", "IDS", "PROBLEM"], report.violations.map((v) => [v.check, idList(v.ids), v.message]), ""),
            "",
            ...(Object.entries(report.counts) as Array<[DoctorCheck, number]>).map(([check, n]) =>
              `${String(n).padStart(6)}  ${check}: ${DOCTOR_CHECKS[check]}`
            ),
            `${total} violation${total === 1 ? "" : "s"}${
              report.truncated ? ` (the first ${report.violations.length} listed)` : ""
            }; checked: ${checked}`
          ].join("\n")
    })
    if (!report.ok) {
      // The report is the command's result, not a failure: the status (and one line, as for every
      // non-zero exit) says the store is not clean. The parser's console is silenced, so stderr directly.
      yield* Effect.sync(() => {
        const message = `doctor found ${total} violation${total === 1 ? "" : "s"}`
        process.stderr.write(json ? `${JSON.stringify({ error: "violations_found", message })}\n` : `tessera: ${message}\n`)
        process.exitCode = VIOLATIONS_FOUND
      })
    }
  })).pipe(Command.withDescription(
    `check every invariant over the stored data; exit status ${VIOLATIONS_FOUND} lists violations, 0 means clean`
  ))
