// Helpers shared by the model builders: seeded initializers, activations.
import * as tf from "@tensorflow/tfjs"
import { Rng } from "@tunekit/core"
import type { RandomSource } from "./layers.js"

/** What a builder is given besides its config. */
export interface BuildContext {
  /** The shape of one input sample. */
  readonly inputShape: ReadonlyArray<number>
  /** Output units: the number of classes (logits) or of regression targets. */
  readonly outputs: number
  /** Seeds the initial weights. */
  readonly seed: number
  /** Seeds the dropout masks. */
  readonly random: RandomSource
}

/** A stream of initializer seeds for one model, so that the same seed builds the same weights. */
export const seeds = (seed: number) => {
  const g = Rng.generator(seed, "init")
  return () => g.int(2 ** 31)
}

export const glorot = (next: () => number) => tf.initializers.glorotUniform({ seed: next() })
export const heNormal = (next: () => number) => tf.initializers.heNormal({ seed: next() })

export const activations = ["relu", "elu", "selu", "tanh", "sigmoid", "swish"] as const
export type Activation = (typeof activations)[number]
