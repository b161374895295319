/**
 * A tracker for an MLflow tracking server, over its REST API: an experiment per study, a parent
 * run per study run, and a run per trial nested under it (the `mlflow.parentRunId` tag, as
 * `mlflow.start_run(nested=True)` sets it). Params and metrics (with steps and timestamps) go in
 * `log-batch` requests; a run ends FINISHED when its trial completes, KILLED when pruned, FAILED
 * when it fails; artifacts are uploaded through the server's artifact proxy (`mlflow server`
 * serves artifacts by default).
 *
 * Tracking never slows or fails the study: events are queued and sent by a background fiber,
 * requests are retried with exponential backoff, a server that keeps failing is left alone for a
 * cooldown, and what could not be sent is counted and reported (a warning when the study ends,
 * and `TrackerService.health`).
 *
 * @example
 * import { Effect } from "effect"
 * import { Space, Study } from "@tunekit/core"
 * import { Mlflow } from "@tunekit/tracking"
 *
 * const space = Space.struct({ lr: Space.float(1e-4, 1e-1, { log: true }) })
 * const program = Study.optimize({ study: "mnist-cnn", space, objective: (c) => c.lr, trials: 20 }).pipe(
 *   Effect.provide(Mlflow.layer({ url: "http://127.0.0.1:5000" })),
 *   Effect.provide(Study.layerDefaults({ seed: 1 }))
 * )
 *
 * @since 0.2.0
 */
import { Duration, Effect, Either, Fiber, Layer, Schema } from "effect"
import type { InvalidOptions, Storage } from "@tunekit/core"
import { Options as Opts, Tracker, Trial } from "@tunekit/core"
import { CIRCUIT, retrying, worker } from "./internal/delivery.js"
import { type Counter, counter, failed, report, snapshot } from "./internal/health.js"
import { call, type Connection, key, LIMITS, MlflowError, metricValue } from "./internal/mlflowRest.js"

export { MlflowError }

/** Options of the MLflow tracker. */
export interface Options {
  /** The tracking server, e.g. `http://127.0.0.1:5000`. */
  readonly url: string
  /** The experiment of a study (default: the study's name). */
  readonly experiment?: (study: string) => string
  /** Extra request headers, e.g. `{ authorization: "Bearer ..." }`. */
  readonly headers?: Readonly<Record<string, string>>
  /** How many times a failed request is tried again (default 4). */
  readonly retries?: number
  /** The first retry's delay; each next one doubles, up to `maxBackoffMs` (default 100). */
  readonly backoffMs?: number
  /** The longest delay between retries (default 2000). */
  readonly maxBackoffMs?: number
  /** How long a request may take (default 10000). */
  readonly timeoutMs?: number
  /** After a request failed all its retries, requests fail at once for this long (default 10000). */
  readonly cooldownMs?: number
  /** Events waiting to be sent at most; more are dropped and counted (default 10000). */
  readonly queueSize?: number
  /**
   * When a study finishes, how long to wait at most for its events to be sent before reporting
   * (default 1000). The wait is also kept within `finishShare` of the study's run time, so that a
   * slow server cannot lengthen a short study; what is left is sent until the tracker closes.
   */
  readonly finishTimeoutMs?: number
  /** The largest share of the study's run time spent waiting when it finishes (default 0.05). */
  readonly finishShare?: number
  /** When the tracker closes, how long to wait for the rest (default 10000). */
  readonly closeTimeoutMs?: number
  /** How many runs' requests are in flight at once (default 4); each run's stay in order. */
  readonly concurrency?: number
  /**
   * A running trial's metrics, params and tags are sent at least this often (default 1000); a
   * trial's end sends them at once. Sending each metric as it comes would take a request per step.
   */
  readonly flushMs?: number
}

/**
 * The Schema of the options.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Mlflow } from "@tunekit/tracking"
 * Options.jsonSchema(Mlflow.OptionsSchema)
 */
