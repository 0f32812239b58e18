/**
 * `GET /v1/events/stream` (docs/events.md): the event log as Server-Sent
 * Events. A stream subscribes to the store's wake-ups first, then reads the
 * log after its cursor in pages and sends each event as a frame whose `id` is
 * its `seq`; when a page comes back short it waits for a wake-up (a commit in
 * any process) or a heartbeat, then reads again. Delivery follows `seq` only:
 * the log hands out `seq`s in commit order, so reading past the last one
 * sent never skips an event and never repeats one.
 *
 * It never decides visibility itself: every page is read through
 * `listEvents`, as `GET /v1/events` is, for the caller re-authenticated from
 * their key at that moment. A caller whose key is revoked or who stops being
 * an admin of the workspace gets one `error` frame and the stream ends.
 *
 * A stream is a long poll, not work in flight: when the server begins to
 * drain (SIGTERM, docs/operations.md "Shutdown") every open stream sends a
 * `: shutdown` comment and ends at once, so that it never holds the drain;
 * its client reconnects elsewhere with `Last-Event-ID` and loses nothing,
 * since delivery follows `seq` (docs/events.md).
 */
import { HttpApiBuilder, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { CurrentPrincipal, TesseraApi } from "@tessera/api"
import { EventsHeartbeatMs, Settings } from "@tessera/config"
import { authenticate, Event, EventWakeups, listEvents, readableEvents } from "@tessera/domain"
import { Chunk, Deferred, Duration, Effect, Option, Queue, Redacted, Schema, Stream } from "effect"
import { drainBegun } from "./lifecycle.js"
import { wire } from "./wire.js"

/** Events read per page while catching up. */
const PAGE = 500

const encoder = new TextEncoder()
const encodeEvent = Schema.encodeSync(Event)

const frame = (event: Event) =>
  encoder.encode(`id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(encodeEvent(event))}\n\n`)
const comment = (text: string) => encoder.encode(`: ${text}\n\n`)
/** The last frame of a stream the server ends because it stops. */
const SHUTDOWN = comment("shutdown")

type Step = "read" | "wait" | "end"

/**
 * The frames after `start`: a comment once subscribed, then every visible
 * event in `seq` order, heartbeats in the silences, until the client leaves,
 * the server stops (`closing`) or the caller loses the right to read.
 */
const follow = (
  token: Redacted.Redacted<string>,
  query: { readonly workspaceId: string | undefined; readonly type: string | undefined },
  start: number,
  heartbeat: Duration.Duration
) =>
  Stream.unwrapScoped(Effect.gen(function*() {
    // subscribed before the first read: whatever commits after that read wakes this stream
    const wakeups = yield* Effect.flatMap(EventWakeups, (w) => w.subscribe)
    let cursor = start
    const page = authenticate(token).pipe(
      Effect.flatMap((principal) => listEvents(principal, { after: cursor, limit: PAGE, ...query })),
      wire
    )
    const read = page.pipe(
      Effect.map(({ events }): [Chunk.Chunk<Uint8Array>, Step] => {
        if (events.length > 0) cursor = events[events.length - 1]!.seq
        return [Chunk.fromIterable(events.map(frame)), events.length === PAGE ? "read" : "wait"]
      }),
      Effect.catchAll((refusal) =>
        Effect.succeed<[Chunk.Chunk<Uint8Array>, Step]>([
          Chunk.of(encoder.encode(`event: error\ndata: ${JSON.stringify(refusal)}\n\n`)),
          "end"
        ])
      )
    )
    const wait = Effect.raceFirst(
      Effect.as(Effect.zipRight(Queue.take(wakeups), Queue.takeAll(wakeups)), Chunk.empty<Uint8Array>()),
      Effect.as(Effect.sleep(heartbeat), Chunk.of(comment("heartbeat")))
    ).pipe(Effect.map((frames): [Chunk.Chunk<Uint8Array>, Step] => [frames, "read"]))
    return Stream.concat(
      Stream.make(encoder.encode(`retry: 1000\n: ready after ${start}\n\n`)),
      Stream.unfoldChunkEffect("read" as Step, (step) =>
        step === "end" ? Effect.succeed(Option.none()) : Effect.map(step === "read" ? read : wait, Option.some))
    )
  }))

export const EventStreamLive = HttpApiBuilder.group(TesseraApi, "eventStream", (handlers) =>
  Effect.gen(function*() {
    // the silence after which a heartbeat is sent (and the log read again, should a wake-up have been lost):
    // the validated `TESSERA_EVENTS_HEARTBEAT_MS` of the service's settings, or read alone where there are none
    const heartbeat = Duration.millis(
      yield* Option.match(yield* Effect.serviceOption(Settings), {
        onNone: () => EventsHeartbeatMs,
        onSome: (settings) => Effect.succeed(settings.eventsHeartbeatMs)
      })
    )
    const wakeups = yield* EventWakeups
    const context = yield* Effect.context<
      EventWakeups | Effect.Effect.Context<ReturnType<typeof listEvents>> | Effect.Effect.Context<ReturnType<typeof authenticate>>
    >()
    // open streams end when the server begins to drain or stops, so that neither waits on them
    const closing = yield* Deferred.make<void>()
    yield* Effect.addFinalizer(() => Deferred.succeed(closing, undefined))
    yield* Effect.forkScoped(Effect.zipRight(Effect.promise(() => drainBegun), Deferred.succeed(closing, undefined)))
    return handlers.handle("follow", ({ headers, urlParams }) =>
      Effect.gen(function*() {
        const principal = yield* CurrentPrincipal
        const request = yield* HttpServerRequest.HttpServerRequest
        // refused at once, with its status, rather than as a stream that ends
        yield* wire(readableEvents(principal, urlParams.workspace_id))
        // the middleware has accepted `Bearer <key>`; the stream re-presents that key on every page
        const token = Redacted.make((request.headers.authorization ?? "").slice("bearer ".length))
        const start = headers["last-event-id"] ?? urlParams.after ?? (yield* wakeups.newest)
        const body = follow(token, { workspaceId: urlParams.workspace_id, type: urlParams.type }, start, heartbeat).pipe(
          Stream.interruptWhen(Deferred.await(closing)),
          // ended by the server rather than by the caller's loss of rights: say so, and the client resumes elsewhere
          Stream.concat(Stream.unwrap(Effect.map(Deferred.isDone(closing), (done) => (done ? Stream.make(SHUTDOWN) : Stream.empty)))),
          Stream.provideContext(context)
        )
        return HttpServerResponse.stream(body, {
          contentType: "text/event-stream",
          headers: { "cache-control": "no-store", "x-accel-buffering": "no" }
        })
      }).pipe(Effect.provide(context)))
  }))
