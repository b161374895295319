/**
 * Population-based training (Jaderberg et al. 2017, "Population Based Training of Neural
 * Networks"; Ray Tune's `PopulationBasedTraining` is the reference for the options and defaults).
 *
 * A population of trials trains in parallel. Every `perturbationInterval` steps, a member in the
 * bottom quantile exploits one in the top quantile (takes its weights, through the Checkpoint
 * service, and its hyperparameters) and explores (a float is multiplied by 0.8 or 1.2, an int or a
 * categorical moves to a neighbour, or the value is resampled with `resampleProbability`, always
 * inside the space).
 *
 * How a config changes mid-run: it does not. An exploit ends the member's current trial (stored as
 * Pruned, with the reason and the system attribute `pbtNext`) and continues the member in a new
 * trial with the explored config, which starts from the donor's checkpoint (`trial.restoreFrom`,
 * `trial.resumeFrom`) and stores its lineage in the system attribute `pbt`. Every trial's metrics
 * come from its own parameters, and finished trials never change. See docs/pbt.md.
 *
 * The trainer's part: save a checkpoint (`Checkpoint.forTrial(...).save(step, state)`) before
 * reporting each step, and start from `restore` when the trial has a `restoreFrom`.
 *
 * `synch: true` (Ray Tune's `synch=True`) makes members wait for each other at every boundary and
 * decides them together from their values there, so that the lineage depends on the seed and the
 * values only, not on the concurrency or the number of worker processes (it needs `population`).
 *
 * @example
 * import { Effect, Layer } from "effect"
 * import { Checkpoint, Space, Study } from "@tunekit/core"
 * import { Pbt } from "@tunekit/schedulers"
 *
 * const space = Space.struct({ lr: Space.float(1e-4, 1e-1, { log: true }), momentum: Space.float(0.5, 0.99) })
 * const program = Study.optimize({
 *   study: "pbt", space, metric: "loss", direction: "minimize",
 *   trials: 8, concurrency: 8, // the population
 *   objective: (config, trial) => train(config, trial) // saves a checkpoint per step, restores from trial.restoreFrom
 * })
 * declare const train: (config: Space.Type<typeof space>, trial: Study.TrialContext<Space.Type<typeof space>>) => Promise<number>
 * program.pipe(
 *   Effect.provide(Pbt.layer({ perturbationInterval: 5, hyperparamMutations: { lr: true }, maxStep: 60 })),
 *   Effect.provide(Layer.merge(Study.layerDefaults({ seed: 1 }), Checkpoint.layer({ directory: "checkpoints" })))
 * )
 *
 * @since 0.1.0
 */
import { Checkpoint, InvalidScheduler, Options as Opts, Rng, Scheduler, Space, Storage, StorageError, Study, Trial } from "@tunekit/core"
import { Effect, Either, Layer, Schema } from "effect"
import * as Pruner from "./Pruner.js"
import * as internal from "./internal/pbt.js"
import * as Synch from "./internal/pbtSynch.js"

/** How one parameter is explored: multipliers and a resampling probability of its own. */
export type Mutation = internal.Mutation

/** The options of PBT. */
export type Options = internal.Options

/** A continuation's lineage, stored in its system attribute `pbt`. */
export type Lineage = internal.Lineage

/** A changed parameter in a lineage: the donor's value and the explored one. */
export type Change = internal.Change

/** The system attribute that holds a continuation's lineage. */
export const LINEAGE = internal.LINEAGE

/** The system attribute set on an exploited trial: the number of the trial that continues it. */
export const NEXT = internal.NEXT

/**
 * A trial's lineage, when it continues another trial.
 *
 * @example
 * import { Pbt } from "@tunekit/schedulers"
 * import type { Trial } from "@tunekit/core"
 * declare const t: Trial.FrozenTrial
 * Pbt.lineageOf(t) // { member: 2, generation: 1, parent: 2, donor: 5, step: 10, changes: { lr: { from: 0.01, to: 0.008 } }, ... }
 */
export const lineageOf: (t: Trial.FrozenTrial) => Lineage | undefined = internal.lineageOf

