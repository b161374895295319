// The run loop behind Study.optimize: workers as fibers, each asking for a trial, running the
// objective, and telling the result, until the budget, the deadline or the sampler runs out.
//
// A trial's metric stream goes through `Scheduler.decisions`, the same operator a user composes
// by hand: each metric is stored and decided on before the trainer produces the next one.
import { Cause, Clock, Duration, Effect, Exit, Fiber, Option, Runtime, Schedule, Scheduler as EffectScheduler } from "effect"
import type { Observable } from "rxjs"
import * as Bridge from "../Bridge.js"
import * as Checkpoint from "../Checkpoint.js"
import * as Executor from "../Executor.js"
import { InvalidOptions, MissingMetric } from "../Errors.js"
import { decodeOptimizeOptions } from "./studyOptions.js"
import * as Progress from "../Progress.js"
import * as Scheduler from "../Scheduler.js"
import * as Storage from "../Storage.js"
import type { AskedTrial, Handle, OptimizeOptions, Parts, ReportError, Result, StudyError, TellOptions, TellResult, TrialContext } from "../Study.js"
import { bestOf, open, paretoFrontOf, parts, STOP, TrialPaused, TrialPruned } from "../Study.js"
import * as Tracker from "../Tracker.js"
import * as Trainer from "../Trainer.js"
import type { FrozenTrial, Json, Metric } from "../Trial.js"

/**
 * A trial's context as its objective sees it: the asked trial's fields, its methods, and its abort
 * signal, made on first use. A class rather than an object literal spreading the trial: V8 took
 * about 5 µs a trial to build that literal (its functions added after the spread), a tenth of the
 * framework's whole cost per trial in memory.
 */
class Context<A> {
  readonly report: TrialContext<A>["report"]
  readonly setUserAttr: TrialContext<A>["setUserAttr"]
  readonly log: TrialContext<A>["log"]
  readonly #signal: () => AbortSignal
  constructor(
    trial: AskedTrial<A>,
    signal: () => AbortSignal,
    methods: Pick<TrialContext<A>, "report" | "setUserAttr" | "log">
  ) {
    this.report = methods.report
    this.setUserAttr = methods.setUserAttr
    this.log = methods.log
    this.#signal = signal
    Object.assign(this, trial)
  }
  get signal(): AbortSignal {
    return this.#signal()
  }
}

/**
 * A trial this worker runs: a stop asked of it (the reason, once the stop watcher has seen it),
 * and how to abort its objective when the run ends under it.
 */
interface Running {
  readonly trial: AskedTrial<unknown>
  reason: string | undefined
  abort: (reason: unknown) => void
}

/** How often a worker looks for stops asked of its running trials. */
const STOP_POLL = Duration.seconds(1)
/** How long an idle worker waits before it looks again for a paused trial to resume. */
const IDLE = Duration.millis(20)

/** How many of the run's batches of fiber work run in microtasks before one waits for the event loop. */
const TURN_EVERY = 512

/**
 * The run's scheduler. Effect's default runs fibers' work in microtasks, and turns to a timer only
 * after 2048 batches in a row with no pause; a study whose objectives await only promises (on an
 * in-memory or SQLite storage) never pauses, so Node's event loop never turned during it: timers
 * (heartbeats, trackers' sends, the progress line) waited for its end. This one hands every
 * TURN_EVERY-th batch to `setImmediate`, whatever the pauses: counted, not timed, so that a run's
 * interleaving stays a function of its seed.
 */
const turning = (): EffectScheduler.Scheduler => {
  let batches = 0
  return EffectScheduler.makeBatched((batch) => {
    if (++batches % TURN_EVERY === 0) setImmediate(batch)
    else Promise.resolve(undefined).then(batch)
  })
}

export const runOptimize = <A>(options: OptimizeOptions<A>): Effect.Effect<Result<A>, StudyError, Storage.Storage> =>
  Effect.suspend(() => Effect.withScheduler(runStudy(options), turning()))

