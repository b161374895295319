/**
 * Studies: a named set of trials in storage, with the ask/tell API for loops the user drives and
 * `optimize`, the run loop, for the loops tunekit drives.
 *
 * @example
 * import { Effect } from "effect"
 * import { Sampler, Scheduler, Space, Storage, Study, Rng, Tracker } from "@tunekit/core"
 *
 * const space = Space.struct({ x: Space.float(-5, 5), y: Space.int(0, 10) })
 * const program = Study.optimize({
 *   study: "quadratic",
 *   space,
 *   objective: (c) => (c.x - 1) ** 2 + c.y,
 *   direction: "minimize",
 *   trials: 50
 * })
 * const result = await Effect.runPromise(program.pipe(Effect.provide(Study.layerDefaults({ seed: 1 }))))
 *
 * @since 0.1.0
 */
import { Duration, Effect, Layer, Option } from "effect"
import type { Observable } from "rxjs"
import type { RestorePoint } from "./Checkpoint.js"
import * as Distribution from "./Distribution.js"
import type {
  ClaimTaken,
  InvalidScheduler,
  MissingMetric,
  SamplerUnsupported,
  StorageError,
  StudyMismatch,
  TrialStateError
} from "./Errors.js"
import { InvalidOptions, InvalidSpace, SamplerFailed } from "./Errors.js"
import { RETRIES, RETRY_OF, retryInit, retryOf } from "./internal/retries.js"
import { runOptimize } from "./internal/runLoop.js"
import { decodeOpenOptions } from "./internal/studyOptions.js"

/**
 * The data fields of `Study.open` and `Study.optimize` options as Schemas (their JSON Schema, with
 * `Options.jsonSchema`, is what a file of study options follows).
 */
export { OpenOptionsSchema, OptimizeOptionsSchema } from "./internal/studyOptions.js"
import * as Rng from "./Rng.js"
import * as Sampler from "./Sampler.js"
import * as Scheduler from "./Scheduler.js"
import * as Space from "./Space.js"
import * as Storage from "./Storage.js"
import type { StudyInfo, TrialEnd } from "./Storage.js"
import * as Tracker from "./Tracker.js"
import type { Direction, FrozenTrial, Json, Metric } from "./Trial.js"

/**
 * The services a study runs on. Only Storage is required: the others are optional, and where
 * none is provided the study uses random sampling, no scheduler, no tracker and a random seed. A
 * provided service always wins, whatever the order of the provides. (A `Trainer.Trainer` may be
 * provided too, to run without an `objective`.)
 */
export type Services = Storage.Storage | Sampler.Sampler | Scheduler.Scheduler | Tracker.Tracker | Rng.Rng

/** The parts of a study: each service provided, or its default where none was. */
export interface Parts {
  readonly storage: Storage.StorageService
  readonly sampler: Sampler.SamplerService
  readonly scheduler: Scheduler.SchedulerService
  readonly tracker: Tracker.TrackerService
  readonly rng: Rng.RngService
}

const seedOnce = Math.floor(Math.random() * 2 ** 31)

/** Whether two trials' params (internal values) are the same. */
const sameParams = (a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>) => {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k])
}

/** The most numbers past the expected one that an ask samples for (other workers' creates in between). */
const MAX_AHEAD = 8

/** The study's parts from the context, with the defaults where nothing was provided. */
export const parts: Effect.Effect<Parts, never, Storage.Storage> = Effect.gen(function*() {
  const storage = yield* Storage.Storage
  const sampler = yield* Effect.serviceOption(Sampler.Sampler)
  const scheduler = yield* Effect.serviceOption(Scheduler.Scheduler)
  const tracker = yield* Effect.serviceOption(Tracker.Tracker)
  const rng = yield* Effect.serviceOption(Rng.Rng)
  return {
    storage,
    sampler: Option.getOrElse(sampler, () => Sampler.random),
    scheduler: Option.getOrElse(scheduler, () => Scheduler.none),
    tracker: Option.getOrElse(tracker, () => Tracker.none),
    rng: Option.getOrElse(rng, () => Rng.make(seedOnce))
  }
})

/** Every error a study can fail with. */
export type StudyError =
  | StorageError
  | StudyMismatch
  | InvalidSpace
  | InvalidOptions
  | SamplerUnsupported
  | InvalidScheduler
  | TrialStateError
  | ClaimTaken
  | SamplerFailed

/** How a study is opened: by name, with its objectives. */
export interface OpenOptions<A> {
  /** The study's name; an existing study with that name is loaded. */
  readonly study: string
  /** The declared search space; leave it out for define-by-run (`trial.suggestFloat` ...). */
  readonly space?: Space.Space<A>
  /** The direction of a single objective (default "minimize"). */
  readonly direction?: Direction
  /** The directions of several objectives. */
  readonly directions?: ReadonlyArray<Direction>
  /** For objectives that stream metrics: the name of the objective metric. */
  readonly metric?: string
  /** For several objectives that stream metrics: their names, in the order of `directions`. */
  readonly metrics?: ReadonlyArray<string>
}

