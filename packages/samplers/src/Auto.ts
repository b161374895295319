/**
 * Automatic choice of the search strategy from the space, the objectives and the budget:
 *
 * - several objectives: MOTPE (TPE) for budgets under 300 trials, NSGA-II beyond;
 * - a very small budget (10 trials or fewer): a scrambled Sobol' design (random search past the
 *   dimensions Sobol' covers): a model has nothing to learn from yet;
 * - up to 200 trials (or an open-ended budget) in up to 10 parameters: a portfolio of GP-BO and
 *   TPE after GP's startup design. GP-BO is the more sample-efficient on smooth problems, TPE on
 *   rugged multimodal ones (a shifted Rastrigin). GP-BO proposes while a GP fitted to the trials
 *   explains the objective; once the fit leaves a large share of the objective's variance to noise
 *   (the median of the latest three fits, every 5 trials from the 20th: `internal/autoSignal.ts`),
 *   TPE proposes until the share falls again: a model check that hands over to TPE while the
 *   surrogate is poor. With an open-ended budget, TPE alone past 200 trials;
 * - a long run (1000 trials or more) over numeric parameters only: CMA-ES;
 * - everything else: TPE, which handles every distribution and conditional space and stays cheap.
 *
 * The rules read the space as it is known: the declared one, or define-by-run the parameters of
 * the completed trials (branches are sets of parameters that occur together), so a declared space
 * and the same space written define-by-run get the same strategy.
 *
 * What it chose is recorded, never logged: each trial carries the system attribute `auto.sampler`
 * (the member that proposed it, or "design" for the startup design), and the study the same
 * attribute with the strategy and the reason (`{ sampler, reason }`).
 *
 * @since 0.1.0
 */
import { Effect, Either, Layer, Schema } from "effect"
import type { Space, Trial } from "@tunekit/core"
import { Distribution, Options as Opts, Rng, Sampler } from "@tunekit/core"
import * as CmaEs from "./CmaEs.js"
import * as Gp from "./Gp.js"
import * as Nsga2 from "./Nsga2.js"
import * as Qmc from "./Qmc.js"
import * as Tpe from "./Tpe.js"
import * as GpDesign from "./internal/gpDesign.js"
import * as Signal from "./internal/autoSignal.js"

/** The strategies Auto chooses between. */
export type Strategy = "sobol" | "random" | "gp" | "tpe" | "motpe" | "cmaes" | "nsga2" | "portfolio"

/** The members of the portfolio. */
export type Member = "gp" | "tpe"

/** A choice and the reason for it. */
export interface Choice {
  readonly sampler: Strategy
  readonly reason: string
}

/** Options of the automatic sampler. */
export interface Options {
  /** The planned number of trials; the choice depends on it (unknown: treated as open-ended). */
  readonly trials?: number
}

/**
 * The Schema of the automatic sampler's options, and their JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Auto } from "@tunekit/samplers"
 * Options.jsonSchema(Auto.OptionsSchema)
 */
export const OptionsSchema: Schema.Schema<Options> = Schema.Struct({ trials: Schema.optional(Opts.NonNegativeInt) })

const decodeOptions = Sampler.decodeOptions("auto", OptionsSchema)

/**
 * The system attribute that records the choice: on the study `{ sampler, reason }`, on each trial
 * the member that proposed it ("gp", "tpe", or "design" for GP's startup design) or the strategy.
 */
export const ATTRIBUTE = "auto.sampler"

/** The thresholds of the rules (trials and parameters). */
export const thresholds = {
  tinyBudget: 10,
  gpMaxTrials: 200,
  gpMaxParams: 10,
  cmaMinTrials: 1000,
  nsga2MinTrials: 300,
  sobolMaxParams: 21,
  /** Whether the portfolio (with GP) serves conditional spaces; GP models branch parameters. */
  gpOnBranches: true
} as const

/**
 * A search space as far as it is known: its parameters, and whether it has branches (parameters
 * that only some configurations have).
 */
