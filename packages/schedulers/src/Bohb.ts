/**
 * BOHB (Falkner, Klein & Hutter 2018, "BOHB: Robust and Efficient Hyperparameter Optimization at
 * Scale"): Hyperband decides how much resource each configuration gets, and a model-based sampler
 * chooses the configurations instead of random search. The model is TPE (`@tunekit/samplers`),
 * fitted on the observations at the largest budget that has enough of them (at least d + 3 for d
 * parameters, the paper's N_min + 2), so that it learns from cheap evaluations early and from
 * expensive ones as they accumulate. A fraction of the configurations (1/3 by default) is still
 * drawn at random, which keeps Hyperband's guarantees.
 *
 * The sampler reads each trial's value at a budget from its reported metrics (the first report at
 * or past the budget), so it pairs with any scheduler whose rungs are the same levels: Hyperband
 * (the paper), or ASHA.
 *
 * @example
 * import { Effect, Layer } from "effect"
 * import { Study } from "@tunekit/core"
 * import { Bohb, Budget, Fidelity, Hyperband } from "@tunekit/schedulers"
 *
 * const epochs = Fidelity.epochs({ minResource: 1, maxResource: 27, reductionFactor: 3 })
 * const resources = Fidelity.schedulerOptions(epochs)
 * const services = Layer.mergeAll(
 *   Budget.layerConfigurations(Hyperband.plan(resources).configurations).pipe(Layer.provide(Bohb.layer(resources))),
 *   Hyperband.layer(resources)
 * )
 *
 * @since 0.1.0
 */
import { Options as Opts, Sampler, SamplerUnsupported, type Trial } from "@tunekit/core"
import { Tpe } from "@tunekit/samplers"
import { Effect, Either, Layer, Schema } from "effect"
import * as Fidelity from "./Fidelity.js"
import { rungFields, rungRule } from "./internal/rungOptions.js"

/** BOHB's options: the resources (the same as the scheduler's), and the model's. */
export interface Options extends Fidelity.ResourceOptions {
  /** Observations a budget needs before the model is fitted on it. Default: parameters + 3. */
  readonly minPoints?: number
  /** The fraction of configurations drawn at random. Default 1/3. */
  readonly randomFraction?: number
  /** TPE's options (its `nStartupTrials` defaults to 0 here: `minPoints` decides when the model starts). */
  readonly tpe?: Tpe.Options
}

/**
 * The Schema of BOHB's options, and their JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Bohb } from "@tunekit/schedulers"
 * Options.jsonSchema(Bohb.OptionsSchema)
 */
export const OptionsSchema: Schema.Schema<Options> = Schema.Struct({
  ...rungFields,
  minPoints: Schema.optional(Opts.PositiveInt),
  randomFraction: Schema.optional(Opts.Probability),
  tpe: Schema.optional(Tpe.OptionsSchema)
}).pipe(Schema.filter(rungRule))

const decodeOptions = Sampler.decodeOptions("bohb", OptionsSchema)

/** The value of the objective metric at a budget: the first report at or past it. */
const valueAt = (t: Trial.FrozenTrial, metric: string, budget: number): number | undefined => {
  for (const m of t.intermediate) {
    if (m.step >= budget) {
      const v = m.values[metric]
      return v !== undefined && Number.isFinite(v) ? v : undefined
    }
  }
  return undefined
}

/**
 * The history as the model at `budget` sees it: the trials observed there, as Complete with their
 * value at the budget; the trials still running below it (pending evaluations, for TPE's
 * constant liar); nothing else.
 */
export const historyAt = (
  history: ReadonlyArray<Trial.FrozenTrial>,
  metric: string,
  budget: number
): ReadonlyArray<Trial.FrozenTrial> => {
  const out: Array<Trial.FrozenTrial> = []
  for (const t of history) {
    const v = valueAt(t, metric, budget)
    if (v !== undefined) out.push({ ...t, state: "Complete", values: [v], intermediate: [] })
    else if (t.state === "Running") out.push({ ...t, intermediate: [] })
  }
  return out
}

