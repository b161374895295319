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
import { Context, Effect, Either, Layer, Schema } from "effect"
import * as Distribution from "./Distribution.js"
import { InvalidSpace, SamplerUnsupported } from "./Errors.js"
import * as Options from "./Options.js"
import type * as Rng from "./Rng.js"
import type * as Scheduler from "./Scheduler.js"
import type * as Space from "./Space.js"
import type { StudyInfo } from "./Storage.js"
import type { FrozenTrial, Json } from "./Trial.js"

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
  /**
   * What the sampler decided for this trial (Auto's member, say), as system attributes that the
   * run loop stores on the trial with its parameters: `tunekit trials` and trackers show them.
   */
  readonly attrs?: Readonly<Record<string, Json>>
  /**
   * Study system attributes the sampler fixes once (GP's define-by-run startup design, Auto's
   * policy): the run loop stores each key the study does not hold yet, the first writer winning,
   * so that every worker reads the same value back in `SampleContext.study.systemAttrs`.
   */
  readonly studyAttrs?: Readonly<Record<string, Json>>
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
  /**
   * The rungs a multi-fidelity sampler models (BOHB): the study's scheduler must compare trials at
   * the same ones, which `Study.optimize` checks when the study starts.
   */
  readonly resources?: Scheduler.Resources
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

/**
 * Decodes a sampler's options through their Schema: the options, or the `SamplerUnsupported`
 * (naming the field) that the sampler fails with when the study starts.
 *
 * @example
 * import { Schema } from "effect"
 * import { Options, Sampler } from "@tunekit/core"
 * const decode = Sampler.decodeOptions("mine", Schema.Struct({ size: Options.PositiveInt }))
 * decode({ size: 0 }) // Left(SamplerUnsupported: "mine sampler: size: expected a positive integer, got 0")
 */
export const decodeOptions = <A, I>(sampler: string, schema: Schema.Schema<A, I, never>) => {
  const decode = Options.decodeEither(schema)
  return (input: unknown): Either.Either<A, SamplerUnsupported> =>
    Either.mapLeft(decode(input), (p) => new SamplerUnsupported({ sampler, reason: Options.format(p) }))
}

/**
 * A sampler that refuses to start: its check fails with the error (a sampler made from invalid
 * options is this, so that the study fails when it starts, with the sampler's typed error).
 *
 * @example
 * import { SamplerUnsupported, Sampler } from "@tunekit/core"
 * const s = Sampler.refused(new SamplerUnsupported({ sampler: "mine", reason: "size: expected a positive integer, got 0" }))
 */
export const refused = (error: SamplerUnsupported): SamplerService => ({
  name: error.sampler,
  usesHistory: false,
  check: () => Effect.fail(error),
  sampleIndependent: () => {
    throw error
  }
})

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

/** Options of the grid sampler. */
export interface GridOptions {
  /** Walk the grid in a seeded shuffled order (default true) or in declaration order. */
  readonly shuffle?: boolean
}

/**
 * The Schema of `GridOptions`.
 *
 * @example
 * import { Options, Sampler } from "@tunekit/core"
 * Options.jsonSchema(Sampler.GridOptionsSchema)
 */
export const GridOptionsSchema: Schema.Schema<GridOptions> = Schema.Struct({ shuffle: Schema.optional(Options.Boolean) })

/**
 * Grid search: every combination of the declared space exactly once, in a seeded shuffled order,
 * also when several workers share the storage (each grid point is claimed in storage). Needs every
 * dimension discrete: a categorical, an int, or a float with a step.
 *
 * @example
 * import { Sampler } from "@tunekit/core"
 * const layer = Sampler.layerGrid({ shuffle: false })
 */
