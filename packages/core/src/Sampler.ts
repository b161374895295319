/**
 * Samplers: how the next config is chosen. The protocol follows Optuna's (`infer_relative_search_space`,
 * `sample_relative`, `sample_independent`): a model-based sampler proposes a joint sample for the
 * parameters it can model, and every other parameter is sampled independently.
 *
 * A sampler is a function of the stored history and a seeded generator, so that it works the same
 * in memory, on SQLite and across workers, and the same seed and history give the same suggestions.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import * as Distribution from "./Distribution.js"
import { SamplerUnsupported } from "./Errors.js"
import type * as Rng from "./Rng.js"
import type * as Space from "./Space.js"
import type { StudyInfo } from "./Storage.js"
import type { FrozenTrial } from "./Trial.js"

/** What a sampler sees when it samples for one trial. */
export interface SampleContext {
  readonly study: StudyInfo
  /** The number of the trial being sampled. */
  readonly trialNumber: number
  /** A generator seeded by the study's seed and the trial number. */
  readonly rng: Rng.Generator
  /** Generators seeded by the study's seed alone and a path of keys: the same in every trial and worker. */
  readonly derive: (...keys: ReadonlyArray<number | string>) => Rng.Generator
  /**
   * Every trial of the study, running ones included (their parameters are known): empty when the
   * sampler says it does not use the history.
   */
  readonly history: ReadonlyArray<FrozenTrial>
  /** The declared search space, when the study has one (none for define-by-run). */
  readonly space: Space.Compiled<any> | undefined
}

/** A search space as samplers see it: parameter names and their distributions. */
export type SearchSpace = ReadonlyMap<string, Distribution.Distribution>

/** What `sampleRelative` proposes. */
export interface Relative {
  /** Internal values by name, for (a subset of) the relative space. */
  readonly params: Readonly<Record<string, number>>
  /**
   * A key that no other trial of the study may hold (see `Storage.setParams`); when another worker
   * took it meanwhile, the run loop reloads the history and asks again.
   */
  readonly claim?: string
}

/** The sampler service. */
export interface SamplerService {
  readonly name: string
  /** Whether the sampler reads the history; when false the run loop does not load it. */
  readonly usesHistory: boolean
  /**
   * Asked before a trial is created: true when the sampler has nothing left to suggest (a grid
   * that is done), and the study stops starting trials. The trial-specific fields of the context
   * are not set yet.
   */
  readonly isExhausted?: (ctx: Omit<SampleContext, "trialNumber" | "rng">) => boolean
  /** Checks, when the study starts, that the sampler can handle the space. */
  readonly check?: (space: Space.Compiled<any> | undefined, study: StudyInfo) => Effect.Effect<void, SamplerUnsupported>
  /** The parameters to sample jointly for this trial. */
  readonly inferRelativeSpace?: (ctx: SampleContext) => SearchSpace
  /** A joint sample of the relative space. */
  readonly sampleRelative?: (ctx: SampleContext, space: SearchSpace) => Relative
  /** One parameter, sampled on its own; returns an internal value inside the distribution. */
  readonly sampleIndependent: (ctx: SampleContext, name: string, distribution: Distribution.Distribution) => number
}

/** The Sampler service tag. */
export class Sampler extends Context.Tag("@tunekit/core/Sampler")<Sampler, SamplerService>() {}

/** The empty relative sample. */
export const noRelative: Relative = { params: {} }

/** Uniform sampling of one distribution: log-uniform for log ones, uniform over the grid for steps. */
export const sampleUniform = (rng: Rng.Generator, d: Distribution.Distribution): number => Distribution.fromUnit(d, rng.next())

/**
 * Random search: every parameter independently and uniformly (log-uniformly where asked).
 *
 * @example
 * import { Sampler } from "@tunekit/core"
 * const layer = Sampler.layerRandom
 */
export const random: SamplerService = {
  name: "random",
  usesHistory: false,
  sampleIndependent: (ctx, _, d) => sampleUniform(ctx.rng, d)
}

/** The random sampler as a layer. */
export const layerRandom: Layer.Layer<Sampler> = Layer.succeed(Sampler, random)

/**
 * Manual search: only the configs given to `enqueue` run, in order; then the study stops.
 *
 * @example
 * import { Sampler } from "@tunekit/core"
 * const layer = Sampler.layerManual
 */