export const OptionsSchema: Schema.Schema<Options> = Schema.Struct({
  url: Schema.String.pipe(Schema.filter((u) => {
    try {
      const p = new URL(u).protocol
      return p === "http:" || p === "https:" ? true : `expected an http(s) URL, got ${Opts.show(u)}`
    } catch {
      return `expected an http(s) URL, got ${Opts.show(u)}`
    }
  })),
  experiment: Schema.optional(Opts.fn<(study: string) => string>("a function from a study's name to an experiment's name")),
  headers: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  retries: Schema.optional(Opts.NonNegativeInt),
  backoffMs: Schema.optional(Opts.Positive),
  maxBackoffMs: Schema.optional(Opts.Positive),
  timeoutMs: Schema.optional(Opts.Positive),
  cooldownMs: Schema.optional(Opts.NonNegative),
  queueSize: Schema.optional(Opts.PositiveInt),
  finishTimeoutMs: Schema.optional(Opts.NonNegative),
  finishShare: Schema.optional(Opts.Probability),
  closeTimeoutMs: Schema.optional(Opts.NonNegative),
  concurrency: Schema.optional(Opts.PositiveInt),
  flushMs: Schema.optional(Opts.NonNegative)
})

type Resolved = Required<Omit<Options, "headers">> & { readonly headers: Readonly<Record<string, string>> }

const defaults: Omit<Resolved, "url"> = {
  experiment: (s) => s,
  headers: {},
  retries: 4,
  backoffMs: 100,
  maxBackoffMs: 2000,
  timeoutMs: 10_000,
  cooldownMs: 10_000,
  queueSize: 10_000,
  finishTimeoutMs: 1000,
  finishShare: 0.05,
  closeTimeoutMs: 10_000,
  concurrency: 4,
  flushMs: 1000
}

/** What the tracker sends, in the order events happened. */
type Op =
  | { readonly _tag: "StudyStarted"; readonly study: Storage.StudyInfo; readonly time: number }
  | { readonly _tag: "TrialStarted"; readonly study: Storage.StudyInfo; readonly trial: Trial.FrozenTrial; readonly time: number }
  | { readonly _tag: "Metric"; readonly study: Storage.StudyInfo; readonly trialId: number; readonly metric: Trial.Metric; readonly time: number }
  | { readonly _tag: "TrialFinished"; readonly study: Storage.StudyInfo; readonly trial: Trial.FrozenTrial; readonly time: number }
  | { readonly _tag: "Logged"; readonly study: Storage.StudyInfo; readonly trialId: number | undefined; readonly log: Tracker.Log; readonly time: number }
  | { readonly _tag: "StudyFinished"; readonly study: Storage.StudyInfo; readonly end: Tracker.StudyEnd; readonly time: number }
  /** Not an event: sends what runs have held unsent for `flushMs`. */
  | { readonly _tag: "Flush" }

interface Item<T> {
  readonly value: T
  /** The event it came from, so that a failed request counts each lost event once. */
  readonly event: number
}
type MetricJson = { key: string; value: number; timestamp: number; step: number }
/** A metric as sent: NaN and infinities as strings. */
type MetricOut = { key: string; value: number | string; timestamp: number; step: number }
type KeyValue = { key: string; value: string }

interface RunState {
  runId: string | undefined
  artifactUri: string | undefined
  /** Whether any metric was logged (a trial without a stream logs its values when it ends). */
  metrics: boolean
  notes: Array<string>
  params: Array<Item<KeyValue>>
  tags: Array<Item<KeyValue>>
  pending: Array<Item<MetricOut>>
}
const runState = (): RunState => ({ runId: undefined, artifactUri: undefined, metrics: false, notes: [], params: [], tags: [], pending: [] })

interface StudyState {
  experimentId: string | undefined
  parent: RunState
  /** Why the experiment or parent run could not be made, for the events that count it. */
  error: unknown
  /** Trials' runs are created concurrently: one of them creates the experiment and parent run. */
  readonly lock: Effect.Semaphore
}

// The fields of MLflow's answers the tracker reads: an answer without them (a proxy's, another
// server's) is a failed request, not a defect.
const CreatedExperiment = Schema.Struct({ experiment_id: Schema.String })
const NamedExperiment = Schema.Struct({ experiment: Schema.Struct({ experiment_id: Schema.String, lifecycle_stage: Schema.optional(Schema.String) }) })
const CreatedRun = Schema.Struct({ run: Schema.Struct({ info: Schema.Struct({ run_id: Schema.String, artifact_uri: Schema.optional(Schema.String) }) }) })
const answer = <A, I>(schema: Schema.Schema<A, I>, request: string) => (r: unknown): Effect.Effect<A, MlflowError> =>
  Effect.mapError(
    Schema.decodeUnknown(schema)(r),
    (e) => new MlflowError({ request, reason: `an answer MLflow does not give: ${e.message.split("\n").join(" ")}`.slice(0, 300), retriable: false })
  )

/**
 * How long the sending fiber waits for more events once one came: batches of about this many ms
 * of events, rather than one event each (the study's thread pays for each batch).
 */
const LINGER_MS = 50

