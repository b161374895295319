// Helpers shared by the model builders: validation of config fields, seeded initializers.
import * as tf from "@tensorflow/tfjs"
import { Rng } from "@tunekit/core"
import { InvalidModel } from "../Errors.js"
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

export const checker = (model: string) => {
  const fail = (field: string, reason: string) => new InvalidModel({ model, field, reason })
  return {
    fail,
    positiveInt: (field: string, v: unknown): InvalidModel | undefined =>
      typeof v === "number" && Number.isInteger(v) && v > 0 ? undefined : fail(field, `must be a positive integer, got ${String(v)}`),
    nonNegativeInt: (field: string, v: unknown): InvalidModel | undefined =>
      typeof v === "number" && Number.isInteger(v) && v >= 0 ? undefined : fail(field, `must be a non-negative integer, got ${String(v)}`),
    rate: (field: string, v: unknown): InvalidModel | undefined =>
      v === undefined || (typeof v === "number" && v >= 0 && v < 1) ? undefined : fail(field, `must be in [0, 1), got ${String(v)}`),
    oneOf: <A extends string>(field: string, v: unknown, choices: ReadonlyArray<A>): InvalidModel | undefined =>
      choices.includes(v as A) ? undefined : fail(field, `must be one of ${choices.join(", ")}, got ${String(v)}`)
  }
}

export const firstError = (...checks: ReadonlyArray<InvalidModel | undefined>): InvalidModel | undefined => checks.find((c) => c !== undefined)

/** A stream of initializer seeds for one model, so that the same seed builds the same weights. */
export const seeds = (seed: number) => {
  const g = Rng.generator(seed, "init")
  return () => g.int(2 ** 31)
}

export const glorot = (next: () => number) => tf.initializers.glorotUniform({ seed: next() })
export const heNormal = (next: () => number) => tf.initializers.heNormal({ seed: next() })

export const activations = ["relu", "elu", "selu", "tanh", "sigmoid", "swish"] as const
export type Activation = (typeof activations)[number]
