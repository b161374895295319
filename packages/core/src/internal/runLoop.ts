// The run loop behind Study.optimize: workers as fibers, each asking for a trial, running the
// objective, and telling the result, until the budget, the deadline or the sampler runs out.
import { Cause, Duration, Effect, Fiber, Option, Schedule, Stream } from "effect"
import * as Bridge from "../Bridge.js"
import { InvalidOptions } from "../Errors.js"
import * as Progress from "../Progress.js"
import * as Sampler from "../Sampler.js"
import * as Scheduler from "../Scheduler.js"
import * as Storage from "../Storage.js"
import type { AskedTrial, Handle, OptimizeOptions, Result, Services, StudyError, TellResult, TrialContext } from "../Study.js"
import { bestOf, open, paretoFrontOf, TrialPaused, TrialPruned } from "../Study.js"
import * as Tracker from "../Tracker.js"
import type { FrozenTrial, Metric } from "../Trial.js"

const HEARTBEAT = Duration.seconds(20)

const message = (e: unknown): string =>
  e instanceof Error ? e.message : typeof e === "object" && e !== null && "message" in e ? String(e.message) : String(e)

export const runOptimize = <A>(options: OptimizeOptions<A>): Effect.Effect<Result<A>, StudyError, Services> =>
  Effect.gen(function*() {
    const concurrency = options.concurrency ?? 1
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      return yield* new InvalidOptions({ reason: `concurrency must be a positive integer, got ${concurrency}` })
    }
    if (options.trials !== undefined && (!Number.isInteger(options.trials) || options.trials < 0)) {
      return yield* new InvalidOptions({ reason: `trials must be a non-negative integer, got ${options.trials}` })
    }
    const study = yield* open(options)
    const sampler = yield* Sampler.Sampler
    const scheduler = yield* Scheduler.Scheduler
    const tracker = yield* Tracker.Tracker
    const storage = yield* Storage.Storage
    if (sampler.check) yield* sampler.check(study.space as never, study.info)
    if (scheduler.check) yield* scheduler.check(study.space as never, study.info)
    yield* Storage.failStaleTrials(study.info.id)
    for (const config of options.enqueue ?? []) yield* study.enqueue(config)

    const deadline = options.timeout === undefined ? Infinity : Date.now() + Duration.toMillis(options.timeout)
    const budget = options.trials ?? Infinity
    let started = 0
    let stopped = false
    const ran: Array<FrozenTrial> = []
    const running = new Set<number>()
    const progress = options.progress ? Progress.make(study.objectives[0]?.direction ?? "minimize") : undefined
    const callbackCtx = { study, stop: () => void (stopped = true) }

    const runOne = (ask: Effect.Effect<Option.Option<AskedTrial<A>>, StudyError>) => Effect.gen(function*() {
      const asked = yield* ask
      if (Option.isNone(asked)) return "none" as const
      const trial = asked.value
      running.add(trial.id)
      progress?.started()
      const done = yield* runTrial(study, trial, options).pipe(Effect.ensuring(Effect.sync(() => running.delete(trial.id))))
      ran.push(done)
      progress?.finished(done)
      if (tracker.trialFinished) yield* tracker.trialFinished(study.info, done)
      for (const cb of options.callbacks ?? []) {
        const r = yield* Effect.either(Effect.suspend(() => toEffect(cb(done, callbackCtx))))
        if (r._tag === "Left") yield* Effect.logWarning(`a callback failed after trial ${done.number}: ${message(r.left)}`)
      }
      // A continuation carries on a trial already counted (a PBT exploit): it takes no budget.
      return trial.restoreFrom !== undefined && trial.restoreFrom.trial !== trial.number ? "continuation" as const : "trial" as const
    })

    const worker = Effect.gen(function*() {
      while (!stopped && Date.now() < deadline) {
        if (started < budget) {
          started++
          const r = yield* runOne(study.ask)
          if (r === "none") stopped = true
          if (r === "continuation") started--
        } else if ((yield* runOne(study.askContinuation)) === "none") return
      }
    })

    const beat = Effect.suspend(() => storage.heartbeat([...running])).pipe(
      Effect.catchAll(() => Effect.void),
      Effect.repeat(Schedule.spaced(HEARTBEAT)),
      Effect.fork
    )
    const heartbeat = yield* beat
    yield* Effect.all(Array.from({ length: concurrency }, () => worker), { concurrency: "unbounded", discard: true }).pipe(
      Effect.ensuring(Fiber.interrupt(heartbeat)),
      Effect.ensuring(Effect.sync(() => progress?.close()))
    )
    // The run is over: when no worker anywhere (other processes included) runs a trial of the
    // study, paused trials would wait forever; the scheduler ends them.
    if (scheduler.finish && (yield* storage.getTrials(study.info.id, { states: ["Running"] })).length === 0) {
      yield* scheduler.finish({ study: study.info, history: study.trials })
    }
    const all = yield* study.trials
    return {
      study,
      trials: ran,
      best: bestOf(all, study.objectives[0].direction),
      paretoFront: paretoFrontOf(all, study.objectives.map((o) => o.direction))
    }
  })

