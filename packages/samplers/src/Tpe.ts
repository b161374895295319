/**
 * The Tree-structured Parzen Estimator (Bergstra et al. 2011, "Algorithms for Hyper-Parameter
 * Optimization"; Watanabe 2023, "Tree-structured Parzen Estimator: Understanding Its Algorithm
 * Components and Their Roles for Better Empirical Performance"; Optuna's TPESampler is the
 * reference it matches). The history is split into the best `gamma(n)` trials and the rest, a
 * Parzen estimator is fitted to each (l(x) and g(x)), `nEiCandidates` points are drawn from l, and
 * the one with the largest log l(x) - log g(x) (expected improvement up to a monotone map) wins.
 *
 * - univariate (one estimator per parameter) or multivariate (joint kernels over the parameters
 *   that occur together, with group decomposition for conditional spaces);
 * - floats, log floats, ints, log ints, steps and categoricals handled natively;
 * - the constant liar: running trials count as bad observations, so parallel workers spread out;
 * - several objectives (MOTPE, Ozaki et al. 2022) when the study has several directions.
 *
 * @since 0.1.0
 */
import { Either, Layer, Schema } from "effect"
import type { Distribution as DistributionT, Trial } from "@tunekit/core"
import { Distribution, Options as Opts, Sampler } from "@tunekit/core"
import * as Parzen from "./internal/parzen.js"
import * as PriorTasks from "./internal/priorTask.js"
import * as Prior from "./internal/tpePrior.js"
import { defaultGamma, defaultWeights, hyperoptGamma, motpeBelowWeights, optunaGamma, split } from "./internal/tpeSplit.js"

export { defaultGamma, defaultWeights, hyperoptGamma, optunaGamma }

/** TPE's options; every one has a default. */
export interface Options {
  /** Trials sampled at random before the model starts (complete or pruned ones count). Default 10. */
  readonly nStartupTrials?: number
  /** How many candidates are drawn from l(x) per suggestion. Default 24. */
  readonly nEiCandidates?: number
  /** How many of n trials form the good set. Default `defaultGamma`: min(ceil(0.15 n), 25); Optuna's is `optunaGamma`. */
  readonly gamma?: (n: number) => number
  /** The weights of n observations, oldest first. Default `defaultWeights`. */
  readonly weights?: (n: number) => ReadonlyArray<number>
  /** Add a wide prior kernel to each estimator. Default true. */
  readonly considerPrior?: boolean
  /** The prior kernel's weight relative to one observation. Default 1. */
  readonly priorWeight?: number
  /** Keep bandwidths at least range / min(100, n + 1). Default true. */
  readonly considerMagicClip?: boolean
  /** Let the bounds act as neighbours when choosing the outermost bandwidths. Default false. */
  readonly considerEndpoints?: boolean
  /** Joint kernels over the parameters that occur together. Default true. */
  readonly multivariate?: boolean
  /** With `multivariate`: model each group of co-occurring parameters separately (conditional spaces). Default true. */
  readonly group?: boolean
  /** The multivariate kernels' bandwidth, as a fraction of each range before the n^(-1/(d+4)) shrink. Default 0.1 (Optuna: 0.2). */
  readonly bandwidth?: number
  /**
   * Let the good estimator l(x) sharpen as the study learns: its magic clip counts half of all
   * observations (not only the good ones), and in multivariate groups without categoricals its
   * bandwidth follows the spread of the good trials (4 standard deviations, between half the range
   * and the range) rather than the range. Default true; false gives Optuna's estimator.
   */
  readonly adaptive?: boolean
  /** Count running trials as bad observations (parallel workers). Default true. */
  readonly constantLiar?: boolean
  /**
   * Prior transfer: earlier tasks' trials, in this study's parameter space, that shape the model
   * from the first trial (Watanabe et al. 2023): each task's good and bad estimators join the
   * study's own, weighted by the task's similarity and by how well its good region agrees with
   * the study's good trials so far. No random startup trials are run. Default none.
   */
  readonly prior?: ReadonlyArray<PriorTask>
}