const runStudy = <A>(options: OptimizeOptions<A>): Effect.Effect<Result<A>, StudyError, Storage.Storage> =>
  Effect.gen(function*() {
    const data = yield* decodeOptimizeOptions(options)
    const provided = yield* parts
    // The progress line is a tracker beside the provided one.
    const p: Parts = data.progress ? { ...provided, tracker: Tracker.allService([Progress.tracker(), provided.tracker]) } : provided
    const { sampler, scheduler, storage, tracker } = p
    const train = yield* trainerOf(options, data.maxStep)
    const executor = Option.getOrElse(yield* Effect.serviceOption(Executor.Executor), () => Executor.inline)
    if (executor.check) yield* executor.check(train.service)
    const concurrency = yield* concurrencyOf(executor, options.concurrency === undefined ? undefined : data.concurrency, options.resourcesPerTrial ?? {})
    const study = yield* open(options)
    if (sampler.check) yield* sampler.check(study.space as never, study.info)
    if (scheduler.check) yield* scheduler.check(study.space as never, study.info)
    yield* checkPairing(p)
    const graceMs = Duration.toMillis(data.heartbeatGrace)
    // Fails the trials of workers that died or went silent, here or elsewhere, with their retries.
    const failStale = Storage.failStaleTrials(study.info.id, { graceMs, ...(data.retries ? { retries: data.retries.max } : {}) })
    yield* failStale
    for (const config of options.enqueue ?? []) yield* study.enqueue(config)
    // Checkpoint retention (issue 15): a Checkpoint store with a retention policy learns from the
    // study's storage what its trials still need; it is told so here, after each trial ends or
    // pauses (and any retry of it is enqueued), and when the run ends. Other stores ignore it.
    // The service is looked up once: settle runs after every trial.
    const checkpoints = Option.getOrUndefined(yield* Effect.serviceOption(Checkpoint.Checkpoint))
    const settle = checkpoints?.settle?.(study.info.name, storage) ?? Effect.void
    yield* settle

    // Effect's Clock, so that tests can move time with the TestClock.
    const deadline = data.timeout === undefined ? Infinity : (yield* Clock.currentTimeMillis) + Duration.toMillis(data.timeout)
    const beforeDeadline = Effect.map(Clock.currentTimeMillis, (now) => now < deadline)
    const budget = data.trials ?? Infinity
    let fresh = 0
    let exhausted = false
    let stopped = false
    // The trials this call ran, in the order they first started (a Set keeps insertion order).
    const touched = new Set<number>()
    // The trials running here, by id. A stop asked of one (Study.STOP, by the dashboard) prunes it
    // at its next report.
    const running = new Map<number, Running>()
    const callbackCtx = { study, stop: () => void (stopped = true) }

    // The run's runtime, for the trial's Promise callbacks and its stream's decisions (taken once:
    // the workers' fibers inherit the same context and fiber refs).
    const runtime = yield* Effect.runtime<never>()
    const retryOnError = data.retries?.onError ? { retries: data.retries.max } : undefined
    // Slots of the budget taken by tells that made the next trial (TellOptions.next): each such
    // worker asks next, whatever the others did meanwhile. Only with a storage that makes it, and
    // where nothing but the budget can end the run between a tell and the ask (no deadline, no
    // callback that stops).
    let reserved = 0
    const mayHand = storage.makesNext === true && deadline === Infinity && (options.callbacks ?? []).length === 0
    /** Runs a trial; true when its tell took a slot for this worker's next ask. */
    const runOne = (trial: AskedTrial<A>) =>
      Effect.gen(function*() {
        touched.add(trial.id)
        const live: Running = { trial: trial as AskedTrial<unknown>, reason: undefined, abort: () => {} }
        running.set(trial.id, live)
        let reserving = false
        const tellOptions = (): TellOptions | undefined => {
          if (!mayHand || stopped || exhausted || fresh + reserved >= budget) return retryOnError
          reserved++
          reserving = true
          return { ...retryOnError, next: true }
        }
        const done = yield* runTrial(p, executor, study, trial, train, data.trialTimeout, tellOptions, live, runtime)
        // Not in an `ensuring` (a tenth of the framework's allocations a trial): when runTrial
        // fails or is interrupted, the whole run ends, and `interrupted` fails what is left here.
        running.delete(trial.id)
        yield* settle
        if (tracker.trialFinished) yield* tracker.trialFinished(study.info, done)
        for (const cb of options.callbacks ?? []) {
          const r = yield* Effect.either(Effect.suspend(() => toEffect(cb(done, callbackCtx))))
          if (r._tag === "Left") yield* Effect.logWarning(`a callback failed after trial ${done.number}: ${failureOf(r.left).message}`)
        }
        return reserving
      })

    // While a trial of the study runs (here or in another process), a scheduler that pauses trials
    // may yet make one resumable: an idle worker waits for that rather than stop.
    const othersRunning = Effect.suspend(() =>
      running.size > 0 ? Effect.succeed(true) : Effect.map(storage.getTrials(study.info.id, { states: ["Running"] }), (ts) => ts.length > 0)
    )

    // Fencing, as for a result: a trial this worker was still setting up, failed meanwhile by
    // others (they took this worker for dead), is left to them; this worker asks again, with the
    // slot back (the trial never ran here).
    const askFenced = Effect.catchTag(study.ask, "TrialStateError", (e) =>
      Effect.as(Effect.logWarning(`a trial was failed elsewhere while this worker set it up (${e.message}); asking again`), undefined))

    const worker = Effect.gen(function*() {
      let reservedHere = false
      while (!stopped && (deadline === Infinity || (yield* beforeDeadline))) {
        if (reservedHere || (fresh + reserved < budget && !exhausted)) {
          // A slot of the budget is taken before asking (or was, by the tell that made the trial
          // this ask takes), and given back when the trial turns out to carry on earlier training
          // (a paused trial resuming, a continuation).
          if (reservedHere) reserved--
          reservedHere = false
          fresh++
          const asked = yield* askFenced
          if (asked === undefined) {
            fresh--
            continue
          }
          if (Option.isNone(asked)) {
            fresh--
            exhausted = true
            continue
          }
          if (asked.value.resumeFrom !== undefined || asked.value.retryOf !== undefined) fresh--
          reservedHere = yield* runOne(asked.value)
          continue
        }
        const next = yield* study.askContinuation
        if (Option.isSome(next)) yield* runOne(next.value)
        else if (scheduler.resume !== undefined && (yield* othersRunning)) yield* Effect.sleep(IDLE)
        else return
      }
    })

    // Each beat marks this worker's trials alive, then looks for trials that others left silent.
    const heartbeat = yield* Effect.suspend(() => storage.heartbeat([...running.keys()])).pipe(
      Effect.zipRight(failStale),
      Effect.catchAll((e) => Effect.logWarning(`heartbeat of study "${study.info.name}" failed (will try again): ${failureOf(e).message}`)),
      Effect.repeat(Schedule.spaced(data.heartbeatInterval)),
      Effect.fork
    )
    // Once a second while trials run here: has anyone asked one of them to stop?
    const stopWatch = yield* Effect.suspend(() =>
      running.size === 0 ? Effect.void : Effect.map(storage.getTrials(study.info.id, { states: ["Running"] }), (ts) => {
        for (const t of ts) {
          const asked = t.systemAttrs[STOP] as { by?: unknown } | null | undefined
          const stop = asked === undefined ? undefined : running.get(t.id)
          if (stop) stop.reason ??= `stopped on request${typeof asked?.by === "string" ? ` (${asked.by})` : ""}`
        }
      })
    ).pipe(Effect.catchAll(() => Effect.void), Effect.repeat(Schedule.spaced(STOP_POLL)), Effect.fork)
    // The run ended under its running trials (interrupted, or another worker's storage failed):
    // their objectives are aborted and the trials fail, so that none is left Running. Once a run
    // rather than an `onInterrupt` a trial, which cost as much as the rest of a trial's run loop.
    const interrupted = Effect.suspend(() =>
      Effect.forEach(running.values(), (live) => {
        live.abort(new Error("the trial was interrupted"))
        // A trial whose result was stored just before is not the handle's any more (a defect): skip it.
        return study.tell(live.trial as AskedTrial<A>, { state: "Failed", reason: "interrupted while running" }).pipe(
          Effect.catchAllCause(() => Effect.void)
        )
      }, { discard: true })
    )
    if (tracker.studyStarted) yield* tracker.studyStarted(study.info)
    yield* Effect.gen(function*() {
      yield* Effect.all(Array.from({ length: concurrency }, () => worker), { concurrency: "unbounded", discard: true }).pipe(
        Effect.onExit((exit) => Exit.isSuccess(exit) ? Effect.void : interrupted),
        Effect.ensuring(Fiber.interrupt(heartbeat)),
        Effect.ensuring(Fiber.interrupt(stopWatch))
      )
      // The run is over: when no worker anywhere (other processes included) runs a trial of the
      // study, paused trials would wait forever; the scheduler ends them.
      if (scheduler.finish && (yield* storage.getTrials(study.info.id, { states: ["Running"] })).length === 0) {
        yield* scheduler.finish({ study: study.info, history: study.trials })
      }
      yield* settle
    }).pipe(Effect.onExit((exit) => tracker.studyFinished ? tracker.studyFinished(study.info, studyEnd(exit)) : Effect.void))
    const all = yield* study.trials
    const byId = new Map(all.map((t) => [t.id, t]))
    return {
      study,
      trials: [...touched].flatMap((id) => byId.get(id) ?? []),
      best: bestOf(all, study.objectives[0].direction),
      paretoFront: paretoFrontOf(all, study.objectives.map((o) => o.direction))
    }
  })