const toEffect = (r: unknown): Effect.Effect<unknown, unknown> =>
  Effect.isEffect(r)
    ? (r as Effect.Effect<unknown, unknown>)
    : r !== null && typeof r === "object" && typeof (r as PromiseLike<unknown>).then === "function"
    ? Effect.tryPromise({ try: () => Promise.resolve(r as PromiseLike<unknown>), catch: (e) => e })
    : Effect.succeed(r)

type Outcome = { readonly tell: TellResult } | { readonly paused: true }

/** Runs one trial to its end and stores it. Interruption fails the trial before it propagates. */
const runTrial = <A>(study: Handle<A>, trial: AskedTrial<A>, options: OptimizeOptions<A>) =>
  Effect.gen(function*() {
    const tracker = yield* Tracker.Tracker
    const storage = yield* Storage.Storage
    if (tracker.trialStarted) yield* tracker.trialStarted(study.info, study.snapshot(trial))
    // Made on first use: most quick objectives never look at their signal.
    let controller: AbortController | undefined
    const abort = (reason: unknown) => {
      if (controller && !controller.signal.aborted) controller.abort(reason)
    }
    const names = study.objectives.map((o) => o.metric)
    const last: Record<string, number> = {}

    const onMetric = (metric: Metric) =>
      Effect.gen(function*() {
        for (const [k, v] of Object.entries(metric.values)) last[k] = v
        const decision = yield* study.report(trial, metric)
        if (tracker.metricReported) yield* tracker.metricReported(study.info, study.snapshot(trial), metric)
        return decision
      })

    const lastValues = (): ReadonlyArray<number> | undefined => {
      const keys = names.length === 1 && names[0] === "value" && last.value === undefined && Object.keys(last).length === 1
        ? Object.keys(last)
        : names
      const vs = keys.map((k) => last[k])
      return vs.every((v) => v !== undefined) ? vs : undefined
    }

    const ctx: TrialContext<A> = {
      ...trial,
      get signal() {
        return (controller ??= new AbortController()).signal
      },
      report: (metric) =>
        Effect.runPromise(onMetric(metric)).then((d) => {
          if (d._tag === "Prune") {
            abort(new TrialPruned(d.reason))
            throw new TrialPruned(d.reason)
          }
          if (d._tag === "Pause") {
            abort(new TrialPaused())
            throw new TrialPaused()
          }
        }),
      setUserAttr: (key, value) => Effect.runPromise(study.setUserAttr(trial, key, value))
    }

    const evaluate: Effect.Effect<Outcome, never, never> = Effect.suspend(() => {
      const result = options.objective(trial.config, ctx)
      if (Bridge.isObservable(result)) {
        return Bridge.fromObservable(result as import("rxjs").Observable<Metric>).pipe(
          Stream.mapEffect((m) => Effect.orDie(onMetric(m))),
          Stream.takeUntil((d) => d._tag === "Prune" || d._tag === "Pause"),
          Stream.runLast,
          Effect.map((d): Outcome => {
            const decision = Option.getOrUndefined(d)
            if (decision?._tag === "Pause") return { paused: true }
            const values = lastValues()
            if (decision?._tag === "Prune") {
              abort(new TrialPruned(decision.reason))
              return { tell: { state: "Pruned", reason: decision.reason, ...(values ? { values } : {}) } }
            }
            if (values === undefined) {
              return { tell: { state: "Failed", reason: `the metric stream completed without reporting ${names.join(", ")}` } }
            }
            return { tell: values }
          })
        )
      }
      return toEffect(result).pipe(Effect.map((v): Outcome => ({ tell: asResult(v) })))
    }).pipe(
      Effect.catchAllCause((cause): Effect.Effect<Outcome> => {
        const err = Cause.squash(cause)
        if (err instanceof TrialPruned || (err as { _tag?: string })?._tag === "TrialPruned") {
          const values = lastValues()
          return Effect.succeed({ tell: { state: "Pruned", reason: (err as TrialPruned).reason, ...(values ? { values } : {}) } })
        }
        if (err instanceof TrialPaused || (err as { _tag?: string })?._tag === "TrialPaused") return Effect.succeed<Outcome>({ paused: true })
        if (Cause.isInterruptedOnly(cause)) return Effect.interrupt
        return Effect.succeed({ tell: { state: "Failed", reason: `the objective failed: ${message(err)}` } })
      })
    )

    const timed: Effect.Effect<Outcome> = options.trialTimeout === undefined
      ? evaluate
      : evaluate.pipe(
        Effect.timeoutTo({
          duration: options.trialTimeout,
          onTimeout: (): Outcome => ({ tell: { state: "Failed", reason: `the trial ran past its timeout of ${Duration.format(Duration.decode(options.trialTimeout!))}` } }),
          onSuccess: (o) => o
        })
      )

    const outcome = yield* timed.pipe(
      Effect.onInterrupt(() => {
        abort(new Error("the trial was interrupted"))
        return study.tell(trial, { state: "Failed", reason: "interrupted while running" }).pipe(Effect.ignore)
      })
    )
    if (!("tell" in outcome) || !isValues(outcome.tell)) abort(new Error("the trial was stopped"))
    if ("paused" in outcome) {
      yield* storage.pauseTrial(trial.id)
      return yield* storage.getTrial(trial.id)
    }
    return yield* study.tell(trial, outcome.tell)
  })

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
