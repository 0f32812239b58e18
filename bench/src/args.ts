/** The command line of the `*-run.ts` scripts, which run one part of `pnpm bench` alone. */
const args = process.argv.slice(2)

/** Whether `name` (a flag or a store) is on the command line. */
export const has = (name: string) => args.includes(name)

/** The number after `name`, or `fallback` when it is absent. */
export const flag = (name: string, fallback: number) => {
  const at = args.indexOf(name)
  return at < 0 ? fallback : Number(args[at + 1])
}

/** The stores named on the command line, both when none is. */
export const storesNamed = (): ReadonlyArray<"sqlite" | "pg"> => {
  const named = (["sqlite", "pg"] as const).filter(has)
  return named.length > 0 ? named : ["sqlite", "pg"]
}