/** A trial handed out by `ask`: its config, and define-by-run suggestions. */
export interface AskedTrial<A> {
  readonly id: number
  readonly number: number
  /** The typed config (for define-by-run studies: `{}`, use the suggest methods). */
  readonly config: A
  /** External parameter values by name, including those suggested so far. */
  readonly params: Readonly<Record<string, unknown>>
  /** When the trial resumes after a pause: the last step it had reached. */
  readonly resumeFrom: number | undefined
  /** The study's name (checkpoints are keyed by study and trial number). */
  readonly study?: string
  /**
   * The checkpoint this trial starts from, when it continues earlier training: its own last step
   * after a pause, or another trial's (a population-based-training exploit, see `RESTORE_FROM`).
   * `resumeFrom` is then that step.
   */
  readonly restoreFrom?: RestorePoint | undefined
  /** When the trial runs a failed trial's config again (the `retries` option): that trial's number. */
  readonly retryOf?: number | undefined
  /** Suggests a float (define-by-run). Throws `InvalidSpace` on bad bounds or a reused name. */
  readonly suggestFloat: (name: string, low: number, high: number, options?: Distribution.NumericOptions) => number
  /** Suggests an integer (define-by-run). */
  readonly suggestInt: (name: string, low: number, high: number, options?: Distribution.NumericOptions) => number
  /** Suggests one of a list of choices (define-by-run). */
  readonly suggestCategorical: <const C extends Distribution.Choice>(name: string, choices: ReadonlyArray<C>) => C
}

/** What `ask` can fail with: storage, a sampler that failed, a parameter stored with another distribution. */
export type AskError = StorageError | SamplerFailed | InvalidSpace | TrialStateError | ClaimTaken

/**
 * What `report` and `tell` can fail with: storage, a trial that ended meanwhile, or a parameter
 * suggested with another distribution than the study's.
 */
export type ReportError = StorageError | TrialStateError | InvalidSpace

/** How `tell` finishes a trial. */
export interface TellOptions {
  /**
   * With a failed result, a retry of the trial's config is created in the same write (its system
   * attribute `retryOf` names this trial), unless the config has been retried this many times.
   */
  readonly retries?: number
  /**
   * The caller asks right after (the run loop does, while its budget lasts). With a storage that
   * makes it (`StorageService.makesNext`) and a sampler that reads no history, the next trial is
   * then sampled now and created in the finish's write, and the ask takes it: a write fewer a
   * trial. Ignored with a retry, or when a trial waits to be claimed (the ask takes that one).
   */
  readonly next?: boolean
}

/** What `tell` records: values (the trial completes), or a pruned or failed end. */
export type TellResult =
  | number
  | ReadonlyArray<number>
  | { readonly state: "Pruned"; readonly reason?: string; readonly values?: ReadonlyArray<number> }
  | { readonly state: "Failed"; readonly reason: string }

/** An open study: the ask/tell API and the views of its trials. */
/**
 * An open study: the ask/tell API and the views of its trials. (Methods take `A` in method syntax,
 * so that a `Handle<Config>` is usable where a `Handle<unknown>` is asked.)
 */
export interface Handle<A> {
  readonly info: StudyInfo
  readonly space: Space.Compiled<A> | undefined
  readonly objectives: ReadonlyArray<{ readonly metric: string; readonly direction: Direction }>
  /** A new trial to evaluate; None when the sampler has nothing left (a finished grid). */
  readonly ask: Effect.Effect<Option.Option<AskedTrial<A>>, AskError>
  /**
   * A waiting continuation (a trial created to carry on another's training, with the system
   * attribute `RESTORE_FROM`), oldest first; never a new trial. None when there is none.
   */
  readonly askContinuation: Effect.Effect<Option.Option<AskedTrial<A>>, AskError>
  /** The trial as stored, with the parameters sampled so far (kept in this process, no storage read). */
  snapshot(trial: AskedTrial<A>): FrozenTrial
  /** Stores a metric of a running trial and returns the scheduler's decision. */
  report(trial: AskedTrial<A>, metric: Metric): Effect.Effect<Scheduler.Decision, ReportError>
  /** Finishes a trial. Values that are NaN or infinite fail it, with the reason stored. */
  tell(trial: AskedTrial<A>, result: TellResult, options?: TellOptions): Effect.Effect<FrozenTrial, ReportError>
  /** Sets a user attribute of a running trial. */
  setUserAttr(trial: AskedTrial<A>, key: string, value: Json): Effect.Effect<void, StorageError | TrialStateError>
  /** Queues a config to run before any sampled one (manual search, warm starts). */
  enqueue(config: A, userAttrs?: Readonly<Record<string, Json>>): Effect.Effect<FrozenTrial, StorageError | InvalidSpace>
  readonly trials: Effect.Effect<ReadonlyArray<FrozenTrial>, StorageError>
  /** The best complete trial (single objective). */
  readonly best: Effect.Effect<Option.Option<FrozenTrial>, StorageError>
  /** The complete trials that no other complete trial dominates (several objectives). */
  readonly paretoFront: Effect.Effect<ReadonlyArray<FrozenTrial>, StorageError>
}

/** Objective results: a value, several, a Promise, an Effect, or an Observable of metrics. */
export type ObjectiveResult =
  | number
  | ReadonlyArray<number>
  | PromiseLike<number | ReadonlyArray<number>>
  | Effect.Effect<number | ReadonlyArray<number>, unknown, never>
  | Observable<Metric>