/**
 * An earlier task for prior transfer (`Options.prior`); `Transfer.priorTasks` of
 * @tunekit/transfer gives them from the transfer database.
 */
export type PriorTask = PriorTasks.PriorTask

type Resolved = Required<Options>

/**
 * Optuna 3.x's TPESampler defaults (univariate, gamma 10%, bandwidth 0.2, no adaptive estimator, no
 * constant liar), for comparisons.
 *
 * @example
 * import { Tpe } from "@tunekit/samplers"
 * const layer = Tpe.layer(Tpe.optunaOptions)
 */
export const optunaOptions: Options = {
  multivariate: false,
  group: false,
  gamma: optunaGamma,
  bandwidth: 0.2,
  adaptive: false,
  constantLiar: false
}

/**
 * The defaults. They depart from Optuna's where the benchmark (docs/benchmarks-tpe.md) says so:
 * multivariate kernels, a narrower multivariate bandwidth (0.1 of the range, not 0.2), a good set
 * of 15% rather than 10%, and the adaptive good estimator; the constant liar is on because the run
 * loop is parallel.
 */
export const defaults: Resolved = {
  nStartupTrials: 10,
  nEiCandidates: 24,
  gamma: defaultGamma,
  weights: defaultWeights,
  considerPrior: true,
  priorWeight: 1,
  considerMagicClip: true,
  considerEndpoints: false,
  multivariate: true,
  bandwidth: 0.1,
  adaptive: true,
  group: true,
  constantLiar: true,
  prior: []
}

// gamma and weights are functions: they are tried on a few history sizes, so that one that
// returns nonsense is refused when the study starts rather than in the middle of it.
const SIZES = [0, 1, 10, 30, 100, 1000]
const tried = <F extends (n: number) => unknown>(what: string, check: (f: F, n: number) => string | undefined) =>
  Opts.fn<F>(what).pipe(Schema.filter((f) => {
    for (const n of SIZES) {
      try {
        const problem = check(f, n)
        if (problem !== undefined) return problem
      } catch (e) {
        return `threw on ${n} trials: ${e instanceof Error ? e.message : String(e)}`
      }
    }
    return true
  }))

/**
 * The Schema of TPE's options: each option's contract, and its JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Tpe } from "@tunekit/samplers"
 * Options.jsonSchema(Tpe.OptionsSchema)
 */
export const OptionsSchema: Schema.Schema<Options> = Schema.Struct({
  nStartupTrials: Schema.optional(Opts.NonNegativeInt),
  nEiCandidates: Schema.optional(Opts.PositiveInt),
  gamma: Schema.optional(tried<(n: number) => number>("a function from the number of trials to the size of the good set", (g, n) => {
    const v = g(n)
    return typeof v === "number" && Number.isFinite(v) && v >= 0 ? undefined : `gamma(${n}) must be a non-negative finite number, got ${Opts.show(v)}`
  })),
  weights: Schema.optional(tried<(n: number) => ReadonlyArray<number>>("a function from n to n observation weights", (f, n) => {
    const w = f(n)
    if (!Array.isArray(w) || w.length < n) return `weights(${n}) must return at least ${n} numbers, got ${Array.isArray(w) ? w.length : Opts.show(w)}`
    const ws = w.slice(0, n)
    if (ws.some((x) => typeof x !== "number" || !Number.isFinite(x) || x < 0)) return `weights(${n}) must be finite and non-negative`
    return n > 0 && ws.reduce((a, b) => a + b, 0) <= 0 ? `weights(${n}) must not be all zero` : undefined
  })),
  considerPrior: Schema.optional(Opts.Boolean),
  priorWeight: Schema.optional(Opts.Positive),
  considerMagicClip: Schema.optional(Opts.Boolean),
  considerEndpoints: Schema.optional(Opts.Boolean),
  multivariate: Schema.optional(Opts.Boolean),
  group: Schema.optional(Opts.Boolean),
  bandwidth: Schema.optional(Opts.Positive),
  adaptive: Schema.optional(Opts.Boolean),
  constantLiar: Schema.optional(Opts.Boolean),
  prior: Schema.optional(PriorTasks.PriorTasksSchema)
})

