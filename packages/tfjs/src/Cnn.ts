/**
 * Small convolutional networks for small images (the 8x8 digits): blocks of convolution, ReLU and
 * pooling, the filters doubling each block, then an optional dense layer. Flat inputs of a
 * square size are reshaped to one-channel images.
 *
 * @example
 * import { Cnn } from "@tunekit/tfjs"
 * const config: Cnn.Config = { blocks: 2, filters: 16, kernel: 3, pooling: "max", dropout: 0.2, dense: 64 }
 * Cnn.validate(config, [64]) // undefined: an 8x8 image
 *
 * @since 0.1.0
 */
import * as tf from "@tensorflow/tfjs"
import { Options } from "@tunekit/core"
import { Schema } from "effect"
import { InvalidModel } from "./Errors.js"
import { type BuildContext, glorot, heNormal, seeds } from "./internal/build.js"
import { configProblem } from "./internal/config.js"
import { SeededDropout } from "./internal/layers.js"

/** A CNN's architecture. */
export interface Config {
  /** Convolution blocks (each: conv, ReLU, pooling). */
  readonly blocks: number
  /** Filters of the first block; each later block doubles them. */
  readonly filters: number
  /** Kernel side (odd or even; padding keeps the size). */
  readonly kernel: number
  /** Pooling after each block ("none" keeps the size). */
  readonly pooling: "max" | "avg" | "none"
  /** Dropout before the dense layers, in [0, 1). */
  readonly dropout?: number
  /** Units of a hidden dense layer before the output (0 or absent: none). */
  readonly dense?: number
}

/**
 * The Schema of a CNN's config, and its JSON Schema (`Options.jsonSchema`). What depends on the
 * data (the kernel against the image, the poolings) is checked by `validate`.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Cnn } from "@tunekit/tfjs"
 * Options.jsonSchema(Cnn.ConfigSchema)
 */
export const ConfigSchema: Schema.Schema<Config> = Schema.Struct({
  blocks: Options.PositiveInt,
  filters: Options.PositiveInt,
  kernel: Options.PositiveInt,
  pooling: Options.literals("max", "avg", "none"),
  dropout: Schema.optional(Options.Rate),
  dense: Schema.optional(Options.NonNegativeInt)
})

const problem = configProblem("cnn", ConfigSchema)

/**
 * The image shape `[height, width, channels]` of an input shape, or undefined when it is not an image.
 *
 * @example
 * import { Cnn } from "@tunekit/tfjs"
 * Cnn.imageShape([64]) // [8, 8, 1]
 */
export const imageShape = (inputShape: ReadonlyArray<number>): [number, number, number] | undefined => {
  if (inputShape.length === 3) return [inputShape[0], inputShape[1], inputShape[2]]
  if (inputShape.length === 2) return [inputShape[0], inputShape[1], 1]
  const side = Math.round(Math.sqrt(inputShape[0]))
  return inputShape.length === 1 && side * side === inputShape[0] ? [side, side, 1] : undefined
}

/**
 * Why the config cannot be built for inputs of this shape, or undefined.
 *
 * @example
 * import { Cnn } from "@tunekit/tfjs"
 * Cnn.validate({ blocks: 4, filters: 8, kernel: 3, pooling: "max" }, [8, 8, 1]) // InvalidModel: 4 poolings shrink 8x8 to nothing
 */
export const validate = (config: Config, inputShape: ReadonlyArray<number>): InvalidModel | undefined => {
  const basic = problem(config)
  if (basic) return basic
  const fail = (field: string, reason: string) => new InvalidModel({ model: "cnn", field, reason })
  const img = imageShape(inputShape)
  if (img === undefined) return fail("input", `the input shape [${inputShape.join(", ")}] is not an image (nor a flat square)`)
  if (config.kernel > Math.min(img[0], img[1])) return fail("kernel", `a ${config.kernel}x${config.kernel} kernel is larger than the ${img[0]}x${img[1]} image`)
  if (config.pooling !== "none" && Math.min(img[0], img[1]) >> config.blocks < 1) {
    return fail("blocks", `${config.blocks} poolings shrink a ${img[0]}x${img[1]} image to nothing`)
  }
  return undefined
}

/**
 * Builds the model (validate first). The output layer is linear.
 *
 * @example
 * import { Cnn } from "@tunekit/tfjs"
 * import { Rng } from "@tunekit/core"
 * const model = Cnn.build({ blocks: 1, filters: 8, kernel: 3, pooling: "max" }, { inputShape: [64], outputs: 10, seed: 1, random: { gen: Rng.generator(1) } })
 */
export const build = (config: Config, ctx: BuildContext): tf.LayersModel => {
  const next = seeds(ctx.seed)
  const img = imageShape(ctx.inputShape)!
  const input = tf.input({ shape: [...ctx.inputShape] })
  let h: tf.SymbolicTensor = ctx.inputShape.length === 3 ? input : (tf.layers.reshape({ targetShape: img }).apply(input) as tf.SymbolicTensor)
  for (let b = 0; b < config.blocks; b++) {
    h = tf.layers.conv2d({
      filters: config.filters * 2 ** b,
      kernelSize: config.kernel,
      padding: "same",
      activation: "relu",
      kernelInitializer: heNormal(next)
    }).apply(h) as tf.SymbolicTensor
    if (config.pooling === "max") h = tf.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor
    if (config.pooling === "avg") h = tf.layers.averagePooling2d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor
  }
  h = tf.layers.flatten().apply(h) as tf.SymbolicTensor
  if ((config.dropout ?? 0) > 0) h = new SeededDropout(config.dropout!, ctx.random).apply(h) as tf.SymbolicTensor
  if ((config.dense ?? 0) > 0) {
    h = tf.layers.dense({ units: config.dense!, activation: "relu", kernelInitializer: heNormal(next) }).apply(h) as tf.SymbolicTensor
    if ((config.dropout ?? 0) > 0) h = new SeededDropout(config.dropout!, ctx.random).apply(h) as tf.SymbolicTensor
  }
  const out = tf.layers.dense({ units: ctx.outputs, kernelInitializer: glorot(next) }).apply(h) as tf.SymbolicTensor
  return tf.model({ inputs: input, outputs: out })
}
