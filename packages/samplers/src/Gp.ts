/**
 * Gaussian-process Bayesian optimization (Snoek, Larochelle & Adams, "Practical Bayesian
 * optimization of machine learning algorithms", NeurIPS 2012).
 *
 * The parameters the completed trials share are mapped to the unit cube (`Distribution.toUnit`:
 * log parameters in log space), categoricals one-hot; the objective is standardized. A GP with an
 * ARD kernel (Matern 5/2 or RBF) plus a first-order additive component (Duvenaud et al. 2011),
 * whose amplitudes, length scales and noise are fitted by maximum marginal likelihood (with a weak
 * prior), models it; the next trial maximizes an acquisition
 * (log EI by default, or EI, PI, UCB) over scrambled Sobol' candidates, perturbations of the best
 * trials and lines through the best trial along each parameter (Kirschner et al. 2019's
 * one-dimensional subspaces), refined by a local search.
 * Integer, stepped and categorical parameters stay on their grids. Running trials enter the model
 * with a kriging-believer or constant-liar value, so that parallel workers spread out.
 *
 * Conditional spaces: every parameter some completed trial has is modelled; a trial's inactive
 * parameters (another branch's) take a constant outside the unit cube (the imputation of Levesque
 * et al. 2017), and candidates are drawn per branch the history shows, with the values that select
 * it, so a branch's parameters are learnt from its own trials rather than sampled uniformly.
 *
 * The first `nStartupTrials` trials come from an initial design (Latin hypercube, Sobol' or
 * random), fixed by the space: a declared one, or define-by-run the first trial to complete, whose
 * point the design is built around (stored as the study attribute `gp.design`, so that every
 * worker builds the same one). Every stratum of every parameter holds one startup point. GP-BO
 * handles one objective; a study with several is refused when it starts.
 *
 * @since 0.1.0
 */
import { Distribution, Options as Opts, Rng, Sampler, SamplerUnsupported } from "@tunekit/core"
import type { Trial } from "@tunekit/core"
import { Effect, Either, Layer, Schema } from "effect"
import * as Qmc from "./Qmc.js"
import * as GpDesign from "./internal/gpDesign.js"
import * as GpPrior from "./internal/gpPrior.js"
import * as PriorTasks from "./internal/priorTask.js"
import * as GpSampler from "./internal/gpSampler.js"
import { NotPositiveDefinite } from "./internal/linalg.js"

/**
 * The acquisition functions.
 *
 * @example
 * import { Gp } from "@tunekit/samplers"
 * const a: Gp.Acquisition = "ucb"
 */
export type Acquisition = GpSampler.Acquisition

/**
 * Options of the GP sampler.
 *
 * @example
 * import { Gp } from "@tunekit/samplers"
 * const options: Gp.Options = { kernel: "rbf", acquisition: "ucb", kappa: 3, initialDesign: "lhs" }
 */