/** What the objective receives besides the config. */
export interface TrialContext<A> extends AskedTrial<A> {
  /** Aborted when the trial is pruned, times out, or the study is interrupted. */
  readonly signal: AbortSignal
  /**
   * Reports a metric from Promise-based code. Rejects with `TrialPruned` when the scheduler prunes
   * the trial (let it propagate, and the trial is stored as Pruned), and with `TrialPaused` when
   * it pauses it (the trial is stored Waiting, to be resumed).
   */
  readonly report: (metric: Metric) => Promise<void>
  readonly setUserAttr: (key: string, value: Json) => Promise<void>
  /** Logs tags, a note or an artifact of the trial to the study's trackers (`Tracker.tags`, `note`, `artifact`). */
  readonly log: (log: Tracker.Log) => Effect.Effect<void>
}

/** Thrown by `TrialContext.report` when the scheduler prunes the trial. */
export class TrialPruned extends Error {
  readonly _tag = "TrialPruned"
  constructor(readonly reason: string) {
    super(`pruned: ${reason}`)
  }
}

/**
 * Thrown by `TrialContext.report` when the scheduler pauses the trial (ASHA promotion, Hyperband):
 * let it propagate, and the trial is stored Waiting (paused), to be resumed from `resumeFrom`.
 */
export class TrialPaused extends Error {
  readonly _tag = "TrialPaused"
  constructor() {
    super("paused by the scheduler")
  }
}

/** What a callback receives after each finished trial. */
export interface CallbackContext<A> {
  readonly study: Handle<A>
  /** Stops the study from starting more trials (running ones finish). */
  readonly stop: () => void
}

/** Options of `optimize`. */
export interface OptimizeOptions<A> extends OpenOptions<A> {
  /** The objective; leave it out to run the provided `Trainer` service. */
  readonly objective?: (config: A, trial: TrialContext<A>) => ObjectiveResult
  /**
   * How many configurations this call runs (default: until the sampler is exhausted or the
   * timeout). A paused trial that resumes, or a continuation of another trial's training (PBT),
   * uses none of it.
   */
  readonly trials?: number
  /**
   * The step at which a trial has trained fully (its last epoch): a report at or past it is never
   * pruned or paused, so a fully trained trial completes. Default: the Trainer's `maxStep`.
   */
  readonly maxStep?: number
  /** No trial starts after this long; running ones finish. */
  readonly timeout?: Duration.DurationInput
  /** A trial running longer than this is stopped and failed. */
  readonly trialTimeout?: Duration.DurationInput
  /** How many trials run at once (default 1, or the executor's own: one per worker thread). */
  readonly concurrency?: number
  /**
   * What one trial needs (`{ cpu: 1, gpu: 0.5 }`, or named slots): no more trials run at once than
   * fit in the executor's capacity (Ray Tune's `resources_per_trial`).
   */
  readonly resourcesPerTrial?: Readonly<Record<string, number>>
  /** Configs to run first, in order (manual search, warm starts). */
  readonly enqueue?: ReadonlyArray<NoInfer<A>>
  /** Called after each finished trial. */
  readonly callbacks?: ReadonlyArray<
    (trial: FrozenTrial, ctx: CallbackContext<A>) => void | PromiseLike<void> | Effect.Effect<void>
  >
  /** A progress line on stderr (updating on a terminal, plain lines otherwise). Default false. */
  readonly progress?: boolean
  /**
   * Runs failed trials again, each as a new trial with the same config whose system attribute
   * `retryOf` names the trial it retries. Trials whose worker died or stopped sending heartbeats are
   * retried; with `onError`, trials whose objective failed too. A config runs at most `max` times
   * more. Retries use none of the `trials` budget. Default: no retries.
   */
  readonly retries?: { readonly max: number; readonly onError?: boolean }
  /**
   * How often each worker marks its running trials alive (default 20 s), and how long a trial may
   * stay silent before any worker of the study fails it as stale (default 5 minutes; more than
   * twice the interval). Optuna's `heartbeat_interval` and `grace_period`.
   */
  readonly heartbeat?: { readonly interval?: Duration.DurationInput; readonly grace?: Duration.DurationInput }
}

/** What `optimize` returns. */
export interface Result<A> {
  readonly study: Handle<A>
  /** The trials this call ran, each once and as stored when it returned, in the order they started. */
  readonly trials: ReadonlyArray<FrozenTrial>
  /** The best complete trial of the study (single objective). */
  readonly best: Option.Option<FrozenTrial>
  /** The Pareto front of the study (several objectives). */
  readonly paretoFront: ReadonlyArray<FrozenTrial>
}

/**
 * The system attribute that makes a Waiting trial a continuation: `{ trial, step }`, the trial
 * number and step of the checkpoint it starts from. A scheduler that creates such a trial (PBT)
 * hands it to `ask`/`askContinuation`, which set `resumeFrom` and `restoreFrom` from it.
 */
export const RESTORE_FROM = "restoreFrom"

/**
 * The system attribute that asks a running trial to stop (`{ at, by }`; the dashboard's "stop"):
 * the worker running it sees it within a second and prunes the trial at its next report (an
 * objective that never reports runs to its end).
 */
export const STOP = "stop"

/** Retries (the `retries` option): the system attributes linking a retry to the trial it runs again. */
export { RETRIES, RETRY_OF, retryOf }

/** The restore point a trial's system attributes name, if any. */
export const restorePointOf = (t: FrozenTrial): RestorePoint | undefined => {
  const r = t.systemAttrs[RESTORE_FROM] as { trial?: unknown; step?: unknown } | null | undefined
  return r !== null && typeof r === "object" && typeof r.trial === "number" && typeof r.step === "number"
    ? { trial: r.trial, step: r.step }
    : undefined
}

