/**
 * Any of the model builders, chosen by a `type` tag: the config a trainer takes.
 *
 * @example
 * import { Model } from "@tunekit/tfjs"
 * const config: Model.Config = { type: "mlp", layers: 2, width: 64, activation: "relu" }
 * Model.validate(config, [64]) // undefined: fine
 *
 * @since 0.1.0
 */
import type * as tf from "@tensorflow/tfjs"
import * as Cnn from "./Cnn.js"
import type { InvalidModel } from "./Errors.js"
import type { BuildContext } from "./internal/build.js"
import { checker } from "./internal/build.js"
import * as Mlp from "./Mlp.js"
import * as Rnn from "./Rnn.js"
import * as Transformer from "./Transformer.js"

export type { BuildContext }
export type { RandomSource } from "./internal/layers.js"

/** A model config: the builder's config with its `type`. */
export type Config =
  | ({ readonly type: "mlp" } & Mlp.Config)
  | ({ readonly type: "cnn" } & Cnn.Config)
  | ({ readonly type: "rnn" } & Rnn.Config)
  | ({ readonly type: "transformer" } & Transformer.Config)

/**
 * Why the config cannot be built for samples of this shape, or undefined.
 *
 * @example
 * import { Model } from "@tunekit/tfjs"
 * Model.validate({ type: "transformer", vocabSize: 50, layers: 1, heads: 3, modelWidth: 16, ffWidth: 16 }, [8]) // InvalidModel
 */
export const validate = (config: Config, inputShape: ReadonlyArray<number>): InvalidModel | undefined => {
  switch (config?.type) {
    case "mlp":
      return Mlp.validate(config)
    case "cnn":
      return Cnn.validate(config, inputShape)
    case "rnn":
      return Rnn.validate(config, inputShape)
    case "transformer":
      return Transformer.validate(config, inputShape)
    default:
      return checker("model").fail("type", `must be one of mlp, cnn, rnn, transformer, got ${String((config as { type?: unknown })?.type)}`)
  }
}

/**
 * Builds a model from a valid config.
 *
 * @example
 * import { Model } from "@tunekit/tfjs"
 * import { Rng } from "@tunekit/core"
 * const model = Model.build({ type: "mlp", layers: 1, width: 16, activation: "tanh" }, { inputShape: [4], outputs: 3, seed: 0, random: { gen: Rng.generator(0) } })
 */
export const build = (config: Config, ctx: BuildContext): tf.LayersModel => {
  switch (config.type) {
    case "mlp":
      return Mlp.build(config, ctx)
    case "cnn":
      return Cnn.build(config, ctx)
    case "rnn":
      return Rnn.build(config, ctx)
    case "transformer":
      return Transformer.build(config, ctx)
  }
}
