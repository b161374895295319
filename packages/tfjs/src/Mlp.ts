/**
 * Multi-layer perceptrons from a typed config: hidden layers of one width, an activation, dropout
 * and batch normalization. Inputs of any shape are flattened.
 *
 * @example
 * import { Mlp } from "@tunekit/tfjs"
 * const config: Mlp.Config = { layers: 2, width: 128, activation: "relu", dropout: 0.1, batchNorm: false }
 * Mlp.validate(config) // undefined: fine
 *
 * @since 0.1.0
 */
import * as tf from "@tensorflow/tfjs"
import { Options } from "@tunekit/core"
import { Schema } from "effect"
import type { InvalidModel } from "./Errors.js"
import { activations, type Activation, type BuildContext, glorot, heNormal, seeds } from "./internal/build.js"
import { configProblem } from "./internal/config.js"
import { SeededDropout } from "./internal/layers.js"

/** An MLP's architecture. */
export interface Config {
  /** Hidden layers (0 gives a linear model). */
  readonly layers: number
  /** Units of each hidden layer. */
  readonly width: number
  readonly activation: Activation
  /** Dropout after each hidden layer, in [0, 1). */
  readonly dropout?: number
  /** Batch normalization before each activation. */
  readonly batchNorm?: boolean
}

export type { Activation }

/**
 * The Schema of an MLP's config, and its JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Mlp } from "@tunekit/tfjs"
 * Options.jsonSchema(Mlp.ConfigSchema)
 */
export const ConfigSchema: Schema.Schema<Config> = Schema.Struct({
  layers: Options.NonNegativeInt,
  width: Options.PositiveInt,
  activation: Options.literals(...activations),
  dropout: Schema.optional(Options.Rate),
  batchNorm: Schema.optional(Options.Boolean)
})

const problem = configProblem("mlp", ConfigSchema)

/**
 * Why the config cannot be built, or undefined.
 *
 * @example
 * import { Mlp } from "@tunekit/tfjs"
 * Mlp.validate({ layers: 2, width: 0, activation: "relu" }) // InvalidModel: width must be a positive integer
 */
export const validate = (config: Config): InvalidModel | undefined => problem(config)

/**
 * Builds the model (the config must be valid: see `validate`). The last layer is linear: logits
 * for classification, values for regression.
 *
 * @example
 * import { Mlp } from "@tunekit/tfjs"
 * import { Rng } from "@tunekit/core"
 * const model = Mlp.build({ layers: 1, width: 32, activation: "relu" }, { inputShape: [64], outputs: 10, seed: 1, random: { gen: Rng.generator(1) } })
 */
export const build = (config: Config, ctx: BuildContext): tf.LayersModel => {
  const next = seeds(ctx.seed)
  const input = tf.input({ shape: [...ctx.inputShape] })
  let h: tf.SymbolicTensor = ctx.inputShape.length > 1 ? (tf.layers.flatten().apply(input) as tf.SymbolicTensor) : input
  const init = config.activation === "relu" || config.activation === "elu" || config.activation === "swish" ? heNormal : glorot
  for (let i = 0; i < config.layers; i++) {
    h = tf.layers.dense({ units: config.width, kernelInitializer: init(next), useBias: !config.batchNorm }).apply(h) as tf.SymbolicTensor
    if (config.batchNorm) h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor
    h = tf.layers.activation({ activation: config.activation }).apply(h) as tf.SymbolicTensor
    if ((config.dropout ?? 0) > 0) h = new SeededDropout(config.dropout!, ctx.random).apply(h) as tf.SymbolicTensor
  }
  const out = tf.layers.dense({ units: ctx.outputs, kernelInitializer: glorot(next) }).apply(h) as tf.SymbolicTensor
  return tf.model({ inputs: input, outputs: out })
}