/** Opens (creates or loads) a study. */
export const open = <A = Record<string, unknown>>(
  options: OpenOptions<A>
): Effect.Effect<Handle<A>, StudyError, Storage.Storage> =>
  Effect.gen(function*() {
    const { directions, metrics } = yield* decodeOpenOptions(options)
    const space = options.space === undefined ? undefined : yield* Space.validate(options.space)
    const p = yield* parts
    const info = yield* p.storage.createStudy(options.study, { directions, metrics })
    return yield* makeHandle<A>(p, info, space, directions.map((direction, i) => ({ direction, metric: metrics[i] ?? "value" })))
  })

/** Whether `a` dominates `b` under the directions (no worse in all, better in one). */
export const dominates = (a: ReadonlyArray<number>, b: ReadonlyArray<number>, directions: ReadonlyArray<Direction>): boolean => {
  let better = false
  for (let i = 0; i < directions.length; i++) {
    const [x, y] = directions[i] === "minimize" ? [a[i], b[i]] : [b[i], a[i]]
    if (x > y) return false
    if (x < y) better = true
  }
  return better
}

/** The best complete trial for one objective. */
export const bestOf = (trials: ReadonlyArray<FrozenTrial>, direction: Direction): Option.Option<FrozenTrial> => {
  let best: FrozenTrial | undefined
  for (const t of trials) {
    if (t.state !== "Complete" || t.values === undefined) continue
    if (best === undefined || (direction === "minimize" ? t.values[0] < best.values![0] : t.values[0] > best.values![0])) best = t
  }
  return Option.fromNullable(best)
}

/** The complete trials no other complete trial dominates. */
export const paretoFrontOf = (trials: ReadonlyArray<FrozenTrial>, directions: ReadonlyArray<Direction>): ReadonlyArray<FrozenTrial> => {
  const done = trials.filter((t) => t.state === "Complete" && t.values !== undefined)
  // Values to minimize, so that a dominating point sorts before every point it dominates.
  const cost = (t: FrozenTrial) => directions.map((d, i) => (d === "minimize" ? t.values![i] : -t.values![i]))
  if (directions.length === 1) {
    const best = Math.min(...done.map((t) => cost(t)[0]))
    return done.filter((t) => cost(t)[0] === best)
  }
  // Lexicographic order, then a sweep against the front found so far (Kung, Luccio & Preparata
  // 1975): a point dominated by anything is dominated by a point of the front before it. Equal
  // points are one candidate, so many ties cost no more than one.
  const groups = new Map<string, { readonly cost: ReadonlyArray<number>; readonly trials: Array<FrozenTrial> }>()
  for (const t of done) {
    const c = cost(t)
    const key = c.join(",")
    const g = groups.get(key)
    if (g) g.trials.push(t)
    else groups.set(key, { cost: c, trials: [t] })
  }
  const minimize = directions.map(() => "minimize" as const)
  const order = [...groups.values()].sort((a, b) => {
    for (let i = 0; i < a.cost.length; i++) if (a.cost[i] !== b.cost[i]) return a.cost[i] - b.cost[i]
    return 0
  })
  const front: Array<ReadonlyArray<number>> = []
  const kept = new Set<FrozenTrial>()
  for (const g of order) {
    if (front.some((f) => dominates(f, g.cost, minimize))) continue
    front.push(g.cost)
    for (const t of g.trials) kept.add(t)
  }
  return done.filter((t) => kept.has(t))
}

