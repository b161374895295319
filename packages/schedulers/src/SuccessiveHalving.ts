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
import type { Layer } from "effect"
import type { Scheduler, Storage } from "@tunekit/core"
import type * as Pruner from "./Pruner.js"
import { layer as rungLayer, pruner as rungPruner } from "./internal/rungService.js"
import { bracketSteps, etaOf, levels, type RungOptions, rungProblems, sizes, synchronous } from "./internal/rungs.js"

/** Options of successive halving. */
export interface Options extends RungOptions {
  /** Configurations per bracket (default eta^(number of rungs), so that one reaches maxResource). */
  readonly configurations?: number
}

/** What one bracket does: the rungs, how many trials reach each, and the steps spent. */
export interface Plan {
  readonly configurations: number
  /** Resources (rungs, then maxResource) and how many trials train to each. */
  readonly rungs: ReadonlyArray<{ readonly resource: number; readonly trials: number }>
  readonly steps: number
}

const configurationsOf = (o: Options) => o.configurations ?? Math.max(1, Math.round(etaOf(o) ** levels(o).length))

const problems = (o: Options): Array<string> => {
  const out = rungProblems(o)
  if (o.configurations !== undefined && !(Number.isInteger(o.configurations) && o.configurations >= 1)) {
    out.push(`configurations must be a positive integer, got ${o.configurations}`)
  }
  return out
}

/**
 * The plan of one bracket.
 *
 * @example
 * import { SuccessiveHalving } from "@tunekit/schedulers"
 * SuccessiveHalving.plan({ minResource: 1, maxResource: 9, reductionFactor: 3 })
 * // { configurations: 9, rungs: [{ resource: 1, trials: 9 }, { resource: 3, trials: 3 }, { resource: 9, trials: 1 }], steps: 21 }
 */
export const plan = (options: Options): Plan => {
  const rs = levels(options)
  const n = configurationsOf(options)
  const ns = sizes(n, rs.length, etaOf(options))
  return {
    configurations: n,
    rungs: [...rs, options.maxResource].map((resource, i) => ({ resource, trials: ns[i] })),
    steps: bracketSteps(n, rs, options.maxResource, etaOf(options))
  }
}

const core = (o: Options) => {
  const rungs = levels(o)
  const n = configurationsOf(o)
  return synchronous("successive-halving", o, (t) => {
    const it = Math.floor(t.number / n)
    return { key: `sh:${it}`, rungs, members: { start: it * n, size: n } }
  })
}

/**
 * Successive halving as a pruner (for RxJS operators: the decisions, without the writes).
 *
 * @example
 * import { SuccessiveHalving } from "@tunekit/schedulers"
 * const sh = SuccessiveHalving.make({ minResource: 1, maxResource: 27, configurations: 27 })
 */
export const make = (options: Options): Pruner.Pruner => rungPruner("successive-halving", problems(options), core(options))

/**
 * Successive halving as the study's Scheduler layer.
 *
 * @example
 * import { SuccessiveHalving } from "@tunekit/schedulers"
 * const layer = SuccessiveHalving.layer({ minResource: 1, maxResource: 27, reductionFactor: 3 })
 */
export const layer = (options: Options): Layer.Layer<Scheduler.Scheduler, never, Storage.Storage> =>
  rungLayer("successive-halving", problems(options), core(options))
