/**
 * Tessera's configuration (README "Configuration"): every variable the entry
 * points read, parsed and validated as one record, so that a bad value stops
 * a command before it opens a store, migrates or prints a key. It owns the
 * one-line messages that name the variable at fault; it must never put the
 * value of a secret (`DATABASE_URL`, `TESSERA_BOOTSTRAP_TOKEN`) in one.
 */
import { parseToken } from "@tessera/domain"
import { Config, ConfigError, Either, Option, Redacted } from "effect"

/** A value that is not secret, quoted and shortened for a message. */
const shown = (raw: string) => JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw)

/** `name` read as text and parsed by `parse`, whose `Left` is the whole message naming `name`. */
const parsed = <A>(name: string, parse: (raw: string) => Either.Either<A, string>): Config.Config<A> =>
  Config.string(name).pipe(
    Config.mapOrFail((raw) => Either.mapLeft(parse(raw), (message) => ConfigError.InvalidData([], message)))
  )

const wholeNumber = (raw: string): Option.Option<number> =>
  /^[0-9]+$/.test(raw) && Number.isSafeInteger(Number(raw)) ? Option.some(Number(raw)) : Option.none()

/** Where a store lives: a SQLite file, or a PostgreSQL database whose URL may carry a password. */
export type StoreSettings =
  | { readonly dialect: "sqlite"; readonly path: string }
  | {
    readonly dialect: "pg"
    readonly url: Redacted.Redacted<string>
    /** `host:port` of the server, safe to print: the URL itself never is. */
    readonly address: string
  }

const STORES = ["sqlite", "pg"] as const

const Dialect = parsed("TESSERA_STORE", (raw) =>
  (STORES as ReadonlyArray<string>).includes(raw)
    ? Either.right(raw as typeof STORES[number])
    : Either.left(`TESSERA_STORE must be one of ${STORES.join(", ")} (got ${shown(raw)})`)).pipe(
    Config.withDefault("sqlite" as const)
  )

const SqlitePath = parsed("TESSERA_SQLITE_PATH", (raw) =>
  raw.trim() === "" ? Either.left("TESSERA_SQLITE_PATH must be a file path, not empty") : Either.right(raw)).pipe(
    Config.withDefault("./data/tessera.db")
  )

/**
 * The server a PostgreSQL URL points at, as `host:port`; `None` when it is not
 * a `postgres://` URL. A socket directory given as `?host=` counts as the host.
 */
const pgAddress = (raw: string): Option.Option<string> => {
  if (!URL.canParse(raw)) return Option.none()
  const url = new URL(raw)
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") return Option.none()
  const host = url.hostname || url.searchParams.get("host") || "localhost"
  const port = url.port || url.searchParams.get("port") || "5432"
  return Option.some(`${host}:${port}`)
}

/** `TESSERA_STORE` and what it needs: `TESSERA_SQLITE_PATH`, or `DATABASE_URL` for PostgreSQL. */
export const StoreConfig: Config.Config<StoreSettings> = Config.all({
  dialect: Dialect,
  path: SqlitePath,
  url: Config.option(Config.redacted("DATABASE_URL"))
}).pipe(
  Config.mapOrFail(({ dialect, path, url }): Either.Either<StoreSettings, ConfigError.ConfigError> => {
    if (dialect === "sqlite") return Either.right({ dialect, path })
    if (Option.isNone(url)) {
      return Either.left(ConfigError.MissingData(["DATABASE_URL"], "DATABASE_URL is required when TESSERA_STORE=pg"))
    }
    return Option.match(pgAddress(Redacted.value(url.value)), {
      onNone: () =>
        Either.left(
          ConfigError.InvalidData(["DATABASE_URL"], "DATABASE_URL must be a postgres://user@host:port/database URL")
        ),
      onSome: (address) => Either.right({ dialect, url: url.value, address })
    })
  })
)

/** Where the HTTP service listens: `PORT` and `HOST`. */
export const Listen = Config.all({
  port: parsed("PORT", (raw) =>
    Option.match(Option.filter(wholeNumber(raw), (port) => port >= 1 && port <= 65535), {
      onNone: () => Either.left(`PORT must be a port number (got ${shown(raw)})`),
      onSome: Either.right
    })).pipe(Config.withDefault(8787)),
  host: parsed("HOST", (raw) =>
    raw.trim() === "" ? Either.left("HOST must be a host name or address, not empty") : Either.right(raw)).pipe(
      Config.withDefault("127.0.0.1")
    )
})

/** On an empty store, the API key of the first system admin; unset, one is generated. */
export const BootstrapToken: Config.Config<Option.Option<Redacted.Redacted<string>>> = Config.option(
  Config.redacted("TESSERA_BOOTSTRAP_TOKEN").pipe(
    Config.mapOrFail((token) =>
      Option.isSome(parseToken("tsk", Redacted.value(token)))
        ? Either.right(token)
        : Either.left(ConfigError.InvalidData([], "TESSERA_BOOTSTRAP_TOKEN must be a well-formed tsk_ API key"))
    )
  )
)

/** The largest request body the HTTP service accepts, in bytes: 1 MiB unless `TESSERA_MAX_BODY_BYTES` says otherwise. */
export const MaxBodyBytes: Config.Config<number> = parsed("TESSERA_MAX_BODY_BYTES", (raw) =>
  Option.match(Option.filter(wholeNumber(raw), (bytes) => bytes > 0), {
    onNone: () => Either.left(`TESSERA_MAX_BODY_BYTES must be a positive whole number of bytes (got ${shown(raw)})`),
    onSome: Either.right
  })).pipe(Config.withDefault(1_048_576))

const LOG_FORMATS = ["json", "pretty"] as const
export type LogFormat = typeof LOG_FORMATS[number]

