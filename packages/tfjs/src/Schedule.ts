/**
 * Learning-rate schedules, as functions of the step (batch) and epoch:
 *
 * - constant;
 * - cosine annealing to a floor (Loshchilov & Hutter 2017, "SGDR", without restarts), over the
 *   steps after the warmup;
 * - step decay: multiplied by `gamma` every `everyEpochs` epochs;
 * - reduce on plateau: multiplied by `factor` after `patience` epochs in a row without a
 *   relative improvement of the validation loss by `threshold` (Keras' counting), to a floor;
 *
 * each optionally preceded by a linear warmup from near 0 to the base rate over a number of
 * steps or a fraction of all steps (Goyal et al. 2017).
 *
 * @example
 * import { Schedule } from "@tunekit/tfjs"
 * const s = Schedule.make({ type: "cosine", warmup: { steps: 10 } }, { base: 0.1, stepsPerEpoch: 10, epochs: 10 })
 * s.at(0) // 0.01: the first warmup step
 * s.at(9) // 0.1
 * s.at(99) // close to 0
 *
 * @since 0.1.0
 */
import { Options } from "@tunekit/core"
import { Either, Schema } from "effect"
import type { InvalidTraining } from "./Errors.js"
import { invalidTraining } from "./internal/config.js"

/** A linear warmup over a number of steps, or over a fraction of all the run's steps. */
export type Warmup = { readonly steps: number } | { readonly ratio: number }

/** A schedule's settings. */
export type Config =
  | { readonly type: "constant"; readonly warmup?: Warmup }
  | { readonly type: "cosine"; readonly minLearningRate?: number; readonly warmup?: Warmup }
  | { readonly type: "step"; readonly everyEpochs: number; readonly gamma: number; readonly warmup?: Warmup }
  | {
    readonly type: "plateau"
    readonly factor: number
    readonly patience: number
    readonly minLearningRate?: number
    readonly threshold?: number
    readonly warmup?: Warmup
  }

/** A live schedule for one run. */
export interface Schedule {
  /** The learning rate of a step (0-based batch count over the whole run). */
  readonly at: (step: number) => number
  /** Tells the schedule an epoch ended with this validation loss (only plateau listens). */
  readonly endEpoch: (epoch: number, validationLoss: number) => void
  /** The schedule's own state (plateau's counters), for checkpoints. */
  readonly state: () => { readonly [k: string]: number }
  readonly restore: (state: { readonly [k: string]: number }) => void
}

/** What a schedule needs to know about the run. */
export interface Run {
  readonly base: number
  readonly stepsPerEpoch: number
  readonly epochs: number
}

const warmup = { warmup: Schema.optional(Schema.Union(Schema.Struct({ steps: Options.NonNegativeInt }), Schema.Struct({ ratio: Options.Rate }))) }

/**
 * The Schema of a schedule's settings, and their JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Schedule } from "@tunekit/tfjs"
 * Options.jsonSchema(Schedule.ConfigSchema)
 */
export const ConfigSchema: Schema.Schema<Config> = Schema.Union(
  Schema.Struct({ type: Schema.Literal("constant"), ...warmup }),
  Schema.Struct({ type: Schema.Literal("cosine"), minLearningRate: Schema.optional(Options.NonNegative), ...warmup }),
  Schema.Struct({ type: Schema.Literal("step"), everyEpochs: Options.PositiveInt, gamma: Options.number({ above: 0, max: 1 }), ...warmup }),
  Schema.Struct({
    type: Schema.Literal("plateau"),
    factor: Options.number({ above: 0, below: 1 }),
    patience: Options.NonNegativeInt,
    minLearningRate: Schema.optional(Options.NonNegative),
    threshold: Schema.optional(Options.NonNegative),
    ...warmup
  })
)

const decode = Options.decodeEither(ConfigSchema)

/**
 * Why the settings are invalid (`InvalidTraining`, its field `schedule.` and the path), or undefined.
 *
 * @example
 * import { Schedule } from "@tunekit/tfjs"
 * Schedule.validate({ type: "step", everyEpochs: 0, gamma: 0.5 }) // InvalidTraining: schedule.everyEpochs: expected a positive integer, got 0
 */
export const validate = (config: Config): InvalidTraining | undefined =>
  Either.match(decode(config), { onLeft: (p) => invalidTraining(Options.within("schedule", p)), onRight: () => undefined })

/**
 * The number of warmup steps for a run.
 *
 * @example
 * import { Schedule } from "@tunekit/tfjs"
 * Schedule.warmupSteps({ ratio: 0.1 }, 500) // 50
 */
export const warmupSteps = (w: Warmup | undefined, totalSteps: number): number =>
  w === undefined ? 0 : "steps" in w ? w.steps : Math.round(w.ratio * totalSteps)

/**
 * A live schedule (validate the settings first).
 *
 * @example
 * import { Schedule } from "@tunekit/tfjs"
 * const s = Schedule.make({ type: "step", everyEpochs: 2, gamma: 0.5 }, { base: 1, stepsPerEpoch: 3, epochs: 6 })
 * s.at(6) // 0.5: step 6 is in epoch 2
 */
export const make = (config: Config, run: Run): Schedule => {
  const total = run.stepsPerEpoch * run.epochs
  const warm = warmupSteps(config.warmup, total)
  let current = run.base
  let best = Infinity
  let wait = 0
  const main = (step: number): number => {
    switch (config.type) {
      case "constant":
        return run.base
      case "cosine": {
        const floor = config.minLearningRate ?? 0
        const span = Math.max(1, total - warm)
        const t = Math.min(Math.max(0, step - warm), span)
        return floor + (run.base - floor) * 0.5 * (1 + Math.cos((Math.PI * t) / span))
      }
      case "step":
        return run.base * config.gamma ** Math.floor(Math.floor(step / run.stepsPerEpoch) / config.everyEpochs)
      case "plateau":
        return current
    }
  }
  return {
    at: (step) => (step < warm ? (run.base * (step + 1)) / warm : main(step)),
    endEpoch: (_epoch, loss) => {
      if (config.type !== "plateau") return
      const threshold = config.threshold ?? 1e-4
      if (loss < best * (1 - threshold) || best === Infinity) {
        best = loss
        wait = 0
      } else if (++wait >= config.patience) {
        current = Math.max(config.minLearningRate ?? 0, current * config.factor)
        wait = 0
      }
    },
    state: () => ({ current, best: Number.isFinite(best) ? best : -1, wait }),
    restore: (s) => {
      current = s.current ?? run.base
      best = s.best === undefined || s.best < 0 ? Infinity : s.best
      wait = s.wait ?? 0
    }
  }
}