export const grid = (input: GridOptions = {}): SamplerService => {
  const decoded = decodeOptions("grid", GridOptionsSchema)(input)
  if (Either.isLeft(decoded)) return refused(decoded.left)
  const options = decoded.right
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
  const nextPoint = (ctx: Omit<SampleContext, "trialNumber" | "rng">, trialNumber?: number): Relative | undefined => {
    const { order, points } = gridOf(ctx)
    const taken = new Set<unknown>()
    for (const t of ctx.history) taken.add(t.systemAttrs.claim)
    // Workers that lost the race for a point hold running trials without a claim, and sample again
    // at once: each skips as many free points as it has rivals before it, so that they do not all
    // race again for the same next point. Alone, a trial takes the first free point.
    const rivals = trialNumber === undefined
      ? []
      : ctx.history.filter((t) => t.state === "Running" && t.systemAttrs.claim === undefined && t.number < trialNumber)
    let skip = rivals.length
    let first: Relative | undefined
    for (const i of order) {
      const claim = `grid:${i}`
      if (taken.has(claim)) continue
      first ??= { params: points[i], claim }
      if (skip-- === 0) return { params: points[i], claim }
    }
    return first
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
    // A trial that lost the race for the last point finds the grid exhausted and is not run
    // (Study's sampleBare); this fallback only serves a caller that does not check.
    sampleRelative: (ctx) => nextPoint(ctx, ctx.trialNumber) ?? noRelative,
    sampleIndependent: (ctx, _, d) => sampleUniform(ctx.rng, d)
  }
}

/** The grid sampler as a layer. */
export const layerGrid = (options: GridOptions = {}): Layer.Layer<Sampler> =>
  Layer.sync(Sampler, () => grid(options))

// ---------------------------------------------------------------------------------------------
// Combinators: strategies compose like the rest of the pipeline. Each has a service form (a
// function of services) and a layer form that also takes layers, e.g.
// `Sampler.sequence(Qmc.layer(), { trials: 16 }, Tpe.layer())`.
// ---------------------------------------------------------------------------------------------

/** A sampler given either as a service or as a layer. */
export type SamplerLike = SamplerService | Layer.Layer<Sampler>

const isLayer = (s: SamplerLike): s is Layer.Layer<Sampler> => Layer.isLayer(s)

/** Builds the given samplers (layers in the combined layer's scope) and combines their services. */
const combined = (parts: ReadonlyArray<SamplerLike>, f: (services: ReadonlyArray<SamplerService>) => SamplerService): Layer.Layer<Sampler> =>
  Layer.scoped(
    Sampler,
    Effect.gen(function*() {
      const services: Array<SamplerService> = []
      for (const p of parts) services.push(isLayer(p) ? Context.get(yield* Layer.build(p), Sampler) : p)
      return f(services)
    })
  )

const checkAll = (
  services: ReadonlyArray<SamplerService>,
  space: Space.Compiled<any> | undefined,
  study: StudyInfo
): Effect.Effect<void, SamplerUnsupported> => Effect.forEach(services, (s) => s.check?.(space, study) ?? Effect.void, { discard: true })

const unsupported = (sampler: string, reason: string) => Effect.fail(new SamplerUnsupported({ sampler, reason }))

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** The relative space a sampler infers, or an empty one when it has none. */
const relativeOf = (s: SamplerService, ctx: SampleContext): SearchSpace => s.inferRelativeSpace?.(ctx) ?? new Map()

/** A sampler's relative sample of a space, or none when it does not sample jointly. */
const sampleRelativeOf = (s: SamplerService, ctx: SampleContext, space: SearchSpace): Relative =>
  s.inferRelativeSpace !== undefined && s.sampleRelative !== undefined ? s.sampleRelative(ctx, space) : noRelative

/** Options of `sequence`. */
export interface SequenceOptions {
  /** How many trials (the study's first, by trial number) the first sampler serves. */
  readonly trials: number
}

/**
 * The Schema of `SequenceOptions`.
 *
 * @example
 * import { Options, Sampler } from "@tunekit/core"
 * Options.jsonSchema(Sampler.SequenceOptionsSchema)
 */
export const SequenceOptionsSchema: Schema.Schema<SequenceOptions> = Schema.Struct({ trials: Options.NonNegativeInt })

