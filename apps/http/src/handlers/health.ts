/** Liveness and readiness: ready when the store answers and its schema is current. */
import { HttpApiBuilder } from "@effect/platform"
import { ApiErrors, TesseraApi } from "@tessera/api"
import { isCurrent } from "@tessera/config"
import { Effect } from "effect"

export const HealthLive = HttpApiBuilder.group(TesseraApi, "health", (handlers) =>
  handlers
    .handle("healthz", () => Effect.succeed({ status: "ok" as const }))
    .handle("readyz", () =>
      isCurrent.pipe(
        Effect.timeout("2 seconds"),
        Effect.catchAllCause(() => Effect.succeed(false)),
        Effect.flatMap((current) =>
          current
            ? Effect.succeed({ status: "ready" as const })
            : Effect.fail(new ApiErrors.NotReady({ message: "the store is unreachable or its schema is not current" }))
        )
      )))