export interface Shape {
  readonly params: ReadonlyMap<string, Distribution.Distribution>
  readonly conditional: boolean
}

interface NodeLike {
  readonly _tag: string
  readonly fields?: Readonly<Record<string, { readonly node: NodeLike }>>
  readonly cases?: Readonly<Record<string, { readonly node: NodeLike }>>
}

const hasBranch = (node: NodeLike): boolean =>
  node._tag === "Branch" || (node._tag === "Struct" && Object.values(node.fields ?? {}).some((f) => hasBranch(f.node)))

const isCompiled = (s: Space.Compiled<any> | Shape): s is Space.Compiled<any> => "space" in s

/**
 * The shape of a declared space, or of a define-by-run study from its completed trials (undefined
 * before any completed): branches show as trials with different sets of parameters.
 *
 * @example
 * import { Space } from "@tunekit/core"
 * import { Auto } from "@tunekit/samplers"
 * declare const ctx: import("@tunekit/core").Sampler.SampleContext
 * Auto.shapeOf(ctx.space, ctx.history) // { params: Map { ... }, conditional: false }
 */
export const shapeOf = (space: Space.Compiled<any> | undefined, history: ReadonlyArray<Trial.FrozenTrial>): Shape | undefined => {
  if (space !== undefined) return { params: space.params, conditional: hasBranch(space.space.node as unknown as NodeLike) }
  const params = new Map<string, Distribution.Distribution>()
  const sets = new Set<string>()
  for (const t of history) {
    if (t.state !== "Complete") continue
    const names = Object.keys(t.params).filter((k) => t.distributions[k] !== undefined).sort()
    sets.add(names.join("\u0000"))
    for (const k of names) if (!params.has(k)) params.set(k, t.distributions[k])
  }
  return sets.size === 0 ? undefined : { params, conditional: sets.size > 1 }
}

/**
 * The rule: which strategy fits a space (a compiled space, a shape, or undefined when nothing is
 * known yet), the study's directions and a budget (undefined when open-ended).
 *
 * @example
 * import { Space } from "@tunekit/core"
 * import { Auto } from "@tunekit/samplers"
 * const space = Space.compile(Space.struct({ x: Space.float(0, 1), y: Space.float(0, 1) }))
 * Auto.choose(space, ["minimize"], 40) // { sampler: "portfolio", reason: "..." }
 */
export const choose = (
  space: Space.Compiled<any> | Shape | undefined,
  directions: ReadonlyArray<Trial.Direction>,
  trials: number | undefined
): Choice => {
  const budget = trials === undefined ? "an open-ended budget" : `a budget of ${trials} trials`
  if (directions.length > 1) {
    return trials !== undefined && trials >= thresholds.nsga2MinTrials
      ? { sampler: "nsga2", reason: `${directions.length} objectives and ${budget} (at least ${thresholds.nsga2MinTrials}): NSGA-II's generations have room to evolve` }
      : { sampler: "motpe", reason: `${directions.length} objectives and ${budget}: MOTPE learns from few trials (NSGA-II needs ${thresholds.nsga2MinTrials} or more)` }
  }
  const shape = space === undefined ? undefined : isCompiled(space) ? shapeOf(space, []) : space
  const dists: ReadonlyArray<Distribution.Distribution> = shape === undefined ? [] : [...shape.params.values()]
  const d = dists.length
  const dims = shape === undefined ? "a space not known yet (define-by-run)" : `${d} dimensions`
  if (trials !== undefined && trials <= thresholds.tinyBudget) {
    return d <= thresholds.sobolMaxParams
      ? { sampler: "sobol", reason: `${budget} (at most ${thresholds.tinyBudget}): too few for a model to learn, a scrambled Sobol' design covers the space evenly` }
      : { sampler: "random", reason: `${budget} (at most ${thresholds.tinyBudget}) and ${d} parameters (Sobol' covers ${thresholds.sobolMaxParams}): random search` }
  }
  const numericOnly = dists.every((x) => x._tag !== "Categorical")
  const conditional = shape?.conditional ?? false
  if (trials !== undefined && trials >= thresholds.cmaMinTrials && numericOnly && !conditional && shape !== undefined) {
    return { sampler: "cmaes", reason: `${budget} (at least ${thresholds.cmaMinTrials}) over ${d} numeric parameters: CMA-ES for a long continuous run` }
  }
  if (conditional && !thresholds.gpOnBranches) {
    return { sampler: "tpe", reason: `a conditional space (branches) and ${budget}: TPE models each group of parameters that occur together` }
  }
  if ((trials === undefined || trials <= thresholds.gpMaxTrials) && d <= thresholds.gpMaxParams) {
    return {
      sampler: "portfolio",
      reason: `${budget}${trials === undefined ? ` (GP-BO for the first ${thresholds.gpMaxTrials} trials)` : ` (at most ${thresholds.gpMaxTrials})`} in ${dims} (at most ${thresholds.gpMaxParams})${conditional ? ", with branches" : ""}: ` +
        "GP-BO proposes while its GP explains the objective, TPE while the GP leaves a large share of it to noise (a rugged objective)"
    }
  }
  return {
    sampler: "tpe",
    reason: `${budget} over ${d} parameters${numericOnly ? "" : " with categoricals"}: TPE (GP-BO is for up to ${thresholds.gpMaxTrials} trials in up to ${thresholds.gpMaxParams} dimensions, CMA-ES for ${thresholds.cmaMinTrials}+ numeric trials)`
  }
}

