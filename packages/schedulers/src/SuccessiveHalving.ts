/**
 * Synchronous successive halving (Jamieson & Talwalkar 2016, "Non-stochastic Best Arm
 * Identification and Hyperparameter Optimization"). Trials come in brackets of `configurations`
 * consecutive trial numbers. Every trial of a bracket trains to minResource and pauses; when all
 * have reached the rung, the best max(1, floor(n/eta)) are resumed from their checkpoints to the
 * next rung (minResource * eta) and the others are stored as Pruned; and so on up to
 * maxResource. A bracket spends exactly `plan(options).steps` training steps.
 *
 * Pauses need the objective to resume from `trial.resumeFrom` (its checkpoint). A study should
 * run whole brackets: `Budget.layerConfigurations(plan(options).configurations)` stops sampling
 * new configurations after that many and lets the paused ones finish.
 *
 * @since 0.1.0
 */
import { type Layer, Schema } from "effect"
import { Options as Opts, type Scheduler, type Storage, type Trial } from "@tunekit/core"
import type * as Pruner from "./Pruner.js"
import { rungFields, rungRule } from "./internal/rungOptions.js"
import { scheduler } from "./internal/rungService.js"
import { type Bracket, bracketSteps, etaOf, levels, type RungOptions, sizes, synchronous } from "./internal/rungs.js"

/** Options of successive halving. */
export interface Options extends RungOptions {
  /** Configurations per bracket (default eta^(number of rungs), so that one reaches maxResource). */
  readonly configurations?: number
  /**
   * The configurations the study runs in all (use with `Budget.layerConfigurations(limit)`): the
   * bracket the limit cuts is shortened to the trials it gets, so that it finishes, and once
   * they all exist, idle workers wait for the running trials instead of stopping.
   */
  readonly limit?: number
}

/** What one bracket does: the rungs, how many trials reach each, and the steps spent. */
export interface BracketPlan {
  readonly configurations: number
  /** Resources (rungs, then maxResource) and how many trials train to each. */
  readonly rungs: ReadonlyArray<{ readonly resource: number; readonly trials: number }>
  readonly steps: number
}

/** One bracket, or with a `limit` every bracket up to the limit, and their totals. */
export interface Plan extends BracketPlan {
  readonly brackets: ReadonlyArray<BracketPlan>
}

const configurationsOf = (o: Options) => o.configurations ?? Math.max(1, Math.round(etaOf(o) ** levels(o).length))

/**
 * The Schema of successive halving's options, and their JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { SuccessiveHalving } from "@tunekit/schedulers"
 * Options.jsonSchema(SuccessiveHalving.OptionsSchema)
 */
export const OptionsSchema: Schema.Schema<Options> = Schema.Struct({
  ...rungFields,
  configurations: Schema.optional(Opts.PositiveInt),
  limit: Schema.optional(Opts.PositiveInt)
}).pipe(Schema.filter(rungRule))

const bracketPlan = (options: Options, n: number): BracketPlan => {
  const rs = levels(options)
  const ns = sizes(n, rs.length, etaOf(options))
  return {
    configurations: n,
    rungs: [...rs, options.maxResource].map((resource, i) => ({ resource, trials: ns[i] })),
    steps: bracketSteps(n, rs, options.maxResource, etaOf(options))
  }
}

/**
 * The plan of one bracket, or with a `limit`, of every bracket up to it (`configurations`, `steps`
 * are then totals and `rungs` those of the first bracket).
 *
 * @example
 * import { SuccessiveHalving } from "@tunekit/schedulers"
 * SuccessiveHalving.plan({ minResource: 1, maxResource: 9, reductionFactor: 3 }).steps // 9 * 1 + 3 * 2 + 1 * 6 = 21
 */
export const plan = (options: Options): Plan => {
  const n = configurationsOf(options)
  const limit = options.limit ?? n
  const brackets: Array<BracketPlan> = []
  for (let start = 0; start < limit; start += n) brackets.push(bracketPlan(options, Math.min(n, limit - start)))
  return {
    ...brackets[0],
    brackets,
    configurations: brackets.reduce((a, b) => a + b.configurations, 0),
    steps: brackets.reduce((a, b) => a + b.steps, 0)
  }
}

const core = (o: Options) => {
  const rungs = levels(o)
  const n = configurationsOf(o)
  return synchronous("successive-halving", o, (t) => {
    const it = Math.floor(t.number / n)
    const start = it * n
    const size = o.limit !== undefined && start < o.limit ? Math.min(n, o.limit - start) : n
    return { key: `sh:${it}`, rungs, members: { start, size } }
  })
}

const built = scheduler("successive-halving", OptionsSchema, core)

/**
 * Successive halving as a pruner (for RxJS operators: the decisions, without the writes).
 *
 * @example
 * import { SuccessiveHalving } from "@tunekit/schedulers"
 * const sh = SuccessiveHalving.make({ minResource: 1, maxResource: 27, configurations: 27 })
 */
export const make = (options: Options): Pruner.Pruner => built.make(options)

/**
 * Successive halving as the study's Scheduler layer.
 *
 * @example
 * import { SuccessiveHalving } from "@tunekit/schedulers"
 * const layer = SuccessiveHalving.layer({ minResource: 1, maxResource: 27, reductionFactor: 3 })
 */
export const layer = (options: Options): Layer.Layer<Scheduler.Scheduler, never, Storage.Storage> => built.layer(options)

/**
 * Each trial's bracket under these options (Successive halving compares a trial with those of its bracket, on
 * the bracket's rungs), as the scheduler decides; undefined when the options are invalid. The
 * rungs plot of @tunekit/plots takes it.
 *
 * @example
 * import { SuccessiveHalving } from "@tunekit/schedulers"
 * import type { Trial } from "@tunekit/core"
 * const bracketOf = SuccessiveHalving.bracketOf({ minResource: 1, maxResource: 9, reductionFactor: 3 })!
 * declare const t: Trial.FrozenTrial
 * bracketOf(t) // trial 10: { key: "sh:1", rungs: [1, 3], members: { start: 9, size: 9 } }
 */
export const bracketOf = (options: Options): ((trial: Trial.FrozenTrial) => Bracket) | undefined => built.bracketOf(options)
