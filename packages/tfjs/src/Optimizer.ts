/**
 * Optimizers written over TensorFlow.js ops, so that their state can be checkpointed and so that
 * AdamW exists (TensorFlow.js has none):
 *
 * - SGD with momentum (the PyTorch form: v = mu v + g, w -= lr v; Nesterov: w -= lr (g + mu v)).
 * - Adam (Kingma & Ba 2015, "Adam: A Method for Stochastic Optimization", Algorithm 1).
 * - AdamW (Loshchilov & Hutter 2019, "Decoupled Weight Decay Regularization", Algorithm 2): the
 *   weight decay is applied to the weights directly, w -= lr (adam_update + weightDecay w), not
 *   added to the gradient, so that it is not rescaled by Adam's second-moment estimate. As in
 *   PyTorch, the decay is scaled by the scheduled learning rate.
 *
 * The learning rate is passed at each step (schedules live in `Schedule`). Weight decay and L2
 * apply to the weights a mask selects (the trainer selects kernels and embeddings, not biases or
 * normalization parameters).
 *
 * @example
 * import { Optimizer } from "@tunekit/tfjs"
 * const config: Optimizer.Config = { type: "adamw", learningRate: 1e-3, weightDecay: 0.01 }
 * Optimizer.validate(config) // undefined: fine
 *
 * @since 0.1.0
 */
import * as tf from "@tensorflow/tfjs"
import { Options } from "@tunekit/core"
import { Either, Schema } from "effect"
import type { InvalidTraining } from "./Errors.js"
import { invalidTraining } from "./internal/config.js"

/** An optimizer's settings. */
export type Config =
  | { readonly type: "sgd"; readonly learningRate: number; readonly momentum?: number; readonly nesterov?: boolean }
  | { readonly type: "adam"; readonly learningRate: number; readonly beta1?: number; readonly beta2?: number; readonly epsilon?: number }
  | {
    readonly type: "adamw"
    readonly learningRate: number
    readonly weightDecay: number
    readonly beta1?: number
    readonly beta2?: number
    readonly epsilon?: number
  }

/** A live optimizer: its slots are variables, made at the first step. */
export interface Optimizer {
  readonly config: Config
  /** Steps taken so far (Adam's bias correction uses it). */
  readonly iterations: () => number
  /**
   * Updates the weights in place from their gradients at a learning rate. `decay[i]` says
   * whether AdamW's weight decay applies to `weights[i]`.
   */
  readonly step: (weights: ReadonlyArray<tf.Variable>, grads: ReadonlyArray<tf.Tensor>, learningRate: number, decay: ReadonlyArray<boolean>) => void
  /** The slots by name (`m/0`, `v/0`, `velocity/0`...), for checkpoints. */
  readonly slots: () => ReadonlyArray<{ readonly name: string; readonly tensor: tf.Variable }>
  /** Restores the step count and slots saved by `slots`. */
  readonly restore: (iterations: number, slots: ReadonlyArray<{ readonly name: string; readonly values: Float32Array; readonly shape: ReadonlyArray<number> }>) => void
  readonly dispose: () => void
}

const betas = { beta1: Schema.optional(Options.Rate), beta2: Schema.optional(Options.Rate), epsilon: Schema.optional(Options.Positive) }

/**
 * The Schema of an optimizer's settings, and their JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Optimizer } from "@tunekit/tfjs"
 * Options.jsonSchema(Optimizer.ConfigSchema)
 */
export const ConfigSchema: Schema.Schema<Config> = Schema.Union(
  Schema.Struct({ type: Schema.Literal("sgd"), learningRate: Options.Positive, momentum: Schema.optional(Options.Rate), nesterov: Schema.optional(Options.Boolean) }),
  Schema.Struct({ type: Schema.Literal("adam"), learningRate: Options.Positive, ...betas }),
  Schema.Struct({ type: Schema.Literal("adamw"), learningRate: Options.Positive, weightDecay: Options.NonNegative, ...betas })
)

const decode = Options.decodeEither(ConfigSchema)