/**
 * A startup design followed by a model: the first sampler serves exactly the trials numbered
 * below `trials`, the second every trial after.
 *
 * @example
 * import { Sampler } from "@tunekit/core"
 * const s = Sampler.sequenceService(Sampler.random, { trials: 16 }, Sampler.grid())
 */
export const sequenceService = (first: SamplerService, options: SequenceOptions, then: SamplerService): SamplerService => {
  const decoded = decodeOptions("sequence", SequenceOptionsSchema)(options)
  if (Either.isLeft(decoded)) return refused(decoded.left)
  const n = decoded.right.trials
  const pick = (trialNumber: number) => (trialNumber < n ? first : then)
  return {
    name: `sequence(${first.name} for ${n}, ${then.name})`,
    usesHistory: first.usesHistory || then.usesHistory || then.isExhausted !== undefined,
    // Trials are numbered 0, 1, ... in a study, so the history's length is the next number.
    isExhausted: (ctx) => (ctx.history.length >= n ? then.isExhausted?.(ctx) ?? false : false),
    check: (space, study) => checkAll([first, then], space, study),
    inferRelativeSpace: (ctx) => relativeOf(pick(ctx.trialNumber), ctx),
    sampleRelative: (ctx, space) => sampleRelativeOf(pick(ctx.trialNumber), ctx, space),
    sampleIndependent: (ctx, name, d) => pick(ctx.trialNumber).sampleIndependent(ctx, name, d)
  }
}

/**
 * `sequenceService` as a layer, taking samplers as services or layers.
 *
 * @example
 * import { Sampler } from "@tunekit/core"
 * const layer = Sampler.sequence(Sampler.layerRandom, { trials: 16 }, Sampler.layerGrid())
 */
export const sequence = (first: SamplerLike, options: SequenceOptions, then: SamplerLike): Layer.Layer<Sampler> =>
  combined([first, then], ([a, b]) => sequenceService(a, options, b))

/**
 * Fixed parameters: the given parameters always take the given (external) values and are never
 * asked of the inner sampler; every other parameter is the inner sampler's. A fixed name outside
 * the declared space, or a value outside its distribution, fails when the study starts.
 *
 * @example
 * import { Sampler } from "@tunekit/core"
 * const s = Sampler.withFixedService({ batchSize: 64 }, Sampler.random)
 */
export const withFixedService = (fixed: Readonly<Record<string, unknown>>, inner: SamplerService): SamplerService => {
  const names = Object.keys(fixed)
  const internal = (name: string, d: Distribution.Distribution): number => {
    const v = Distribution.toInternal(d, fixed[name])
    if (!Distribution.contains(d, v)) throw new Error(`${JSON.stringify(fixed[name])} is outside ${Distribution.describe(d)}`)
    return v
  }
  const without = (space: SearchSpace): SearchSpace => {
    if (!names.some((k) => space.has(k))) return space
    const out = new Map(space)
    for (const k of names) out.delete(k)
    return out
  }
  return {
    name: `withFixed(${inner.name})`,
    usesHistory: inner.usesHistory,
    ...(inner.isExhausted ? { isExhausted: inner.isExhausted } : {}),
    check: (space, study) => {
      if (space !== undefined) {
        for (const k of names) {
          const d = space.params.get(k)
          if (d === undefined) return unsupported("withFixed", `fixed parameter "${k}" is not in the search space`)
          try {
            internal(k, d)
          } catch (e) {
            return unsupported("withFixed", `fixed parameter "${k}": ${message(e)}`)
          }
        }
      }
      return checkAll([inner], space, study)
    },
    inferRelativeSpace: (ctx) => without(relativeOf(inner, ctx)),
    sampleRelative: (ctx, space) => {
      const r = sampleRelativeOf(inner, ctx, without(space))
      const params: Record<string, number> = { ...r.params }
      for (const k of names) {
        const d = ctx.space?.params.get(k)
        if (d !== undefined) params[k] = internal(k, d)
        else delete params[k]
      }
      // The inner sampler's claim and records pass through.
      return { ...r, params }
    },
    sampleIndependent: (ctx, name, d) => {
      if (!(name in fixed)) return inner.sampleIndependent(ctx, name, d)
      try {
        return internal(name, d)
      } catch (e) {
        throw new InvalidSpace({ param: name, reason: `fixed value: ${message(e)}` })
      }
    }
  }
}

