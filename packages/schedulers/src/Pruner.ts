/**
 * Pruners: pure decisions from one trial's reports and the study's history. A pruner is the
 * common form of every scheduler in this package: it runs as an RxJS operator over a trial's
 * metric stream (see `Operators.pruneWhen`) and as the Scheduler service of a study
 * (`Pruner.layer`), with the same decisions in both.
 *
 * @since 0.1.0
 */
import { Effect, Either, Layer } from "effect"
import type { Schema } from "effect"
import { InvalidScheduler, Options, Scheduler, Trial } from "@tunekit/core"
import { type PatienceOptions, PatienceOptionsSchema, stagnation } from "./internal/patience.js"

/** The objective a pruner judges: its metric name and direction. */
export interface Objective {
  readonly metric: string
  readonly direction: Trial.Direction
}

/** What a pruner sees with each report. */
export interface Input {
  /** The trial, with every report so far including `metric`. */
  readonly trial: Trial.FrozenTrial
  /** The report being decided on. */
  readonly metric: Trial.Metric
  /** The study's trials (may include this trial; pruners skip it by id). Empty for pruners that don't use it. */
  readonly history: ReadonlyArray<Trial.FrozenTrial>
  readonly objective: Objective
}

/** A pure, deterministic decision rule. */
export interface Pruner {
  readonly name: string
  /** Whether `decide` reads `history` (when false, the study does not load it). */
  readonly usesHistory: boolean
  /** Why the options are invalid (the field and the problem), or undefined; a study refuses to start with it. */
  readonly invalid: InvalidScheduler | undefined
  readonly decide: (input: Input) => Scheduler.Decision
}

/**
 * A pruner from a decision function.
 *
 * @example
 * import { Pruner } from "@tunekit/schedulers"
 * import { Scheduler } from "@tunekit/core"
 * const afterTen = Pruner.make("after-ten", (i) => i.metric.step >= 10 ? Scheduler.Decision.Prune({ reason: "step 10" }) : Scheduler.Continue)
 */
export const make = (
  name: string,
  decide: (input: Input) => Scheduler.Decision,
  options: { readonly usesHistory?: boolean; readonly invalid?: InvalidScheduler | undefined } = {}
): Pruner => ({ name, decide, usesHistory: options.usesHistory ?? false, invalid: options.invalid })

/**
 * Decodes a scheduler's options through their Schema: the options, or the `InvalidScheduler`
 * (naming the field) that the scheduler fails with when the study starts.
 *
 * @example
 * import { Schema } from "effect"
 * import { Options } from "@tunekit/core"
 * import { Pruner } from "@tunekit/schedulers"
 * const decode = Pruner.decodeOptions("mine", Schema.Struct({ patience: Options.PositiveInt }))
 * decode({ patience: 0 }) // Left(InvalidScheduler: "mine scheduler: patience: expected a positive integer, got 0")
 */
export const decodeOptions = <A, I>(scheduler: string, schema: Schema.Schema<A, I, never>) => {
  const decode = Options.decodeEither(schema)
  return (input: unknown): Either.Either<A, InvalidScheduler> =>
    Either.mapLeft(decode(input), (p) => new InvalidScheduler({ scheduler, reason: Options.format(p) }))
}

/**
 * A pruner that refuses to start: a study fails with the error when it starts, and so does its
 * operator on subscription. A pruner made from invalid options is this.
 *
 * @example
 * import { InvalidScheduler } from "@tunekit/core"
 * import { Pruner } from "@tunekit/schedulers"
 * const p = Pruner.refused(new InvalidScheduler({ scheduler: "mine", reason: "patience: expected a positive integer, got 0" }))
 */
export const refused = (error: InvalidScheduler): Pruner => make(error.scheduler, () => Scheduler.Continue, { invalid: error })

/**
 * A pruner built from options decoded through their Schema; invalid options give `refused`.
 *
 * @example
 * import { Schema } from "effect"
 * import { Options, Scheduler } from "@tunekit/core"
 * import { Pruner } from "@tunekit/schedulers"
 * const afterN = Pruner.fromOptions("after-n", Schema.Struct({ n: Options.PositiveInt }), (o) =>
 *   Pruner.make("after-n", (i) => i.metric.step >= o.n ? Scheduler.Decision.Prune({ reason: `step ${o.n}` }) : Scheduler.Continue))
 * afterN({ n: 0 }).invalid // InvalidScheduler: "after-n scheduler: n: expected a positive integer, got 0"
 */
export const fromOptions = <A, I>(name: string, schema: Schema.Schema<A, I, never>, build: (options: A) => Pruner) => {
  const decode = decodeOptions(name, schema)
  return (input: I): Pruner => Either.match(decode(input), { onLeft: refused, onRight: build })
}

/**
 * The typed error a study fails with at start when the pruner's options are invalid.
 *
 * @example
 * import { Effect } from "effect"
 * import { Pruner, Threshold } from "@tunekit/schedulers"
 * Effect.runSync(Effect.either(Pruner.validate(Threshold.make({})))) // Left(InvalidScheduler: give lower, upper or both)
 */