const makeHandle = <A>(
  { rng, sampler, scheduler, storage }: Parts,
  info: StudyInfo,
  space: Space.Compiled<A> | undefined,
  objectives: ReadonlyArray<{ readonly metric: string; readonly direction: Direction }>
) =>
  Effect.gen(function*() {
    const worker = Storage.workerId()
    const directions = objectives.map((o) => o.direction)
    const derive = (...keys: ReadonlyArray<number | string>) => rng.derive(info.name, ...keys)
    // The study as samplers see it: its system attributes change when a sampler fixes one.
    let current = info
    const history = storage.getTrials(info.id)
    // Distributions of the study's parameters as this process knows them, for define-by-run checks:
    // a reopened study knows those its trials used, so a changed one fails where it is suggested.
    const known = new Map<string, Distribution.Distribution>(space?.params ?? [])
    if (space === undefined) {
      for (const t of yield* history) for (const [k, d] of Object.entries(t.distributions)) if (!known.has(k)) known.set(k, d)
    }
    const live = new WeakMap<AskedTrial<A>, LiveTrial>()
    // How many numbers past the expected one an ask samples for (see ask): the most that other
    // workers have taken between this process reading the next number and creating its trial.
    let ahead = 0
    // The number the trial the last tell made was sampled for (see ask).
    let handedFor: number | undefined
    // A sampler that reads no history samples a number alike in every ask: the samples taken for
    // numbers not yet created, kept for the asks that follow (consecutive asks' numbers overlap),
    // each used by one trial at most.
    const samplesAhead = new Map<number, Sampled>()

    interface LiveTrial {
      frozen: FrozenTrial
      pending: { params: Record<string, number>; distributions: Record<string, Distribution.Distribution> }
      intermediate: Array<Metric>
    }

    const flush = (t: LiveTrial) =>
      Effect.suspend(() => {
        const { params, distributions } = t.pending
        if (Object.keys(params).length === 0) return Effect.void
        t.pending = { params: {}, distributions: {} }
        // Without a claim, setParams cannot fail with ClaimTaken.
        return Effect.catchTag(storage.setParams(t.frozen.id, params, distributions), "ClaimTaken", Effect.die)
      })

    /** The sampler's own calls, with what they throw as its typed failure. */
    const guarded = <T>(number: number | undefined, f: () => T): Effect.Effect<T, SamplerFailed | InvalidSpace> =>
      Effect.try({
        try: f,
        catch: (e) =>
          e instanceof InvalidSpace
            ? e
            : new SamplerFailed({ sampler: sampler.name, trial: number, reason: e instanceof Error ? e.message : String(e), cause: e })
      })

    /** Samples a config for trial `number` (pure: nothing is written). */
    const sampleOnce = (
      number: number,
      fixed: Readonly<Record<string, number>> | undefined,
      hist: ReadonlyArray<FrozenTrial>,
      attempt: number
    ) => {
      const ctx: Sampler.SampleContext = {
        study: current,
        trialNumber: number,
        rng: attempt === 0 ? derive("trial", number) : derive("trial", number, "retry", attempt),
        derive,
        history: hist,
        space
      }
      const relSpace = fixed ? undefined : sampler.inferRelativeSpace?.(ctx)
      const relative = relSpace && sampler.sampleRelative ? sampler.sampleRelative(ctx, relSpace) : Sampler.noRelative
      const pick: Space.Pick = (name, d) => {
        const v = fixed?.[name] ?? relative.params[name]
        return v !== undefined && Distribution.contains(d, v) ? v : sampler.sampleIndependent(ctx, name, d)
      }
      const built = space ? space.build(pick) : { config: {} as A, params: {} }
      const fresh: Record<string, number> = {}
      const dists: Record<string, Distribution.Distribution> = {}
      for (const [k, v] of Object.entries(built.params)) {
        if (fixed?.[k] === v) continue
        fresh[k] = v
        dists[k] = space!.params.get(k)!
      }
      return { ctx, relative, built, fresh, dists }
    }
    type Sampled = ReturnType<typeof sampleOnce>

    /**
     * Stores what the sampler decided: its trial attributes, and the study attributes it fixes
     * once (the first writer of a key wins, through a claim, so every worker reads one value).
     */
    const recordDecisions = (trialId: number, relative: Sampler.Relative) =>
      relative.attrs === undefined && relative.studyAttrs === undefined ? Effect.void : Effect.gen(function*() {
        for (const [k, v] of Object.entries(relative.attrs ?? {})) yield* storage.setTrialAttr(trialId, "system", k, v)
        const fixed = Object.entries(relative.studyAttrs ?? {}).filter(([k]) => current.systemAttrs[k] === undefined)
        if (fixed.length === 0) return
        for (const [k, v] of fixed) if (yield* storage.claim(info.id, `study-attr:${k}`)) yield* storage.setStudyAttr(info.id, "system", k, v)
        current = yield* Effect.catchTag(storage.getStudy(info.name), "StudyNotFound", Effect.die)
      })

    /**
     * Samples for a trial that exists in storage and writes the parameters, retrying lost claims.
     * Lost claims mean other workers race for the same points; after a few, the attempts back off
     * (up to 0.1 s) so that their writes become visible in the history read here. A trial created
     * bare (another worker took the number or claim it was sampled for) gets undefined when the
     * sampler has run out meanwhile (a racing worker took the grid's last point).
     */
    const sampleAttempts = (frozen: FrozenTrial, fixed: Readonly<Record<string, number>> | undefined, bare: boolean) =>
      Effect.gen(function*() {
        for (let attempt = 0; ; attempt++) {
          const hist = sampler.usesHistory ? yield* history : []
          const isExhausted = sampler.isExhausted
          if (bare && isExhausted && (yield* guarded(frozen.number, () => isExhausted({ study: current, derive, history: hist, space })))) return undefined
          const sampled = yield* guarded(frozen.number, () => sampleOnce(frozen.number, fixed, hist, attempt))
          const claim = sampled.relative.claim
          if (Object.keys(sampled.fresh).length > 0 || claim !== undefined) {
            const outcome = yield* Effect.either(storage.setParams(frozen.id, sampled.fresh, sampled.dists, claim))
            if (outcome._tag === "Left") {
              if (outcome.left._tag !== "ClaimTaken" || attempt >= 200) return yield* outcome.left
              if (attempt >= 10) yield* Effect.sleep(Duration.millis(Math.min(100, 5 * (attempt - 9))))
              continue
            }
          }
          yield* recordDecisions(frozen.id, sampled.relative)
          return sampled
        }
      })

    const sampleTrial = (frozen: FrozenTrial, fixed: Readonly<Record<string, number>> | undefined) =>
      Effect.map(sampleAttempts(frozen, fixed, false), (sampled) => sampled!)

    /** A trial created bare is sampled again, or failed unrun when nothing is left to sample. */
    const sampleBare = (frozen: FrozenTrial) =>
      Effect.gen(function*() {
        const sampled = yield* sampleAttempts(frozen, undefined, true)
        if (sampled !== undefined) return Option.some(sampled)
        const reason = `not run: the ${sampler.name} sampler ran out while the trial was created (another worker took the last config)`
        yield* storage.finishTrial(frozen.id, { state: "Failed", reason })
        return Option.none<Sampled>()
      })

    const toAsked = (
      frozen: FrozenTrial,
      sampled: Sampled,
      resumeFrom: number | undefined,
      restoreFrom?: RestorePoint
    ): AskedTrial<A> => {
      const { ctx, relative, built } = sampled
      const params: Record<string, unknown> = {}
      const setExternal = (k: string, v: number, d: Distribution.Distribution) => void (params[k] = Distribution.toExternal(d, v))
      for (const [k, v] of Object.entries(frozen.params)) setExternal(k, v, frozen.distributions[k])
      for (const [k, v] of Object.entries(built.params)) setExternal(k, v, space!.params.get(k)!)
      const internal: Record<string, number> = { ...frozen.params, ...built.params }
      const distributions = { ...frozen.distributions }
      for (const k of Object.keys(built.params)) distributions[k] = space!.params.get(k)!
      const state: LiveTrial = {
        frozen: { ...frozen, params: internal, distributions },
        pending: { params: {}, distributions: {} },
        intermediate: [...frozen.intermediate]
      }
      const suggest = (name: string, d: Distribution.Distribution): number => {
        const prev = known.get(name)
        if (prev !== undefined && !Distribution.equals(prev, d)) {
          throw new InvalidSpace({
            param: name,
            reason: `already used in this study as ${Distribution.describe(prev)}, now asked as ${Distribution.describe(d)}`
          })
        }
        known.set(name, d)
        if (internal[name] !== undefined && Distribution.contains(d, internal[name])) return internal[name]
        const r = relative.params[name]
        const v = r !== undefined && Distribution.contains(d, r) ? r : sampler.sampleIndependent(ctx, name, d)
        internal[name] = v
        distributions[name] = d
        state.pending.params[name] = v
        state.pending.distributions[name] = d
        setExternal(name, v, d)
        return v
      }
      const asked: AskedTrial<A> = {
        id: frozen.id,
        number: frozen.number,
        config: built.config,
        params,
        resumeFrom,
        study: info.name,
        restoreFrom,
        retryOf: retryOf(frozen),
        suggestFloat: (name, low, high, o) => suggest(name, Distribution.float(name, low, high, o)),
        suggestInt: (name, low, high, o) => suggest(name, Distribution.int(name, low, high, o)),
        suggestCategorical: (name, choices) => {
          const d = Distribution.categorical(name, choices)
          return d.choices[suggest(name, d)]
        }
      }
      live.set(asked, state)
      return asked
    }

    /** A paused trial the scheduler resumes now, taken for this worker. */
    const askResumption: Effect.Effect<Option.Option<AskedTrial<A>>, AskError> = Effect.gen(function*() {
      if (!scheduler.resume) return Option.none()
      const resumeId = yield* scheduler.resume({ study: info, history })
      if (Option.isNone(resumeId)) return Option.none()
      const claimed = yield* storage.claimWaiting(info.id, worker, resumeId.value)
      if (Option.isNone(claimed)) return Option.none()
      const frozen = claimed.value
      const resumeFrom = frozen.intermediate[frozen.intermediate.length - 1]?.step
      // A paused trial restores its own last checkpoint.
      const restoreFrom = resumeFrom !== undefined ? { trial: frozen.number, step: resumeFrom } : restorePointOf(frozen)
      return Option.some(toAsked(frozen, yield* sampleTrial(frozen, frozen.params), resumeFrom ?? restoreFrom?.step, restoreFrom))
    })

    const ask: Effect.Effect<Option.Option<AskedTrial<A>>, AskError> = Effect.gen(function*() {
      if (scheduler.resume) {
        const resumed = yield* askResumption
        if (Option.isSome(resumed)) return resumed
      }
      const claimed = yield* storage.claimWaiting(info.id, worker)
      if (Option.isSome(claimed)) {
        // An enqueued config (missing parameters are sampled), a continuation, or the trial the
        // last tell made (`TellOptions.next`).
        const frozen = claimed.value
        if (handedFor !== undefined && frozen.number >= handedFor) learn(frozen.number - handedFor)
        handedFor = undefined
        const restoreFrom = restorePointOf(frozen)
        const fixed = Object.keys(frozen.params).length > 0 ? frozen.params : undefined
        // A trial a tell made with the sample for its number: that sample, not built again (an
        // enqueued trial may have taken the number: then the params differ).
        const made = fixed === undefined ? undefined : samplesAhead.get(frozen.number)
        samplesAhead.delete(frozen.number)
        if (made !== undefined && restoreFrom === undefined && sameParams(made.fresh, frozen.params)) {
          return Option.some(toAsked(frozen, made, undefined))
        }
        return Option.some(toAsked(frozen, yield* sampleTrial(frozen, fixed), restoreFrom?.step, restoreFrom))
      }
      const hist = sampler.usesHistory ? yield* history : []
      const isExhausted = sampler.isExhausted
      if (isExhausted && (yield* guarded(undefined, () => isExhausted({ study: current, derive, history: hist, space })))) return Option.none()
      // Sample for the number the trial will most likely get, and create it with its parameters
      // in one write. When another worker took that number (or the claim) meanwhile, the trial is
      // created bare and sampled again for the number it got.
      const { expected, sampled, later, init } = yield* sampleNext(hist)
      const claim = sampled.relative.claim
      const frozen = yield* storage.createTrial(info.id, init)
      const offset = frozen.number - expected
      const kept = offset === 0 ? sampled : later[offset - 1]
      samplesAhead.delete(frozen.number)
      if (kept !== undefined && (claim === undefined || frozen.systemAttrs.claim === claim)) {
        yield* recordDecisions(frozen.id, kept.relative)
        return Option.some(toAsked(frozen, kept, undefined))
      }
      if (claim === undefined) learn(offset)
      return Option.map(yield* sampleBare(frozen), (again) => toAsked(frozen, again, undefined))
    })

    /**
     * Samples the next trial for the number it will most likely get. A sampler that reads no
     * history samples cheaply: it also samples for the next few numbers, as many as other
     * workers have been seen to take in between, so that the trial keeps the sample for the
     * number it gets (`TrialInit.later`).
     */
    const sampleNext = (hist: ReadonlyArray<FrozenTrial>) =>
      Effect.flatMap(storage.nextNumber(info.id), (expected) =>
        guarded(expected, () => {
          const sampled = sampleAhead(expected, hist)
          const claim = sampled.relative.claim
          const later: Array<Sampled> = []
          if (claim === undefined && !sampler.usesHistory) {
            // (by offset: none past the first that claims a point)
            for (let d = 1; d <= ahead; d++) {
              const l = sampleAhead(expected + d, hist)
              if (l.relative.claim !== undefined) break
              later.push(l)
            }
          }
          const init: Storage.TrialInit = {
            state: "Running",
            worker,
            params: sampled.fresh,
            distributions: sampled.dists,
            ...(claim === undefined ? {} : { claim }),
            ...(later.length === 0 ? {} : { later: later.map((l) => ({ params: l.fresh, distributions: l.dists })) }),
            expectedNumber: expected
          }
          return { expected, sampled, later, init }
        }))

    /** The sample for a number not yet created: kept for the next asks when it reads no history. */
    const sampleAhead = (number: number, hist: ReadonlyArray<FrozenTrial>): Sampled => {
      if (sampler.usesHistory) return sampleOnce(number, undefined, hist, 0)
      const kept = samplesAhead.get(number)
      // (A sample reads the study's attributes too: one taken before they changed is taken again.)
      if (kept !== undefined && kept.ctx.study === current) return kept
      if (samplesAhead.size > 4 * MAX_AHEAD) for (const n of samplesAhead.keys()) if (n < number) samplesAhead.delete(n)
      const sampled = sampleOnce(number, undefined, hist, 0)
      samplesAhead.set(number, sampled)
      return sampled
    }

    /** Notes how many numbers other workers took between reading the next and creating it. */
    const learn = (offset: number) => {
      if (!sampler.usesHistory) ahead = Math.min(MAX_AHEAD, Math.max(ahead, offset))
    }

    /**
     * The next trial for a tell to create (`TellOptions.next`): only with a storage that makes it
     * (`makesNext`: on memory, sampling ahead costs more than the write it saves), a sampler that
     * reads no history, has no end and decides nothing but the params (no claim, no attributes),
     * and no scheduler that resumes paused trials (a resumption goes first).
     */
    const nextOf = Effect.suspend((): Effect.Effect<Storage.TrialInit | undefined, AskError> => {
      if (!storage.makesNext || sampler.usesHistory || sampler.isExhausted || scheduler.resume || space === undefined) return Effect.succeed(undefined)
      return Effect.map(sampleNext([]), ({ expected, init, sampled, later }) => {
        const plain = (r: Sampler.Relative) => r.claim === undefined && r.attrs === undefined && r.studyAttrs === undefined
        if (!plain(sampled.relative) || !later.every((l) => plain(l.relative))) return undefined
        handedFor = expected
        return init
      })
    })

    const askContinuation: Effect.Effect<Option.Option<AskedTrial<A>>, AskError> = Effect.gen(function*() {
      const resumed = yield* askResumption
      if (Option.isSome(resumed)) return resumed
      // Another worker may take the same continuation first: then look again.
      for (;;) {
        const waiting = yield* storage.getTrials(info.id, { states: ["Waiting"] })
        // Not a paused one (it has reports): those wait for the scheduler's resume, by id.
        const next = waiting.find((t) => t.intermediate.length === 0 && (restorePointOf(t) !== undefined || retryOf(t) !== undefined))
        if (next === undefined) return Option.none()
        const claimed = yield* storage.claimWaiting(info.id, worker, next.id)
        if (Option.isNone(claimed)) continue
        const frozen = claimed.value
        const restoreFrom = restorePointOf(frozen)
        return Option.some(toAsked(frozen, yield* sampleTrial(frozen, frozen.params), restoreFrom?.step, restoreFrom))
      }
    })

    const liveOf = (trial: AskedTrial<A>) =>
      Effect.suspend(() => {
        const t = live.get(trial)
        return t ? Effect.succeed(t) : Effect.die(new Error(`trial ${trial.number} was not asked from this study`))
      })

    const report = (trial: AskedTrial<A>, metric: Metric) =>
      Effect.gen(function*() {
        const t = yield* liveOf(trial)
        yield* flush(t)
        yield* storage.report(t.frozen.id, metric)
        const i = t.intermediate.findIndex((m) => m.step >= metric.step)
        if (i < 0) t.intermediate.push(metric)
        else t.intermediate.splice(i, t.intermediate[i].step === metric.step ? 1 : 0, metric)
        return yield* scheduler.decide({
          study: info,
          trial: { ...t.frozen, params: { ...t.frozen.params }, distributions: { ...t.frozen.distributions }, intermediate: [...t.intermediate] },
          metric,
          history,
          objectives
        })
      })

    const tell = (trial: AskedTrial<A>, result: TellResult, options?: TellOptions) =>
      Effect.gen(function*() {
        const t = yield* liveOf(trial)
        yield* flush(t)
        const end = toEnd(result, directions.length)
        const retry = end.state === "Failed" && options?.retries !== undefined ? retryInit(t.frozen, options.retries) : undefined
        // (A sampler that fails here fails in the ask that follows, as it would without `next`.)
        const next = retry === undefined && options?.next ? yield* Effect.orElseSucceed(nextOf, () => undefined) : undefined
        const done = yield* storage.finishTrial(t.frozen.id, retry ? { ...end, retry } : next ? { ...end, next } : end)
        live.delete(trial)
        return done
      })

    const enqueue = (config: A, userAttrs?: Readonly<Record<string, Json>>) =>
      Effect.gen(function*() {
        const flat = space ? yield* Effect.try({ try: () => space.flatten(config), catch: (e) => e as InvalidSpace }) : (config as Record<string, unknown>)
        if (!space) for (const t of yield* history) for (const [k, d] of Object.entries(t.distributions)) if (!known.has(k)) known.set(k, d)
        const params: Record<string, number> = {}
        const distributions: Record<string, Distribution.Distribution> = {}
        for (const [k, v] of Object.entries(flat)) {
          const d = known.get(k)
          if (d === undefined) {
            return yield* new InvalidSpace({ param: k, reason: "an enqueued parameter must be in the space (or suggested in an earlier trial)" })
          }
          params[k] = yield* Effect.try({ try: () => Distribution.toInternal(d, v), catch: (e) => new InvalidSpace({ param: k, reason: (e as Error).message }) })
          distributions[k] = d
        }
        return yield* storage.createTrial(info.id, { state: "Waiting", params, distributions, userAttrs })
      })

    const handle: Handle<A> = {
      info,
      space,
      objectives,
      ask,
      askContinuation,
      report,
      tell,
      snapshot: (trial) => {
        const t = live.get(trial)
        if (!t) throw new Error(`trial ${trial.number} was not asked from this study`)
        return { ...t.frozen, params: { ...t.frozen.params }, distributions: { ...t.frozen.distributions }, intermediate: [...t.intermediate] }
      },
      setUserAttr: (trial, key, value) => Effect.flatMap(liveOf(trial), (t) => storage.setTrialAttr(t.frozen.id, "user", key, value)),
      enqueue,
      trials: history,
      best: Effect.map(history, (ts) => bestOf(ts, directions[0])),
      paretoFront: Effect.map(history, (ts) => paretoFrontOf(ts, directions))
    }
    return handle
  })