/** How a study's run ended, for the trackers. */
const studyEnd = (exit: Exit.Exit<unknown, unknown>): Tracker.StudyEnd =>
  Exit.isSuccess(exit)
    ? { state: "Finished" }
    : Exit.isInterrupted(exit)
    ? { state: "Interrupted" }
    : { state: "Failed", reason: failureOf(Cause.squash(exit.cause)).message }

/** The objective (as a trainer) or the provided Trainer; with the step at which a config has trained fully. */
interface Train<A> {
  readonly service: Trainer.TrainerService<A>
  readonly maxStep: (config: A) => number | undefined
}

/**
 * How many trials run at once: the study's `concurrency`, or the executor's own default, and no
 * more than fit in what the executor has for what one trial needs.
 */
const concurrencyOf = (executor: Executor.ExecutorService, asked: number | undefined, need: Executor.Resources) => {
  const fits = Executor.fit(executor.capacity, need)
  if (fits < 1) {
    return Effect.fail(
      new InvalidOptions({
        reason: `one trial needs ${JSON.stringify(need)}, more than the ${executor.name} executor has (${JSON.stringify(executor.capacity)})`
      })
    )
  }
  return Effect.succeed(Math.min(asked ?? executor.defaultConcurrency, fits))
}

const trainerOf = <A>(options: OptimizeOptions<A>, maxStep: number | undefined): Effect.Effect<Train<A>, InvalidOptions> =>
  Effect.gen(function*() {
    if (options.objective !== undefined) {
      return { service: Trainer.make(options.objective, { name: "objective" }), maxStep: () => maxStep }
    }
    const trainer = yield* Effect.serviceOption(Trainer.Trainer)
    if (Option.isNone(trainer)) {
      return yield* new InvalidOptions({ reason: "give an objective, or provide a Trainer layer (Trainer.layer(fn), or a trainer of @tunekit/tfjs)" })
    }
    const t = trainer.value as Trainer.TrainerService<A>
    return { service: t, maxStep: (config: A) => maxStep ?? Trainer.maxStepOf(t, config) }
  })

