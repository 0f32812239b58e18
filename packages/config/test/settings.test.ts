/**
 * The configuration record as the entry points read it: its defaults, what
 * each variable accepts, and the one line that names every fault without
 * the value of a secret.
 */
import { describe, expect, it } from "@effect/vitest"
import { formatToken } from "@tessera/domain"
import { ConfigProvider, Effect, Either, Option, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { describeConfigError, EventsHeartbeatMs, LogFormatConfig, MaxBodyBytes, ShutdownTimeoutMs, TesseraConfig, TracingConfig } from "../src/index.js"

const read = <A>(config: Effect.Effect<A, any>, env: Record<string, string>) =>
  config.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))), Effect.either)

describe("TesseraConfig", () => {
  it.effect("an empty environment is the SQLite default on 127.0.0.1:8787 with a 1 MiB body limit", () =>
    Effect.gen(function*() {
      const settings = Either.getOrThrow(yield* read(TesseraConfig, {}))
      expect(settings.store).toEqual({ dialect: "sqlite", path: "./data/tessera.db" })
      expect(settings.listen).toEqual({ port: 8787, host: "127.0.0.1" })
      expect(Option.isNone(settings.bootstrapToken)).toBe(true)
      expect(settings.maxBodyBytes).toBe(1_048_576)
    }))

  it.effect("PostgreSQL keeps its URL redacted and only host:port in the clear", () =>
    Effect.gen(function*() {
      const url = "postgres://postgres:secretpw@db.internal:6543/tessera"
      const settings = Either.getOrThrow(yield* read(TesseraConfig, { TESSERA_STORE: "pg", DATABASE_URL: url }))
      expect(settings.store).toMatchObject({ dialect: "pg", address: "db.internal:6543" })
      expect(settings.store.dialect === "pg" && Redacted.value(settings.store.url)).toBe(url)
      expect(String(settings.store.dialect === "pg" && settings.store.url)).not.toContain("secretpw")
    }))

  it.effect("a well-formed TESSERA_BOOTSTRAP_TOKEN is kept redacted", () =>
    Effect.gen(function*() {
      const token = formatToken("tsk", randomBytes(32))
      const settings = Either.getOrThrow(yield* read(TesseraConfig, { TESSERA_BOOTSTRAP_TOKEN: token }))
      expect(Option.map(settings.bootstrapToken, Redacted.value)).toEqual(Option.some(token))
    }))

  it.effect("TESSERA_MAX_BODY_BYTES is a positive whole number of bytes", () =>
    Effect.gen(function*() {
      expect(yield* read(MaxBodyBytes, { TESSERA_MAX_BODY_BYTES: "2048" })).toEqual(Either.right(2048))
      for (const bad of ["0", "-1", "1.5", "1e6", "lots", "", "99999999999999999999"]) {
        const error = yield* Effect.flip(read(MaxBodyBytes, { TESSERA_MAX_BODY_BYTES: bad }).pipe(Effect.flatten))
        expect(describeConfigError(error)).toMatch(/^invalid configuration: TESSERA_MAX_BODY_BYTES must be a positive whole number/)
      }
    }))

  it.effect("TESSERA_EVENTS_HEARTBEAT_MS is a whole number of milliseconds from 10 to an hour", () =>
    Effect.gen(function*() {
      expect(yield* read(EventsHeartbeatMs, {})).toEqual(Either.right(15_000))
      expect(Either.getOrThrow(yield* read(TesseraConfig, {})).eventsHeartbeatMs).toBe(15_000)
      expect(yield* read(EventsHeartbeatMs, { TESSERA_EVENTS_HEARTBEAT_MS: "10" })).toEqual(Either.right(10))
      expect(yield* read(EventsHeartbeatMs, { TESSERA_EVENTS_HEARTBEAT_MS: "3600000" })).toEqual(Either.right(3_600_000))
      for (const bad of ["", "9", "-1", "1.5", "15s", "1e4", "3600001", "99999999999999999999"]) {
        const error = yield* Effect.flip(read(TesseraConfig, { TESSERA_EVENTS_HEARTBEAT_MS: bad }).pipe(Effect.flatten))
        expect(describeConfigError(error)).toBe(
          `invalid configuration: TESSERA_EVENTS_HEARTBEAT_MS must be a whole number of milliseconds from 10 to 3600000 (got ${JSON.stringify(bad)})`
        )
      }
    }))

  it.effect("TESSERA_LOG_FORMAT, TESSERA_SHUTDOWN_TIMEOUT and the OTLP endpoint", () =>
    Effect.gen(function*() {
      expect(yield* read(LogFormatConfig, { TESSERA_LOG_FORMAT: "pretty" })).toEqual(Either.right("pretty"))
      expect(yield* read(LogFormatConfig, {})).toEqual(Either.right(process.stdout.isTTY === true ? "pretty" : "json"))
      expect(yield* read(ShutdownTimeoutMs, {})).toEqual(Either.right(25_000))
      expect(yield* read(ShutdownTimeoutMs, { TESSERA_SHUTDOWN_TIMEOUT: "10" })).toEqual(Either.right(10_000))
      expect(yield* read(ShutdownTimeoutMs, { TESSERA_SHUTDOWN_TIMEOUT: "1500ms" })).toEqual(Either.right(1500))
      for (const bad of ["", "-1", "1.5s", "1m", "7200s"]) {
        const error = yield* Effect.flip(read(ShutdownTimeoutMs, { TESSERA_SHUTDOWN_TIMEOUT: bad }).pipe(Effect.flatten))
        expect(describeConfigError(error)).toMatch(/^invalid configuration: TESSERA_SHUTDOWN_TIMEOUT must be a duration/)
      }
      expect(yield* read(TracingConfig, {})).toEqual(Either.right(Option.none()))
      expect(yield* read(TracingConfig, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" })).toEqual(
        Either.right(Option.some({ endpoint: "http://collector:4318", serviceName: "tessera" }))
      )
    }))

  it.effect("every fault is named on one line, and no secret value is in it", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        read(TesseraConfig, {
          TESSERA_STORE: "pg",
          DATABASE_URL: "postgres://postgres:secretpw@db:notaport/x",
          PORT: "65536",
          HOST: " ",
          TESSERA_BOOTSTRAP_TOKEN: "tsk_secret-but-wrong",
          TESSERA_MAX_BODY_BYTES: "none"
        }).pipe(Effect.flatten)
      )
      const line = describeConfigError(error)
      expect(line.split("\n")).toHaveLength(1)
      for (const variable of ["DATABASE_URL", "PORT", "HOST", "TESSERA_BOOTSTRAP_TOKEN", "TESSERA_MAX_BODY_BYTES"]) {
        expect(line).toContain(variable)
      }
      expect(line).not.toContain("secretpw")
      expect(line).not.toContain("tsk_secret-but-wrong")
    }))
})
