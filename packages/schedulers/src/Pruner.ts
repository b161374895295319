/**
 * Pruners: pure decisions from one trial's reports and the study's history. A pruner is the
 * common form of every scheduler in this package: it runs as an RxJS operator over a trial's
 * metric stream (see `Operators.pruneWhen`) and as the Scheduler service of a study
 * (`Pruner.layer`), with the same decisions in both.
 *
 * @since 0.1.0
 */
import { Effect, Layer } from "effect"
import { InvalidScheduler, Scheduler, Trial } from "@tunekit/core"
import { type PatienceOptions, patienceProblems, stagnation } from "./internal/patience.js"

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
  /** What is wrong with the options; a study refuses to start with any. */
  readonly problems: ReadonlyArray<string>
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
  options: { readonly usesHistory?: boolean; readonly problems?: ReadonlyArray<string> } = {}
): Pruner => ({ name, decide, usesHistory: options.usesHistory ?? false, problems: options.problems ?? [] })

/**
 * The problems of a pruner as the typed error a study fails with at start.
 *
 * @example
 * import { Effect } from "effect"
 * import { Pruner, Threshold } from "@tunekit/schedulers"
 * Effect.runSync(Effect.either(Pruner.validate(Threshold.make({})))) // Left(InvalidScheduler: give lower, upper or both)
 */
export const validate = (pruner: Pruner): Effect.Effect<void, InvalidScheduler> =>
  pruner.problems.length === 0
    ? Effect.void
    : Effect.fail(new InvalidScheduler({ scheduler: pruner.name, reason: pruner.problems.join("; ") }))

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
  problems: [...(pruners.length === 0 ? ["any needs at least one pruner"] : []), ...pruners.flatMap((p) => p.problems.map((x) => `${p.name}: ${x}`))],
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
  problems: [...(pruners.length === 0 ? ["all needs at least one pruner"] : []), ...pruners.flatMap((p) => p.problems.map((x) => `${p.name}: ${x}`))],
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
export const patience = (inner: Pruner, options: PatienceOptions): Pruner => ({
  name: `patience(${inner.name})`,
  usesHistory: inner.usesHistory,
  problems: [...patienceProblems(options), ...inner.problems.map((x) => `${inner.name}: ${x}`)],
  decide: (input) => {
    const stuck = stagnation(input.trial, input.objective.metric, input.objective.direction, options)
    if (stuck === undefined) return Scheduler.Continue
    const d = inner.decide(input)
    return isStop(d) ? Scheduler.Decision.Prune({ reason: `${(d as { reason: string }).reason} (${stuck})` }) : d
  }
})

export type { PatienceOptions }