/** Combinations that cannot work fail when the study starts, not trials later. */
const checkPairing = ({ sampler, scheduler }: Parts): Effect.Effect<void, InvalidOptions> => {
  const want = sampler.resources
  if (want === undefined) return Effect.void
  const have = scheduler.resources
  const show = (r: Scheduler.Resources) => `minResource ${r.minResource}, maxResource ${r.maxResource}, reductionFactor ${r.reductionFactor}`
  if (have === undefined) {
    return Effect.fail(
      new InvalidOptions({
        reason: `the ${sampler.name} sampler models rungs (${show(want)}), but the ${scheduler.name} scheduler has none: provide Hyperband or ASHA with the same resources`
      })
    )
  }
  const same = have.minResource === want.minResource && have.maxResource === want.maxResource && have.reductionFactor === want.reductionFactor
  return same ? Effect.void : Effect.fail(
    new InvalidOptions({
      reason: `the ${sampler.name} sampler's resources (${show(want)}) differ from the ${scheduler.name} scheduler's (${show(have)}): give both the same`
    })
  )
}

const toEffect = (r: unknown): Effect.Effect<unknown, unknown> =>
  Effect.isEffect(r)
    ? (r as Effect.Effect<unknown, unknown>)
    : r !== null && typeof r === "object" && typeof (r as PromiseLike<unknown>).then === "function"
    ? Effect.tryPromise({ try: () => Promise.resolve(r as PromiseLike<unknown>), catch: (e) => e })
    : Effect.succeed(r)

