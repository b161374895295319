/**
 * A small transformer encoder for text classification (Vaswani et al. 2017; post-norm blocks as
 * in the paper): token and learned position embeddings, `layers` blocks of multi-head
 * self-attention and a feed-forward network, each with dropout, a residual connection and layer
 * normalization, then mean pooling over positions and a linear output. Samples are token ids
 * (padded with 0) of a fixed length.
 *
 * @example
 * import { Transformer } from "@tunekit/tfjs"
 * const config: Transformer.Config = { vocabSize: 2000, layers: 1, heads: 4, modelWidth: 32, ffWidth: 64, dropout: 0.1, attentionDropout: 0.1 }
 * Transformer.validate(config, [64]) // undefined: fine
 *
 * @since 0.1.0
 */
import * as tf from "@tensorflow/tfjs"
import { Options } from "@tunekit/core"
import { Schema } from "effect"
import { InvalidModel } from "./Errors.js"
import { type BuildContext, glorot, heNormal, seeds } from "./internal/build.js"
import { configProblem } from "./internal/config.js"
import { LayerNorm, MultiHeadSelfAttention, PositionEmbedding, SeededDropout } from "./internal/layers.js"

/** A transformer encoder's architecture. */
export interface Config {
  /** Token ids are in [0, vocabSize); 0 is padding. */
  readonly vocabSize: number
  readonly layers: number
  readonly heads: number
  /** The embedding and attention width; the heads must divide it. */
  readonly modelWidth: number
  /** The hidden width of each feed-forward network. */
  readonly ffWidth: number
  readonly dropout?: number
  /** Dropout on the attention weights. */
  readonly attentionDropout?: number
}

/**
 * The Schema of a transformer's config, and its JSON Schema (`Options.jsonSchema`): the heads
 * must divide the model width.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Transformer } from "@tunekit/tfjs"
 * Options.jsonSchema(Transformer.ConfigSchema)
 */
export const ConfigSchema: Schema.Schema<Config> = Schema.Struct({
  vocabSize: Options.PositiveInt,
  layers: Options.PositiveInt,
  heads: Options.PositiveInt,
  modelWidth: Options.PositiveInt,
  ffWidth: Options.PositiveInt,
  dropout: Schema.optional(Options.Rate),
  attentionDropout: Schema.optional(Options.Rate)
}).pipe(Schema.filter((c) => c.modelWidth % c.heads === 0 || { path: ["heads"], message: `${c.heads} heads do not divide the model width ${c.modelWidth}` }))

const problem = configProblem("transformer", ConfigSchema)

/**
 * Why the config cannot be built for inputs of this shape, or undefined.
 *
 * @example
 * import { Transformer } from "@tunekit/tfjs"
 * Transformer.validate({ vocabSize: 100, layers: 1, heads: 3, modelWidth: 32, ffWidth: 64 }, [16]) // InvalidModel: 3 heads do not divide 32
 */
export const validate = (config: Config, inputShape: ReadonlyArray<number>): InvalidModel | undefined => {
  const basic = problem(config)
  if (basic) return basic
  if (inputShape.length !== 1) {
    return new InvalidModel({ model: "transformer", field: "input", reason: `a transformer reads [tokens] samples of token ids, got [${inputShape.join(", ")}]` })
  }
  return undefined
}

/**
 * Builds the model (validate first). The output layer is linear.
 *
 * @example
 * import { Transformer } from "@tunekit/tfjs"
 * import { Rng } from "@tunekit/core"
 * const model = Transformer.build(
 *   { vocabSize: 100, layers: 1, heads: 2, modelWidth: 16, ffWidth: 32 },
 *   { inputShape: [20], outputs: 2, seed: 1, random: { gen: Rng.generator(1) } }
 * )
 */
export const build = (config: Config, ctx: BuildContext): tf.LayersModel => {
  const next = seeds(ctx.seed)
  const drop = config.dropout ?? 0
  const input = tf.input({ shape: [...ctx.inputShape] })
  let h = tf.layers.embedding({
    inputDim: config.vocabSize,
    outputDim: config.modelWidth,
    embeddingsInitializer: tf.initializers.randomNormal({ stddev: 0.02, seed: next() })
  }).apply(input) as tf.SymbolicTensor
  h = new PositionEmbedding(next()).apply(h) as tf.SymbolicTensor
  const dropout = (x: tf.SymbolicTensor) => (drop > 0 ? (new SeededDropout(drop, ctx.random).apply(x) as tf.SymbolicTensor) : x)
  for (let l = 0; l < config.layers; l++) {
    const attended = new MultiHeadSelfAttention(config.heads, config.attentionDropout ?? 0, ctx.random, next()).apply(h) as tf.SymbolicTensor
    h = new LayerNorm().apply(tf.layers.add().apply([h, dropout(attended)])) as tf.SymbolicTensor
    const ff1 = tf.layers.dense({ units: config.ffWidth, activation: "relu", kernelInitializer: heNormal(next) }).apply(h) as tf.SymbolicTensor
    const ff2 = tf.layers.dense({ units: config.modelWidth, kernelInitializer: glorot(next) }).apply(ff1) as tf.SymbolicTensor
    h = new LayerNorm().apply(tf.layers.add().apply([h, dropout(ff2)])) as tf.SymbolicTensor
  }
  h = tf.layers.globalAveragePooling1d().apply(h) as tf.SymbolicTensor
  const out = tf.layers.dense({ units: ctx.outputs, kernelInitializer: glorot(next) }).apply(h) as tf.SymbolicTensor
  return tf.model({ inputs: input, outputs: out })
}
