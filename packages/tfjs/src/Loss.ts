/**
 * Losses, as means over a batch: softmax cross-entropy on logits with optional label smoothing
 * (Szegedy et al. 2016, "Rethinking the Inception Architecture", section 7), mean squared error,
 * mean absolute error and Huber (Huber 1964), which is quadratic within `delta` and linear beyond.
 *
 * @example
 * import * as tf from "@tensorflow/tfjs"
 * import { Loss } from "@tunekit/tfjs"
 * const l = Loss.compute({ type: "huber", delta: 1 }, tf.tensor2d([[0]]), tf.tensor2d([[3]]), undefined) // 2.5
 *
 * @since 0.1.0
 */
import * as tf from "@tensorflow/tfjs"
import { Options } from "@tunekit/core"
import { Schema } from "effect"

/** A loss and its settings. */
export type Config =
  | { readonly type: "crossEntropy"; readonly labelSmoothing?: number }
  | { readonly type: "mse" }
  | { readonly type: "mae" }
  | { readonly type: "huber"; readonly delta?: number }

/** The names, for search spaces. */
export type Name = Config["type"]

/**
 * The Schema of a loss's settings, and their JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Loss } from "@tunekit/tfjs"
 * Options.jsonSchema(Loss.ConfigSchema)
 */
export const ConfigSchema: Schema.Schema<Config> = Schema.Union(
  Schema.Struct({ type: Schema.Literal("crossEntropy"), labelSmoothing: Schema.optional(Options.Rate) }),
  Schema.Struct({ type: Schema.Literal("mse") }),
  Schema.Struct({ type: Schema.Literal("mae") }),
  Schema.Struct({ type: Schema.Literal("huber"), delta: Schema.optional(Options.Positive) })
)

/**
 * Whether a loss is for classification (labels) or regression (targets).
 *
 * @example
 * import { Loss } from "@tunekit/tfjs"
 * Loss.isClassification({ type: "huber" }) // false
 */
export const isClassification = (c: Config): boolean => c.type === "crossEntropy"

/**
 * The mean loss of a batch (see the module's example). For cross-entropy `target` holds integer labels (shape `[batch]` or
 * `[batch, 1]`) and `output` the logits; otherwise both are `[batch, targets]`.
 */
export const compute = (config: Config, target: tf.Tensor, output: tf.Tensor, classes: number | undefined): tf.Scalar =>
  tf.tidy(() => {
    switch (config.type) {
      case "crossEntropy": {
        const k = classes ?? output.shape[output.shape.length - 1]!
        const eps = config.labelSmoothing ?? 0
        const oneHot = tf.oneHot(tf.cast(tf.reshape(target, [-1]), "int32"), k)
        const soft = eps > 0 ? tf.add(tf.mul(oneHot, 1 - eps), eps / k) : oneHot
        return tf.neg(tf.mean(tf.sum(tf.mul(soft, tf.logSoftmax(output)), -1)))
      }
      case "mse":
        return tf.mean(tf.square(tf.sub(output, target)))
      case "mae":
        return tf.mean(tf.abs(tf.sub(output, target)))
      case "huber": {
        const d = config.delta ?? 1
        const e = tf.abs(tf.sub(output, target))
        const quad = tf.minimum(e, d)
        return tf.mean(tf.add(tf.mul(tf.square(quad), 0.5), tf.mul(tf.sub(e, quad), d)))
      }
    }
  }) as tf.Scalar