/**
 * `withFixedService` as a layer.
 *
 * @example
 * import { Sampler } from "@tunekit/core"
 * const layer = Sampler.withFixed({ batchSize: 64 }, Sampler.layerRandom)
 */
export const withFixed = (fixed: Readonly<Record<string, unknown>>, inner: SamplerLike): Layer.Layer<Sampler> =>
  combined([inner], ([s]) => withFixedService(fixed, s))

/**
 * Warm starts: the given configs run first, once each and in order (each is claimed in storage,
 * so several workers do not repeat one, nor does a study that is continued), then the inner
 * sampler takes over. With a declared space a config is a complete config of that space; for
 * define-by-run it is a record of external values by parameter name (a parameter it leaves out is
 * the inner sampler's).
 *
 * @example
 * import { Sampler } from "@tunekit/core"
 * const s = Sampler.warmStartService([{ lr: 0.01, layers: 2 }, { lr: 0.001, layers: 4 }], Sampler.random)
 */
export const warmStartService = (configs: ReadonlyArray<unknown>, inner: SamplerService): SamplerService => {
  const flat = new WeakMap<object, ReadonlyArray<Readonly<Record<string, unknown>>>>()
  const flatten = (space: Space.Compiled<any> | undefined): ReadonlyArray<Readonly<Record<string, unknown>>> => {
    if (space === undefined) return configs as ReadonlyArray<Record<string, unknown>>
    let f = flat.get(space)
    if (f === undefined) {
      f = configs.map((c) => space.flatten(c))
      flat.set(space, f)
    }
    return f
  }
  const claimOf = (i: number) => `warm:${i}`
  const nextWarm = (history: ReadonlyArray<FrozenTrial>): number | undefined => {
    const taken = new Set<unknown>()
    for (const t of history) taken.add(t.systemAttrs.claim)
    for (let i = 0; i < configs.length; i++) if (!taken.has(claimOf(i))) return i
    return undefined
  }
  // The warm config a trial's sampling context serves, decided once per context.
  const serving = new WeakMap<SampleContext, number | undefined>()
  const servingOf = (ctx: SampleContext) => {
    if (!serving.has(ctx)) serving.set(ctx, nextWarm(ctx.history))
    return serving.get(ctx)
  }
  return {
    name: `warmStart(${inner.name})`,
    usesHistory: true,
    isExhausted: (ctx) => nextWarm(ctx.history) === undefined && (inner.isExhausted?.(ctx) ?? false),
    check: (space, study) => {
      if (space !== undefined) {
        for (let i = 0; i < configs.length; i++) {
          try {
            space.flatten(configs[i])
          } catch (e) {
            return unsupported("warmStart", `config ${i}: ${message(e)}`)
          }
        }
      }
      return checkAll([inner], space, study)
    },
    inferRelativeSpace: (ctx) => (servingOf(ctx) === undefined ? relativeOf(inner, ctx) : new Map(ctx.space?.params ?? [])),
    sampleRelative: (ctx, space) => {
      const i = servingOf(ctx)
      if (i === undefined) return sampleRelativeOf(inner, ctx, space)
      const config = flatten(ctx.space)[i]
      const params: Record<string, number> = {}
      for (const [k, v] of Object.entries(config)) {
        const d = ctx.space?.params.get(k)
        if (d !== undefined) params[k] = Distribution.toInternal(d, v)
      }
      return { params, claim: claimOf(i) }
    },
    sampleIndependent: (ctx, name, d) => {
      const i = servingOf(ctx)
      const config = i === undefined ? undefined : flatten(ctx.space)[i]
      if (config === undefined || !(name in config)) return inner.sampleIndependent(ctx, name, d)
      try {
        return Distribution.toInternal(d, config[name])
      } catch (e) {
        throw new InvalidSpace({ param: name, reason: `warm-start config ${i}: ${message(e)}` })
      }
    }
  }
}

