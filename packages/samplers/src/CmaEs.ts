/**
 * CMA-ES: the covariance matrix adaptation evolution strategy (N. Hansen, "The CMA Evolution
 * Strategy: A Tutorial", 2016), for long runs on continuous and integer parameters.
 *
 * Stateless: the strategy is replayed from the stored history, so it works with several workers
 * and after a study is reopened. Trials are grouped into generations by their numbers (generation
 * g of a run with population lambda holds the next lambda trial numbers); a generation updates the
 * distribution once all of its trials have finished, with its complete trials ranked by value.
 * Each trial's raw sample is drawn from a generator keyed by the seed and its number, so the
 * replay recovers it exactly; a trial sampled elsewhere (a startup design, an enqueued config, a
 * worker that sampled from an older generation) enters the update as an injected solution.
 *
 * Parameters live in the unit cube (log parameters in log space). Integers and stepped floats
 * are handled with a margin (Hamano et al. 2022, "CMA-ES with Margin") so that they keep moving.
 * Categorical and conditional parameters are sampled at random. Optional IPOP restarts (Auger and
 * Hansen 2005) double the population when a run converges.
 *
 * @since 0.1.0
 */
import { Effect, Either, Layer, Schema } from "effect"
import type { Trial } from "@tunekit/core"
import { Distribution, Options as Opts, Sampler, SamplerUnsupported } from "@tunekit/core"
import * as Cma from "./internal/cma.js"
import { type Dim, dimOf, isNumeric, unconditionalNumeric } from "./internal/cmaSpace.js"
import * as ReplayCache from "./internal/replayCache.js"

/**
 * Options of the CMA-ES sampler.
 *
 * @example
 * import type { CmaEs } from "@tunekit/samplers"
 * const options: CmaEs.Options = { sigma0: 0.25, populationSize: 6, restart: "none", x0: { lr: 1e-3 } }
 */
export interface Options {
  /** The initial step size, as a fraction of each parameter's range in the unit cube (default 1/6). */
  readonly sigma0?: number
  /** The population size of the first run (default 4 + floor(3 ln n)). */
  readonly populationSize?: number
  /** Restart with a population `incPopSize` times larger when a run converges (default "ipop"). */
  readonly restart?: "ipop" | "none"
  /** The population factor of IPOP restarts (default 2). */
  readonly incPopSize?: number
  /**
   * The margin of integer coordinates: the least probability of leaving the mean's value
   * (default 1 / (n lambda), as Hamano et al.); `false` turns the margin off.
   */
  readonly margin?: number | false
  /** The initial mean, as parameter values (default: the middle of each range). */
  readonly x0?: Readonly<Record<string, number>>
}

/**
 * The Schema of CMA-ES's options, and their JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { CmaEs } from "@tunekit/samplers"
 * Options.jsonSchema(CmaEs.OptionsSchema)
 */
export const OptionsSchema: Schema.Schema<Options> = Schema.Struct({
  sigma0: Schema.optional(Opts.number({ above: 0, max: 1 })),
  populationSize: Schema.optional(Opts.number({ int: true, min: 2 })),
  restart: Schema.optional(Opts.literals("ipop", "none")),
  incPopSize: Schema.optional(Opts.number({ min: 1 })),
  margin: Schema.optional(
    Schema.Union(Opts.number({ above: 0, below: 0.5 }), Schema.Literal(false)).annotations(Opts.expecting("a number in (0, 0.5) or false"))
  ),
  x0: Schema.optional(Schema.Record({ key: Schema.String, value: Opts.Finite }))
})

const decodeOptions = Sampler.decodeOptions("cmaes", OptionsSchema)

/** A generation as replayed: which trials, which state it led to. */
interface Generation {
  readonly start: number
  /** (id, state, value) of each trial in the generation, to notice when the history differs. */
  readonly fingerprint: ReadonlyArray<number>
  readonly after: Cma.State
  readonly run: number
}

interface Replay {
  /** The state the next trials sample from. */
  readonly state: Cma.State
  /** The number of the first trial of the open generation. */
  readonly start: number
}

const MAX_RESAMPLE = 100
/**
 * A CMA-ES sampler service.
 *
 * @example
 * import { CmaEs } from "@tunekit/samplers"
 * const sampler = CmaEs.make({ sigma0: 0.2, restart: "ipop" })
 */
