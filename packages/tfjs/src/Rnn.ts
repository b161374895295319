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
import type { InvalidModel } from "./Errors.js"
import { type BuildContext, checker, firstError, glorot, seeds } from "./internal/build.js"
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
 * Why the config cannot be built for inputs of this shape, or undefined.
 *
 * @example
 * import { Rnn } from "@tunekit/tfjs"
 * Rnn.validate({ cell: "gru", units: 0, layers: 1 }, [12, 1]) // InvalidModel: units must be a positive integer
 */
export const validate = (config: Config, inputShape: ReadonlyArray<number>): InvalidModel | undefined => {
  const c = checker(config.cell ?? "rnn")
  const basic = firstError(
    c.oneOf("cell", config.cell, ["lstm", "gru"]),
    c.positiveInt("units", config.units),
    c.positiveInt("layers", config.layers),
    c.rate("dropout", config.dropout),
    config.sequenceLength === undefined ? undefined : c.positiveInt("sequenceLength", config.sequenceLength)
  )
  if (basic) return basic
  if (inputShape.length !== 2) return c.fail("input", `a recurrent network reads [sequenceLength, features] samples, got [${inputShape.join(", ")}]`)
  if (config.sequenceLength !== undefined && config.sequenceLength !== inputShape[0]) {
    return c.fail("sequenceLength", `the config says ${config.sequenceLength} but the data's windows are ${inputShape[0]} long`)
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
