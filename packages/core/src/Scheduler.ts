/**
 * Schedulers decide, from each reported metric of a trial and the study's history, whether the
 * trial goes on. Wider than a boolean prune: Pause and Promote are what ASHA promotion and
 * population-based training need.
 *
 * @since 0.1.0
 */
import { Context, Data, Effect, Layer, type Option, type Runtime } from "effect"
import { type Observable, type OperatorFunction, takeWhile } from "rxjs"
import * as Bridge from "./Bridge.js"
import type { InvalidScheduler } from "./Errors.js"
import type * as Space from "./Space.js"
import type { StorageError } from "./Errors.js"
import type { StudyInfo } from "./Storage.js"
import type { FrozenTrial, Metric } from "./Trial.js"

/** What a scheduler decides for a trial after one of its metrics. */
export type Decision = Data.TaggedEnum<{
  /** Go on training. */
  Continue: {}
  /** Stop now: the trial is stored as Pruned with the reason. */
  Prune: { readonly reason: string }
  /** Stop now, and keep the trial Waiting (paused) so that it can be resumed from its checkpoint. */
  Pause: {}
  /** Go on training up to `toStep` (a promotion to a higher rung). */
  Promote: { readonly toStep: number }
}>

export const Decision = Data.taggedEnum<Decision>()

/** The Continue decision. */
export const Continue: Decision = Decision.Continue()

/** What a scheduler sees with each metric. */
export interface DecideContext {
  readonly study: StudyInfo
  /** The trial as stored, including the metric being decided on. */
  readonly trial: FrozenTrial
  readonly metric: Metric
  /** The study's trials as stored now (read lazily: only schedulers that need it pay for it). */
  readonly history: Effect.Effect<ReadonlyArray<FrozenTrial>, StorageError>
  /** The objective metric names and their directions, in the study's order. */
  readonly objectives: ReadonlyArray<{ readonly metric: string; readonly direction: "minimize" | "maximize" }>
}

/**
 * The resources a multi-fidelity part works on, on the step axis of the metric stream. ASHA and
 * successive halving put rungs at minResource * reductionFactor^k below maxResource; Hyperband at
 * maxResource * reductionFactor^-k, counted down as Li et al. 2018 (Algorithm 1) do. The two grids
 * are the same when maxResource / minResource is a power of reductionFactor.
 */
export interface Resources {
  readonly minResource: number
  readonly maxResource: number
  readonly reductionFactor: number
}

/** The scheduler service. */
export interface SchedulerService {
  readonly name: string
  /**
   * The resources of a scheduler that compares trials at rungs (ASHA, successive halving,
   * Hyperband). Such a scheduler needs a metric stream, and a sampler that declares resources
   * (BOHB) must declare the same ones: `Study.optimize` checks both when the study starts.
   */
  readonly resources?: Resources
  /** Checks the options against the study when it starts. */
  readonly check?: (space: Space.Compiled<any> | undefined, study: StudyInfo) => Effect.Effect<void, InvalidScheduler>
  /**
   * The decision on one metric. The same history gives the same decision; for a trial that has
   * ended in storage (Complete, Pruned, Failed) it is Continue and writes nothing (the Scheduler
   * conformance suite of `@tunekit/core/testing` checks both).
   */
  readonly decide: (ctx: DecideContext) => Effect.Effect<Decision, StorageError>
  /**
   * Asked before a new trial starts: a paused trial to resume instead (by id), with the step it
   * resumes from. Schedulers that never pause leave it out.
   */
  readonly resume?: (ctx: {
    readonly study: StudyInfo
    readonly history: Effect.Effect<ReadonlyArray<FrozenTrial>, StorageError>
  }) => Effect.Effect<Option.Option<number>, StorageError>
  /**
   * Asked when `Study.optimize` ends (its trial budget, deadline or sampler spent, or a callback's
   * stop) and no trial of the study is Running in storage (the last worker to end asks): nothing
   * will resume a paused trial now, so a scheduler that pauses trials ends them, stored as Pruned
   * with their metrics and a reason. Schedulers that never pause leave it out. One exception:
   * synchronous PBT leaves its members Waiting (with a warning) while its population is not yet
   * complete, since workers that start later, or the study's next run, go on with them.
   */
  readonly finish?: (ctx: {
    readonly study: StudyInfo
    readonly history: Effect.Effect<ReadonlyArray<FrozenTrial>, StorageError>
  }) => Effect.Effect<void, StorageError>
}