/** About how many requests an event takes (a metric, a tag or a note rides in its run's next log-batch). */
const requestsOf = (op: Op): number =>
  op._tag === "StudyStarted" || op._tag === "TrialFinished" || op._tag === "StudyFinished" ? 2
  : op._tag === "TrialStarted" || (op._tag === "Logged" && op.log._tag === "Artifact") ? 1
  : 0

const paramText = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v) ?? String(v)).slice(0, LIMITS.paramValue)
const statusOf = (s: Trial.State) => (s === "Complete" ? "FINISHED" : s === "Pruned" ? "KILLED" : "FAILED")
const endStatus = (e: Tracker.StudyEnd) => (e.state === "Finished" ? "FINISHED" : e.state === "Failed" ? "FAILED" : "KILLED")

/**
 * The MLflow tracker and its `close`, which waits (up to `closeTimeoutMs`) for what is queued,
 * ends the parent runs left open, and counts what it could not send. `layer` closes it with its
 * scope.
 *
 * @example
 * import { Effect } from "effect"
 * import { Mlflow } from "@tunekit/tracking"
 * const program = Effect.map(Mlflow.make({ url: "http://127.0.0.1:5000" }), ({ tracker }) => tracker)
 */
export const make = (
  options: Options
): Effect.Effect<{ readonly tracker: Tracker.TrackerService; readonly close: Effect.Effect<void> }, InvalidOptions> =>
  Effect.gen(function*() {
    const o: Resolved = Opts.withDefaults({ ...defaults, url: "" }, yield* Opts.decode(OptionsSchema)(options)) as Resolved
    const conn: Connection = { url: o.url.replace(/\/+$/, ""), headers: o.headers, timeoutMs: o.timeoutMs }
    const health: Counter = counter()
    const { send, isOpen, outlasts } = retrying(o, health)
    const req = (method: "GET" | "POST" | "PUT", path: string, body?: unknown, contentType?: string) => send(call(conn, method, path, body, contentType))

    const studies = new Map<number, StudyState>()
    const trials = new Map<number, RunState>()
    /** Runs holding params, tags or metrics not sent yet, and since when. */
    const unsent = new Map<RunState, number>()
    let serial = 0
    /** About how many requests the queued events take. */
    let owed = 0
    const lose = (events: number, e: unknown) => {
      health.failed += events
      // The server's error says why; the open circuit or a consequence ("its run could not be
      // created") only when there is none.
      const says = e instanceof MlflowError && e.request !== CIRCUIT
      if (says || health.lastError === undefined) health.lastError = e instanceof Error ? e.message : String(e)
    }
    const studyOf = (study: Storage.StudyInfo) => {
      let s = studies.get(study.id)
      if (s === undefined) studies.set(study.id, (s = { experimentId: undefined, parent: runState(), error: undefined, lock: Effect.unsafeMakeSemaphore(1) }))
      return s
    }

    const experimentId = (name: string) =>
      req("POST", "/api/2.0/mlflow/experiments/create", { name }).pipe(
        Effect.flatMap(answer(CreatedExperiment, "POST experiments/create")),
        Effect.map((r) => r.experiment_id),
        Effect.catchIf((e) => e.code === "RESOURCE_ALREADY_EXISTS", () =>
          Effect.gen(function*() {
            const r = yield* Effect.flatMap(
              req("GET", `/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`),
              answer(NamedExperiment, "GET experiments/get-by-name")
            )
            // A deleted experiment keeps its name: bring it back rather than fail every run.
            if (r.experiment.lifecycle_stage === "deleted") {
              yield* req("POST", "/api/2.0/mlflow/experiments/restore", { experiment_id: r.experiment.experiment_id })
            }
            return r.experiment.experiment_id
          }))
      )

    const createRun = (expId: string, run: RunState, name: string, time: number, tags: ReadonlyArray<KeyValue>) =>
      Effect.map(
        Effect.flatMap(
          req("POST", "/api/2.0/mlflow/runs/create", { experiment_id: expId, start_time: time, run_name: name, tags }),
          answer(CreatedRun, "POST runs/create")
        ),
        (r) => {
          run.runId = r.run.info.run_id
          run.artifactUri = r.run.info.artifact_uri
        }
      )

    /** The study's experiment and parent run, created when missing; a failure is kept for the caller to count its event. */
    const ensureParent = (study: Storage.StudyInfo, time: number) =>
      Effect.gen(function*() {
        const s = studyOf(study)
        if (s.parent.runId !== undefined) return s
        const attempt = Effect.gen(function*() {
          if (s.parent.runId !== undefined) return
          s.experimentId ??= yield* experimentId(o.experiment(study.name))
          yield* createRun(s.experimentId, s.parent, study.name, time, [
            { key: "tunekit.study", value: study.name },
            { key: "tunekit.directions", value: study.directions.join(",") },
            { key: "tunekit.metrics", value: study.metrics.join(",") }
          ])
        })
        yield* s.lock.withPermits(1)(Effect.catchAll(attempt, (e) => Effect.sync(() => void (s.error = e))))
        return s
      })

    /** Sends a run's pending params, tags and metrics in `log-batch` requests within MLflow's limits. */
    const flush = (run: RunState, inHand?: number) =>
      Effect.gen(function*() {
        unsent.delete(run)
        if (run.params.length + run.tags.length + run.pending.length === 0) return
        const { params, tags, pending } = run
        run.params = []
        run.tags = []
        run.pending = []
        if (run.runId === undefined) {
          lose(new Set([...params, ...tags, ...pending].map((i) => i.event)).size, new Error("its run could not be created"))
          return
        }
        const lost = new Set<number>()
        let p = 0, t = 0, m = 0
        let p0 = 0, t0 = 0, m0 = 0
        const sendAll = Effect.gen(function*() {
          while (p < params.length || t < tags.length || m < pending.length) {
            ;[p0, t0, m0] = [p, t, m]
            const ps = params.slice(p, (p += Math.min(LIMITS.params, params.length - p)))
            const ts = tags.slice(t, (t += Math.min(LIMITS.tags, tags.length - t)))
            const room = LIMITS.total - ps.length - ts.length
            const ms = pending.slice(m, (m += Math.min(room, LIMITS.metrics, pending.length - m)))
            const r = yield* Effect.either(req("POST", "/api/2.0/mlflow/runs/log-batch", {
              run_id: run.runId,
              metrics: ms.map((i) => i.value),
              params: ps.map((i) => i.value),
              tags: ts.map((i) => i.value)
            }))
            if (Either.isLeft(r)) {
              const before = lost.size
              for (const i of [...ps, ...ts, ...ms]) lost.add(i.event)
              lose(lost.size - before, r.left)
            }
          }
        })
        // Stopped midway (the tracker closing): the events of the request in flight and after it
        // were not sent; they are dropped, each once (the event in hand, if any, the worker counts).
        yield* Effect.onInterrupt(sendAll, () =>
          Effect.sync(() => {
            const left = [...params.slice(p0), ...tags.slice(t0), ...pending.slice(m0)].map((i) => i.event)
            health.dropped += new Set(left.filter((e) => !lost.has(e) && e !== inHand)).size
          }))
      })

    const uploadArtifact = (run: RunState, log: Extract<Tracker.Log, { _tag: "Artifact" }>) =>
      Effect.gen(function*() {
        const prefix = "mlflow-artifacts:"
        if (run.runId === undefined) return yield* Effect.fail(new Error("its run could not be created"))
        if (run.artifactUri === undefined || !run.artifactUri.startsWith(prefix)) {
          return yield* Effect.fail(new Error(`the server does not proxy artifacts (artifact_uri ${run.artifactUri}): start it with --serve-artifacts`))
        }
        const root = run.artifactUri.slice(prefix.length).replace(/^\/+/, "")
        const name = log.name.split(/[\\/]+/).filter((x) => x.length > 0 && x !== "." && x !== "..").map(encodeURIComponent).join("/")
        const bytes = typeof log.data === "string" ? new TextEncoder().encode(log.data) : log.data
        yield* req("PUT", `/api/2.0/mlflow-artifacts/artifacts/${root}/${name}`, bytes, log.contentType)
      })

    const update = (run: RunState, status: string, endTime: number) =>
      run.runId === undefined
        ? Effect.fail(new Error("its run could not be created"))
        : req("POST", "/api/2.0/mlflow/runs/update", { run_id: run.runId, status, end_time: endTime })

    /** Adds a metric to its run's pending list: the run, or undefined (counted) when its trial's start was not tracked. */
    const bufferMetric = (op: Extract<Op, { _tag: "Metric" }>, event: number): RunState | undefined => {
      const run = trials.get(op.trialId)
      if (run === undefined) return void lose(1, new Error("a metric of a trial whose start was not tracked"))
      run.metrics = true
      for (const k in op.metric.values) {
        run.pending.push({ value: { key: key(k), value: metricValue(op.metric.values[k]), timestamp: op.time, step: op.metric.step }, event })
      }
      return run
    }
    const held = (run: RunState) => run.params.length + run.tags.length + run.pending.length

    const handleOne = (op: Op, event: number): Effect.Effect<void> =>
      Effect.gen(function*() {
        switch (op._tag) {
          case "StudyStarted": {
            const s = yield* ensureParent(op.study, op.time)
            if (s.parent.runId === undefined) lose(1, s.error)
            return
          }
          case "TrialStarted": {
            let run = trials.get(op.trial.id)
            // A paused trial that resumes carries on in its run.
            if (run?.runId !== undefined) return
            run ??= runState()
            trials.set(op.trial.id, run)
            const s = yield* ensureParent(op.study, op.time)
            const tags: Array<KeyValue> = [
              { key: "tunekit.study", value: op.study.name },
              { key: "tunekit.trial", value: String(op.trial.number) },
              ...(s.parent.runId === undefined ? [] : [{ key: "mlflow.parentRunId", value: s.parent.runId }])
            ]
            if (s.experimentId === undefined) return lose(1, s.error ?? new Error(`no experiment for study ${op.study.name}`))
            const created = yield* Effect.either(createRun(s.experimentId, run, `trial-${op.trial.number}`, op.time, tags))
            if (Either.isLeft(created)) return lose(1, created.left)
            for (const [k, v] of Object.entries(Trial.paramValues(op.trial))) run.params.push({ value: { key: key(k), value: paramText(v) }, event })
            return
          }
          case "Metric":
            return void bufferMetric(op, event)
          case "TrialFinished": {
            const run = trials.get(op.trial.id)
            if (run === undefined) return lose(1, new Error("the end of a trial whose start was not tracked"))
            const t = op.trial
            if (t.state === "Waiting") return yield* flush(run, event)
            // An objective without a metric stream: its values are the run's metrics.
            if (!run.metrics && t.values !== undefined) {
              t.values.forEach((v, i) =>
                run.pending.push({ value: { key: key(op.study.metrics[i] ?? (t.values!.length > 1 ? `value_${i}` : "value")), value: metricValue(v), timestamp: op.time, step: 0 }, event })
              )
            }
            run.tags.push({ value: { key: "tunekit.state", value: t.state }, event })
            if (t.reason !== undefined) run.tags.push({ value: { key: "tunekit.reason", value: t.reason.slice(0, LIMITS.tagValue) }, event })
            yield* flush(run, event)
            trials.delete(t.id)
            // A run that could not be created lost this event with its tags, counted once.
            if (run.runId === undefined) return
            const r = yield* Effect.either(update(run, statusOf(t.state), t.finishedAt ?? op.time))
            if (Either.isLeft(r)) lose(1, r.left)
            return
          }
          case "Logged": {
            const run = op.trialId === undefined ? (yield* ensureParent(op.study, op.time)).parent : trials.get(op.trialId)
            if (run === undefined) return lose(1, new Error("a log of a trial whose start was not tracked"))
            const log = op.log
            if (log._tag === "Tags") {
              for (const [k, v] of Object.entries(log.tags)) run.tags.push({ value: { key: key(k), value: String(v).slice(0, LIMITS.tagValue) }, event })
            } else if (log._tag === "Note") {
              // MLflow shows one note per run: the notes so far, in order.
              run.notes.push(log.text)
              run.tags.push({ value: { key: "mlflow.note.content", value: run.notes.join("\n\n").slice(0, LIMITS.tagValue) }, event })
            } else {
              const r = yield* Effect.either(uploadArtifact(run, log))
              if (Either.isLeft(r)) lose(1, r.left)
            }
            return
          }
          case "StudyFinished": {
            const s = studies.get(op.study.id)
            if (s === undefined) return
            studies.delete(op.study.id)
            yield* flush(s.parent)
            if (s.parent.runId === undefined) return lose(1, new Error(`the parent run of study ${op.study.name} could not be created`))
            const r = yield* Effect.either(update(s.parent, endStatus(op.end), op.time))
            if (Either.isLeft(r)) lose(1, r.left)
            return
          }
        }
      })

    const laneOf = (op: Exclude<Op, { _tag: "Flush" }>): string =>
      op._tag === "StudyStarted" || op._tag === "StudyFinished" || (op._tag === "Logged" && op.trialId === undefined)
        ? `study ${op.study.id}`
        : `trial ${op._tag === "Logged" ? op.trialId : op._tag === "Metric" ? op.trialId : op.trial.id}`

    const handle = (ops: ReadonlyArray<Op>, done: (n: number) => void) =>
      Effect.gen(function*() {
        // Params, tags and metrics of a batch of events go in as few requests as MLflow allows:
        // events that only add to a run's pending lists are settled when the lists are sent.
        // Each run's events in order, runs side by side (`concurrency` at once).
        // A study's end comes last, when its trials' runs of the batch are done with its parent.
        // A running trial's lists are sent every `flushMs` (or when full), not after each batch:
        // a batch is often a single metric, and each would take a request.
        const lanes = new Map<string, Array<readonly [Op, number]>>()
        const ends: Array<readonly [Op, number]> = []
        // An event whose items a run holds is done: the run counts them if it cannot send them
        // (a failed log-batch, or unsent when the tracker closes), so it is counted once.
        const hold = (run: RunState) => {
          if (!unsent.has(run) && held(run) > 0) unsent.set(run, Date.now())
          done(1)
        }
        for (const op of ops) {
          owed -= requestsOf(op)
          if (op._tag === "Flush") {
            done(1)
            continue
          }
          const event = serial++
          if (op._tag === "StudyFinished") {
            ends.push([op, event])
            continue
          }
          if (op._tag === "Metric") {
            // The most frequent event only adds to its run's list: at once, without an effect of its own.
            const run = bufferMetric(op, event)
            if (run === undefined) done(1)
            else hold(run)
            continue
          }
          if (op._tag === "TrialStarted") {
            const run = trials.get(op.trial.id)
            if (run === undefined && isOpen()) {
              // The server failed moments ago: the run cannot be created now (nor its parent). Its
              // events are lost, counted once each, with no request and no effect per event.
              trials.set(op.trial.id, runState())
              lose(1, new MlflowError({ request: CIRCUIT, reason: "the server failed recently", retriable: true }))
              done(1)
              continue
            }
            // Registered now, so that the trial's metrics in this batch have a run to go to.
            if (run === undefined) trials.set(op.trial.id, runState())
          }
          const lane = laneOf(op)
          let l = lanes.get(lane)
          if (l === undefined) lanes.set(lane, (l = []))
          l.push([op, event])
        }
        // One lane (the usual batch, a trial's start or end) runs in this fiber, without forking.
        if (lanes.size > 0) yield* Effect.forEach(lanes.values(), (lane) =>
          Effect.forEach(lane, ([op, event]) =>
            Effect.map(handleOne(op, event), () => {
              const run = op._tag === "Metric" || op._tag === "TrialStarted"
                ? trials.get(op._tag === "Metric" ? op.trialId : op.trial.id)
                : op._tag === "Logged" && op.log._tag !== "Artifact"
                ? (op.trialId === undefined ? studies.get(op.study.id)?.parent : trials.get(op.trialId))
                : undefined
              if (run === undefined) done(1)
              else hold(run)
            }), { discard: true }), { concurrency: lanes.size > 1 ? o.concurrency : undefined, discard: true })
        const now = Date.now()
        const due = [...unsent].flatMap(([run, since]) => (now - since >= o.flushMs || held(run) >= LIMITS.total ? [run] : []))
        if (due.length > 0) yield* Effect.forEach(due, (run) => flush(run), { concurrency: due.length > 1 ? o.concurrency : undefined, discard: true })
        for (const [op, event] of ends) {
          yield* handleOne(op, event)
          done(1)
        }
      })

    const queue = yield* worker<Op>(o.queueSize, health, handle, LINGER_MS)
    // Called in the tracker's Effect.sync: an event is one effect on the study's thread.
    const offer = (op: Op) => {
      owed += requestsOf(op)
      queue.offer(op)
    }
    // At a study's end, waiting is hopeless when the server fails, or when the requests the queued
    // events take (about: metrics ride along in their run's log-batch) would outlast the time left
    // at the server's pace. Counting events would not tell: a batch of metrics is handled at once,
    // and the rate it shows says nothing of the requests behind it.
    const hopeless = (msLeft: number) => outlasts(owed + unsent.size + 1, o.concurrency, msLeft)
    // What running trials hold is sent every flushMs even when no event comes to have it sent.
    const ticker = o.flushMs === 0 ? undefined : yield* Effect.forkDaemon(Effect.interruptible(Effect.forever(Effect.zipRight(
      Effect.sleep(Duration.millis(o.flushMs)),
      Effect.sync(() => void (unsent.size > 0 && queue.offer({ _tag: "Flush" }, false)))
    ))))
    // Studies whose end is not tracked yet, and when they began.
    const open = new Map<number, { readonly study: Storage.StudyInfo; readonly since: number }>()
    const opened = (study: Storage.StudyInfo) => {
      if (!open.has(study.id)) open.set(study.id, { study, since: Date.now() })
    }
    const healthNow = Effect.sync(() => [snapshot("mlflow", health)])

    const tracker: Tracker.TrackerService = {
      studyStarted: (study) => Effect.sync(() => (opened(study), offer({ _tag: "StudyStarted", study, time: Date.now() }))),
      trialStarted: (study, trial) => Effect.sync(() => (opened(study), offer({ _tag: "TrialStarted", study, trial, time: Date.now() }))),
      metricReported: (study, trial, metric) => Effect.sync(() => offer({ _tag: "Metric", study, trialId: trial.id, metric, time: Date.now() })),
      trialFinished: (study, trial) => Effect.sync(() => offer({ _tag: "TrialFinished", study, trial, time: Date.now() })),
      logged: (study, trial, log) => Effect.sync(() => offer({ _tag: "Logged", study, trialId: trial?.id, log, time: Date.now() })),
      studyFinished: (study, end) =>
        Effect.gen(function*() {
          const since = open.get(study.id)?.since ?? Date.now()
          open.delete(study.id)
          offer({ _tag: "StudyFinished", study, end, time: Date.now() })
          // A healthy server has the study's runs by now; a slow or dead one gets until the tracker
          // closes, without a wait that could not send the rest in time.
          const drained = yield* queue.drain(Math.min(o.finishTimeoutMs, o.finishShare * (Date.now() - since)), hopeless)
          const h = snapshot("mlflow", health)
          yield* report(h, study.name)
          if (!drained) yield* Effect.logInfo(`tracker mlflow, study "${study.name}": events still queued; they are sent until the tracker closes`)
        }),
      health: healthNow
    }

    const close = Effect.gen(function*() {
      // Studies whose end the tracker did not see end now, finished.
      for (const { study } of open.values()) offer({ _tag: "StudyFinished", study, end: { state: "Finished" }, time: Date.now() })
      const reported = health.failed + health.dropped
      open.clear()
      const until = Date.now() + o.closeTimeoutMs
      // Then what running trials' runs hold (a study interrupted under them).
      if (yield* queue.drain(o.closeTimeoutMs)) {
        yield* Effect.forEach([...unsent.keys()], (run) => flush(run), { concurrency: o.concurrency, discard: true }).pipe(
          Effect.timeout(Duration.millis(Math.max(0, until - Date.now()))),
          Effect.ignore
        )
      }
      yield* queue.stop
      if (ticker !== undefined) yield* Fiber.interrupt(ticker)
      // What runs still hold was not sent: dropped, each event once.
      for (const run of unsent.keys()) health.dropped += new Set([...run.params, ...run.tags, ...run.pending].map((i) => i.event)).size
      unsent.clear()
      if (health.failed + health.dropped > reported) yield* report(snapshot("mlflow", health), "(all)")
    })
    return { tracker, close }
  })

