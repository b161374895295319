/**
 * Multi-fidelity: a fidelity is what a trial can be given more or less of (epochs, a fraction of
 * the data, an image size...), declared by the trainer. Hyperband and ASHA control it as their
 * resource: the trainer is evaluated at increasing resources (the schedulers' rungs, then the
 * maximum), one reported step per resource, and a scheduler that prunes (or pauses) the trial
 * stops it from getting the next one (Li et al. 2018, "Hyperband", where the resource may be
 * "iterations, data set size, or features"; Falkner et al. 2018, "BOHB").
 *
 * The scheduler works in resource units (numbers on the step axis); `at(resource)` maps them to the
 * trainer's own unit: `Fidelity.fraction` maps resource 9 of 27 to a third of the data, say.
 *
 * @example
 * import { Effect } from "effect"
 * import { Space, Study } from "@tunekit/core"
 * import { Fidelity } from "@tunekit/schedulers"
 *
 * const data = Fidelity.fraction({ minResource: 1, maxResource: 27, reductionFactor: 3 })
 * const space = Space.struct({ depth: Space.int(1, 12) })
 * const program = Study.optimize({
 *   study: "trees", space, metric: "error", direction: "minimize", trials: 50,
 *   // fit on 1/27, 3/27, 9/27, then all of the data, while the scheduler lets the trial go on
 *   objective: Fidelity.objective(data, (config, { fidelity }) => fitAndScore(config.depth, fidelity), { metric: "error" })
 * })
 * declare const fitAndScore: (depth: number, fraction: number) => Promise<number>
 * // provide Asha.layer(Fidelity.schedulerOptions(data)) or Hyperband with the same options
 *
 * @since 0.1.0
 */
import { type Checkpoint, Options, type Study } from "@tunekit/core"
import { Data, Effect, Either, Schema } from "effect"
import * as Hyperband from "./Hyperband.js"
import { RungOptionsSchema } from "./internal/rungOptions.js"

/** A fidelity declared with bad options (min above max, a reduction factor below 2...). */
export class InvalidFidelity extends Data.TaggedError("InvalidFidelity")<{
  readonly fidelity: string
  readonly reason: string
}> {
  override get message() {
    return `fidelity "${this.fidelity}": ${this.reason}`
  }
}

/** The resources of a fidelity, in the units the schedulers count on the step axis. */
export interface ResourceOptions {
  /** The smallest resource a trial gets (the first rung; Hyperband's r_min, ASHA's grace period). */
  readonly minResource: number
  /** The resource of a full evaluation (max_t). */
  readonly maxResource: number
  /** eta: the ratio between successive resources (default 3, as the schedulers'). */
  readonly reductionFactor?: number
}

/**
 * The Schema of a fidelity's resources (the rung schedulers' own), and their JSON Schema
 * (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Fidelity } from "@tunekit/schedulers"
 * Options.jsonSchema(Fidelity.ResourceOptionsSchema)
 */
export const ResourceOptionsSchema: Schema.Schema<ResourceOptions> = RungOptionsSchema

const decodeResources = Options.decodeEither(ResourceOptionsSchema)

/** A fidelity: its name, its resources, and the trainer's value at a resource. */
export interface Fidelity<F> {
  readonly name: string
  readonly minResource: number
  readonly maxResource: number
  readonly reductionFactor: number
  /** The trainer's fidelity at a resource (epochs, a fraction, a size...). */
  readonly at: (resource: number) => F
  /** The resources the trainer is evaluated at: minResource * eta^k below maxResource, then maxResource. */
  readonly levels: ReadonlyArray<number>
}

/**
 * A fidelity from its resources and a map to the trainer's unit. Throws `InvalidFidelity` on bad
 * options.
 *
 * @example
 * import { Fidelity } from "@tunekit/schedulers"
 * const imageSize = Fidelity.make("imageSize", { minResource: 8, maxResource: 64, reductionFactor: 2 }, (r) => r)
 * imageSize.levels // [8, 16, 32, 64]
 */