/** The Scheduler service tag. */
export class Scheduler extends Context.Tag("@tunekit/core/Scheduler")<Scheduler, SchedulerService>() {}

/** A scheduler that lets every trial run to the end. */
export const none: SchedulerService = { name: "none", decide: () => Effect.succeed(Continue) }

/**
 * The no-op scheduler as a layer.
 *
 * @example
 * import { Scheduler } from "@tunekit/core"
 * const layer = Scheduler.layerNone
 */
export const layerNone: Layer.Layer<Scheduler> = Layer.succeed(Scheduler, none)



/** A metric with the decision taken on it. */
export interface Decided {
  readonly metric: Metric
  readonly decision: Decision
}

/** Whether a decision ends the trial's stream (Prune or Pause). */
export const stops = (d: Decision): boolean => d._tag === "Prune" || d._tag === "Pause"

/**
 * The operator every metric stream goes through, in `Study.optimize` as in code composed by hand:
 * each metric with the decision `decide` takes on it, in order. A decision that never waits (the
 * memory and SQLite storages, the pure pruners) is taken before the trainer produces the next
 * metric; the stream completes after the first Prune or Pause (which is emitted) and unsubscribes
 * the trainer, so a synchronous source stops at that step. A failing decision errors the stream.
 *
 * @example
 * import { Effect } from "effect"
 * import { range, map } from "rxjs"
 * import { Scheduler } from "@tunekit/core"
 * const decide = (m: { step: number }) =>
 *   Effect.succeed(m.step >= 3 ? Scheduler.Decision.Prune({ reason: "step 3" }) : Scheduler.Continue)
 * range(1, 1_000_000).pipe(
 *   map((step) => ({ step, values: { loss: 1 / step } })),
 *   Scheduler.decisions(decide)
 * ).subscribe((d) => console.log(d.metric.step, d.decision._tag)) // 1 Continue, 2 Continue, 3 Prune
 */
export const decisions = <E, R = never>(
  decide: (metric: Metric) => Effect.Effect<Decision, E, R>,
  runtime?: Runtime.Runtime<R>
): OperatorFunction<Metric, Decided> =>
(source: Observable<Metric>) =>
  source.pipe(
    Bridge.mapEffect((metric: Metric) =>
      Effect.map(decide(metric), (decision): Decided => {
        const waiting = awaiting.get(metric)
        if (waiting !== undefined) {
          awaiting.delete(metric)
          waiting(decision)
        }
        return { metric, decision }
      }), runtime),
    takeWhile((d) => !stops(d.decision), true)
  )

// The producers waiting for the decision on a metric they emitted (see `decisionOn`).
const awaiting = new WeakMap<Metric, (d: Decision) => void>()

/**
 * The decision `decisions` takes on a metric, for a producer that can hold its trainer until then:
 * a program waiting on its stdin, a worker thread blocked on its answer. Call it before emitting
 * the metric. A decision that waits (on PostgreSQL storage, the report is a round trip) comes after
 * `next` has returned: a producer that answered then would let its trainer run one step past its
 * pruning step. The promise never settles when the stream ends before deciding the metric. It
 * settles with undefined after `waitMs` (default 10 s) when no `decisions` sees this very object
 * (a trainer that maps its program's metrics into new ones): the producer then goes on as if
 * told to continue, rather than hold its trainer forever.
 *
 * @example
 * import { Scheduler } from "@tunekit/core"
 * import type { Trial } from "@tunekit/core"
 * import type { Subscriber } from "rxjs"
 * declare const subscriber: Subscriber<Trial.Metric>
 * const metric = { step: 3, values: { loss: 0.2 } }
 * Scheduler.decisionOn(metric).then((d) => console.log(Scheduler.stops(d) ? "stop" : "continue"))
 * subscriber.next(metric)
 */
export const decisionOn = (metric: Metric, waitMs = 10_000): Promise<Decision | undefined> =>
  new Promise((resolve) => {
    const timer = setTimeout(() => {
      awaiting.delete(metric)
      resolve(undefined)
    }, waitMs)
    timer.unref?.()
    awaiting.set(metric, (d) => {
      clearTimeout(timer)
      resolve(d)
    })
  })