export const make = (input: Options = {}): Sampler.SamplerService => {
  const decoded = decodeOptions(input)
  if (Either.isLeft(decoded)) return Sampler.refused(decoded.left)
  const options = decoded.right
  const sigma0 = options.sigma0 ?? 1 / 6
  const restart = options.restart ?? "ipop"
  const inc = options.incPopSize ?? 2
  // Replayed generations per study (and per relative space), reused while the history agrees.
  const generationsOf = ReplayCache.make<Generation>()
  const declared = new WeakMap<object, Sampler.SearchSpace>()

  const dimsOf = (space: Sampler.SearchSpace): ReadonlyArray<Dim> =>
    [...space].map(([name, d]) => dimOf(name, d as Distribution.FloatDistribution | Distribution.IntDistribution))

  const lambdaOf = (n: number, run: number) => (options.populationSize ?? Cma.defaultLambda(n)) * inc ** run

  const initial = (ctx: Sampler.SampleContext, dims: ReadonlyArray<Dim>, run: number): Cma.State => {
    const n = dims.length
    let mean: Array<number>
    if (run === 0) {
      mean = dims.map((d) => {
        const v = options.x0?.[d.name]
        if (v === undefined) return 0.5
        return d.discrete ? d.center(d.cellOfValue(v)) : d.toUnit(v)
      })
    } else {
      const g = ctx.derive("cmaes", "restart", run)
      mean = dims.map(() => g.next())
    }
    return Cma.init(mean, sigma0, lambdaOf(n, run))
  }

  /** The raw sample of trial `number` from a state: rejection in the box, then clipping. */
  const rawSample = (ctx: Sampler.SampleContext, s: Cma.State, dims: ReadonlyArray<Dim>, number: number): Float64Array => {
    const g = ctx.derive("cmaes", "trial", number)
    const n = dims.length
    const z = new Float64Array(n)
    let x: Float64Array | undefined
    for (let attempt = 0; attempt < MAX_RESAMPLE; attempt++) {
      for (let j = 0; j < n; j++) z[j] = g.normal()
      x = Cma.sampleRaw(s, z)
      if (dims.every((d, j) => d.discrete !== undefined || (x![j] >= 0 && x![j] <= 1))) return x
    }
    for (let j = 0; j < n; j++) if (dims[j].discrete === undefined) x![j] = Math.min(1, Math.max(0, x![j]))
    return x!
  }

  /** A trial's raw coordinates for the update, or undefined when it lacks the space's parameters. */
  const solutionOf = (
    ctx: Sampler.SampleContext,
    s: Cma.State,
    dims: ReadonlyArray<Dim>,
    t: Trial.FrozenTrial
  ): Float64Array | undefined => {
    for (const d of dims) {
      const td = t.distributions[d.name]
      if (t.params[d.name] === undefined || td === undefined || !sameDistribution(td, d.distribution)) return undefined
    }
    // Only grid coordinates need the replayed raw sample; continuous ones are stored exactly.
    const guess = dims.some((d) => d.discrete !== undefined) ? rawSample(ctx, s, dims, t.number) : undefined
    const x = new Float64Array(dims.length)
    dims.forEach((d, j) => {
      const v = t.params[d.name]
      if (d.discrete === undefined) {
        x[j] = d.toUnit(v)
        return
      }
      const cell = d.cellOfValue(v)
      // The replayed raw coordinate when it encodes to the stored value; otherwise the point of
      // the stored cell's middle, in raw coordinates (undoing the margin's scaling).
      x[j] = Cma.encode(s, j, d.discrete, guess![j]) === cell ? guess![j] : s.mean[j] + (d.center(cell) - s.mean[j]) / s.A[j]
    })
    return x
  }

  const replay = (ctx: Sampler.SampleContext, space: Sampler.SearchSpace, dims: ReadonlyArray<Dim>): Replay => {
    const n = dims.length
    const key = `${ctx.study.id}\u0000${ctx.study.name}\u0000${[...space.keys()].join("\u0000")}`
    const gens = generationsOf(key)
    const byNumber: Array<Trial.FrozenTrial | undefined> = []
    for (const t of ctx.history) byNumber[t.number] = t
    const sign = ctx.study.directions[0] === "maximize" ? -1 : 1
    const discrete = dims.map((d) => d.discrete)

    let state = initial(ctx, dims, 0)
    let run = 0
    let start = 0
    for (let i = 0; ; i++) {
      const end = start + state.p.lambda
      if (end > byNumber.length) break
      const fingerprint = ReplayCache.fingerprint(byNumber, start, end)
      if (fingerprint === undefined) break
      const cached = gens[i]
      if (cached !== undefined && cached.start === start && ReplayCache.sameNumbers(cached.fingerprint, fingerprint)) {
        state = cached.after
        run = cached.run
        start = end
        continue
      }
      gens.length = i
      const sols: Array<{ x: Float64Array; value: number; number: number }> = []
      for (let k = start; k < end; k++) {
        const t = byNumber[k]!
        if (t.state !== "Complete" || t.values === undefined || !Number.isFinite(t.values[0])) continue
        const x = solutionOf(ctx, state, dims, t)
        if (x !== undefined) sols.push({ x, value: sign * t.values[0], number: t.number })
      }
      if (sols.length > 0) {
        sols.sort((a, b) => a.value - b.value || a.number - b.number)
        let next = Cma.update(state, sols)
        if (options.margin !== false) {
          next = Cma.applyMargin(next, discrete, options.margin ?? 1 / (n * next.p.lambda))
        }
        if (restart === "ipop" && Cma.shouldRestart(next, sols.map((s) => s.value))) {
          run++
          next = initial(ctx, dims, run)
        }
        state = next
      }
      gens.push({ start, fingerprint, after: state, run })
      start = end
    }
    return { state, start }
  }

  return {
    name: "cmaes",
    usesHistory: true,
    check: (space, study) => {
      if (study.directions.length > 1) {
        return Effect.fail(
          new SamplerUnsupported({
            sampler: "cmaes",
            reason: `CMA-ES optimizes one objective and this study has ${study.directions.length}; use NSGA-II or TPE`
          })
        )
      }
      if (space !== undefined && unconditionalNumeric(space.params).size === 0) {
        const kinds = [...space.params.values()].every((d) => d._tag === "Categorical") ? "only categorical" : "no unconditional numeric"
        return Effect.fail(
          new SamplerUnsupported({
            sampler: "cmaes",
            reason: `the space has ${kinds} parameters (${[...space.params.keys()].join(", ")}); CMA-ES needs at least one float or int outside a branch; use TPE or random search`
          })
        )
      }
      for (const [k, v] of Object.entries(options.x0 ?? {})) {
        const d = space?.params.get(k)
        if (space !== undefined && (d === undefined || d._tag === "Categorical" || !(v >= d.low && v <= d.high))) {
          return Effect.fail(
            new SamplerUnsupported({
              sampler: "cmaes",
              reason: `x0.${k} = ${v} is not a value of a numeric parameter of the space${d ? ` (${Distribution.describe(d)})` : ""}`
            })
          )
        }
      }
      return Effect.void
    },
    inferRelativeSpace: (ctx) => {
      if (ctx.space !== undefined) {
        let s = declared.get(ctx.space)
        if (s === undefined) {
          s = unconditionalNumeric(ctx.space.params)
          declared.set(ctx.space, s)
        }
        return s
      }
      return intersection(ctx.history)
    },
    sampleRelative: (ctx, space) => {
      const dims = dimsOf(space)
      if (dims.length === 0) return Sampler.noRelative
      const { state } = replay(ctx, space, dims)
      const x = rawSample(ctx, state, dims, ctx.trialNumber)
      const params: Record<string, number> = {}
      dims.forEach((d, j) => {
        params[d.name] = d.discrete === undefined ? d.fromUnit(x[j]) : d.valueOf(Cma.encode(state, j, d.discrete, x[j]))
      })
      return { params }
    },
    sampleIndependent: (ctx, _, d) => Sampler.sampleUniform(ctx.rng, d)
  }
}