/**
 * The member (population slot) a trial belongs to: the number of the member's first trial.
 *
 * @example
 * import { Pbt } from "@tunekit/schedulers"
 * import type { Trial } from "@tunekit/core"
 * declare const trials: ReadonlyArray<Trial.FrozenTrial>
 * const members = new Set(trials.map(Pbt.memberOf)) // the population
 */
export const memberOf: (t: Trial.FrozenTrial) => number = internal.memberOf

/**
 * The chain of trials that led to a trial, first trial of the member first: follow it to read
 * the hyperparameter schedule PBT found.
 *
 * @example
 * import { Pbt } from "@tunekit/schedulers"
 * import { Trial } from "@tunekit/core"
 * declare const trials: ReadonlyArray<Trial.FrozenTrial>
 * declare const best: Trial.FrozenTrial
 * const chain = Pbt.history(trials, best).map((t) => [t.number, t.state, Trial.paramValues(t)])
 */
export const history = (trials: ReadonlyArray<Trial.FrozenTrial>, trial: Trial.FrozenTrial): ReadonlyArray<Trial.FrozenTrial> => {
  const byNumber = new Map(trials.map((t) => [t.number, t]))
  const out: Array<Trial.FrozenTrial> = [trial]
  for (let l = lineageOf(trial); l !== undefined;) {
    const parent = byNumber.get(l.parent)
    if (parent === undefined || out.includes(parent)) break
    out.push(parent)
    l = lineageOf(parent)
  }
  return out.reverse()
}

/** One stretch of a schedule: the config that trained the weights from step `from` to step `to`. */
export interface Stretch {
  readonly trial: number
  readonly from: number
  readonly to: number
  /** External parameter values. */
  readonly params: Readonly<Record<string, unknown>>
}

/**
 * The hyperparameter schedule that produced a trial's weights, earliest first: follows each
 * trial's restore point back to the trial whose checkpoint it started from (the donors, not the
 * member's own earlier trials, trained the weights before each exploit).
 *
 * @example
 * import { Pbt } from "@tunekit/schedulers"
 * import type { Trial } from "@tunekit/core"
 * declare const trials: ReadonlyArray<Trial.FrozenTrial>
 * declare const best: Trial.FrozenTrial
 * Pbt.schedule(trials, best) // [{ trial: 3, from: 0, to: 8, params: { lr: 0.1 } }, { trial: 11, from: 8, to: 60, params: { lr: 0.08 } }]
 */
export const schedule = (trials: ReadonlyArray<Trial.FrozenTrial>, trial: Trial.FrozenTrial): ReadonlyArray<Stretch> => {
  const byNumber = new Map(trials.map((t) => [t.number, t]))
  const out: Array<Stretch> = []
  let t: Trial.FrozenTrial | undefined = trial
  let to = Trial.lastStep(trial) ?? 0
  while (t !== undefined && out.length <= trials.length) {
    const from = internal.restoreOf(t)
    out.push({ trial: t.number, from: from?.step ?? 0, to, params: Trial.paramValues(t) })
    if (from === undefined || from.trial === t.number) break
    to = from.step
    t = byNumber.get(from.trial)
  }
  return out.reverse()
}

const NAME = "pbt"

const invalid = (reason: string) => new InvalidScheduler({ scheduler: NAME, reason })

const Factors = Schema.Tuple(Opts.Positive, Opts.Positive)

/**
 * The Schema of PBT's options, and their JSON Schema (`Options.jsonSchema`). What depends on the
 * space (the parameters `hyperparamMutations` names) is checked by `validate`.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Pbt } from "@tunekit/schedulers"
 * Options.jsonSchema(Pbt.OptionsSchema)
 */
