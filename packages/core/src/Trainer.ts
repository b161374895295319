/**
 * Trainers as a service: a typed config and the trial's context in, a metric stream out.
 * `Study.optimize` without an `objective` runs the provided Trainer, so a training loop is swapped
 * like any other part of a study: by providing another layer.
 *
 * @example
 * import { Effect } from "effect"
 * import { interval, map, take } from "rxjs"
 * import { Space, Study, Trainer } from "@tunekit/core"
 *
 * const space = Space.struct({ lr: Space.float(1e-4, 1e-1, { log: true }) })
 * const curve = Trainer.layer((c: Space.Type<typeof space>) =>
 *   interval(1).pipe(take(10), map((i) => ({ step: i + 1, values: { loss: c.lr / (i + 1) } }))),
 *   { maxStep: 10 }
 * )
 * const program = Study.optimize({ study: "curves", space, metric: "loss", trials: 20 }).pipe(
 *   Effect.provide(curve),
 *   Effect.provide(Study.layerDefaults({ seed: 1 }))
 * )
 *
 * @since 0.2.0
 */
import { Context, Layer } from "effect"
import type { ObjectiveResult, TrialContext } from "./Study.js"

/** The trainer service: one training run per trial. */
export interface TrainerService<A = any> {
  readonly name: string
  /**
   * Runs one trial. An `Observable<Metric>` is the usual result (unsubscribing stops the
   * training); a number, a Promise or an Effect are accepted as for objectives.
   */
  readonly train: (config: A, trial: TrialContext<A>) => ObjectiveResult
  /**
   * The step at which a trial has trained fully (its last epoch). A report at or past it
   * completes the trial whatever the scheduler decides: a fully trained trial is never pruned.
   */
  readonly maxStep?: number | ((config: A) => number | undefined)
}

/** The Trainer service tag. */
export class Trainer extends Context.Tag("@tunekit/core/Trainer")<Trainer, TrainerService<any>>() {}

/**
 * A trainer from a function of the config and the trial's context.
 *
 * @example
 * import { of } from "rxjs"
 * import { Trainer } from "@tunekit/core"
 * const t = Trainer.make((c: { x: number }) => of({ step: 1, values: { value: c.x ** 2 } }), { name: "square" })
 */
export const make = <A>(
  train: (config: A, trial: TrialContext<A>) => ObjectiveResult,
  options: { readonly name?: string; readonly maxStep?: TrainerService<A>["maxStep"] } = {}
): TrainerService<A> => ({
  name: options.name ?? "function",
  train,
  ...(options.maxStep === undefined ? {} : { maxStep: options.maxStep })
})

/**
 * A function as the Trainer layer.
 *
 * @example
 * import { of } from "rxjs"
 * import { Trainer } from "@tunekit/core"
 * const layer = Trainer.layer((c: { x: number }) => of({ step: 1, values: { value: c.x ** 2 } }))
 */
export const layer = <A>(
  train: (config: A, trial: TrialContext<A>) => ObjectiveResult,
  options: { readonly name?: string; readonly maxStep?: TrainerService<A>["maxStep"] } = {}
): Layer.Layer<Trainer> => Layer.succeed(Trainer, make(train, options))

/** The step at which a config has trained fully, if the trainer says. */
export const maxStepOf = <A>(trainer: TrainerService<A>, config: A): number | undefined =>
  typeof trainer.maxStep === "function" ? trainer.maxStep(config) : trainer.maxStep