/**
 * The largest budget with at least `minPoints` observations, if any.
 *
 * @example
 * import { Bohb } from "@tunekit/schedulers"
 * import type { Trial } from "@tunekit/core"
 * declare const trials: ReadonlyArray<Trial.FrozenTrial>
 * Bohb.modelBudget(trials, "loss", [1, 3, 9, 27], 5) // 9, say
 */
export const modelBudget = (
  history: ReadonlyArray<Trial.FrozenTrial>,
  metric: string,
  levels: ReadonlyArray<number>,
  minPoints: number
): number | undefined => {
  for (let i = levels.length - 1; i >= 0; i--) {
    let n = 0
    for (const t of history) if (valueAt(t, metric, levels[i]) !== undefined) n++
    if (n >= minPoints) return levels[i]
  }
  return undefined
}

/**
 * The BOHB sampler. Invalid options (resources included) make it fail when the study starts,
 * with SamplerUnsupported naming the field.
 *
 * @example
 * import { Bohb } from "@tunekit/schedulers"
 * const sampler = Bohb.make({ minResource: 1, maxResource: 27, reductionFactor: 3 })
 */
export const make = (input: Options): Sampler.SamplerService => {
  const decoded = decodeOptions(input)
  if (Either.isLeft(decoded)) return Sampler.refused(decoded.left)
  const options = decoded.right
  const { maxResource, minResource, reductionFactor } = options
  const levels = Fidelity.make("bohb", { minResource, maxResource, reductionFactor }, (r) => r).levels
  const randomFraction = options.randomFraction ?? 1 / 3
  const tpe = Tpe.make({ nStartupTrials: 0, ...options.tpe })
  // Per trial (per sample context): the context the model sees, or null for a random config.
  const contexts = new WeakMap<Sampler.SampleContext, Sampler.SampleContext | null>()
  const modelContext = (ctx: Sampler.SampleContext): Sampler.SampleContext | null => {
    let m = contexts.get(ctx)
    if (m !== undefined) return m
    m = null
    if (ctx.rng.next() >= randomFraction) {
      const metric = ctx.study.metrics[0] ?? "value"
      const d = ctx.space?.params.size ?? new Set(ctx.history.flatMap((t) => Object.keys(t.params))).size
      const budget = modelBudget(ctx.history, metric, levels, options.minPoints ?? d + 3)
      if (budget !== undefined) m = { ...ctx, history: historyAt(ctx.history, metric, budget) }
    }
    contexts.set(ctx, m)
    return m
  }
  return {
    name: "bohb",
    usesHistory: true,
    // Its scheduler must compare trials at these rungs: Study.optimize checks it when the study starts.
    resources: { minResource: options.minResource, maxResource: options.maxResource, reductionFactor: options.reductionFactor ?? 3 },
    check: (space, study) =>
      Effect.gen(function*() {
        const fail = (reason: string) => new SamplerUnsupported({ sampler: "bohb", reason })
        if (study.directions.length !== 1) return yield* fail(`BOHB optimizes one objective; the study has ${study.directions.length}`)
        if (tpe.check) yield* Effect.mapError(tpe.check(space, study), (e) => fail(`tpe: ${e.reason}`))
      }),
    inferRelativeSpace: (ctx) => {
      const m = modelContext(ctx)
      return m === null || tpe.inferRelativeSpace === undefined ? new Map() : tpe.inferRelativeSpace(m)
    },
    sampleRelative: (ctx, space) => {
      const m = modelContext(ctx)
      return m === null || tpe.sampleRelative === undefined ? Sampler.noRelative : tpe.sampleRelative(m, space)
    },
    sampleIndependent: (ctx, name, d) => {
      const m = modelContext(ctx)
      return m === null ? Sampler.sampleUniform(ctx.rng, d) : tpe.sampleIndependent(m, name, d)
    }
  }
}

/**
 * BOHB as the Sampler layer; pair it with `Hyperband.layer` (or `Asha.layer`) on the same resources.
 *
 * @example
 * import { Bohb } from "@tunekit/schedulers"
 * const layer = Bohb.layer({ minResource: 1, maxResource: 81, reductionFactor: 3 })
 */
export const layer = (options: Options): Layer.Layer<Sampler.Sampler> => Layer.sync(Sampler.Sampler, () => make(options))