export const manual: SamplerService = {
  name: "manual",
  usesHistory: false,
  isExhausted: () => true,
  sampleIndependent: () => {
    throw new Error("the manual sampler runs enqueued configs only")
  }
}

/** The manual sampler as a layer. */
export const layerManual: Layer.Layer<Sampler> = Layer.succeed(Sampler, manual)

// A sentinel that stops a walk of the space at the first parameter past the current prefix.
class Fork {
  constructor(readonly values: ReadonlyArray<number>) {}
}

/**
 * Every complete config of a discrete space, each as internal values by name. Conditional branches
 * are followed, so that only the parameters on each path appear. Fails when a dimension is a
 * continuous float without a step.
 */
export const enumerate = (
  sampler: string,
  space: Space.Compiled<any>
): ReadonlyArray<Readonly<Record<string, number>>> => {
  const out: Array<Record<string, number>> = []
  const stack: Array<ReadonlyArray<number>> = [[]]
  while (stack.length > 0) {
    const prefix = stack.pop()!
    let depth = 0
    try {
      const built = space.build((name, d) => {
        if (depth < prefix.length) return prefix[depth++]
        const values = Distribution.gridValues(d)
        if (values === undefined) {
          throw new SamplerUnsupported({
            sampler,
            reason: `parameter "${name}" is a continuous ${Distribution.describe(d)}; give it a step or make it categorical`
          })
        }
        throw new Fork(values)
      })
      out.push(built.params)
    } catch (e) {
      if (!(e instanceof Fork)) throw e
      for (let i = e.values.length - 1; i >= 0; i--) stack.push([...prefix, e.values[i]])
    }
  }
  return out
}

/**
 * Grid search: every combination of the declared space exactly once, in a seeded shuffled order,
 * also when several workers share the storage (each grid point is claimed in storage). Needs every
 * dimension discrete: a categorical, an int, or a float with a step.
 *
 * @example
 * import { Sampler } from "@tunekit/core"
 * const layer = Sampler.layerGrid({ shuffle: false })
 */
export const grid = (options: { readonly shuffle?: boolean } = {}): SamplerService => {
  const cache = new WeakMap<object, { points: ReadonlyArray<Readonly<Record<string, number>>>; order: ReadonlyArray<number> }>()
  const gridOf = (ctx: Omit<SampleContext, "trialNumber" | "rng">) => {
    let g = cache.get(ctx.space!)
    if (!g) {
      const points = enumerate("grid", ctx.space!)
      const idx = points.map((_, i) => i)
      // The order depends on the study's seed only, so that every worker walks the same order.
      g = { points, order: options.shuffle === false ? idx : ctx.derive("grid").shuffle(idx) }
      cache.set(ctx.space!, g)
    }
    return g
  }
  const nextPoint = (ctx: Omit<SampleContext, "trialNumber" | "rng">): Relative | undefined => {
    const { order, points } = gridOf(ctx)
    const taken = new Set<unknown>()
    for (const t of ctx.history) taken.add(t.systemAttrs.claim)
    for (const i of order) {
      const claim = `grid:${i}`
      if (!taken.has(claim)) return { params: points[i], claim }
    }
    return undefined
  }
  return {
    name: "grid",
    usesHistory: true,
    check: (space) =>
      space === undefined
        ? Effect.fail(new SamplerUnsupported({ sampler: "grid", reason: "grid search needs a declared search space (Space.struct ...)" }))
        : Effect.try({ try: () => void enumerate("grid", space), catch: (e) => e as SamplerUnsupported }),
    isExhausted: (ctx) => nextPoint(ctx) === undefined,
    inferRelativeSpace: (ctx) => ctx.space!.params,
    // When a racing worker took the last point, the trial gets no relative sample and its
    // parameters are drawn at random: a rare extra trial rather than a lost one.
    sampleRelative: (ctx) => nextPoint(ctx) ?? noRelative,
    sampleIndependent: (ctx, _, d) => sampleUniform(ctx.rng, d)
  }
}

/** The grid sampler as a layer. */
export const layerGrid = (options: { readonly shuffle?: boolean } = {}): Layer.Layer<Sampler> =>
  Layer.sync(Sampler, () => grid(options))