export interface Options {
  /** "matern52" (default) or "rbf". */
  readonly kernel?: "matern52" | "rbf"
  /** "logei" (default), "ei", "pi" or "ucb". */
  readonly acquisition?: Acquisition
  /** UCB's exploration weight kappa (default 2). */
  readonly kappa?: number
  /** EI and PI's margin xi, in standard deviations of the objective (default 0). */
  readonly xi?: number
  /**
   * The margin xi of odd-numbered trials (default 0.1): every other trial explores a little more,
   * which escapes local optima more often at little cost in precision. 0 turns it off.
   */
  readonly exploreXi?: number
  /**
   * Trials from the initial design before the GP takes over (default max(10, 2 d + 2) for d
   * parameters: 14 in 6 dimensions; with the additive component, held-out runs reached Hartmann6's
   * global optimum as often as with 20, and got further in 50 trials of Styblinski-Tang 8).
   */
  readonly nStartupTrials?: number
  /**
   * The initial design: "lhs" (default), "sobol" or "random". A Latin hypercube spreads every
   * parameter evenly on its own (McKay, Beckman & Conover 1979), which is what the additive
   * component learns from: on held-out seeds it took Styblinski-Tang 8's median after 50 trials
   * from -233.7 (Sobol') to -242.1, and left the other benchmark problems as they were.
   */
  readonly initialDesign?: "sobol" | "lhs" | "random"
  /**
   * The value given to running trials: "believer" (default: the GP's mean, the kriging believer of
   * Ginsbourger et al. 2010), or a constant liar: "min" (the worst seen), "max" (the best), "mean".
   */
  readonly liar?: GpSampler.Liar
  /** Quasi-random candidates scored per suggestion (default 1024). */
  readonly candidates?: number
  /** Best candidates refined by local search (default 4). */
  readonly localStarts?: number
  /**
   * Restarts of the hyperparameter fit besides the default start (default 2; at most 1 past 60
   * trials, none past 120): with the additive component, the first fits a mostly additive kernel,
   * the others start at random.
   */
  readonly restarts?: number
  /**
   * A monotone log warp of the objective when its values are strongly skewed (default true):
   * helps on objectives that span orders of magnitude (Rosenbrock4: median 4.6 instead of 94).
   */
  readonly warp?: boolean
  /**
   * A first-order additive component in the kernel (default true): where the objective is close
   * to a sum of one-parameter effects, every trial informs each parameter's effect. Its weight is
   * fitted with the rest, and a mostly additive fit competes with the joint one by leave-one-out
   * likelihood (up to 120 trials). Styblinski-Tang in 8 dimensions, median of seeds 0-9 after 100
   * trials: -303.8 with the defaults, -251.9 with the earlier GP that had neither this nor the
   * Latin-hypercube startup (optimum -313.3).
   */
  readonly additive?: boolean
  /** The posterior uses at most this many trials (default 400; the best fifth and a seeded choice of the rest). */
  readonly maxPoints?: number
  /** The fit of hyperparameters uses at most this many trials (default 100); predictions use all. */
  readonly maxFitPoints?: number
  /**
   * Model the parameters of every branch of a conditional space (default true): each trial's
   * inactive parameters take a constant outside the unit cube (Levesque et al. 2017), and each
   * candidate belongs to one branch the history shows. false models only the parameters that every
   * completed trial has (Optuna's intersection space) and samples the others uniformly.
   */
  readonly conditional?: boolean
  /**
   * Prior transfer: earlier tasks' trials, in this study's parameter space (as TPE's
   * `Options.prior`; `Transfer.gp` of @tunekit/transfer gives them from the transfer database).
   * Each earlier task gets a GP, weighted as in RGPE (Feurer, Letham & Bakshy 2018) by the
   * probability that it ranks the study's trials best, times its similarity, so that an earlier
   * task whose landscape orders the study's trials wrongly loses its weight as they grow; the
   * study's GP models its residuals from their weighted mean (`priorModel`). No startup design is
   * run: the first trial is the model's best predicted config. Default none.
   */
  readonly prior?: ReadonlyArray<PriorTask>
  /** Draws from the models' predictive distributions that weigh the prior tasks (default 256). */
  readonly priorSamples?: number
  /**
   * How the earlier tasks' GPs and the study's combine: "stacked" (default), the study's GP on its
   * residuals from their weighted mean (Golovin et al. 2017's stacking), or "ensemble", RGPE's
   * weighted sum of the GPs.
   */
  readonly priorModel?: "stacked" | "ensemble"
  /**
   * With prior transfer from tasks said to be related (similarities summing to 1 at least) on a
   * space with continuous parameters: the initial side, in the unit cube, of the trust region that
   * confines the search to the surroundings of the study's best trial in those parameters, from its
   * third trial on and while the earlier tasks hold most of the ranking weight (TuRBO's rule,
   * Eriksson et al. 2019: doubled after 3 improvements in a row, halved after max(4, parameters)
   * trials without one, dropped below a sixteenth of this). The prior puts the first trials near
   * the earlier tasks' optimum; the region keeps the next ones refining there rather than visiting
   * every other region the prior shows. Default 0.2; 0 turns it off, and the earlier tasks' kernel
   * (`priorPretrainedTrials`) with it.
   *
   * @example
   * const layer = Gp.layer({ prior, priorTrustRegion: 0.1 })
   */
  readonly priorTrustRegion?: number
  /**
   * Under the trust region's conditions (`priorTrustRegion`), below this many trials of its own
   * the study's GPs take the earlier tasks' kernel hyperparameters (their geometric mean) instead
   * of fitting them on a handful of points, as HyperBO pre-trains the GP (Wang et al. 2024).
   * Default 20; 0 fits them always.
   */
  readonly priorPretrainedTrials?: number
}

