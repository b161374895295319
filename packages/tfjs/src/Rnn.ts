/**
 * Recurrent networks for sequences (time series): stacked LSTM or GRU layers, optionally
 * bidirectional, with dropout between layers, reading `[sequenceLength, features]` samples and
 * predicting from the last step.
 *
 * @example
 * import { Rnn } from "@tunekit/tfjs"
 * const config: Rnn.Config = { cell: "lstm", units: 32, layers: 1, bidirectional: false, dropout: 0, sequenceLength: 12 }
 * Rnn.validate(config, [12, 1]) // undefined: fine
 *
 * @since 0.1.0
 */
import * as tf from "@tensorflow/tfjs"
import { Options } from "@tunekit/core"
import { Schema } from "effect"
import { InvalidModel } from "./Errors.js"
import { type BuildContext, glorot, seeds } from "./internal/build.js"
import { configProblem } from "./internal/config.js"
import { SeededDropout } from "./internal/layers.js"

/** A recurrent network's architecture. */
export interface Config {
  readonly cell: "lstm" | "gru"
  /** Units of each recurrent layer (each direction). */
  readonly units: number
  /** Stacked recurrent layers. */
  readonly layers: number
  readonly bidirectional?: boolean
  /** Dropout between layers and before the output, in [0, 1). */
  readonly dropout?: number
  /** The window length the data was cut into; checked against the input shape when given. */
  readonly sequenceLength?: number
}

/**
 * The Schema of a recurrent network's config, and its JSON Schema (`Options.jsonSchema`). What
 * depends on the data (the window length) is checked by `validate`.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Rnn } from "@tunekit/tfjs"
 * Options.jsonSchema(Rnn.ConfigSchema)
 */
export const ConfigSchema: Schema.Schema<Config> = Schema.Struct({
  cell: Options.literals("lstm", "gru"),
  units: Options.PositiveInt,
  layers: Options.PositiveInt,
  bidirectional: Schema.optional(Options.Boolean),
  dropout: Schema.optional(Options.Rate),
  sequenceLength: Schema.optional(Options.PositiveInt)
})

// The error names the cell when it is known ("lstm"), as the model.
const lstmProblem = configProblem("lstm", ConfigSchema)
const gruProblem = configProblem("gru", ConfigSchema)
const rnnProblem = configProblem("rnn", ConfigSchema)

/**
 * Why the config cannot be built for inputs of this shape, or undefined.
 *
 * @example
 * import { Rnn } from "@tunekit/tfjs"
 * Rnn.validate({ cell: "gru", units: 0, layers: 1 }, [12, 1]) // InvalidModel: units must be a positive integer
 */
export const validate = (config: Config, inputShape: ReadonlyArray<number>): InvalidModel | undefined => {
  const model = config?.cell === "lstm" || config?.cell === "gru" ? config.cell : "rnn"
  const basic = (model === "lstm" ? lstmProblem : model === "gru" ? gruProblem : rnnProblem)(config)
  if (basic) return basic
  const fail = (field: string, reason: string) => new InvalidModel({ model, field, reason })
  if (inputShape.length !== 2) return fail("input", `a recurrent network reads [sequenceLength, features] samples, got [${inputShape.join(", ")}]`)
  if (config.sequenceLength !== undefined && config.sequenceLength !== inputShape[0]) {
    return fail("sequenceLength", `the config says ${config.sequenceLength} but the data's windows are ${inputShape[0]} long`)
  }
  return undefined
}

/**
 * Builds the model (validate first). The output layer is linear.
 *
 * @example
 * import { Rnn } from "@tunekit/tfjs"
 * import { Rng } from "@tunekit/core"
 * const model = Rnn.build({ cell: "gru", units: 16, layers: 1 }, { inputShape: [12, 1], outputs: 1, seed: 1, random: { gen: Rng.generator(1) } })
 */
export const build = (config: Config, ctx: BuildContext): tf.LayersModel => {
  const next = seeds(ctx.seed)
  const input = tf.input({ shape: [...ctx.inputShape] })
  let h: tf.SymbolicTensor = input
  for (let l = 0; l < config.layers; l++) {
    const args = {
      units: config.units,
      returnSequences: l < config.layers - 1,
      kernelInitializer: glorot(next),
      recurrentInitializer: tf.initializers.orthogonal({ seed: next(), gain: 1 })
    }
    const cell = config.cell === "lstm" ? tf.layers.lstm(args) : tf.layers.gru(args)
    h = (config.bidirectional ? tf.layers.bidirectional({ layer: cell, mergeMode: "concat" }) : cell).apply(h) as tf.SymbolicTensor
    if ((config.dropout ?? 0) > 0) h = new SeededDropout(config.dropout!, ctx.random).apply(h) as tf.SymbolicTensor
  }
  const out = tf.layers.dense({ units: ctx.outputs, kernelInitializer: glorot(next) }).apply(h) as tf.SymbolicTensor
  return tf.model({ inputs: input, outputs: out })
}
