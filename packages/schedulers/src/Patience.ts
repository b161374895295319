/**
 * Early stopping by patience: prunes a trial that has not improved by more than `minDelta` in
 * its last `patience` reports (the rule of Keras' EarlyStopping). Alone it is early stopping;
 * `Pruner.patience(inner, options)` makes another pruner wait for stagnation.
 *
 * @since 0.1.0
 */
import { Scheduler } from "@tunekit/core"
import type { Layer } from "effect"
import { type PatienceOptions, PatienceOptionsSchema, stagnation } from "./internal/patience.js"
import * as Pruner from "./Pruner.js"

/** Options: `patience` reports without improvement, and the smallest improvement that counts. */
export type Options = PatienceOptions

/**
 * The Schema of the patience pruner's options, and their JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Patience } from "@tunekit/schedulers"
 * Options.jsonSchema(Patience.OptionsSchema)
 */
export const OptionsSchema = PatienceOptionsSchema

/**
 * The patience pruner.
 *
 * @example
 * import { Patience } from "@tunekit/schedulers"
 * const earlyStopping = Patience.make({ patience: 5, minDelta: 1e-3 })
 */
export const make: (options: Options) => Pruner.Pruner = Pruner.fromOptions("patience", PatienceOptionsSchema, (options) =>
  Pruner.make("patience", ({ objective, trial }) => {
    const stuck = stagnation(trial, objective.metric, objective.direction, options)
    return stuck === undefined ? Scheduler.Continue : Scheduler.Decision.Prune({ reason: `patience: ${stuck}` })
  }))

/**
 * The patience pruner as the study's Scheduler layer.
 *
 * @example
 * import { Patience } from "@tunekit/schedulers"
 * const layer = Patience.layer({ patience: 5 })
 */
export const layer = (options: Options): Layer.Layer<Scheduler.Scheduler> => Pruner.layer(make(options))
