/**
 * The live web dashboard of a storage (`tunekit dashboard`), on @effect/platform-node's HTTP
 * server: the studies, each study's plots updated live as trials report and finish, a trial table
 * that stays responsive with tens of thousands of trials, each trial in full (params, learning
 * curves, PBT lineage, failure with its stack, runs, artifacts, a sweep's output, notes), and
 * studies compared.
 *
 * - **Live, and cheap for the study.** The dashboard reads each study whole once, then every
 *   `pollMs` only the trials changed since its last change counter (`Storage.changedTrials`),
 *   and only for studies with a page open. A page gets those changes as server-sent events that
 *   carry the changed trials' rows, nothing more; its plots are drawn again from what the server
 *   holds, at most every `plotRefreshMs`.
 * - **Read-only by default.** Give it a storage opened read-only (the CLI does): it never takes a
 *   write lock. Enqueueing a configuration, asking a trial to stop and editing notes need
 *   `allowWrite` (and a storage that can write).
 * - **Safe to leave running.** It binds 127.0.0.1 by default. Bound to another address it needs a
 *   token (generated when none is given). Requests from other origins' pages are refused, and
 *   every string of a study reaches the page as text, never as markup.
 *
 * @example
 * import { Effect } from "effect"
 * import { Storage } from "@tunekit/core"
 * import { Dashboard } from "@tunekit/dashboard"
 *
 * const program = Dashboard.serve({ port: 8080 }, (running) => Effect.log(`dashboard at ${running.url}`)).pipe(
 *   Effect.provide(Storage.layerSqlite("tunekit.db", { readonly: true }))
 * )
 *
 * @since 0.1.0
 */
import { NodeHttpServer } from "@effect/platform-node"
import { Checkpoint, Storage } from "@tunekit/core"
import { Effect, Option, type Scope } from "effect"
import { DashboardError } from "./Errors.js"
import * as http from "node:http"
import * as os from "node:os"
import * as App from "./internal/app.js"
import * as Feed from "./internal/feed.js"
import * as Plots from "./internal/plots.js"
import * as Security from "./internal/security.js"

/** Options of the dashboard. */
export interface Options {
  /** The port (default 8080; 0 takes any free port). */
  readonly port?: number
  /** The address to bind (default 127.0.0.1). Any other than the loopback needs a token. */
  readonly host?: string
  /** Enables the actions: enqueue a configuration, stop a trial, edit notes (default false). */
  readonly allowWrite?: boolean
  /**
   * The token requests must carry (`?token=` once, then a cookie; or `Authorization: Bearer`).
   * Default: none on the loopback, a random one on any other address.
   */
  readonly token?: string
  /** How often the studies with a page open are read for changes, in ms (default 1000). */
  readonly pollMs?: number
  /**
   * How often at most a study page redraws its plots while the study keeps changing, in ms
   * (default 5000; the first change after a quiet spell is drawn at once); a page also spends at
   * most a twentieth of its time redrawing.
   */
  readonly plotRefreshMs?: number
}

/** A running dashboard. */
export interface Running {
  /** Where to open it (with `?token=` when it needs one). */
  readonly url: string
  readonly host: string
  readonly port: number
  readonly token: string | undefined
  readonly allowWrite: boolean
}


const check = (options: Options): DashboardError | undefined => {
  const { port, pollMs, plotRefreshMs, token, host } = options
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    return new DashboardError({ reason: `the port must be an integer from 0 to 65535, got ${port}` })
  }
  if (host !== undefined && host.trim() === "") return new DashboardError({ reason: "the host is empty" })
  if (pollMs !== undefined && !(pollMs >= 20)) return new DashboardError({ reason: `pollMs must be at least 20, got ${pollMs}` })
  if (plotRefreshMs !== undefined && !(plotRefreshMs >= 100)) return new DashboardError({ reason: `plotRefreshMs must be at least 100, got ${plotRefreshMs}` })
  if (token !== undefined && !/^[\x21-\x7e]{8,}$/.test(token)) {
    return new DashboardError({ reason: "the token must be at least 8 printable characters, without spaces" })
  }
  return undefined
}

const shown = (host: string) => (host === "0.0.0.0" || host === "::" ? os.hostname() : host.includes(":") ? `[${host}]` : host)

/**
 * Starts the dashboard on the storage in the scope: it serves until the scope closes.
 *
 * @example
 * import { Effect } from "effect"
 * import { Storage } from "@tunekit/core"
 * import { Dashboard } from "@tunekit/dashboard"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const running = yield* Dashboard.start({ port: 0 })
 *   const res = yield* Effect.promise(() => fetch(`${running.url}api/studies`))
 *   return res.status // 200
 * })).pipe(Effect.provide(Storage.layerSqlite("tunekit.db", { readonly: true })))
 */
export const start = (options: Options = {}): Effect.Effect<Running, DashboardError, Storage.Storage | Scope.Scope> =>
  Effect.gen(function*() {
    const invalid = check(options)
    if (invalid !== undefined) return yield* invalid
    const host = options.host ?? "127.0.0.1"
    const token = options.token ?? (Security.isLoopback(host) ? undefined : Security.newToken())
    const storage = yield* Storage.Storage
    const feed = yield* Feed.make(storage, { pollMs: options.pollMs ?? 1000 })
    const node = http.createServer()
    const server = yield* NodeHttpServer.make(() => node, { port: options.port ?? 8080, host }).pipe(
      Effect.mapError((e) =>
        new DashboardError({ reason: `cannot listen on ${host}:${options.port ?? 8080}: ${(e.cause as Error)?.message ?? String(e.cause)}`, cause: e })
      )
    )
    // Live pages never end their responses: closing the server waits for them otherwise.
    yield* Effect.addFinalizer(() => Effect.sync(() => node.closeAllConnections()))
    const port = server.address._tag === "TcpAddress" ? server.address.port : 0
    const allowWrite = options.allowWrite ?? false
    const checkpoints = yield* Effect.serviceOption(Checkpoint.Checkpoint)
    yield* server.serve(App.make(feed, {
      ...(Option.isSome(checkpoints) ? { checkpoints: checkpoints.value } : {}),
      write: allowWrite,
      policy: Security.policy(host, port, token),
      plotRefreshMs: options.plotRefreshMs ?? 5000
    }))
    // Every study is read once in the background, and the first screen of the five most recently
    // active studies' pages drawn, so that the first pages opened find them ready.
    yield* Effect.forkScoped(Effect.catchAll(Plots.warm(feed, 5, 4), (e) => Effect.logWarning(`dashboard: reading the studies failed: ${e.message}`)))
    const url = `http://${shown(host)}:${port}/${token === undefined ? "" : `?token=${encodeURIComponent(token)}`}`
    return { url, host, port, token, allowWrite }
  })

/**
 * Runs the dashboard until interrupted (Ctrl-C), calling `onStart` once it listens.
 *
 * @example
 * import { Effect } from "effect"
 * import { Storage } from "@tunekit/core"
 * import { Dashboard } from "@tunekit/dashboard"
 *
 * Dashboard.serve({ port: 8080, allowWrite: true }, (r) => Effect.log(r.url)).pipe(
 *   Effect.provide(Storage.layerSqlite("tunekit.db"))
 * )
 */
export const serve = <E = never, R = never>(
  options: Options = {},
  onStart: (running: Running) => Effect.Effect<void, E, R> = () => Effect.void
): Effect.Effect<never, DashboardError | E, Storage.Storage | R> =>
  Effect.scoped(Effect.flatMap(start(options), (running) => Effect.zipRight(onStart(running), Effect.never)))