export const make = <F>(name: string, options: ResourceOptions, at: (resource: number) => F): Fidelity<F> => {
  const decoded = decodeResources(options)
  if (Either.isLeft(decoded)) throw new InvalidFidelity({ fidelity: name, reason: Options.format(decoded.left) })
  const { minResource: min, maxResource: max } = decoded.right
  const eta = decoded.right.reductionFactor ?? 3
  const levels: Array<number> = []
  // The same rungs as the schedulers compute (minResource * eta^k strictly below maxResource).
  for (let r = min; r < max * (1 - 1e-12); r *= eta) levels.push(r)
  levels.push(max)
  return { name, minResource: min, maxResource: max, reductionFactor: eta, at, levels }
}

/**
 * Epochs (or any count of training iterations): the resource is the number of epochs.
 *
 * @example
 * import { Fidelity } from "@tunekit/schedulers"
 * const epochs = Fidelity.epochs({ minResource: 1, maxResource: 81, reductionFactor: 3 })
 * epochs.levels // [1, 3, 9, 27, 81]
 */
export const epochs = (options: ResourceOptions): Fidelity<number> => make("epochs", options, (r) => Math.round(r))

/**
 * A fraction of the training data: resource r of maxResource is the fraction r / maxResource.
 *
 * @example
 * import { Fidelity } from "@tunekit/schedulers"
 * const data = Fidelity.fraction({ minResource: 1, maxResource: 27 })
 * data.levels.map(data.at) // [1/27, 1/9, 1/3, 1]
 */
export const fraction = (options: ResourceOptions): Fidelity<number> => make("fraction", options, (r) => r / options.maxResource)

/**
 * The options to give Hyperband or ASHA so that their rungs are this fidelity's levels.
 *
 * @example
 * import { Fidelity } from "@tunekit/schedulers"
 * const epochs = Fidelity.epochs({ minResource: 1, maxResource: 27 })
 * Fidelity.schedulerOptions(epochs) // { minResource: 1, maxResource: 27, reductionFactor: 3 }
 */
export const schedulerOptions = (f: Fidelity<unknown>): Required<ResourceOptions> => ({
  minResource: f.minResource,
  maxResource: f.maxResource,
  reductionFactor: f.reductionFactor
})

/** What the evaluation at one resource receives. */
export interface Evaluation<F, A> {
  /** The trainer's fidelity at this resource. */
  readonly fidelity: F
  readonly resource: number
  /** The previous level this trial was evaluated at (to warm-start from its checkpoint), if any. */
  readonly previous: { readonly resource: number; readonly fidelity: F } | undefined
  /** The checkpoint the trial starts from, when it resumes (after a pause, or from another trial). */
  readonly restoreFrom: Checkpoint.RestorePoint | undefined
  readonly trial: Study.TrialContext<A>
  /** Aborted when the scheduler stops the trial. */
  readonly signal: AbortSignal
}

/** What an evaluation returns: the objective value, or several named metrics. */
export type EvaluationResult = number | Readonly<Record<string, number>>

/**
 * Turns an evaluation at a fidelity into a trial's objective: evaluates at each level in turn
 * (skipping those a resumed trial has done) and reports it at `step = resource`, waiting for the
 * scheduler's decision before the next (more expensive) level starts. When the scheduler prunes
 * or pauses the trial, no further level runs, and the signal aborts the evaluation in flight.
 * The objective is an Effect that succeeds with the value at `maxResource` (and fails with
 * `TrialPruned` or `TrialPaused` when the scheduler stops the trial): an evaluation given as an
 * Effect runs in the trial's fiber, so interrupting the study interrupts it. Outside a study,
 * run it with `Effect.runPromise`.
 *
 * @example
 * import { Fidelity } from "@tunekit/schedulers"
 * const epochs = Fidelity.epochs({ minResource: 1, maxResource: 27 })
 * const objective = Fidelity.objective(epochs, async (config: { lr: number }, { fidelity }) => 1 / (fidelity * config.lr), { metric: "loss" })
 */
export const objective = <A, F>(
  fidelity: Fidelity<F>,
  evaluate: (
    config: A,
    evaluation: Evaluation<F, A>
  ) => EvaluationResult | PromiseLike<EvaluationResult> | Effect.Effect<EvaluationResult, unknown>,
  input: ObjectiveOptions<A> = {}
) => {
  const decoded = decodeObjectiveOptions(input)
  if (Either.isLeft(decoded)) throw new InvalidFidelity({ fidelity: fidelity.name, reason: Options.format(decoded.left) })
  return objectiveOf(fidelity, evaluate, decoded.right as ObjectiveOptions<A>)
}