export const validate = (pruner: Pruner): Effect.Effect<void, InvalidScheduler> =>
  pruner.invalid === undefined ? Effect.void : Effect.fail(pruner.invalid)

// A combination refuses to start when any of its parts does, with that part's error.
const firstInvalid = (name: string, pruners: ReadonlyArray<Pruner>): InvalidScheduler | undefined =>
  pruners.length === 0
    ? new InvalidScheduler({ scheduler: name, reason: "needs at least one pruner" })
    : pruners.find((p) => p.invalid !== undefined)?.invalid

/**
 * A pruner as a Scheduler service: options are checked when the study starts, and each report is
 * decided on the stored history. A trial that storage holds as ended (Complete, Pruned, Failed)
 * gets Continue: there is nothing left to decide for it.
 *
 * @example
 * import { Median, Pruner } from "@tunekit/schedulers"
 * const service = Pruner.toService(Median.make({ nStartupTrials: 5 }))
 */
export const toService = (pruner: Pruner): Scheduler.SchedulerService => ({
  name: pruner.name,
  check: () => validate(pruner),
  decide: (ctx) => {
    if (Trial.isFinished(ctx.trial.state)) return Effect.succeed(Scheduler.Continue)
    const objective = ctx.objectives[0] ?? { metric: "value", direction: "minimize" }
    const run = (history: ReadonlyArray<Trial.FrozenTrial>) =>
      pruner.decide({ trial: ctx.trial, metric: ctx.metric, history, objective })
    return pruner.usesHistory ? Effect.map(ctx.history, run) : Effect.sync(() => run([]))
  }
})

/**
 * A pruner as the study's Scheduler layer.
 *
 * @example
 * import { Effect } from "effect"
 * import { Median, Patience, Pruner } from "@tunekit/schedulers"
 * const layer = Pruner.layer(Pruner.any(Median.make(), Patience.make({ patience: 10 })))
 */
export const layer = (pruner: Pruner): Layer.Layer<Scheduler.Scheduler> => Layer.succeed(Scheduler.Scheduler, toService(pruner))

const isStop = (d: Scheduler.Decision) => d._tag === "Prune"

/**
 * Prunes when any of the pruners prunes (the first one's reason). Otherwise the first decision
 * that is not Continue (a Pause or Promote), else Continue.
 *
 * @example
 * import { Median, Patience, Pruner, Threshold } from "@tunekit/schedulers"
 * const p = Pruner.any(Median.make(), Threshold.make({ upper: 10 }), Patience.make({ patience: 5 }))
 */
export const any = (...pruners: ReadonlyArray<Pruner>): Pruner => ({
  name: `any(${pruners.map((p) => p.name).join(", ")})`,
  usesHistory: pruners.some((p) => p.usesHistory),
  invalid: firstInvalid("any", pruners),
  decide: (input) => {
    let other: Scheduler.Decision | undefined
    for (const p of pruners) {
      const d = p.decide(input)
      if (isStop(d)) return d
      if (d._tag !== "Continue") other ??= d
    }
    return other ?? Scheduler.Continue
  }
})

/**
 * Prunes only when every pruner prunes (their reasons joined). Otherwise the first decision that
 * is neither Continue nor Prune, else Continue.
 *
 * @example
 * import { Median, Pruner, Threshold } from "@tunekit/schedulers"
 * const cautious = Pruner.all(Median.make(), Threshold.make({ upper: 1 }))
 */
export const all = (...pruners: ReadonlyArray<Pruner>): Pruner => ({
  name: `all(${pruners.map((p) => p.name).join(", ")})`,
  usesHistory: pruners.some((p) => p.usesHistory),
  invalid: firstInvalid("all", pruners),
  decide: (input) => {
    const ds = pruners.map((p) => p.decide(input))
    if (ds.every(isStop)) return Scheduler.Decision.Prune({ reason: ds.map((d) => (d as { reason: string }).reason).join("; and ") })
    return ds.find((d) => d._tag !== "Continue" && !isStop(d)) ?? Scheduler.Continue
  }
})

/**
 * Gives a pruner patience (Optuna's PatientPruner): the inner pruner is only heard once the trial
 * has not improved by more than `minDelta` in its last `patience` reports.
 *
 * @example
 * import { Median, Pruner } from "@tunekit/schedulers"
 * const patientMedian = Pruner.patience(Median.make(), { patience: 3, minDelta: 0.001 })
 */
export const patience = (inner: Pruner, options: PatienceOptions): Pruner => {
  const name = `patience(${inner.name})`
  return fromOptions(name, PatienceOptionsSchema, (o): Pruner => ({
    name,
    usesHistory: inner.usesHistory,
    invalid: inner.invalid,
    decide: (input) => {
      const stuck = stagnation(input.trial, input.objective.metric, input.objective.direction, o)
      if (stuck === undefined) return Scheduler.Continue
      const d = inner.decide(input)
      return isStop(d) ? Scheduler.Decision.Prune({ reason: `${(d as { reason: string }).reason} (${stuck})` }) : d
    }
  }))(options)
}

export type { PatienceOptions }