const decodeOptions = Sampler.decodeOptions("tpe", OptionsSchema)

/** Monte Carlo samples (from each side) of the overlap of a prior task's good region with the study's. */
const PRIOR_SAMPLES = 32

type FrozenTrial = Trial.FrozenTrial

interface Prepared {
  /** Complete + pruned (+ running with the constant liar) trials. */
  readonly usable: ReadonlyArray<FrozenTrial>
  /** How many are complete or pruned. */
  readonly nFinished: number
  groups?: ReadonlyArray<ReadonlyArray<readonly [string, DistributionT.Distribution]>>
  /** The split of all usable trials, shared by every parameter that all of them have. */
  splitAll?: { readonly nBelow: number; readonly split: ReturnType<typeof split> }
}

/**
 * Groups of parameters that always occur together in finished trials (Optuna's
 * _GroupDecomposedSearchSpace): each group can be modelled jointly on the trials that have it.
 * With `group` off, a single group: the parameters every finished trial has (the intersection).
 */
export const decompose = (
  trials: ReadonlyArray<FrozenTrial>,
  group: boolean
): Array<Array<readonly [string, DistributionT.Distribution]>> => {
  const d = decomposer(group)
  for (const t of trials) d.add(t)
  return d.groups()
}

/**
 * The decomposition, built one finished trial at a time. The result does not depend on the order
 * of the trials (two parameters share a group when the same trials have them), so a sampler keeps
 * one per study and adds the trials that finished since its last suggestion.
 */
const decomposer = (group: boolean) => {
  const dist = new Map<string, DistributionT.Distribution>()
  const bad = new Set<string>()
  let sets: Array<Set<string>> | undefined
  // Most trials share their set of parameter names: refine the groups once per distinct set.
  const seenSets = new Set<string>()
  let cached: Array<Array<readonly [string, DistributionT.Distribution]>> | undefined
  const add = (t: FrozenTrial) => {
    if (t.state !== "Complete" && t.state !== "Pruned") return
    let signature = ""
    for (const k in t.params) {
      const d = t.distributions[k]
      if (d === undefined) continue
      const prev = dist.get(k)
      if (prev === undefined) dist.set(k, d)
      else if (prev !== d && !Distribution.equals(prev, d) && !bad.has(k)) {
        bad.add(k)
        cached = undefined
      }
      signature += k + "\u0000"
    }
    if (seenSets.has(signature)) return
    seenSets.add(signature)
    cached = undefined
    const names = new Set<string>()
    for (const k in t.params) if (t.distributions[k] !== undefined && !Distribution.isSingle(t.distributions[k])) names.add(k)
    if (sets === undefined) {
      sets = [names]
      return
    }
    if (!group) {
      sets = [new Set([...sets[0]].filter((k) => names.has(k)))]
      return
    }
    const next: Array<Set<string>> = []
    const seen = new Set<string>()
    for (const g of sets) {
      const inter = new Set<string>()
      const diff = new Set<string>()
      for (const k of g) (names.has(k) ? inter : diff).add(k)
      if (inter.size > 0) next.push(inter)
      if (diff.size > 0) next.push(diff)
      for (const k of g) seen.add(k)
    }
    const rest = new Set([...names].filter((k) => !seen.has(k)))
    if (rest.size > 0) next.push(rest)
    sets = next
  }
  const groups = () =>
    (cached ??= (sets ?? [])
      .map((g) => [...g].filter((k) => !bad.has(k)).sort().map((k) => [k, dist.get(k)!] as const))
      .filter((g) => g.length > 0))
  return { add, groups }
}

/**
 * A TPE sampler service.
 *
 * @example
 * import { Tpe } from "@tunekit/samplers"
 * const sampler = Tpe.make({ nStartupTrials: 5, multivariate: true })
 */