/**
 * The MLflow tracker as a layer: its queue is drained and its parent runs ended when the layer's
 * scope closes. Invalid options fail the layer with `InvalidOptions` naming the field.
 *
 * @example
 * import { Mlflow } from "@tunekit/tracking"
 * const layer = Mlflow.layer({ url: "http://127.0.0.1:5000", retries: 3 })
 */
export const layer = (options: Options): Layer.Layer<Tracker.Tracker, InvalidOptions> =>
  Layer.scoped(Tracker.Tracker, Effect.map(Effect.acquireRelease(make(options), (m) => m.close), (m) => m.tracker))

// ---------------------------------------------------------------------------------------------
// Reading runs back through MLflow's API
// ---------------------------------------------------------------------------------------------

/** A run as MLflow's REST API returns it. */
export interface RunJson {
  readonly info: {
    readonly run_id: string
    readonly run_name?: string
    readonly experiment_id: string
    readonly status: string
    readonly start_time?: number
    readonly end_time?: number
    readonly artifact_uri?: string
  }
  readonly data: {
    readonly params?: ReadonlyArray<KeyValue>
    readonly tags?: ReadonlyArray<KeyValue>
    readonly metrics?: ReadonlyArray<MetricJson>
  }
}

/** A client for reading what a server holds (tests, tools, the CLI). */
export interface Client {
  /** The experiment's id, if it exists. */
  readonly experimentId: (name: string) => Effect.Effect<string | undefined, MlflowError>
  /** Every run of an experiment. */
  readonly runs: (experimentId: string) => Effect.Effect<ReadonlyArray<RunJson>, MlflowError>
  /** Every logged value of one metric of a run, with its step and timestamp. */
  readonly metricHistory: (runId: string, metric: string) => Effect.Effect<ReadonlyArray<MetricJson>, MlflowError>
  /** The files of a run's artifacts folder (recursively), with their sizes. */
  readonly artifacts: (run: RunJson) => Effect.Effect<ReadonlyArray<{ readonly path: string; readonly bytes: number }>, MlflowError>
  /** The bytes of an artifact. */
  readonly artifact: (run: RunJson, path: string) => Effect.Effect<Uint8Array, MlflowError>
}