export const OptionsSchema: Schema.Schema<Options> = Schema.Struct({
  perturbationInterval: Opts.Positive,
  maxStep: Schema.optional(Opts.Positive),
  hyperparamMutations: Schema.optional(
    Schema.Record({
      key: Schema.String,
      value: Schema.Union(
        Schema.Literal(true),
        Schema.Struct({ factors: Schema.optional(Factors), resampleProbability: Schema.optional(Opts.Probability) })
      )
    }).pipe(Schema.filter((m) => Object.keys(m).length > 0 || "is empty: name at least one parameter to explore"))
  ),
  quantileFraction: Schema.optional(Opts.number({ above: 0, max: 0.5 })),
  resampleProbability: Schema.optional(Opts.Probability),
  perturbationFactors: Schema.optional(Factors),
  metric: Schema.optional(Opts.NonEmptyString),
  direction: Schema.optional(Opts.literals("minimize", "maximize")),
  synch: Schema.optional(Opts.Boolean),
  population: Schema.optional(Opts.PositiveInt),
  synchWaitMs: Schema.optional(Opts.Positive)
}).pipe(
  Schema.filter((o) =>
    o.synch !== true || o.population !== undefined ||
    { path: ["population"], message: "is required with synch: true (the number of members: the study's trials, summed over its workers)" }
  )
)

const decodeOptions = Pruner.decodeOptions(NAME, OptionsSchema)

/** Checks the options, then against the space: the errors `check` raises when a study starts. */
export const validate = (options: Options, space: Space.Compiled<unknown> | undefined): InvalidScheduler | undefined => {
  const decoded = decodeOptions(options)
  if (Either.isLeft(decoded)) return decoded.left
  if (space === undefined) return invalid("population-based training needs a declared search space (Space.struct ...) to explore")
  for (const name of Object.keys(decoded.right.hyperparamMutations ?? {})) {
    if (!space.params.has(name)) {
      return invalid(`hyperparamMutations.${name}: not a parameter of the space (its parameters: ${[...space.params.keys()].join(", ")})`)
    }
  }
  return undefined
}

/**
 * The PBT scheduler. It reads the population from the history, creates continuations in the
 * storage, and asks the Checkpoint service which step of the donor's training it can restore
 * (the donor's latest checkpoint at or before its last report: a donor without one is skipped).
 *
 * @example
 * import { Effect } from "effect"
 * import { Pbt } from "@tunekit/schedulers"
 * const scheduler = Pbt.make({ perturbationInterval: 4, quantileFraction: 0.25, hyperparamMutations: { lr: true } })
 */
