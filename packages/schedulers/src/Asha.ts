/**
 * ASHA, asynchronous successive halving (Li et al. 2020, "A System for Massively Parallel
 * Hyperparameter Tuning"). Rungs at minResource * eta^k below maxResource; at each rung one trial
 * in eta goes on. Two variants:
 *
 * - `stopping` (default; the rule of Optuna's SuccessiveHalvingPruner): a trial reaching a rung
 *   goes on when its value there is among the best max(1, floor(k/eta)) of the k values recorded
 *   at that rung so far, its own included (ties go to the smaller trial number); otherwise it is
 *   pruned. The decision depends only on those values, never on the order of the history or on
 *   how many went on before: a better trial that arrives later is not kept out by earlier ones.
 *   (Issue 4's law "never more than ceil(n/eta) trials past a rung" was wrong for this variant:
 *   it let the first arrivals take the places, whatever their quality.) A NaN at a rung is pruned
 *   and not counted among the values. Ray Tune's ASHAScheduler uses the (1 - 1/eta) quantile of
 *   the recorded values instead, which is close but not the same rule.
 * - `promotion` (the paper's Algorithm 2): a trial pauses at each rung; it is promoted (resumed
 *   from its checkpoint: the objective sees `trial.resumeFrom`) when it is in the top
 *   floor(n/eta) and fewer than floor(n/eta) were promoted. Promotions to the highest rung come
 *   first. When the study ends (`Study.optimize` returns and no trial of the study runs), the
 *   trials never promoted are stored as Pruned, "paused at rung r (step s) and not promoted
 *   before the study ended", with their last value.
 *
 * `brackets` > 1 runs several ASHA brackets (bracket b starts at minResource * eta^b) and assigns
 * trial number t to bracket t mod brackets; a trial is only compared within its bracket.
 * The decisions read the rungs from storage, so they hold with several workers on one storage.
 *
 * @since 0.1.0
 */
import { type Layer, Schema } from "effect"
import { Options as Opts, type Scheduler, type Storage, type Trial } from "@tunekit/core"
import type * as Pruner from "./Pruner.js"
import { rungFields, rungRule } from "./internal/rungOptions.js"
import { scheduler } from "./internal/rungService.js"
import { asha, type Bracket, KEY, levels, type RungOptions } from "./internal/rungs.js"

/** Options of ASHA. */
export interface Options extends RungOptions {
  /** "stopping" (default) or "promotion". */
  readonly mode?: "stopping" | "promotion"
  /** How many brackets (default 1). */
  readonly brackets?: number
  /**
   * Promotion: the configurations the study runs in all (with `Budget.layerConfigurations`);
   * once they all exist, idle workers wait for running trials that may make a paused one
   * promotable, instead of stopping.
   */
  readonly limit?: number
}

/**
 * The Schema of ASHA's options, and their JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Asha } from "@tunekit/schedulers"
 * Options.jsonSchema(Asha.OptionsSchema)
 */
export const OptionsSchema: Schema.Schema<Options> = Schema.Struct({
  ...rungFields,
  mode: Schema.optional(Opts.literals("stopping", "promotion")),
  brackets: Schema.optional(Opts.PositiveInt),
  limit: Schema.optional(Opts.PositiveInt)
}).pipe(
  Schema.filter(rungRule),
  Schema.filter((o) => {
    const n = Math.max(1, levels(o).length)
    return (o.brackets ?? 1) <= n || { path: ["brackets"], message: `must not exceed the number of rungs (${n}), got ${o.brackets}` }
  })
)

const core = (o: Options) => {
  const rungs = levels(o)
  const n = o.brackets ?? 1
  const byBracket: Array<Bracket> = Array.from({ length: n }, (_, b) => ({ key: `asha:${b}`, rungs: rungs.slice(b) }))
  return asha(`asha`, o, o.mode ?? "stopping", (t) => byBracket[((t.number % n) + n) % n] ?? byBracket[0])
}

const built = scheduler("asha", OptionsSchema, core)

/**
 * ASHA as a pruner (for RxJS operators and combinators). Stopping decides the same as in a study;
 * for promotion, the marks of trials let past a rung are not stored, so its quota counts the
 * trials that reported beyond the rung.
 *
 * @example
 * import { Asha, Operators } from "@tunekit/schedulers"
 * const asha = Asha.make({ minResource: 1, maxResource: 81, reductionFactor: 3 })
 */
export const make = (options: Options): Pruner.Pruner => built.make(options)

/**
 * ASHA as the study's Scheduler layer (it reads and marks trials in storage).
 *
 * @example
 * import { Effect } from "effect"
 * import { Storage } from "@tunekit/core"
 * import { Asha } from "@tunekit/schedulers"
 * const layer = Asha.layer({ minResource: 1, maxResource: 27, reductionFactor: 3, mode: "promotion" })
 */
export const layer = (options: Options): Layer.Layer<Scheduler.Scheduler, never, Storage.Storage> => built.layer(options)

/**
 * Each trial's bracket under these options (ASHA compares a trial with those of its bracket, on
 * the bracket's rungs), as the scheduler decides; undefined when the options are invalid. The
 * rungs plot of @tunekit/plots takes it.
 *
 * @example
 * import { Asha } from "@tunekit/schedulers"
 * import type { Trial } from "@tunekit/core"
 * const bracketOf = Asha.bracketOf({ minResource: 1, maxResource: 27, reductionFactor: 3, brackets: 2 })!
 * declare const t: Trial.FrozenTrial
 * bracketOf(t) // { key: "asha:1", rungs: [3, 9] } for an odd trial number
 */
export const bracketOf = (options: Options): ((trial: Trial.FrozenTrial) => Bracket) | undefined => built.bracketOf(options)

/**
 * The rungs of a configuration: the resources where trials are compared.
 *
 * @example
 * import { Asha } from "@tunekit/schedulers"
 * Asha.rungs({ minResource: 1, maxResource: 81, reductionFactor: 3 }) // [1, 3, 9, 27]
 */
export const rungs = (options: RungOptions): ReadonlyArray<number> => levels(options)

/**
 * The system attribute where the rung schedulers (ASHA promotion, successive halving, Hyperband)
 * keep how many rungs a trial was let past.
 *
 * @example
 * import { Asha } from "@tunekit/schedulers"
 * declare const t: { systemAttrs: Record<string, unknown> }
 * const passed = t.systemAttrs[Asha.RUNG] ?? 0
 */
export const RUNG: string = KEY