const toEnd = (result: TellResult, n: number): TrialEnd => {
  if (typeof result === "number" || Array.isArray(result)) {
    const values = typeof result === "number" ? [result] : (result as ReadonlyArray<number>)
    const problem = checkValues(values, n)
    return problem === undefined ? { state: "Complete", values } : { state: "Failed", reason: problem }
  }
  const r = result as Exclude<TellResult, number | ReadonlyArray<number>>
  if (r.state === "Pruned") {
    const values = r.values && checkValues(r.values, n) === undefined ? r.values : undefined
    return { state: "Pruned", reason: r.reason ?? "pruned", ...(values ? { values } : {}) }
  }
  return { state: "Failed", reason: r.reason }
}

/** Why a list of objective values is unacceptable, or undefined when it is fine. */
export const checkValues = (values: ReadonlyArray<unknown>, n: number): string | undefined => {
  if (values.length !== n) return `the objective returned ${values.length} values for ${n} objectives`
  const bad = values.find((v) => typeof v !== "number" || !Number.isFinite(v))
  return bad === undefined ? undefined : `the objective returned ${String(bad)}, which is not a finite number`
}

/**
 * Runs a study: asks for trials, runs the objective on each (in parallel fibers up to
 * `concurrency`), stores every metric as it arrives and every result before going on.
 * An objective that throws, rejects, or returns NaN or Infinity fails its trial only.
 */
export const optimize = <A = Record<string, unknown>>(
  options: OptimizeOptions<A>
): Effect.Effect<Result<A>, StudyError, Storage.Storage> => runOptimize(options)

/**
 * Where a study lives and its seed: memory storage (or SQLite with `storage`) and the Rng. The
 * sampler, scheduler and tracker are left to the layers a program provides, in any order; where
 * none is provided the study uses random sampling, no scheduler and no tracker. A `postgres://`
 * URL fails with a StorageError: PostgreSQL is `Postgres.layer(url)` of `@tunekit/postgres` (the
 * `tunekit` package's `storage` option takes either).
 *
 * @example
 * import { Study } from "@tunekit/core"
 * const layer = Study.layerDefaults({ seed: 42, storage: "tunekit.db" })
 */
export const layerDefaults = (
  options: { readonly seed?: number; readonly storage?: string } = {}
): Layer.Layer<Storage.Storage | Rng.Rng, StorageError> =>
  Layer.merge(
    options.storage === undefined ? Storage.layerMemory : Storage.layerSqlite(options.storage),
    Rng.layer({ seed: options.seed })
  )

