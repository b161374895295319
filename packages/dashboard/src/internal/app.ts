// The dashboard's routes: pages, their JSON, the live events, static files, and the writes (with
// --allow-write only), all behind the security check.
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { type Checkpoint, Retention, StorageError, StudyNotFound, type Trial } from "@tunekit/core"
import { Kind } from "@tunekit/plots"
import { Runs } from "@tunekit/tracking"
import { Cause, Effect, Either } from "effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as Actions from "./actions.js"
import { detail, paramInfo, studyNote } from "./detail.js"
import { derive, type Feed, type Followed, rowsOf, summary, trialsOf } from "./feed.js"
import * as Pages from "./pages.js"
import * as Plots from "./plots.js"
import * as Security from "./security.js"

export interface Config {
  readonly write: boolean
  readonly policy: Security.Policy
  /** How often a study page redraws its plots while the study changes (ms). */
  readonly plotRefreshMs: number
  /** The study's checkpoint store, when the dashboard was given one: a trial page lists its checkpoints. */
  readonly checkpoints?: Checkpoint.CheckpointService
}

/** A trial's checkpoints as its page shows them: size, when saved, and why each is kept. */
const checkpointsOf = (store: Checkpoint.CheckpointService | undefined, f: Followed, t: Trial.FrozenTrial) =>
  store?.list === undefined ? Effect.succeed(null) : Effect.map(
    Effect.either(store.list(f.info.name)),
    (listed) => {
      if (Either.isLeft(listed)) return { error: listed.left.message, kept: [] }
      const verdicts = Retention.plan({
        policy: Retention.policyOf(f.info) ?? Retention.defaults,
        directions: f.info.directions,
        trials: trialsOf(f),
        entries: listed.right
      })
      return {
        error: null,
        kept: verdicts.filter((v) => v.trial === t.number).map((v) => ({
          step: v.step,
          bytes: v.bytes,
          savedAt: v.savedAt ?? null,
          why: v.reasons.length === 0 ? "not needed: retention deletes it" : v.reasons.map(Retention.describe).join(", ")
        }))
      }
    }
  )

// ---------------------------------------------------------------------------------------------
// Static files: the page script and styles of this package, ECharts' browser build.
// ---------------------------------------------------------------------------------------------

const here = path.dirname(fileURLToPath(import.meta.url))
const staticDir = path.resolve(here, "..", "..", "static")

/**
 * ECharts' minified browser build from the installed package: the version @tunekit/plots builds
 * its options for (the dashboard's own resolution first, which finds it where npm hoisted it).
 */
const echartsFile = (): string => {
  const own = createRequire(import.meta.url)
  const main = (() => {
    try {
      return own.resolve("echarts")
    } catch {
      return createRequire(own.resolve("@tunekit/plots")).resolve("echarts")
    }
  })()
  return path.join(path.dirname(main), "echarts.min.js")
}

interface Asset {
  readonly body: Uint8Array
  readonly type: string
  readonly cache: string
}

const loadAssets = () => {
  const read = (file: string) => new Uint8Array(fs.readFileSync(file))
  const script = read(path.join(staticDir, "dashboard.js"))
  const styles = read(path.join(staticDir, "dashboard.css"))
  const echarts = read(echartsFile())
  const version = crypto.createHash("sha256").update(script).update(styles).digest("hex").slice(0, 12)
  const echartsVersion = crypto.createHash("sha256").update(echarts).digest("hex").slice(0, 12)
  const assets = new Map<string, Asset>([
    ["dashboard.js", { body: script, type: "text/javascript; charset=utf-8", cache: "no-cache" }],
    ["dashboard.css", { body: styles, type: "text/css; charset=utf-8", cache: "no-cache" }],
    // Named by its content: cached for a day.
    [`echarts-${echartsVersion}.min.js`, { body: echarts, type: "text/javascript; charset=utf-8", cache: "public, max-age=86400, immutable" }]
  ])
  return { assets, chrome: { version, echarts: `/static/echarts-${echartsVersion}.min.js` } }
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // ECharts' tooltips are markup with style attributes.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'"
].join("; ")

const secured = (r: HttpServerResponse.HttpServerResponse) =>
  HttpServerResponse.setHeaders(r, {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-resource-policy": "same-origin"
  })

const json = (text: string, status = 200) =>
  HttpServerResponse.text(text, { status, contentType: "application/json; charset=utf-8", headers: { "cache-control": "no-store" } })

