/** Test support: worker processes (TypeScript run by tsx) reporting a JSON result on their last stdout line. */
import { spawn } from "node:child_process"

export type Crashed = { outcome: "crashed"; output: string }

/** Starts `script` with `args` in `cwd`; `ready` resolves once it printed `ready` (or ended), `result` with its last line. */
export const startWorker = <R>(script: string, args: ReadonlyArray<string>, cwd: string) => {
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    cwd,
    stdio: ["ignore", "pipe", "inherit"]
  })
  let out = ""
  const ready = new Promise<void>((resolve) => {
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      if (out.startsWith("ready\n")) resolve()
    })
    child.on("close", () => resolve())
  })
  const result = new Promise<R | Crashed>((resolve) =>
    child.on("close", (code) =>
      resolve(code === 0 ? JSON.parse(out.trim().split("\n").pop()!) as R : { outcome: "crashed", output: out })
    )
  )
  return { ready, result }
}