/** Options of `objective`. */
export interface ObjectiveOptions<A> {
  /** The study's objective metric: the name of a numeric result, and the value returned (default "value"). */
  readonly metric?: string
  /** The first resource of a trial (default minResource): see `hyperbandStart`. */
  readonly startAt?: (trial: Study.TrialContext<A>) => number
}

/**
 * The Schema of `objective`'s options.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Fidelity } from "@tunekit/schedulers"
 * Options.jsonSchema(Fidelity.ObjectiveOptionsSchema)
 */
export const ObjectiveOptionsSchema: Schema.Schema<ObjectiveOptions<any>> = Schema.Struct({
  metric: Schema.optional(Options.NonEmptyString),
  startAt: Schema.optional(Options.fn<(trial: Study.TrialContext<any>) => number>("a function from a trial to its first resource"))
})

const decodeObjectiveOptions = Options.decodeEither(ObjectiveOptionsSchema)

const objectiveOf = <A, F>(
  fidelity: Fidelity<F>,
  evaluate: (
    config: A,
    evaluation: Evaluation<F, A>
  ) => EvaluationResult | PromiseLike<EvaluationResult> | Effect.Effect<EvaluationResult, unknown>,
  options: ObjectiveOptions<A>
) =>
(config: A, trial: Study.TrialContext<A>): Effect.Effect<number, unknown> =>
  // An Effect, run by the run loop in the trial's fiber: an evaluation that is an Effect runs
  // there too, with the study's services, and interrupting the study interrupts it.
  Effect.gen(function*() {
    const metric = options.metric ?? "value"
    const start = trial.resumeFrom ?? -Infinity
    const first = options.startAt?.(trial) ?? -Infinity
    let previous: { resource: number; fidelity: F } | undefined
    let last: number | undefined
    for (const resource of fidelity.levels) {
      if (resource < first) continue
      if (resource <= start) {
        previous = { resource, fidelity: fidelity.at(resource) }
        continue
      }
      if (trial.signal.aborted) return yield* Effect.fail(trial.signal.reason as unknown)
      const f = fidelity.at(resource)
      const evaluation: Evaluation<F, A> = { fidelity: f, resource, previous, restoreFrom: trial.restoreFrom, trial, signal: trial.signal }
      const value = yield* Effect.flatMap(
        Effect.try({ try: () => evaluate(config, evaluation), catch: (e) => e }),
        (r) => Effect.isEffect(r) ? r : isPromiseLike(r) ? Effect.tryPromise({ try: () => Promise.resolve(r), catch: (e) => e }) : Effect.succeed(r)
      )
      const values = typeof value === "number" ? { [metric]: value } : value
      last = values[metric]
      // Fails with TrialPruned or TrialPaused when the scheduler stops the trial here.
      yield* Effect.tryPromise({ try: () => trial.report({ step: resource, values }), catch: (e) => e })
      previous = { resource, fidelity: f }
    }
    if (last === undefined) return yield* Effect.fail(new Error(`the evaluation did not return the metric "${metric}"`))
    return last
  })

const isPromiseLike = (r: unknown): r is PromiseLike<EvaluationResult> =>
  r !== null && typeof r === "object" && typeof (r as PromiseLike<unknown>).then === "function"

/**
 * Where each trial starts under Hyperband: bracket s begins at the rung r_(s_max - s), so a trial
 * of that bracket is first evaluated at that resource, not at minResource (Li et al. 2018,
 * Algorithm 1). Trial numbers fill the brackets of an iteration in order, as `Hyperband` assigns
 * them. Give it to `objective` as `startAt`.
 *
 * @example
 * import { Fidelity } from "@tunekit/schedulers"
 * const epochs = Fidelity.epochs({ minResource: 1, maxResource: 27 })
 * const objective = Fidelity.objective(epochs, (c: { lr: number }, e) => e.fidelity * c.lr, {
 *   startAt: Fidelity.hyperbandStart(Fidelity.schedulerOptions(epochs))
 * })
 */
export const hyperbandStart = (options: Hyperband.Options) => {
  const plan = Hyperband.plan(options)
  const total = Math.max(1, plan.configurations)
  return (trial: { readonly number: number }): number => {
    let i = trial.number % total
    for (const b of plan.brackets) {
      if (i < b.configurations) return b.rungs[0]?.resource ?? options.minResource
      i -= b.configurations
    }
    return options.minResource
  }
}