const jsonError = (status: number, message: string) => json(JSON.stringify({ error: message }), status)

const isApi = (url: string) => url.startsWith("/api/")

/** A request's failure as the page or its script reads it. */
class HttpFailure {
  constructor(readonly status: 400 | 403 | 404 | 500, readonly message: string) {}
}

const fail = (status: HttpFailure["status"], message: string) => Effect.fail(new HttpFailure(status, message))

// ---------------------------------------------------------------------------------------------
// The app
// ---------------------------------------------------------------------------------------------

const paramsOf = HttpRouter.params
const request = HttpServerRequest.HttpServerRequest

const urlOf = (req: HttpServerRequest.HttpServerRequest) => new URL(req.url, "http://dashboard")

const numberParam = (raw: string | undefined): number | undefined => {
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined
  const n = Number(raw)
  return Number.isSafeInteger(n) ? n : undefined
}

const widthParam = (url: URL): number | undefined => {
  const w = Number(url.searchParams.get("width"))
  return Number.isFinite(w) && w > 0 ? w : undefined
}

/** Makes the dashboard's HTTP app on a feed. */
export const make = (feed: Feed, config: Config) => {
  const { assets, chrome: files } = loadAssets()
  const chrome: Pages.Chrome = { write: config.write, ...files }
  const page = (p: Pages.Page, status = 200) =>
    HttpServerResponse.text(Pages.render(p, chrome), { status, contentType: "text/html; charset=utf-8", headers: { "cache-control": "no-store" } })

  /** The study named in the path. */
  const followed = Effect.gen(function*() {
    const name = (yield* paramsOf).name ?? ""
    return yield* Effect.catchTag(feed.study(name), "StudyNotFound", () => fail(404, `no study named ${JSON.stringify(name)} in this storage`))
  })

  const trialOf = (f: Followed) =>
    Effect.gen(function*() {
      const raw = (yield* paramsOf).number
      const number = numberParam(raw)
      const t = number === undefined ? undefined : trialsOf(f).find((x) => x.number === number)
      if (t === undefined) return yield* fail(404, `study ${JSON.stringify(f.info.name)} has no trial ${raw ?? ""}`)
      return t
    })

  const studyData = (f: Followed) => {
    const s = summary(f)
    const params = derive(f, "params", () => Object.entries(Actions.distributionsOf(f)).map(([name, d]) => paramInfo(name, d)).sort((a, b) => (a.name < b.name ? -1 : 1)))
    return { study: f.info.name, summary: s, seq: f.seq, params, kinds: Plots.kinds(f), note: studyNote(f.info), plotRefreshMs: config.plotRefreshMs }
  }

  const trialsJson = (f: Followed) =>
    derive(f, "trials", () => JSON.stringify({ ...studyData(f), rows: rowsOf(f, trialsOf(f)) }))

  /** A write: allowed with --allow-write only, its JSON body at most 64 KiB. */
  const writing = <A>(f: (body: unknown) => Effect.Effect<A, Actions.Refused | StorageError | HttpFailure>) =>
    Effect.gen(function*() {
      if (!config.write) return yield* fail(403, "read-only: start the dashboard with --allow-write to enqueue, stop trials and edit notes")
      const req = yield* request
      if (Number(req.headers["content-length"] ?? 0) > 65536) return yield* fail(400, "the request body is too large")
      const body = yield* Effect.catchAll(req.json, () => fail(400, "the request body is not JSON"))
      return yield* Effect.catchTag(f(body), "Refused", (e) => fail(400, e.reason))
    })

  const router = HttpRouter.empty.pipe(
    // Pages
    HttpRouter.get("/", Effect.map(feed.studies, (studies) => page(Pages.studies({ studies })))),
    HttpRouter.get("/study/:name", Effect.map(followed, (f) => page(Pages.study(f.info.name, studyData(f))))),
    HttpRouter.get("/study/:name/trials", Effect.map(followed, (f) => page(Pages.trials(f.info.name, { study: f.info.name })))),
    HttpRouter.get(
      "/study/:name/trial/:number",
      Effect.gen(function*() {
        const f = yield* followed
        const t = yield* trialOf(f)
        return page(Pages.trial(f.info.name, t.number, { study: f.info.name, number: t.number, seq: f.seq, write: config.write }))
      })
    ),
    HttpRouter.get(
      "/compare",
      Effect.gen(function*() {
        const names = urlOf(yield* request).searchParams.getAll("study")
        const studies = yield* feed.studies
        return page(Pages.compare(names, { studies: names, all: studies.map((s) => s.name) }))
      })
    ),
    HttpRouter.get(
      "/static/:file",
      Effect.gen(function*() {
        const a = assets.get((yield* paramsOf).file ?? "")
        if (a === undefined) return yield* fail(404, "no such file")
        return HttpServerResponse.uint8Array(a.body, { contentType: a.type, headers: { "cache-control": a.cache } })
      })
    ),
    // JSON
    HttpRouter.get("/api/studies", Effect.map(feed.studies, (studies) => json(JSON.stringify({ studies })))),
    HttpRouter.get("/api/study/:name", Effect.map(followed, (f) => json(JSON.stringify(studyData(f))))),
    HttpRouter.get("/api/study/:name/trials", Effect.map(followed, (f) => json(trialsJson(f)))),
    HttpRouter.get(
      "/api/study/:name/events",
      Effect.gen(function*() {
        const f = yield* followed
        const req = yield* request
        // A reconnecting EventSource says where it was; a page that just loaded, with ?since=.
        const query = urlOf(req).searchParams
        const since = numberParam(req.headers["last-event-id"]) ?? numberParam(query.get("since") ?? undefined)
        // ?latest=N: only the N trials that changed last; ?trial=ID: only that trial.
        const latest = numberParam(query.get("latest") ?? undefined)
        const trial = numberParam(query.get("trial") ?? undefined)
        const want = { ...(latest === undefined ? {} : { latest }), ...(trial === undefined ? {} : { trial }) }
        return HttpServerResponse.stream(feed.events(f, since, want), {
          contentType: "text/event-stream",
          headers: { "cache-control": "no-store", "x-accel-buffering": "no" }
        })
      })
    ),
    HttpRouter.get(
      "/api/study/:name/plot/:kind",
      Effect.gen(function*() {
        const f = yield* followed
        const url = urlOf(yield* request)
        const kind = Kind.decode((yield* paramsOf).kind ?? "")
        if (Either.isLeft(kind)) return yield* fail(404, kind.left.message)
        // The page has this one already.
        if (url.searchParams.get("seq") === String(f.seq)) return json(JSON.stringify({ seq: f.seq, same: true }))
        const method = url.searchParams.get("method") === "fanova" ? "fanova" : "ped-anova"
        const rungsText = url.searchParams.get("rungs")
        const rungs = rungsText === null || rungsText.trim() === "" ? undefined : rungsText.split(",").map(Number)
        if (rungs !== undefined && !rungs.every((r) => Number.isFinite(r) && r > 0)) return yield* fail(400, `rungs must be positive numbers, got ${rungsText}`)
        return json(Plots.plot(f, { kind: kind.right, method, ...(rungs === undefined ? {} : { rungs }), width: widthParam(url) }))
      })
    ),
    HttpRouter.get(
      "/api/study/:name/trial/:number",
      Effect.gen(function*() {
        const f = yield* followed
        const t = yield* trialOf(f)
        const checkpoints = yield* checkpointsOf(config.checkpoints, f, t)
        return json(JSON.stringify({ seq: f.seq, ...detail(f.info, trialsOf(f), t, widthParam(urlOf(yield* request))), checkpoints }))
      })
    ),
    HttpRouter.get(
      "/api/study/:name/trial/:number/artifact",
      Effect.gen(function*() {
        const f = yield* followed
        const t = yield* trialOf(f)
        const name = urlOf(yield* request).searchParams.get("name")
        const a = Runs.runOf(f.info.name, t).artifacts.find((x) => x.name === name)
        if (a === undefined) return yield* fail(404, `trial ${t.number} has no artifact ${JSON.stringify(name ?? "")}`)
        return yield* artifact(a)
      })
    ),
    HttpRouter.get(
      "/api/compare",
      Effect.gen(function*() {
        const url = urlOf(yield* request)
        const names = url.searchParams.getAll("study")
        if (names.length === 0) return yield* fail(400, "name the studies: /api/compare?study=a&study=b")
        const studies = yield* Effect.forEach(names, (name) =>
          Effect.catchTag(feed.study(name), "StudyNotFound", () => fail(404, `no study named ${JSON.stringify(name)} in this storage`)))
        const width = widthParam(url)
        return json(JSON.stringify({
          summaries: studies.map(summary),
          plots: (["history", "edf"] as const).map((k) => ({ kind: k, ...Plots.compare(studies, k, width) }))
        }))
      })
    ),
    // Writes
    HttpRouter.post(
      "/api/study/:name/enqueue",
      Effect.gen(function*() {
        const f = yield* followed
        const t = yield* writing((body) => Actions.enqueue(feed.storage, f, body))
        yield* feed.refresh(f)
        return json(JSON.stringify({ enqueued: t.number }))
      })
    ),
    HttpRouter.post(
      "/api/study/:name/trial/:number/stop",
      Effect.gen(function*() {
        const f = yield* followed
        const t = yield* trialOf(f)
        yield* writing(() => Actions.stop(feed.storage, t))
        yield* feed.refresh(f)
        return json(JSON.stringify({ stopRequested: t.number }))
      })
    ),
    HttpRouter.post(
      "/api/study/:name/notes",
      Effect.gen(function*() {
        const f = yield* followed
        yield* writing((body) => Actions.setNote(feed.storage, f, body))
        return json(JSON.stringify({ saved: true }))
      })
    )
  )

  const failed = (url: string, status: number, message: string) =>
    isApi(url)
      ? jsonError(status, message)
      : page(Pages.error(status === 404 ? "Not found" : status === 401 ? "Token required" : status === 403 ? "Refused" : "Error", message), status)

  const app = Effect.gen(function*() {
    const req = yield* request
    const url = urlOf(req)
    const verdict = Security.check(config.policy, { method: req.method, path: url.pathname, query: url.searchParams, headers: req.headers })
    if (verdict._tag === "Refuse") return failed(url.pathname, verdict.status, verdict.reason)
    if (verdict._tag === "Remember") {
      return HttpServerResponse.empty({ status: 303, headers: { location: verdict.location, "set-cookie": verdict.cookie } })
    }
    return yield* router.pipe(
      Effect.catchAllCause((cause) => {
        const e = Cause.squash(cause)
        if (e instanceof HttpFailure) return Effect.succeed(failed(url.pathname, e.status, e.message))
        if ((e as { _tag?: string })?._tag === "RouteNotFound") return Effect.succeed(failed(url.pathname, 404, `nothing at ${url.pathname}`))
        if (e instanceof StudyNotFound) return Effect.succeed(failed(url.pathname, 404, e.message))
        if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause)
        const message = e instanceof StorageError ? e.message : `the dashboard failed: ${(e as Error)?.message ?? String(e)}`
        return Effect.as(Effect.logError(message, cause), failed(url.pathname, 500, message))
      })
    )
  })
  return Effect.map(app, secured)
}

