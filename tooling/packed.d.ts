/** Test support for the packed-package tests: see packed.js. */
export declare const MINUTE: number

export interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `command` to its end in `cwd`; killed (and reported with code `null`) after `timeoutMs`. */
export declare const run: (
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly cwd: string; readonly timeoutMs: number; readonly env?: Readonly<Record<string, string>> }
) => Promise<Run>

/** The run's result when it exited 0; otherwise an error with its output. */
export declare const succeeded: (what: string, running: Promise<Run>) => Promise<Run>

/** The first ```ts block after `marker` in a Markdown file. */
export declare const codeBlockAfter: (file: string, marker: string) => Promise<string>

/**
 * The HTTP service's compiled entry point on a free port over the SQLite file
 * `sqlitePath`, bootstrapped with `adminKey` and configured by nothing else;
 * `ready` settles when it answers /readyz (and fails when it exits first or
 * takes more than two minutes).
 */
export declare const startServer: (options: { readonly sqlitePath: string; readonly adminKey: string }) => Promise<{
  readonly baseUrl: string
  readonly ready: Promise<void>
}>

/** Stops every child process started here (SIGTERM, then SIGKILL after 10 s). */
export declare const stopAll: () => Promise<void>

/** An empty application in `work/app` with a package.json and two TypeScript configurations (see packed.js); its folder. */
export declare const emptyApp: (work: string, options: { readonly name: string; readonly lib: ReadonlyArray<string> }) => Promise<string>

/** Type-checks the application with its own installed TypeScript, under both configurations. */
export declare const typecheckApp: (app: string) => Promise<void>

/** The server started while `install` prepares the application (its folder), then the application's `out/example.js` run against it. */
export declare const exampleAgainstServer: (options: {
  readonly work: string
  readonly adminKey: string
  readonly install: () => Promise<string>
}) => Promise<Run>