type Outcome =
  | {
    readonly tell: TellResult
    readonly failure?: Failure
    /** The study cannot work this way: the trial fails, then the call. */
    readonly misuse?: InvalidOptions
  }
  | { readonly paused: true }

/**
 * Runs one trial to its end and stores it. A failing objective fails the trial (its details are
 * stored); a failing storage fails the call. Interruption fails the trial before it propagates.
 */
const runTrial = <A>(
  { scheduler, storage, tracker }: Parts,
  executor: Executor.ExecutorService,
  study: Handle<A>,
  trial: AskedTrial<A>,
  train: Train<A>,
  trialTimeout: Duration.Duration | undefined,
  /** Taken when the trial is told (whether the loop asks right after is known only then). */
  tellOptions: () => TellOptions | undefined,
  live: Running,
  runtime: Runtime.Runtime<never>
): Effect.Effect<FrozenTrial, StudyError> =>
  Effect.gen(function*() {
    if (tracker.trialStarted) yield* tracker.trialStarted(study.info, study.snapshot(trial))
    // Made on first use: most quick objectives never look at their signal.
    let controller: AbortController | undefined
    const abort = (reason: unknown) => {
      if (controller && !controller.signal.aborted) controller.abort(reason)
    }
    live.abort = abort
    const names = study.objectives.map((o) => o.metric)
    const maxStep = train.maxStep(trial.config)
    const last: Record<string, number> = {}
    let keys: ReadonlyArray<string> | undefined
    let reports = 0
    // A storage failure while reporting fails the call, whatever the objective does with it.
    let broken: ReportError | undefined

    /** The names of the objective's metrics in this stream, fixed by its first report. */
    const keysOf = (metric: Metric): Effect.Effect<ReadonlyArray<string>, MissingMetric> => {
      const reported = Object.keys(metric.values)
      // A lone objective named by default takes a stream's only metric.
      if (names.length === 1 && names[0] === "value" && metric.values.value === undefined && reported.length === 1) {
        return Effect.succeed(reported)
      }
      const missing = names.filter((n) => metric.values[n] === undefined)
      return missing.length === 0 ? Effect.succeed(names) : Effect.fail(new MissingMetric({ missing, reported }))
    }

    const decide = (metric: Metric): Effect.Effect<Scheduler.Decision, MissingMetric | ReportError> =>
      Effect.gen(function*() {
        keys ??= yield* keysOf(metric)
        reports++
        for (const [k, v] of Object.entries(metric.values)) last[k] = v
        const decision = yield* Effect.tapError(study.report(trial, metric), (e) => Effect.sync(() => void (broken ??= e)))
        if (tracker.metricReported) yield* tracker.metricReported(study.info, study.snapshot(trial), metric)
        if (live.reason !== undefined) return Scheduler.Decision.Prune({ reason: live.reason })
        // A fully trained trial completes, whatever the scheduler says.
        return maxStep !== undefined && metric.step >= maxStep && Scheduler.stops(decision) ? Scheduler.Continue : decision
      })

    const lastValues = (): ReadonlyArray<number> | undefined => {
      const vs = (keys ?? names).map((k) => last[k])
      return vs.every((v) => v !== undefined) ? vs : undefined
    }
    const pruned = (reason: string): Outcome => {
      const values = lastValues()
      return { tell: { state: "Pruned", reason, ...(values ? { values } : {}) } }
    }

    const ctx: TrialContext<A> = new Context(trial, () => (controller ??= new AbortController()).signal, {
      report: (metric) =>
        Runtime.runPromise(runtime)(decide(metric)).then((d) => {
          if (d._tag === "Prune") {
            abort(new TrialPruned(d.reason))
            throw new TrialPruned(d.reason)
          }
          if (d._tag === "Pause") {
            abort(new TrialPaused())
            throw new TrialPaused()
          }
        }),
      setUserAttr: (key, value) => Runtime.runPromise(runtime)(study.setUserAttr(trial, key, value)),
      log: (log) => (tracker.logged ? tracker.logged(study.info, study.snapshot(trial), log) : Effect.void)
    }) as unknown as TrialContext<A>

    const evaluate: Effect.Effect<Outcome, never, never> = Effect.flatMap(executor.run(train.service, trial.config, ctx), (result) => {
      if (Bridge.isObservable(result)) {
        const decided = (result as Observable<Metric>).pipe(Scheduler.decisions(decide, runtime))
        return Effect.map(Bridge.lastValue(decided), (d): Outcome => {
          const decision = Option.getOrUndefined(d)?.decision
          if (decision?._tag === "Pause") return { paused: true }
          if (decision?._tag === "Prune") return pruned(decision.reason)
          const values = lastValues()
          if (values === undefined) {
            return { tell: { state: "Failed", reason: `the metric stream completed without reporting ${names.join(", ")}` } }
          }
          return { tell: values }
        })
      }
      return toEffect(result).pipe(Effect.map((v): Outcome => {
        if (scheduler.resources === undefined || reports > 0) return { tell: asResult(v) }
        const reason = `the ${scheduler.name} scheduler compares trials on their metric streams, but the objective returned ${
          describe(v)
        } and reported no metric: return an Observable of metrics, or call trial.report`
        return { tell: { state: "Failed", reason }, misuse: new InvalidOptions({ reason }) }
      }))
    }).pipe(
      Effect.catchAllCause((cause): Effect.Effect<Outcome> => {
        const err = Cause.squash(cause)
        if (err instanceof TrialPruned || (err as { _tag?: string })?._tag === "TrialPruned") return Effect.succeed(pruned((err as TrialPruned).reason))
        if (err instanceof TrialPaused || (err as { _tag?: string })?._tag === "TrialPaused") return Effect.succeed<Outcome>({ paused: true })
        if (Cause.isInterruptedOnly(cause)) return Effect.interrupt
        const failure = failureOf(err)
        return Effect.succeed({ tell: { state: "Failed", reason: `the objective failed: ${failure.message}` }, failure })
      })
    )

    const timed: Effect.Effect<Outcome> = trialTimeout === undefined
      ? evaluate
      : evaluate.pipe(
        Effect.timeoutTo({
          duration: trialTimeout,
          onTimeout: (): Outcome => ({ tell: { state: "Failed", reason: `the trial ran past its timeout of ${Duration.format(trialTimeout)}` } }),
          onSuccess: (o) => o
        })
      )

    const outcome = yield* timed
    if (!("tell" in outcome) || !isValues(outcome.tell)) abort(new Error("the trial was stopped"))
    const told = (o: Extract<Outcome, { tell: TellResult }>): Effect.Effect<FrozenTrial, StudyError> => {
      const tell = Effect.suspend(() => study.tell(trial, o.tell, tellOptions()))
      const checked = o.misuse ? Effect.zipRight(tell, Effect.fail(o.misuse)) : tell
      return o.failure ? Effect.zipRight(storage.setTrialAttr(trial.id, "system", FAILURE, o.failure as unknown as Json), checked) : checked
    }
    // Composed rather than a generator: this runs once a trial, on the hot path.
    const store: Effect.Effect<FrozenTrial, StudyError> = broken !== undefined
      ? Effect.fail(broken)
      : "paused" in outcome
      ? Effect.zipRight(storage.pauseTrial(trial.id), storage.getTrial(trial.id))
      : told(outcome)
    // Fencing: when other workers took this trial for dead (its heartbeats stopped: the process was
    // stopped or cut off) and failed it, this worker's late result is dropped, never written over it.
    return yield* Effect.catchTag(store, "TrialStateError", (e) =>
      Effect.flatMap(storage.getTrial(trial.id), (stored) =>
        stored.state === "Running"
          ? Effect.fail(e)
          : Effect.as(
            Effect.logWarning(`trial ${trial.number} ended elsewhere (${stored.state}: ${stored.reason ?? "no reason"}) while this worker ran it; its result here is dropped`),
            stored
          )))
  })