export const make = (
  input: Options
): Effect.Effect<Scheduler.SchedulerService, never, Storage.Storage | Rng.Rng | Checkpoint.Checkpoint> =>
  Effect.gen(function*() {
    const decoded = decodeOptions(input)
    if (Either.isLeft(decoded)) return Pruner.toService(Pruner.refused(decoded.left))
    const options = decoded.right
    const storage = yield* Storage.Storage
    const rng = yield* Rng.Rng
    const checkpoints = yield* Checkpoint.Checkpoint
    // The compiled space of each study, recorded by `check` (the run loop calls it at the start).
    const spaces = new Map<number, Space.Compiled<unknown>>()

    // The donor's latest checkpoint at or before its last reported step.
    const restoreStep = (study: string, donor: Trial.FrozenTrial) =>
      Effect.gen(function*() {
        const last = Trial.lastStep(donor)
        if (last === undefined) return undefined
        const steps = yield* Effect.either(checkpoints.steps({ study, trial: donor.number }))
        if (steps._tag === "Left") {
          yield* Effect.logWarning(`pbt: cannot list the checkpoints of trial ${donor.number}: ${steps.left.message}`)
          return undefined
        }
        const ok = steps.right.filter((s) => s <= last)
        return ok.length === 0 ? undefined : ok[ok.length - 1]
      })

    // Continues a member exploited at `exploitedAt` in a new Waiting trial: the donor's explored
    // config, starting from the donor's checkpoint of `step`, with its lineage; the exploited trial
    // names it (`pbtNext`).
    const continueMember: Synch.ContinueMember = (studyId, trial, donor, step, explored, exploitedAt) =>
      Effect.gen(function*() {
        const parent = internal.lineageOf(trial)
        const lineage: Lineage = {
          member: internal.memberOf(trial),
          generation: (parent?.generation ?? 0) + 1,
          parent: trial.number,
          exploitedAt,
          donor: donor.number,
          step,
          changes: explored.changes
        }
        const next = yield* storage.createTrial(studyId, {
          state: "Waiting",
          params: explored.params,
          distributions: explored.distributions,
          systemAttrs: { [Study.RESTORE_FROM]: { trial: donor.number, step }, [LINEAGE]: lineage as unknown as Trial.Json }
        }).pipe(Effect.catchTag("InvalidSpace", (e) => Effect.fail(new StorageError({ operation: "pbt continuation", reason: e.message }))))
        yield* storage.setTrialAttr(trial.id, "system", NEXT, next.number).pipe(
          Effect.catchTag("TrialStateError", (e) => Effect.fail(new StorageError({ operation: "pbt lineage", reason: e.message })))
        )
        return { next: next.number, reason: internal.exploitReason(lineage, next.number) }
      })

    const spaceOf = (study: Storage.StudyInfo) =>
      Effect.suspend(() => {
        const space = spaces.get(study.id)
        return space !== undefined ? Effect.succeed(space) : Effect.die(
          new Error("pbt: the scheduler was not checked against the study's space (the run loop calls check when the study starts)")
        )
      })

    const decide = (ctx: Scheduler.DecideContext): Effect.Effect<Scheduler.Decision, StorageError> =>
      Effect.gen(function*() {
        const space = yield* spaceOf(ctx.study)
        const metric = options.metric ?? ctx.objectives[0]?.metric ?? "value"
        const direction = options.direction ?? ctx.objectives[0]?.direction ?? "minimize"
        if (ctx.metric.values[metric] === undefined) return Scheduler.Continue
        if (options.maxStep !== undefined && ctx.metric.step >= options.maxStep) return Scheduler.Continue
        if (!internal.isDue(ctx.trial, ctx.metric.step, options.perturbationInterval)) return Scheduler.Continue
        const p = internal.plan({
          options,
          space,
          history: yield* ctx.history,
          trial: ctx.trial,
          step: ctx.metric.step,
          metric,
          direction,
          rng: rng.derive(ctx.study.name, NAME, ctx.trial.number, ctx.metric.step)
        })
        if (p === undefined) return Scheduler.Continue
        const step = yield* restoreStep(ctx.study.name, p.donor)
        // A donor trained to the end leaves its exploiter nothing to train.
        if (step === undefined || (options.maxStep !== undefined && step >= options.maxStep)) return Scheduler.Continue
        const { reason } = yield* continueMember(ctx.study.id, ctx.trial, p.donor, step, p.explored, ctx.metric.step)
        return Scheduler.Decision.Prune({ reason })
      })

    const check: Scheduler.SchedulerService["check"] = (s, study) =>
      Effect.suspend(() => {
        const bad = validate(options, s)
        if (bad) return Effect.fail(bad)
        spaces.set(study.id, s!)
        return Effect.void
      })
    // Synch mode decides at boundaries, pauses the members that wait, and resumes them (see internal/pbtSynch.ts).
    if (options.synch === true) {
      const synch = yield* Synch.make({ options, storage, rng, spaceOf, restoreStep, continueMember })
      return { name: NAME, check, ...synch } satisfies Scheduler.SchedulerService
    }
    return { name: NAME, check, decide } satisfies Scheduler.SchedulerService
  })

/**
 * PBT as the Scheduler layer. Needs Storage, Rng and Checkpoint (provide `Checkpoint.layer(...)`).
 *
 * @example
 * import { Pbt } from "@tunekit/schedulers"
 * const layer = Pbt.layer({ perturbationInterval: 5, hyperparamMutations: { lr: true, batchSize: true } })
 * // reproducible across machines: members wait for each other at each boundary
 * const synch = Pbt.layer({ perturbationInterval: 5, hyperparamMutations: { lr: true }, synch: true, population: 16 })
 */
export const layer = (
  options: Options
): Layer.Layer<Scheduler.Scheduler, never, Storage.Storage | Rng.Rng | Checkpoint.Checkpoint> =>
  Layer.effect(Scheduler.Scheduler, make(options))
