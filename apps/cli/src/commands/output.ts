/**
 * Human-readable output: aligned tables for lists and `field  value` blocks
 * for one entity. Pure string formatting over already-encoded values; what
 * goes in (and so whether a secret could) is decided by each command.
 */

const cell = (value: unknown): string =>
  value === null || value === undefined ? "-" : typeof value === "object" ? JSON.stringify(value) : String(value)

/** Columns padded to their widest cell; `empty` stands in for a list with no rows. */
export const table = (
  header: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<unknown>>,
  empty: string
): string => {
  if (rows.length === 0) return empty
  const cells = [header, ...rows.map((row) => row.map(cell))]
  const widths = header.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? "").length)))
  return cells.map((row) => row.map((text, column) => text.padEnd(widths[column]!)).join("  ").trimEnd()).join("\n")
}

/** One entity's fields, one per line, names aligned. */
export const fields = (record: Readonly<Record<string, unknown>>): string => {
  const width = Math.max(...Object.keys(record).map((name) => name.length))
  return Object.entries(record).map(([name, value]) => `${name.padEnd(width)}  ${cell(value)}`).join("\n")
}