/** The system attribute that keeps the details of a failed objective. */
export const FAILURE = "failure"

/** What is kept of an objective's failure: enough to tell what went wrong and where. */
export interface Failure {
  readonly message: string
  /** A tagged error's tag (`Data.TaggedError`, `Schema.TaggedError`). */
  readonly tag?: string
  /** A tagged error's fields, as JSON. */
  readonly fields?: Json
  /** A thrown value that is not an Error, as JSON. */
  readonly thrown?: Json
  readonly stack?: string
}

const toJson = (v: unknown): Json | undefined => {
  try {
    const s = JSON.stringify(v)
    return s === undefined ? undefined : (JSON.parse(s) as Json)
  } catch {
    return undefined
  }
}

/** The details of whatever an objective failed with. */
export const failureOf = (e: unknown): Failure => {
  if (e instanceof Error) {
    const tag = typeof (e as { _tag?: unknown })._tag === "string" ? (e as unknown as { _tag: string })._tag : undefined
    const own: Record<string, unknown> = {}
    for (const k of Object.keys(e)) if (k !== "_tag" && k !== "stack" && k !== "message") own[k] = (e as unknown as Record<string, unknown>)[k]
    const fields = tag !== undefined && Object.keys(own).length > 0 ? toJson(own) : undefined
    const message = e.message !== "" ? e.message : tag !== undefined ? `${tag}${fields === undefined ? "" : ` ${JSON.stringify(fields)}`}` : e.name
    return {
      message: tag !== undefined && e.message !== "" && !e.message.includes(tag) ? `${tag}: ${e.message}` : message,
      ...(tag === undefined ? {} : { tag }),
      ...(fields === undefined ? {} : { fields }),
      ...(e.stack === undefined ? {} : { stack: e.stack })
    }
  }
  if (typeof e === "string") return { message: e, thrown: e }
  const thrown = toJson(e)
  const tag = e !== null && typeof e === "object" && typeof (e as { _tag?: unknown })._tag === "string" ? (e as { _tag: string })._tag : undefined
  return {
    message: thrown === undefined ? String(e) : JSON.stringify(thrown),
    ...(tag === undefined ? {} : { tag }),
    ...(thrown === undefined ? {} : { thrown })
  }
}

const isValues = (r: TellResult): r is number | ReadonlyArray<number> => typeof r === "number" || Array.isArray(r)

/** An objective's return value as a tell result; anything but numbers fails the trial. */
const asResult = (v: unknown): TellResult =>
  typeof v === "number" || (Array.isArray(v) && v.every((x) => typeof x === "number"))
    ? (v as number | ReadonlyArray<number>)
    : { state: "Failed", reason: `the objective returned ${describe(v)}, not a number or an array of numbers` }

const describe = (v: unknown): string => {
  try {
    return JSON.stringify(v) ?? String(v)
  } catch {
    return String(v)
  }
}
