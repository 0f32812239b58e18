/** A typed client for the Tessera HTTP API. */
import { HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { Effect, Redacted } from "effect"
import { TesseraApi } from "./api.js"

/** A client for the server at `baseUrl`, optionally sending `apiKey` as the bearer. */
export const makeClient = (baseUrl: string, apiKey?: Redacted.Redacted<string>) =>
  HttpApiClient.make(TesseraApi, {
    baseUrl,
    transformClient: apiKey === undefined
      ? undefined
      : HttpClient.mapRequest(HttpClientRequest.bearerToken(Redacted.value(apiKey)))
  })

export type TesseraClient = Effect.Effect.Success<ReturnType<typeof makeClient>>