/** An artifact's bytes, served only when they are still what the tracker recorded (size and SHA-256). */
const artifact = (a: Runs.Artifact): Effect.Effect<HttpServerResponse.HttpServerResponse, HttpFailure> =>
  Effect.gen(function*() {
    const bytes = yield* Effect.tryPromise({
      try: () => fs.promises.readFile(a.file),
      catch: (e) => new HttpFailure(404, `artifact ${a.name} cannot be read: ${(e as Error).message}`)
    })
    if (bytes.byteLength !== a.bytes || crypto.createHash("sha256").update(bytes).digest("hex") !== a.sha256) {
      return yield* fail(404, `artifact ${a.name} changed since it was recorded`)
    }
    // Text and images are shown; anything else (HTML and SVG too, which could run scripts) is downloaded.
    const shown = inlineType(a)
    const file = path.basename(a.name).replace(/[^\w.-]/g, "_")
    return HttpServerResponse.uint8Array(new Uint8Array(bytes), {
      contentType: shown ?? "application/octet-stream",
      headers: { "content-disposition": `${shown === undefined ? "attachment" : "inline"}; filename="${file}"`, "cache-control": "no-store" }
    })
  })

const INLINE = /^(text\/plain|text\/csv|application\/json|image\/(png|jpeg|gif|webp))\b/
const BY_NAME: ReadonlyArray<readonly [RegExp, string]> = [
  [/\.png$/i, "image/png"],
  [/\.jpe?g$/i, "image/jpeg"],
  [/\.gif$/i, "image/gif"],
  [/\.webp$/i, "image/webp"],
  [/\.json$/i, "application/json"],
  [/\.(txt|log|csv|out|err)$/i, "text/plain; charset=utf-8"]
]

/** The type an artifact is shown as in the browser, or undefined when it is downloaded instead. */
const inlineType = (a: Runs.Artifact): string | undefined =>
  a.contentType !== undefined ? (INLINE.test(a.contentType) ? a.contentType : undefined) : BY_NAME.find(([re]) => re.test(a.name))?.[1]