/**
 * An earlier task for prior transfer (`Options.prior`): its trials, with internal parameter values
 * by this study's names, its direction and its similarity to this task (default 1).
 *
 * @example
 * import { Gp } from "@tunekit/samplers"
 * declare const trials: ReadonlyArray<import("@tunekit/core").Trial.FrozenTrial>
 * const task: Gp.PriorTask = { name: "mnist", trials, direction: "minimize", similarity: 0.8 }
 */
export type PriorTask = GpPrior.PriorTask

/**
 * The Schema of the GP sampler's options, and their JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Gp } from "@tunekit/samplers"
 * Options.jsonSchema(Gp.OptionsSchema)
 */
export const OptionsSchema: Schema.Schema<Options> = Schema.Struct({
  kernel: Schema.optional(Opts.literals("matern52", "rbf")),
  acquisition: Schema.optional(Opts.literals("logei", "ei", "pi", "ucb")),
  kappa: Schema.optional(Opts.NonNegative),
  xi: Schema.optional(Opts.NonNegative),
  exploreXi: Schema.optional(Opts.NonNegative),
  nStartupTrials: Schema.optional(Opts.number({ int: true, min: 2 })),
  initialDesign: Schema.optional(Opts.literals("lhs", "sobol", "random")),
  liar: Schema.optional(Opts.literals("believer", "min", "max", "mean")),
  candidates: Schema.optional(Opts.PositiveInt),
  localStarts: Schema.optional(Opts.PositiveInt),
  restarts: Schema.optional(Opts.NonNegativeInt),
  warp: Schema.optional(Opts.Boolean),
  additive: Schema.optional(Opts.Boolean),
  maxPoints: Schema.optional(Opts.number({ int: true, min: 2 })),
  maxFitPoints: Schema.optional(Opts.number({ int: true, min: 2 })),
  conditional: Schema.optional(Opts.Boolean),
  prior: Schema.optional(PriorTasks.PriorTasksSchema),
  priorSamples: Schema.optional(Opts.PositiveInt),
  priorModel: Schema.optional(Opts.literals("stacked", "ensemble")),
  priorTrustRegion: Schema.optional(Opts.Probability),
  priorPretrainedTrials: Schema.optional(Opts.number({ int: true, min: 0 }))
})

const decodeOptions = Sampler.decodeOptions("gp", OptionsSchema)

const complete = (t: Trial.FrozenTrial) => t.state === "Complete" && t.values !== undefined

/**
 * The parameters every completed trial has, with the same distribution (Optuna's intersection
 * search space), in the declared order when there is a space and by name otherwise. Parameters
 * with a single value are left out.
 *
 * @example
 * import { Gp } from "@tunekit/samplers"
 * declare const ctx: import("@tunekit/core").Sampler.SampleContext
 * const modelled = Gp.intersectionSpace(ctx) // Map { "lr" => ..., "layers" => ... }
 */