/**
 * How the server writes its log (docs/operations.md): `json` lines, or
 * `pretty` lines for a person at a terminal. Unset, `pretty` on a terminal
 * and `json` otherwise (a pipe, a file, a log collector).
 */
export const LogFormatConfig: Config.Config<LogFormat> = parsed("TESSERA_LOG_FORMAT", (raw) =>
  (LOG_FORMATS as ReadonlyArray<string>).includes(raw)
    ? Either.right(raw as LogFormat)
    : Either.left(`TESSERA_LOG_FORMAT must be one of ${LOG_FORMATS.join(", ")} (got ${shown(raw)})`)).pipe(
    Config.withDefault<LogFormat>(process.stdout.isTTY === true ? "pretty" : "json")
  )

/**
 * The silence after which `GET /v1/events/stream` sends a heartbeat and reads
 * the log again (docs/events.md): `TESSERA_EVENTS_HEARTBEAT_MS`, whole
 * milliseconds from 10 to 1 hour; 15 seconds unless set.
 */
export const EventsHeartbeatMs: Config.Config<number> = parsed("TESSERA_EVENTS_HEARTBEAT_MS", (raw) =>
  Option.match(Option.filter(wholeNumber(raw), (ms) => ms >= 10 && ms <= 3_600_000), {
    onNone: () => Either.left(`TESSERA_EVENTS_HEARTBEAT_MS must be a whole number of milliseconds from 10 to 3600000 (got ${shown(raw)})`),
    onSome: Either.right
  })).pipe(Config.withDefault(15_000))

const DURATION = /^([0-9]+)(ms|s)?$/

/**
 * How long the server lets requests in flight finish after SIGTERM before
 * it closes their connections: `TESSERA_SHUTDOWN_TIMEOUT`, whole seconds
 * (`25`, `25s`) or milliseconds (`1500ms`); 25 seconds unless set, under
 * the 30 seconds an orchestrator commonly waits before it kills.
 */
export const ShutdownTimeoutMs: Config.Config<number> = parsed("TESSERA_SHUTDOWN_TIMEOUT", (raw) => {
  const match = DURATION.exec(raw.trim())
  const ms = match === null ? NaN : Number(match[1]) * (match[2] === "ms" ? 1 : 1000)
  return Number.isSafeInteger(ms) && ms <= 3_600_000
    ? Either.right(ms)
    : Either.left(`TESSERA_SHUTDOWN_TIMEOUT must be a duration in seconds or milliseconds, such as 25s or 1500ms, at most 1 hour (got ${shown(raw)})`)
}).pipe(Config.withDefault(25_000))

/** Where traces go: an OTLP/HTTP collector, and the service name the spans carry. */
export interface TracingSettings {
  /** The collector's base URL; spans are posted to `<endpoint>/v1/traces`. */
  readonly endpoint: string
  readonly serviceName: string
}

/**
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (an http(s) URL) turns tracing on; unset,
 * no span is built. `OTEL_SERVICE_NAME` names the service (`tessera`).
 */
export const TracingConfig: Config.Config<Option.Option<TracingSettings>> = Config.all({
  endpoint: Config.option(parsed("OTEL_EXPORTER_OTLP_ENDPOINT", (raw) =>
    URL.canParse(raw) && ["http:", "https:"].includes(new URL(raw).protocol)
      ? Either.right(raw.replace(/\/+$/, ""))
      : Either.left("OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL"))),
  serviceName: parsed("OTEL_SERVICE_NAME", (raw) =>
    raw.trim() === "" ? Either.left("OTEL_SERVICE_NAME must be a name, not empty") : Either.right(raw)).pipe(
      Config.withDefault("tessera")
    )
}).pipe(Config.map(({ endpoint, serviceName }) => Option.map(endpoint, (url) => ({ endpoint: url, serviceName }))))

export interface TesseraSettings {
  readonly store: StoreSettings
  readonly listen: { readonly port: number; readonly host: string }
  readonly bootstrapToken: Option.Option<Redacted.Redacted<string>>
  readonly maxBodyBytes: number
  readonly eventsHeartbeatMs: number
  readonly logFormat: LogFormat
  readonly shutdownTimeoutMs: number
  readonly tracing: Option.Option<TracingSettings>
}

/**
 * Every variable of every entry point, read at once: a command reads this
 * before anything else, so that no value is found wrong half-way through
 * (after a migration, or after a key was printed). Every fault is reported,
 * not only the first.
 */
export const TesseraConfig: Config.Config<TesseraSettings> = Config.all({
  store: StoreConfig,
  listen: Listen,
  bootstrapToken: BootstrapToken,
  maxBodyBytes: MaxBodyBytes,
  eventsHeartbeatMs: EventsHeartbeatMs,
  logFormat: LogFormatConfig,
  shutdownTimeoutMs: ShutdownTimeoutMs,
  tracing: TracingConfig
})

const faults = (error: ConfigError.ConfigError): ReadonlyArray<string> => {
  switch (error._op) {
    case "And":
    case "Or":
      return [...faults(error.left), ...faults(error.right)]
    case "MissingData": {
      const name = error.path.join(".")
      return [error.message.startsWith(name) ? error.message : `${name} is required`]
    }
    case "InvalidData": {
      const name = error.path.join(".")
      return [name === "" || error.message.startsWith(name) ? error.message : `${name}: ${error.message}`]
    }
    case "SourceUnavailable":
    case "Unsupported":
      return [error.message]
  }
}

/** One line naming every variable at fault, for a configuration that cannot be used. */
export const describeConfigError = (error: ConfigError.ConfigError): string =>
  `invalid configuration: ${[...new Set(faults(error))].join("; ").replace(/\s+/g, " ").trim()}`
