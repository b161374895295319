/**
 * Schedulers as RxJS operators over a trial's metric stream. Each is a plain curried function
 * `(options) => (source) => Observable`: metrics pass through until the scheduler prunes (or
 * pauses), then the stream completes and the source is unsubscribed, which stops the trainer.
 *
 * @since 0.1.0
 */
import { Scheduler, Trial } from "@tunekit/core"
import { Effect } from "effect"
import { defer, map, type Observable, throwError } from "rxjs"
import type * as Pruner from "./Pruner.js"
import { make as patience, type Options as PatienceOptions } from "./Patience.js"

/** A decision function over one stream: the report and every report so far (including it). */
export type Decide = (metric: Trial.Metric, seen: ReadonlyArray<Trial.Metric>) => Scheduler.Decision

/** A report with the decision taken on it. */
export type Decided = Scheduler.Decided

/** How a pruner sees a lone stream: the objective, the trials to compare with, who this trial is. */
export interface Options {
  /** The objective metric (default "value", or the only metric of a report). */
  readonly metric?: string
  readonly direction?: Trial.Direction
  /** The trials to compare with (read at each report when a function). */
  readonly history?: ReadonlyArray<Trial.FrozenTrial> | (() => ReadonlyArray<Trial.FrozenTrial>)
  /** The trial's id and number in that history (default -1, not in it). */
  readonly trial?: { readonly id?: number; readonly number?: number; readonly systemAttrs?: Trial.FrozenTrial["systemAttrs"] }
}

/**
 * A pruner as a decision function over a lone stream.
 *
 * @example
 * import { Operators, Threshold } from "@tunekit/schedulers"
 * const decide = Operators.decider(Threshold.make({ upper: 5 }), { metric: "loss" })
 */
export const decider = (pruner: Pruner.Pruner, options: Options = {}): Decide => {
  const objective = { metric: options.metric ?? "value", direction: options.direction ?? "minimize" }
  const base = Trial.make({
    id: options.trial?.id ?? -1,
    number: options.trial?.number ?? -1,
    state: "Running",
    systemAttrs: options.trial?.systemAttrs ?? {}
  })
  return (metric, seen) => {
    const h = options.history
    const history = h === undefined ? [] : typeof h === "function" ? h() : h
    return pruner.decide({ trial: { ...base, intermediate: [...seen] }, metric, history, objective })
  }
}

const isPruner = (x: Decide | Pruner.Pruner): x is Pruner.Pruner => typeof x === "object"

/**
 * Every report with its decision; the stream completes after the first Prune or Pause (which is
 * emitted) and unsubscribes the source. It is `Scheduler.decisions` of @tunekit/core, the operator
 * `Study.optimize` applies to every trial, so each report is decided before a synchronous source
 * produces the next one. A pruner with bad options errors on subscription.
 *
 * @example
 * import { Operators, Median } from "@tunekit/schedulers"
 * import { of } from "rxjs"
 * of({ step: 1, values: { value: 3 } }).pipe(Operators.decisions(Median.make())).subscribe(({ decision }) => console.log(decision._tag))
 */
export const decisions = (scheduler: Decide | Pruner.Pruner, options: Options = {}) =>
(source: Observable<Trial.Metric>): Observable<Decided> =>
  defer(() => {
    if (isPruner(scheduler) && scheduler.invalid !== undefined) {
      const invalid = scheduler.invalid
      return throwError(() => invalid)
    }
    const decide = isPruner(scheduler) ? decider(scheduler, options) : scheduler
    // One list per subscription: each subscriber is its own trial.
    const seen: Array<Trial.Metric> = []
    // The operator Study.optimize applies to every trial's stream, with a pure decision.
    return source.pipe(Scheduler.decisions((metric) =>
      Effect.sync(() => {
        const i = seen.findIndex((m) => m.step >= metric.step)
        if (i < 0) seen.push(metric)
        else seen.splice(i, seen[i].step === metric.step ? 1 : 0, metric)
        return decide(metric, seen)
      })
    ))
  })

/**
 * The metrics of a stream until the scheduler prunes it: the pruning report passes, then the
 * stream completes and the trainer is unsubscribed.
 *
 * @example
 * import { Operators, Median } from "@tunekit/schedulers"
 * import { interval, map } from "rxjs"
 * const trainer = interval(10).pipe(map((i) => ({ step: i + 1, values: { loss: 1 / (i + 1) } })))
 * const pruned = trainer.pipe(Operators.pruneWhen(Median.make(), { metric: "loss", history: [] }))
 */
export const pruneWhen = (scheduler: Decide | Pruner.Pruner, options: Options = {}) =>
(source: Observable<Trial.Metric>): Observable<Trial.Metric> =>
  source.pipe(decisions(scheduler, options), map((d) => d.metric))

/**
 * Early stopping on a lone stream: stops when the metric has not improved by more than
 * `minDelta` in the last `patience` reports.
 *
 * @example
 * import { Operators } from "@tunekit/schedulers"
 * import { from } from "rxjs"
 * from([3, 2, 2.5, 2.4].map((v, i) => ({ step: i, values: { loss: v } })))
 *   .pipe(Operators.earlyStop({ patience: 2, metric: "loss" }))
 *   .subscribe(console.log) // steps 0..3, then completes
 */
export const earlyStop = (options: PatienceOptions & Omit<Options, "history">) =>
  pruneWhen(patience({ patience: options.patience, minDelta: options.minDelta }), options)

/**
 * The reason of a Prune decision, for consumers of `decisions`.
 *
 * @example
 * import { Operators, Threshold } from "@tunekit/schedulers"
 * import { of } from "rxjs"
 * of({ step: 1, values: { value: NaN } })
 *   .pipe(Operators.decisions(Threshold.make({ upper: 1 })))
 *   .subscribe(({ decision }) => console.log(Operators.reasonOf(decision))) // "threshold: value at step 1 is NaN"
 */
export const reasonOf = (d: Scheduler.Decision): string | undefined => (d._tag === "Prune" ? d.reason : undefined)
