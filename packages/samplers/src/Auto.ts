/**
 * Automatic choice of the search strategy from the space, the objectives and the budget, following
 * the usual rules of thumb (OptunaHub's AutoSampler and the benchmark in docs/benchmarks-tpe.md):
 *
 * - several objectives: MOTPE (TPE) for budgets under 300 trials, NSGA-II beyond;
 * - a very small budget (10 trials or fewer): a scrambled Sobol' design (random search past the
 *   dimensions Sobol' covers): a model has nothing to learn from yet;
 * - tens of trials (up to 200) in low dimension (up to 10 parameters) without conditional
 *   branches: GP-BO, the most sample-efficient here, and affordable at that size;
 * - a long run (1000 trials or more) over numeric parameters only: CMA-ES;
 * - everything else, including conditional spaces, define-by-run studies and an unknown budget:
 *   TPE, which handles every distribution and conditional space and stays cheap.
 *
 * It says which it picked and why: an info log line when the study starts, and the study's system
 * attribute `auto.sampler` (`{ sampler, reason }`) when the layer can see the Storage service.
 *
 * @since 0.1.0
 */
import { Effect, Either, Layer, Option, Schema } from "effect"
import type { Distribution, Space, Storage as StorageT, Trial } from "@tunekit/core"
import { Options as Opts, Sampler, Storage } from "@tunekit/core"
import * as CmaEs from "./CmaEs.js"
import * as Gp from "./Gp.js"
import * as Nsga2 from "./Nsga2.js"
import * as Qmc from "./Qmc.js"
import * as Tpe from "./Tpe.js"

/** The strategies Auto chooses between. */
export type Strategy = "sobol" | "random" | "gp" | "tpe" | "motpe" | "cmaes" | "nsga2"

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

/** The system attribute of the study that records the choice. */
export const ATTRIBUTE = "auto.sampler"

/** The thresholds of the rules (trials and parameters). */
export const thresholds = {
  tinyBudget: 10,
  gpMaxTrials: 200,
  gpMaxParams: 10,
  cmaMinTrials: 1000,
  nsga2MinTrials: 300,
  sobolMaxParams: 21
} as const

interface NodeLike {
  readonly _tag: string
  readonly fields?: Readonly<Record<string, { readonly node: NodeLike }>>
  readonly cases?: Readonly<Record<string, { readonly node: NodeLike }>>
}

const hasBranch = (node: NodeLike): boolean =>
  node._tag === "Branch" || (node._tag === "Struct" && Object.values(node.fields ?? {}).some((f) => hasBranch(f.node)))

/**
 * The rule: which strategy fits a space (undefined for define-by-run), the study's directions and
 * a budget (undefined when unknown).
 *
 * @example
 * import { Space } from "@tunekit/core"
 * import { Auto } from "@tunekit/samplers"
 * const space = Space.compile(Space.struct({ x: Space.float(0, 1), y: Space.float(0, 1) }))
 * Auto.choose(space, ["minimize"], 40) // { sampler: "gp", reason: "..." }
 */
export const choose = (
  space: Space.Compiled<any> | undefined,
  directions: ReadonlyArray<Trial.Direction>,
  trials: number | undefined
): Choice => {
  const budget = trials === undefined ? "an open-ended budget" : `a budget of ${trials} trials`
  if (directions.length > 1) {
    return trials !== undefined && trials >= thresholds.nsga2MinTrials
      ? { sampler: "nsga2", reason: `${directions.length} objectives and ${budget} (at least ${thresholds.nsga2MinTrials}): NSGA-II's generations have room to evolve` }
      : { sampler: "motpe", reason: `${directions.length} objectives and ${budget}: MOTPE learns from few trials (NSGA-II needs ${thresholds.nsga2MinTrials} or more)` }
  }
  if (space === undefined) {
    return { sampler: "tpe", reason: `a define-by-run study (the space is not known in advance) and ${budget}: TPE handles parameters as they appear` }
  }
  const dists: ReadonlyArray<Distribution.Distribution> = [...space.params.values()]
  const d = dists.length
  if (trials !== undefined && trials <= thresholds.tinyBudget) {
    return d <= thresholds.sobolMaxParams
      ? { sampler: "sobol", reason: `${budget} (at most ${thresholds.tinyBudget}): too few for a model to learn, a scrambled Sobol' design covers the space evenly` }
      : { sampler: "random", reason: `${budget} (at most ${thresholds.tinyBudget}) and ${d} parameters (Sobol' covers ${thresholds.sobolMaxParams}): random search` }
  }
  const conditional = hasBranch(space.space.node as unknown as NodeLike)
  if (conditional) return { sampler: "tpe", reason: `a conditional space (branches) and ${budget}: TPE models each group of parameters that occur together` }
  const numericOnly = dists.every((x) => x._tag !== "Categorical")
  if (trials !== undefined && trials <= thresholds.gpMaxTrials && d <= thresholds.gpMaxParams) {
    return { sampler: "gp", reason: `${budget} (at most ${thresholds.gpMaxTrials}) in ${d} dimensions (at most ${thresholds.gpMaxParams}): GP-BO is the most sample-efficient there` }
  }
  if (trials !== undefined && trials >= thresholds.cmaMinTrials && numericOnly) {
    return { sampler: "cmaes", reason: `${budget} (at least ${thresholds.cmaMinTrials}) over ${d} numeric parameters: CMA-ES for a long continuous run` }
  }
  return {
    sampler: "tpe",
    reason: `${budget} over ${d} parameters${numericOnly ? "" : " with categoricals"}: TPE (GP-BO is for up to ${thresholds.gpMaxTrials} trials in up to ${thresholds.gpMaxParams} dimensions, CMA-ES for ${thresholds.cmaMinTrials}+ numeric trials)`
  }
}