/**
 * `warmStartService` as a layer.
 *
 * @example
 * import { Sampler } from "@tunekit/core"
 * const layer = Sampler.warmStart([{ lr: 0.01 }], Sampler.layerRandom)
 */
export const warmStart = (configs: ReadonlyArray<unknown>, inner: SamplerLike): Layer.Layer<Sampler> =>
  combined([inner], ([s]) => warmStartService(configs, s))

/** One group of `perGroup`: the parameters it owns (names, or a test on names) and its sampler. */
export interface Group<S extends SamplerLike = SamplerService> {
  readonly params: ReadonlyArray<string> | ((name: string) => boolean)
  readonly sampler: S
}

/**
 * Per-group samplers: each group's sampler samples (jointly, if it can) the parameters the group
 * owns; `rest` samples every other one. A parameter belongs to the first group that names it.
 *
 * @example
 * import { Sampler } from "@tunekit/core"
 * const s = Sampler.perGroupService([{ params: ["optimizer", "lr"], sampler: Sampler.grid() }], Sampler.random)
 */
export const perGroupService = (groups: ReadonlyArray<Group>, rest: SamplerService): SamplerService => {
  const services = [...groups.map((g) => g.sampler), rest]
  const owns = groups.map((g) => (typeof g.params === "function" ? g.params : ((names) => (name: string) => names.has(name))(new Set(g.params))))
  const ownerIndex = (name: string) => {
    const i = owns.findIndex((f) => f(name))
    return i < 0 ? groups.length : i
  }
  const restrict = (space: SearchSpace, i: number): SearchSpace => new Map([...space].filter(([k]) => ownerIndex(k) === i))
  return {
    name: `perGroup(${services.map((s) => s.name).join(", ")})`,
    usesHistory: services.some((s) => s.usesHistory || s.isExhausted !== undefined),
    isExhausted: (ctx) => services.some((s) => s.isExhausted?.(ctx) ?? false),
    check: (space, study) => checkAll(services, space, study),
    inferRelativeSpace: (ctx) => {
      const out = new Map<string, Distribution.Distribution>()
      services.forEach((s, i) => {
        for (const [k, d] of restrict(relativeOf(s, ctx), i)) out.set(k, d)
      })
      return out
    },
    sampleRelative: (ctx, space) => {
      const params: Record<string, number> = {}
      const claims: Array<string> = []
      let attrs: Record<string, Json> | undefined
      let studyAttrs: Record<string, Json> | undefined
      services.forEach((s, i) => {
        const own = restrict(space, i)
        if (own.size === 0) return
        const r = sampleRelativeOf(s, ctx, own)
        for (const [k, v] of Object.entries(r.params)) if (ownerIndex(k) === i) params[k] = v
        if (r.claim !== undefined) claims.push(`${i}:${r.claim}`)
        if (r.attrs !== undefined) attrs = { ...attrs, ...r.attrs }
        if (r.studyAttrs !== undefined) studyAttrs = { ...studyAttrs, ...r.studyAttrs }
      })
      return {
        params,
        ...(claims.length === 0 ? {} : { claim: claims.join("|") }),
        ...(attrs === undefined ? {} : { attrs }),
        ...(studyAttrs === undefined ? {} : { studyAttrs })
      }
    },
    sampleIndependent: (ctx, name, d) => services[ownerIndex(name)].sampleIndependent(ctx, name, d)
  }
}

/**
 * `perGroupService` as a layer, taking samplers as services or layers.
 *
 * @example
 * import { Sampler } from "@tunekit/core"
 * const layer = Sampler.perGroup([{ params: (n) => n.startsWith("optimizer"), sampler: Sampler.layerGrid() }], Sampler.layerRandom)
 */
export const perGroup = (groups: ReadonlyArray<Group<SamplerLike>>, rest: SamplerLike): Layer.Layer<Sampler> =>
  combined([...groups.map((g) => g.sampler), rest], (ss) =>
    perGroupService(groups.map((g, i) => ({ params: g.params, sampler: ss[i] })), ss[ss.length - 1]))