/**
 * The CMA-ES sampler as a layer.
 *
 * @example
 * import { Effect } from "effect"
 * import { Space, Study } from "@tunekit/core"
 * import { CmaEs } from "@tunekit/samplers"
 * const run = Study.optimize({
 *   study: "sphere",
 *   space: Space.struct({ x: Space.float(-5, 5), y: Space.float(-5, 5) }),
 *   objective: (c) => c.x ** 2 + c.y ** 2,
 *   trials: 200
 * }).pipe(Effect.provide(CmaEs.layer()))
 */
export const layer = (options: Options = {}): Layer.Layer<Sampler.Sampler> => Layer.sync(Sampler.Sampler, () => make(options))

const sameDistribution = (a: Distribution.Distribution, b: Distribution.Distribution): boolean =>
  a === b ||
  (a._tag === b._tag && a._tag !== "Categorical" && b._tag !== "Categorical" &&
    a.low === b.low && a.high === b.high && a.log === b.log && a.step === b.step)

/** Define-by-run: the numeric parameters every complete trial has, with the same distribution. */
const intersection = (history: ReadonlyArray<Trial.FrozenTrial>): Sampler.SearchSpace => {
  let out: Map<string, Distribution.Distribution> | undefined
  for (const t of history) {
    if (t.state !== "Complete") continue
    if (out === undefined) {
      out = new Map()
      for (const k of Object.keys(t.distributions).sort()) if (isNumeric(t.distributions[k])) out.set(k, t.distributions[k])
      continue
    }
    for (const [k, d] of out) {
      const td = t.distributions[k]
      if (td === undefined || !sameDistribution(td, d)) out.delete(k)
    }
  }
  return out ?? new Map()
}
