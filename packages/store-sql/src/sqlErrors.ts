/**
 * Recognising the few driver failures that mean something to the domain
 * (unique violations). Everything else from the database is a defect.
 */
import type { SqlError } from "@effect/sql/SqlError"

/** The text naming the violated unique constraint, or `undefined` when `error` is not a unique violation. */
export const uniqueViolation = (error: SqlError): string | undefined => {
  const cause = error.cause as { code?: unknown; constraint?: unknown; detail?: unknown; message?: unknown } | undefined
  if (cause === undefined || cause === null) return undefined
  if (cause.code === "23505") return `${String(cause.constraint ?? "")} ${String(cause.detail ?? "")}`
  if (cause.code === "SQLITE_CONSTRAINT_UNIQUE" || cause.code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
    return String(cause.message ?? "")
  }
  return undefined
}