export const intersectionSpace = (ctx: Sampler.SampleContext): Sampler.SearchSpace => {
  let common: Map<string, Distribution.Distribution> | undefined
  for (const t of ctx.history) {
    if (!complete(t)) continue
    if (common === undefined) {
      common = new Map(Object.entries(t.distributions))
      continue
    }
    for (const [k, d] of common) {
      const td = t.distributions[k]
      if (td === undefined || !Distribution.equals(td, d)) common.delete(k)
    }
  }
  if (common === undefined) return new Map()
  const order = ctx.space ? [...ctx.space.params.keys()] : [...common.keys()].sort()
  const out = new Map<string, Distribution.Distribution>()
  for (const k of order) {
    const d = common.get(k)
    if (d !== undefined && !Distribution.isSingle(d)) out.set(k, d)
  }
  return out
}

/**
 * Every parameter some completed trial has, as long as all of them give it the same distribution,
 * in the declared order when there is a space and by name otherwise (parameters with a single value
 * left out): the space a conditional GP models, inactive parameters marked per trial.
 *
 * @example
 * import { Gp } from "@tunekit/samplers"
 * declare const ctx: import("@tunekit/core").Sampler.SampleContext
 * const modelled = Gp.unionSpace(ctx) // Map { "model" => ..., "model.svm.c" => ..., "model.forest.depth" => ... }
 */
export const unionSpace = (ctx: Sampler.SampleContext): Sampler.SearchSpace => {
  const all = new Map<string, Distribution.Distribution>()
  const bad = new Set<string>()
  for (const t of ctx.history) {
    if (!complete(t)) continue
    for (const [k, d] of Object.entries(t.distributions)) {
      const prev = all.get(k)
      if (prev === undefined) all.set(k, d)
      else if (prev !== d && !Distribution.equals(prev, d)) bad.add(k)
    }
  }
  const order = ctx.space ? [...ctx.space.params.keys()] : [...all.keys()].sort()
  const out = new Map<string, Distribution.Distribution>()
  for (const k of order) {
    const d = all.get(k)
    if (d !== undefined && !bad.has(k) && !Distribution.isSingle(d)) out.set(k, d)
  }
  return out
}

/**
 * A GP-BO sampler.
 *
 * @example
 * import { Gp } from "@tunekit/samplers"
 * const sampler = Gp.make({ acquisition: "logei", nStartupTrials: 8 })
 */