/** A service for a strategy. */
export const serviceOf = (s: Strategy): Sampler.SamplerService => {
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
  /** The choice made for a study (by id), once made. */
  readonly choice: (studyId: number) => Choice | undefined
}

/**
 * The automatic sampler. With `storage`, the choice is also recorded on the study.
 *
 * @example
 * import { Auto } from "@tunekit/samplers"
 * const sampler = Auto.make({ trials: 50 })
 */
export const make = (input: Options = {}, storage?: StorageT.StorageService): AutoService => {
  const decoded = decodeOptions(input)
  if (Either.isLeft(decoded)) return { ...Sampler.refused(decoded.left), choice: () => undefined }
  const options = decoded.right
  const chosen = new Map<number, { readonly choice: Choice; readonly service: Sampler.SamplerService }>()
  const resolve = (study: StorageT.StudyInfo, space: Space.Compiled<any> | undefined) => {
    let c = chosen.get(study.id)
    if (c === undefined) {
      const choice = choose(space, study.directions, options.trials)
      c = { choice, service: serviceOf(choice.sampler) }
      chosen.set(study.id, c)
    }
    return c
  }
  // Before the first study the history is needed to be safe; after, the chosen sampler decides.
  let current: Sampler.SamplerService | undefined
  const of = (ctx: { readonly study: StorageT.StudyInfo; readonly space: Space.Compiled<any> | undefined }) => (current = resolve(ctx.study, ctx.space).service)
  return {
    name: "auto",
    get usesHistory() {
      return current?.usesHistory ?? true
    },
    choice: (id) => chosen.get(id)?.choice,
    isExhausted: (ctx) => of(ctx).isExhausted?.(ctx) ?? false,
    check: (space, study) =>
      Effect.gen(function*() {
        const { choice, service } = resolve(study, space)
        current = service
        yield* Effect.logInfo(`auto sampler: ${choice.sampler} for study "${study.name}", because ${choice.reason}`)
        if (storage !== undefined) {
          yield* storage.setStudyAttr(study.id, "system", ATTRIBUTE, { sampler: choice.sampler, reason: choice.reason }).pipe(
            Effect.catchAll((e) => Effect.logWarning(`auto sampler: could not record the choice: ${e.message}`))
          )
        }
        if (service.check) yield* service.check(space, study)
      }),
    inferRelativeSpace: (ctx) => of(ctx).inferRelativeSpace?.(ctx) ?? new Map(),
    sampleRelative: (ctx, space) => {
      const s = of(ctx)
      return s.inferRelativeSpace !== undefined && s.sampleRelative !== undefined ? s.sampleRelative(ctx, space) : Sampler.noRelative
    },
    sampleIndependent: (ctx, name, d) => of(ctx).sampleIndependent(ctx, name, d)
  }
}

/**
 * The automatic sampler as a layer. When the Storage service is available where the layer is built
 * (provide the sampler layer before the storage layer), the choice is recorded on the study.
 *
 * @example
 * import { Effect } from "effect"
 * import { Storage } from "@tunekit/core"
 * import { Auto } from "@tunekit/samplers"
 * declare const program: Effect.Effect<void, never, import("@tunekit/core").Sampler.Sampler | import("@tunekit/core").Storage.Storage>
 * program.pipe(Effect.provide(Auto.layer({ trials: 60 })), Effect.provide(Storage.layerMemory))
 */
export const layer = (options: Options = {}): Layer.Layer<Sampler.Sampler> =>
  Layer.effect(
    Sampler.Sampler,
    Effect.map(Effect.serviceOption(Storage.Storage), (s) => make(options, Option.getOrUndefined(s)))
  )
