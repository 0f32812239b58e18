/**
 * The HTTP application as a Layer over a store: the API with its handlers,
 * authentication (API keys everywhere, share links on a resource's
 * endpoints), the limits on request bodies, the wire error format,
 * `/openapi.json` and `/docs`. The composition root (`main.ts`) adds the
 * Node server, the request log and configuration.
 */
import { HttpApiBuilder, HttpApiSwagger } from "@effect/platform"
import { TesseraApi } from "@tessera/api"
import { Layer } from "effect"
import { AuthenticationLive, BearerAuthenticationLive } from "./auth.js"
import { NodeCryptoLive } from "./crypto.js"
import { AccessLive } from "./handlers/access.js"
import { HealthLive } from "./handlers/health.js"
import { EventsLive, InvitesLive, RegistrationLive, UsersLive } from "./handlers/identity.js"
import { ResourcesLive } from "./handlers/resources.js"
import { WorkspacesLive } from "./handlers/workspaces.js"
import { EventStreamLive } from "./stream.js"
import { BodyLimitsLive } from "./limits.js"
import { WireFormatLive } from "./wire.js"

export const ApiLive = HttpApiBuilder.api(TesseraApi).pipe(
  Layer.provide([HealthLive, RegistrationLive, InvitesLive, UsersLive, WorkspacesLive, ResourcesLive, AccessLive, EventsLive, EventStreamLive]),
  Layer.provide([AuthenticationLive, BearerAuthenticationLive]),
  // digests and random bytes computed in place rather than through Web Crypto's promises (`crypto.ts`)
  Layer.provide(NodeCryptoLive)
)

/** Everything `HttpApiBuilder.serve()` needs, given a configured store. */
export const HttpAppLive = Layer.mergeAll(
  HttpApiSwagger.layer({ path: "/docs" }),
  HttpApiBuilder.middlewareOpenApi({ path: "/openapi.json" }),
  WireFormatLive,
  BodyLimitsLive
).pipe(Layer.provideMerge(ApiLive))