export const make = (input: Options = {}): Sampler.SamplerService => {
  const decoded = decodeOptions(input)
  if (Either.isLeft(decoded)) return Sampler.refused(decoded.left)
  const options = decoded.right
  // The startup design is fixed by the space, or define-by-run by the first trial to complete.
  const designOf = (ctx: Sampler.SampleContext) => GpDesign.designOf(ctx, options.nStartupTrials)
  const settings: GpSampler.Settings = {
    kernel: options.kernel ?? "matern52",
    acquisition: options.acquisition ?? "logei",
    kappa: options.kappa ?? 2,
    xi: options.xi ?? 0,
    exploreXi: options.exploreXi ?? 0.1,
    liar: options.liar ?? "believer",
    candidates: options.candidates ?? 1024,
    localStarts: options.localStarts ?? 4,
    restarts: options.restarts ?? 2,
    maxFitPoints: options.maxFitPoints ?? 100,
    maxPoints: options.maxPoints ?? 400,
    warp: options.warp ?? true,
    additive: options.additive ?? true
  }
  const initialDesign = options.initialDesign ?? "lhs"
  const sobol = Qmc.make({ kind: "sobol" })
  const prior = options.prior ?? []
  // With prior transfer there is no startup design: the earlier tasks' models guide the first trials.
  const inStartup = (ctx: Sampler.SampleContext) => prior.length === 0 && GpDesign.inStartup(ctx, options.nStartupTrials)
  // Each earlier task's GP, fitted once per encoding of the space (seeded by the task's place alone,
  // so that every worker and every trial fits the same one).
  const priorTrials = prior.flatMap((t) => t.trials)
  const bases = new Map<string, ReadonlyArray<GpPrior.BaseModel>>()
  const priorOf: GpSampler.Prior | undefined = prior.length === 0 ? undefined : {
    samples: options.priorSamples ?? 256,
    model: options.priorModel ?? "stacked",
    trustRegion: options.priorTrustRegion ?? 0.2,
    pretrainedTrials: options.priorPretrainedTrials ?? 20,
    bases: (enc, encoder) => {
      const key = enc.names.map((k, i) => `${k}:${JSON.stringify(enc.dists[i])}`).join("|")
      let found = bases.get(key)
      if (found === undefined) {
        found = prior.flatMap((t, i) => GpPrior.fitBase(settings.kernel, encoder, t, i, Rng.generator(i, "gp-prior"), settings.additive) ?? [])
        bases.set(key, found)
      }
      return found
    }
  }
  const startupValue = (ctx: Sampler.SampleContext, name: string, d: Distribution.Distribution): number => {
    const design = designOf(ctx)
    if (design === undefined || initialDesign === "random" || Distribution.isSingle(d)) return Sampler.sampleUniform(ctx.rng, d)
    if (initialDesign === "sobol") return ctx.trialNumber < design.size ? sobol.sampleIndependent(ctx, name, d) : Sampler.sampleUniform(ctx.rng, d)
    const u = GpDesign.coordinate(ctx, design, name, ctx.trialNumber)
    return u === undefined ? Sampler.sampleUniform(ctx.rng, d) : Distribution.fromUnit(d, u)
  }
  const ownSpace = options.conditional === false ? intersectionSpace : unionSpace
  // With prior transfer, the earlier tasks' trials show the space before the study's own do.
  const relativeSpace = (ctx: Sampler.SampleContext) => (prior.length === 0 ? ownSpace(ctx) : ownSpace({ ...ctx, history: [...priorTrials, ...ctx.history] }))
  const sampleModel = (ctx: Sampler.SampleContext, space: Sampler.SearchSpace): Record<string, number> => {
    try {
      return GpSampler.sampleRelative(ctx, space, settings, priorOf)
    } catch (e) {
      // A kernel matrix that no jitter makes positive definite (values of wildly different
      // scales): this trial is sampled independently rather than failing the study.
      if (e instanceof NotPositiveDefinite) return {}
      throw e
    }
  }
  return {
    name: "gp",
    usesHistory: true,
    check: (_space, study) => {
      if (study.directions.length > 1) {
        return Effect.fail(
          new SamplerUnsupported({
            sampler: "gp",
            reason: `GP-BO optimizes one objective and this study has ${study.directions.length}; use NSGA-II or MOTPE`
          })
        )
      }
      return Effect.void
    },
    inferRelativeSpace: (ctx) => (inStartup(ctx) ? new Map() : relativeSpace(ctx)),
    sampleRelative: (ctx, space) => {
      // A define-by-run design just fixed by the history is proposed as the study's, once.
      const design = designOf(ctx)
      if (design?.derived) return { params: space.size === 0 ? {} : sampleModel(ctx, space), studyAttrs: GpDesign.attributeOf(design) }
      return space.size === 0 ? Sampler.noRelative : { params: sampleModel(ctx, space) }
    },
    // The initial design, and parameters outside the modelled space (new ones) after it.
    sampleIndependent: (ctx, name, d) => (inStartup(ctx) ? startupValue(ctx, name, d) : Sampler.sampleUniform(ctx.rng, d))
  }
}

/**
 * The GP-BO sampler as a layer.
 *
 * @example
 * import { Gp } from "@tunekit/samplers"
 * const layer = Gp.layer({ kernel: "matern52", acquisition: "ei" })
 */
export const layer = (options: Options = {}): Layer.Layer<Sampler.Sampler> => Layer.sync(Sampler.Sampler, () => make(options))