/**
 * A reading client for a tracking server.
 *
 * @example
 * import { Effect } from "effect"
 * import { Mlflow } from "@tunekit/tracking"
 * const c = Mlflow.client({ url: "http://127.0.0.1:5000" })
 * const runs = Effect.flatMap(c.experimentId("mnist-cnn"), (id) => (id === undefined ? Effect.succeed([]) : c.runs(id)))
 */
export const client = (options: { readonly url: string; readonly headers?: Readonly<Record<string, string>>; readonly timeoutMs?: number }): Client => {
  const conn: Connection = { url: options.url.replace(/\/+$/, ""), headers: options.headers ?? {}, timeoutMs: options.timeoutMs ?? 30_000 }
  const get = (path: string) => call(conn, "GET", path)
  const artifactRoot = (run: RunJson) => (run.info.artifact_uri ?? "").replace(/^mlflow-artifacts:\/*/, "")
  return {
    experimentId: (name) =>
      get(`/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`).pipe(
        Effect.map((r: { experiment: { experiment_id: string } }): string | undefined => r.experiment.experiment_id),
        Effect.catchIf((e) => e.code === "RESOURCE_DOES_NOT_EXIST", () => Effect.succeed<string | undefined>(undefined))
      ),
    runs: (experimentId) =>
      Effect.gen(function*() {
        const out: Array<RunJson> = []
        let token: string | undefined
        do {
          const r: { runs?: Array<RunJson>; next_page_token?: string } = yield* call(conn, "POST", "/api/2.0/mlflow/runs/search", {
            experiment_ids: [experimentId],
            max_results: 1000,
            ...(token === undefined ? {} : { page_token: token })
          })
          out.push(...(r.runs ?? []))
          token = r.next_page_token
        } while (token)
        return out
      }),
    metricHistory: (runId, metric) =>
      Effect.gen(function*() {
        const out: Array<MetricJson> = []
        let token: string | undefined
        do {
          const r: { metrics?: Array<MetricJson>; next_page_token?: string } = yield* get(
            `/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=${encodeURIComponent(metric)}&max_results=25000${
              token === undefined ? "" : `&page_token=${encodeURIComponent(token)}`
            }`
          )
          out.push(...(r.metrics ?? []).map((m) => ({ ...m, value: Number(m.value) })))
          token = r.next_page_token
        } while (token)
        return out
      }),
    artifacts: (run) =>
      Effect.gen(function*() {
        const out: Array<{ path: string; bytes: number }> = []
        const walk = (dir: string): Effect.Effect<void, MlflowError> =>
          Effect.flatMap(
            get(`/api/2.0/mlflow/artifacts/list?run_id=${run.info.run_id}${dir === "" ? "" : `&path=${encodeURIComponent(dir)}`}`),
            (r: { files?: Array<{ path: string; is_dir: boolean; file_size?: number }> }) =>
              Effect.forEach(r.files ?? [], (f) => (f.is_dir ? walk(f.path) : Effect.sync(() => void out.push({ path: f.path, bytes: Number(f.file_size ?? 0) }))), {
                discard: true
              })
          )
        yield* walk("")
        return out
      }),
    artifact: (run, path) =>
      Effect.tryPromise({
        try: async () => {
          const res = await fetch(`${conn.url}/api/2.0/mlflow-artifacts/artifacts/${artifactRoot(run)}/${path.split("/").map(encodeURIComponent).join("/")}`, {
            headers: conn.headers
          })
          if (!res.ok) throw new MlflowError({ request: "GET artifact", status: res.status, reason: await res.text(), retriable: false })
          return new Uint8Array(await res.arrayBuffer())
        },
        catch: (e) => (e instanceof MlflowError ? e : new MlflowError({ request: "GET artifact", reason: String(e), retriable: true }))
      })
  }
}
