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
import { Options } from "@tunekit/core"
import { Either, Schema } from "effect"
import type { InvalidModel } from "./Errors.js"
import type { BuildContext } from "./internal/build.js"
import { invalidModel } from "./internal/config.js"
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

const typed = <T extends string, A>(type: T, config: Schema.Schema<A>) => Schema.extend(Schema.Struct({ type: Schema.Literal(type) }), config)

/**
 * The Schema of a model config (each builder's, tagged by `type`), and its JSON Schema
 * (`Options.jsonSchema`). A key no builder knows is refused.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Model } from "@tunekit/tfjs"
 * Options.decodeEither(Model.ConfigSchema)({ type: "mlp", layers: 2, width: 0, activation: "relu" }) // Left: width: expected a positive integer, got 0
 */
export const ConfigSchema: Schema.Schema<Config> = Schema.Union(
  typed("mlp", Mlp.ConfigSchema),
  typed("cnn", Cnn.ConfigSchema),
  typed("rnn", Rnn.ConfigSchema),
  typed("transformer", Transformer.ConfigSchema)
)

const decodeConfig = Options.decodeEither(ConfigSchema)

// The model an error names: the builder's type, or for a recurrent network its cell ("lstm").
const nameOf = (config: unknown): string => {
  const c = config as { readonly type?: unknown; readonly cell?: unknown } | null | undefined
  if (c?.type === "rnn") return c.cell === "lstm" || c.cell === "gru" ? c.cell : "rnn"
  return c?.type === "mlp" || c?.type === "cnn" || c?.type === "transformer" ? c.type : "model"
}

/**
 * Why the config cannot be built for samples of this shape, or undefined.
 *
 * @example
 * import { Model } from "@tunekit/tfjs"
 * Model.validate({ type: "transformer", vocabSize: 50, layers: 1, heads: 3, modelWidth: 16, ffWidth: 16 }, [8]) // InvalidModel
 */
export const validate = (config: Config, inputShape: ReadonlyArray<number>): InvalidModel | undefined => {
  const decoded = decodeConfig(config)
  if (Either.isLeft(decoded)) return invalidModel(nameOf(config), decoded.left)
  // The data-dependent checks of each builder (input shape, kernel size, window length).
  switch (config.type) {
    case "mlp":
      return Mlp.validate(config)
    case "cnn":
      return Cnn.validate(config, inputShape)
    case "rnn":
      return Rnn.validate(config, inputShape)
    case "transformer":
      return Transformer.validate(config, inputShape)
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
