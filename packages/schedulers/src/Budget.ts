/**
 * Budgets counted in configurations held by the study's storage. `Study.optimize`'s own `trials`
 * already counts configurations (a resumption or a continuation uses none of it) for the trials
 * of one call; `limit` caps the study's total across calls and workers: once the study holds `n`
 * trials the sampler is exhausted, and the study goes on resuming paused trials until none is
 * left to resume.
 *
 * @since 0.1.0
 */
import { Effect, Either, Layer, Schema } from "effect"
import { Options, Sampler } from "@tunekit/core"

/**
 * The Schema of a budget: how many configurations (a positive integer).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Budget } from "@tunekit/schedulers"
 * Options.jsonSchema(Budget.OptionsSchema)
 */
export const OptionsSchema = Schema.Struct({ configurations: Options.PositiveInt })

const decode = Sampler.decodeOptions("budget", OptionsSchema)

/**
 * A sampler that is exhausted once the study holds `n` trials.
 *
 * @example
 * import { Sampler } from "@tunekit/core"
 * import { Budget } from "@tunekit/schedulers"
 * const capped = Budget.limit(Sampler.random, 143)
 */
export const limit = (sampler: Sampler.SamplerService, n: number): Sampler.SamplerService => {
  const decoded = decode({ configurations: n })
  if (Either.isLeft(decoded)) return Sampler.refused(decoded.left)
  return {
    ...sampler,
    name: `${sampler.name} (${n} configurations)`,
    usesHistory: true,
    isExhausted: (ctx) => ctx.history.length >= n || (sampler.isExhausted?.(ctx) ?? false)
  }
}

/**
 * Wraps the Sampler service of the context so that it stops after `n` configurations.
 *
 * @example
 * import { Layer } from "effect"
 * import { Sampler } from "@tunekit/core"
 * import { Budget } from "@tunekit/schedulers"
 * const layer = Budget.layerConfigurations(143).pipe(Layer.provide(Sampler.layerRandom))
 */
export const layerConfigurations = (n: number): Layer.Layer<Sampler.Sampler, never, Sampler.Sampler> =>
  Layer.effect(Sampler.Sampler, Effect.map(Sampler.Sampler, (s) => limit(s, n)))