/**
 * Why the settings are invalid (`InvalidTraining`, its field `optimizer.` and the path), or undefined.
 *
 * @example
 * import { Optimizer } from "@tunekit/tfjs"
 * Optimizer.validate({ type: "sgd", learningRate: -1 }) // InvalidTraining: optimizer.learningRate: expected a positive number, got -1
 */
export const validate = (config: Config): InvalidTraining | undefined =>
  Either.match(decode(config), { onLeft: (p) => invalidTraining(Options.within("optimizer", p)), onRight: () => undefined })

/**
 * A live optimizer for the settings (validate them first).
 *
 * @example
 * import * as tf from "@tensorflow/tfjs"
 * import { Optimizer } from "@tunekit/tfjs"
 * const w = tf.variable(tf.tensor2d([[1, -2]]))
 * const opt = Optimizer.make({ type: "adamw", learningRate: 0.1, weightDecay: 0.01 })
 * opt.step([w], [tf.tensor2d([[0.5, 0.1]])], 0.1, [true]) // w is now about [[0.899, -2.098]]
 */
export const make = (config: Config): Optimizer => {
  let t = 0
  const slotNames = config.type === "sgd" ? ["velocity"] : ["m", "v"]
  let slots: Array<Array<tf.Variable>> | undefined // slots[k][i]: slot k of weight i

  const ensure = (weights: ReadonlyArray<tf.Variable>) => {
    if (slots !== undefined) return slots
    slots = slotNames.map((n) => weights.map((w, i) => tf.variable(tf.zerosLike(w), false, `tunekit_${n}_${i}_${uniq()}`)))
    return slots
  }

  const step: Optimizer["step"] = (weights, grads, lr, decay) => {
    const s = ensure(weights)
    t++
    tf.tidy(() => {
      if (config.type === "sgd") {
        const mu = config.momentum ?? 0
        weights.forEach((w, i) => {
          const g = grads[i]
          if (mu === 0) return void w.assign(tf.sub(w, tf.mul(g, lr)))
          const vel = s[0][i]
          const v = tf.add(tf.mul(vel, mu), g)
          vel.assign(v)
          const dir = config.nesterov ? tf.add(g, tf.mul(v, mu)) : v
          w.assign(tf.sub(w, tf.mul(dir, lr)))
        })
        return
      }
      const b1 = config.beta1 ?? 0.9
      const b2 = config.beta2 ?? 0.999
      const eps = config.epsilon ?? 1e-8
      const wd = config.type === "adamw" ? config.weightDecay : 0
      const c1 = 1 - b1 ** t
      const c2 = 1 - b2 ** t
      weights.forEach((w, i) => {
        const g = grads[i]
        const m = tf.add(tf.mul(s[0][i], b1), tf.mul(g, 1 - b1))
        const v = tf.add(tf.mul(s[1][i], b2), tf.mul(tf.square(g), 1 - b2))
        s[0][i].assign(m)
        s[1][i].assign(v)
        let update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), eps))
        if (wd > 0 && decay[i]) update = tf.add(update, tf.mul(w, wd))
        w.assign(tf.sub(w, tf.mul(update, lr)))
      })
    })
  }

  return {
    config,
    iterations: () => t,
    step,
    slots: () => (slots ?? []).flatMap((ws, k) => ws.map((tensor, i) => ({ name: `${slotNames[k]}/${i}`, tensor }))),
    restore: (iterations, saved) => {
      if (slots !== undefined) for (const ws of slots) for (const v of ws) v.dispose()
      slots = undefined
      t = iterations
      if (saved.length === 0) return
      const byName = new Map(saved.map((s) => [s.name, s]))
      const count = saved.length / slotNames.length
      slots = slotNames.map((n) =>
        Array.from({ length: count }, (_, i) => {
          const s = byName.get(`${n}/${i}`)
          if (s === undefined) throw new Error(`the optimizer state has no slot ${n}/${i}`)
          return tf.tidy(() => tf.variable(tf.tensor(s.values, [...s.shape]), false, `tunekit_${n}_${i}_${uniq()}`))
        })
      )
    },
    dispose: () => {
      if (slots !== undefined) for (const ws of slots) for (const v of ws) v.dispose()
      slots = undefined
    }
  }
}

let counter = 0
// Variable names must be unique in the engine, and many trials run in one process.
const uniq = () => (counter++).toString(36)