/** A service for a strategy. */
export const serviceOf = (s: Exclude<Strategy, "portfolio">): Sampler.SamplerService => {
  switch (s) {
    case "sobol":
      return Qmc.make({ kind: "sobol" })
    case "random":
      return Sampler.random
    case "gp":
      return Gp.make()
    case "cmaes":
      return CmaEs.make()
    case "nsga2":
      return Nsga2.make()
    case "tpe":
    case "motpe":
      return Tpe.make()
  }
}

/** The automatic sampler, which also tells what it chose for a study. */
export interface AutoService extends Sampler.SamplerService {
  /** The latest choice made for a study (by id), once made. */
  readonly choice: (studyId: number) => Choice | undefined
  /** What proposed a trial of a study (by id and number), as this process decided it. */
  readonly proposer: (studyId: number, trialNumber: number) => string | undefined
}

interface Decision {
  readonly choice: Choice
  /** What proposes this trial: a strategy, a member, or "design". */
  readonly by: string
  readonly service: Sampler.SamplerService
}

const members: ReadonlyArray<Member> = ["gp", "tpe"]

/**
 * The automatic sampler.
 *
 * @example
 * import { Auto } from "@tunekit/samplers"
 * const sampler = Auto.make({ trials: 50 })
 */
export const make = (input: Options = {}): AutoService => {
  const decoded = decodeOptions(input)
  if (Either.isLeft(decoded)) return { ...Sampler.refused(decoded.left), choice: () => undefined, proposer: () => undefined }
  const options = decoded.right
  // One instance of each strategy, so that samplers that cache per study (TPE, CMA-ES) keep theirs.
  const services = new Map<Exclude<Strategy, "portfolio">, Sampler.SamplerService>()
  const serviceFor = (s: Exclude<Strategy, "portfolio">) => {
    let service = services.get(s)
    if (service === undefined) services.set(s, (service = serviceOf(s)))
    return service
  }
  const latest = new Map<number, Choice>()
  // Trial number -> proposer, per study, as this process decided it.
  const proposed = new Map<number, Map<number, string>>()
  const choiceOf = (ctx: Omit<Sampler.SampleContext, "trialNumber" | "rng">, shape = shapeOf(ctx.space, ctx.history)) => {
    const choice = choose(shape, ctx.study.directions, options.trials)
    latest.set(ctx.study.id, choice)
    return choice
  }
  // The landscape signal's fits, per study (autoSignal.ts).
  const fits = new Map<number, Signal.Cache>()
  // GP-BO leads while its fitted model explains the objective; TPE once the GP leaves a large
  // share of it to noise (a rugged objective).
  const pickMember = (ctx: Sampler.SampleContext, shape: Shape | undefined): Member => {
    let cache = fits.get(ctx.study.id)
    if (cache === undefined) fits.set(ctx.study.id, (cache = new Map()))
    const rugged = shape === undefined
      ? undefined
      : Signal.ruggedness(ctx.history, shape.params, ctx.study.directions[0], (k) => Rng.generator(k, "auto-signal"), cache)
    return rugged !== undefined && rugged >= Signal.defaults.threshold ? "tpe" : "gp"
  }
  const decisions = new WeakMap<Sampler.SampleContext, Decision>()
  const decide = (ctx: Sampler.SampleContext): Decision => {
    let decision = decisions.get(ctx)
    if (decision !== undefined) return decision
    // The space's shape once a decision (without a declared space, it is read from the history).
    const shape = shapeOf(ctx.space, ctx.history)
    const choice = choiceOf(ctx, shape)
    if (choice.sampler !== "portfolio") decision = { choice, by: choice.sampler, service: serviceFor(choice.sampler) }
    else if (GpDesign.inStartup(ctx, undefined)) decision = { choice, by: "design", service: serviceFor("gp") }
    else {
      let complete = 0
      for (const t of ctx.history) if (t.state === "Complete") complete++
      const member: Member = complete >= thresholds.gpMaxTrials ? "tpe" : pickMember(ctx, shape)
      decision = { choice, by: member, service: serviceFor(member) }
    }
    decisions.set(ctx, decision)
    let byNumber = proposed.get(ctx.study.id)
    if (byNumber === undefined) proposed.set(ctx.study.id, (byNumber = new Map()))
    byNumber.set(ctx.trialNumber, decision.by)
    return decision
  }
  return {
    name: "auto",
    usesHistory: true,
    choice: (id) => latest.get(id),
    proposer: (id, n) => proposed.get(id)?.get(n),
    isExhausted: (ctx) => {
      const choice = choiceOf(ctx)
      return choice.sampler === "portfolio" ? false : serviceFor(choice.sampler).isExhausted?.(ctx) ?? false
    },
    check: (space, study) => {
      const choice = choose(space, study.directions, options.trials)
      const parts = choice.sampler === "portfolio" ? members.map(serviceFor) : [serviceFor(choice.sampler)]
      return Effect.forEach(parts, (p) => p.check?.(space, study) ?? Effect.void, { discard: true })
    },
    inferRelativeSpace: (ctx) => decide(ctx).service.inferRelativeSpace?.(ctx) ?? new Map(),
    sampleRelative: (ctx, space) => {
      const { by, choice, service } = decide(ctx)
      const inner = service.inferRelativeSpace !== undefined && service.sampleRelative !== undefined ? service.sampleRelative(ctx, space) : Sampler.noRelative
      return {
        ...inner,
        attrs: { ...inner.attrs, [ATTRIBUTE]: by },
        studyAttrs: { ...inner.studyAttrs, [ATTRIBUTE]: { sampler: choice.sampler, reason: choice.reason } }
      }
    },
    sampleIndependent: (ctx, name, d) => decide(ctx).service.sampleIndependent(ctx, name, d)
  }
}

/**
 * The automatic sampler as a layer. What it chooses is recorded on the study and on each trial
 * (the attribute `auto.sampler`) in whatever order the layers are provided.
 *
 * @example
 * import { Effect } from "effect"
 * import { Study } from "@tunekit/core"
 * import { Auto } from "@tunekit/samplers"
 * declare const program: Effect.Effect<void, never, import("@tunekit/core").Storage.Storage>
 * program.pipe(Effect.provide(Auto.layer({ trials: 60 })), Effect.provide(Study.layerDefaults({ seed: 1 })))
 */
export const layer = (options: Options = {}): Layer.Layer<Sampler.Sampler> => Layer.sync(Sampler.Sampler, () => make(options))