export const make = (options: Options = {}): Sampler.SamplerService => {
  const decoded = decodeOptions(options)
  if (Either.isLeft(decoded)) return Sampler.refused(decoded.left)
  const o: Resolved = Opts.withDefaults(defaults, decoded.right)
  const prepared = new WeakMap<Sampler.SampleContext, Prepared>()
  const prepare = (ctx: Sampler.SampleContext): Prepared => {
    let p = prepared.get(ctx)
    if (p === undefined) {
      const usable: Array<FrozenTrial> = []
      let nFinished = 0
      for (const t of ctx.history) {
        if (t.state === "Complete" || t.state === "Pruned") {
          if (t.state === "Complete" && t.values === undefined) continue
          usable.push(t)
          nFinished++
        } else if (t.state === "Running" && o.constantLiar && t.number !== ctx.trialNumber) usable.push(t)
      }
      p = { usable, nFinished }
      prepared.set(ctx, p)
    }
    return p
  }
  const parzenOptions = (multivariate: boolean): Parzen.ParzenOptions => ({
    considerPrior: o.considerPrior,
    priorWeight: o.priorWeight,
    considerMagicClip: o.considerMagicClip,
    considerEndpoints: o.considerEndpoints,
    multivariate,
    bandwidth: o.bandwidth,
    spread: 0,
    spreadFloor: 0
  })

  /** One TPE step over a set of parameters modelled jointly (or one parameter alone). */
  const sampleGroup = (
    ctx: Sampler.SampleContext,
    params: ReadonlyArray<readonly [string, DistributionT.Distribution]>,
    multivariate: boolean
  ): Record<string, number> => {
    const p = prepare(ctx)
    const specs = params.map(([name, d]) => Parzen.specOf(name, d))
    const trials = p.usable.filter((t) =>
      params.every(([name, d]) => {
        const v = t.params[name]
        return v !== undefined && (t.distributions[name] === d || Distribution.contains(d, v))
      })
    )
    let nFinished = 0
    for (const t of trials) if (t.state !== "Running") nFinished++
    const directions = ctx.study.directions
    const nBelow = Math.max(0, Math.min(nFinished, Math.floor(o.gamma(nFinished))))
    let parts: ReturnType<typeof split>
    if (trials.length === p.usable.length) {
      if (p.splitAll?.nBelow !== nBelow) p.splitAll = { nBelow, split: split(trials, directions, nBelow) }
      parts = p.splitAll.split
    } else parts = split(trials, directions, nBelow)
    const { below, above } = parts
    const obs = (ts: ReadonlyArray<FrozenTrial>) =>
      specs.map((s) => {
        const out = new Float64Array(ts.length)
        const name = s.name
        if (s.distribution._tag !== "Categorical" && s.distribution.log) for (let i = 0; i < ts.length; i++) out[i] = Math.log(ts[i].params[name])
        else for (let i = 0; i < ts.length; i++) out[i] = ts[i].params[name]
        return out
      })
    const wBelow = directions.length > 1 ? motpeBelowWeights(below, directions) : o.weights(below.length).slice(0, below.length)
    const wAbove = o.weights(above.length).slice(0, above.length)
    const po = parzenOptions(multivariate)
    const adaptive = o.adaptive
      ? {
        clipCount: Math.round((below.length + above.length) / 2),
        ...(multivariate && specs.every((x) => x.kind !== "categorical") ? { spread: 4, spreadFloor: 0.5 } : {})
      }
      : {}
    const l = Parzen.build(specs, obs(below), wBelow, { ...po, ...adaptive })
    const g = Parzen.build(specs, obs(above), wAbove, po)
    if (o.prior.length > 0) {
      const models = priorModels(specs, multivariate)
      const w = Prior.taskWeights(l, nFinished, models, ctx.rng, PRIOR_SAMPLES, o.nStartupTrials)
      const seen = Prior.discrete(specs) ? Prior.observations(specs, trials) : undefined
      const taken = seen === undefined ? undefined : new Set(trials.map((_, i) => Prior.keyOf(seen, i)))
      const chosen = Prior.choose(specs, { l, g }, w, models, ctx.rng, o.nEiCandidates, taken)
      const out: Record<string, number> = {}
      specs.forEach((s, j) => (out[s.name] = Parzen.untransform(s, chosen[j])))
      return out
    }
    const n = o.nEiCandidates
    const candidates = Parzen.sample(l, ctx.rng, n)
    const ll = Parzen.logPdf(l, candidates, n)
    const lg = Parzen.logPdf(g, candidates, n)
    let best = 0
    for (let i = 1; i < n; i++) if (ll[i] - lg[i] > ll[best] - lg[best]) best = i
    const out: Record<string, number> = {}
    specs.forEach((s, j) => (out[s.name] = Parzen.untransform(s, candidates[j][best])))
    return out
  }

  // The earlier tasks' estimators depend only on the group: built once per group.
  const priorCache = new Map<string, ReadonlyArray<Prior.TaskModel>>()
  const priorModels = (specs: ReadonlyArray<Parzen.ParamSpec>, multivariate: boolean) => {
    const key = `${multivariate}:${specs.map((s) => s.name).join("\u0000")}`
    let models = priorCache.get(key)
    if (models === undefined) {
      models = o.prior.flatMap((t, i) => {
        const m = Prior.taskModel(t.name ?? `prior ${i}`, specs, t.trials, t.direction, t.similarity ?? 1, o.gamma, o.weights, parzenOptions(multivariate))
        return m === undefined ? [] : [m]
      })
      priorCache.set(key, models)
    }
    return models
  }

  const startup = (ctx: Sampler.SampleContext) => o.prior.length === 0 && prepare(ctx).nFinished < o.nStartupTrials
  // One decomposition per study, fed the trials that finished since the last suggestion.
  const decomposers = new Map<string, { readonly d: ReturnType<typeof decomposer>; readonly seen: Set<number> }>()
  const groupsOf = (ctx: Sampler.SampleContext) => {
    const p = prepare(ctx)
    if (p.groups === undefined) {
      const key = `${ctx.study.id}:${ctx.study.name}:${ctx.study.createdAt}`
      let entry = decomposers.get(key)
      if (entry === undefined) decomposers.set(key, (entry = { d: decomposer(o.group), seen: new Set() }))
      for (const t of ctx.history) {
        if ((t.state === "Complete" || t.state === "Pruned") && !entry.seen.has(t.id)) {
          entry.seen.add(t.id)
          entry.d.add(t)
        }
      }
      p.groups = entry.d.groups()
    }
    return p.groups
  }

  const service: Sampler.SamplerService = {
    name: "tpe",
    usesHistory: true,
    ...(o.multivariate
      ? {
        inferRelativeSpace: (ctx: Sampler.SampleContext): Sampler.SearchSpace =>
          startup(ctx) ? new Map() : new Map(groupsOf(ctx).flat()),
        sampleRelative: (ctx: Sampler.SampleContext, space: Sampler.SearchSpace): Sampler.Relative => {
          if (space.size === 0 || startup(ctx)) return Sampler.noRelative
          const params: Record<string, number> = {}
          for (const g of groupsOf(ctx)) {
            const members = g.filter(([k]) => space.has(k))
            if (members.length > 0) Object.assign(params, sampleGroup(ctx, members, true))
          }
          return { params }
        }
      }
      : {}),
    sampleIndependent: (ctx, name, d) =>
      startup(ctx) ? Sampler.sampleUniform(ctx.rng, d) : sampleGroup(ctx, [[name, d]], false)[name]
  }
  return service
}

/**
 * TPE as a layer.
 *
 * @example
 * import { Effect } from "effect"
 * import { Study } from "@tunekit/core"
 * import { Tpe } from "@tunekit/samplers"
 * declare const program: Effect.Effect<void, never, import("@tunekit/core").Sampler.Sampler>
 * program.pipe(Effect.provide(Tpe.layer({ nStartupTrials: 10 })))
 */
export const layer = (options: Options = {}): Layer.Layer<Sampler.Sampler> => Layer.sync(Sampler.Sampler, () => make(options))
