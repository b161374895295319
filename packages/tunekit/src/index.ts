/**
 * tunekit for code that does not use Effect: `optimize` returns a Promise. It is a thin layer over
 * `@tunekit/core`'s `Study.optimize`, so both behave the same.
 *
 * @example
 * import { optimize, Space } from "tunekit"
 *
 * const result = await optimize({
 *   study: "quadratic",
 *   space: Space.struct({ x: Space.float(-5, 5), y: Space.int(0, 10) }),
 *   objective: async ({ x, y }) => (x - 1) ** 2 + y,
 *   trials: 50,
 *   seed: 42,
 *   storage: "tunekit.db"
 * })
 * console.log(result.best?.config, result.best?.value)
 *
 * @since 0.1.0
 */
import { Cause, Effect, Exit, Layer, Option } from "effect"
import { Postgres, PostgresCheckpoint } from "@tunekit/postgres"
import { Auto } from "@tunekit/samplers"
import { Checkpoint, Retention, Rng, type Sampler, type Scheduler, Space, Storage, Study, type Tracker, type Trainer, Trial } from "@tunekit/core"

export { Space, Trial }

/** What the facade provides to the layers it is given: storage, the seed, checkpoints. */
export type Base = Storage.Storage | Rng.Rng | Checkpoint.Checkpoint

/** Options of `optimize`: those of `Study.optimize`, plus where and how it runs. */
export interface OptimizeOptions<A> extends Study.OptimizeOptions<A> {
  /** An SQLite file, a `postgres://` URL (workers on many machines), or "memory" (the default). */
  readonly storage?: string
  /** The seed of every random choice (default: random). */
  readonly seed?: number
  /**
   * A folder or a `postgres://` URL for checkpoints (ASHA promotion, Hyperband and PBT resume from
   * them); default: the study's database when storage is PostgreSQL, else in memory.
   */
  readonly checkpoints?: string
  /**
   * Which checkpoints are kept (docs/checkpoints.md), or `false` to keep all. Default
   * `Retention.defaults`: the last 2 of each living trial, what a living trial may restore from,
   * and the final one of the best 3 complete trials.
   */
  readonly retention?: Retention.Policy | false
  /**
   * The search strategy, e.g. `Tpe.layer()` from @tunekit/samplers. Default: `Auto.layer({ trials })`,
   * which chooses from the space and the budget (a GP/TPE portfolio for most studies) and records
   * its choice with each trial.
   */
  readonly sampler?: Layer.Layer<Sampler.Sampler, unknown, Base>
  /**
   * The scheduler (default none): a pruner from @tunekit/schedulers, or one that keeps its state
   * in the study's storage (ASHA, successive halving, Hyperband, PBT).
   */
  readonly scheduler?: Layer.Layer<Scheduler.Scheduler, unknown, Base>
  /** The tracker (default none). */
  readonly tracker?: Layer.Layer<Tracker.Tracker, unknown, Base>
  /** The trainer, when there is no `objective` (a Trainer layer of @tunekit/core or @tunekit/tfjs). */
  readonly trainer?: Layer.Layer<Trainer.Trainer, unknown, Base>
}

/** A finished trial as plain data. */
export interface TrialResult<A> {
  readonly number: number
  readonly state: Trial.State
  /** The typed config, for studies with a declared space; the parameters by name otherwise. */
  readonly config: A
  readonly params: Readonly<Record<string, unknown>>
  /** The first objective value. */
  readonly value: number | undefined
  readonly values: ReadonlyArray<number> | undefined
  readonly reason: string | undefined
}

/** What `optimize` resolves to. */
export interface OptimizeResult<A> {
  /** The best complete trial of the study (single objective). */
  readonly best: TrialResult<A> | undefined
  /** The Pareto front of the study (several objectives). */
  readonly paretoFront: ReadonlyArray<TrialResult<A>>
  /** The trials this call ran. */
  readonly trials: ReadonlyArray<TrialResult<A>>
}

/** An error from tunekit, with the typed error it came from in `cause`. */
export class TunekitError extends Error {
  constructor(override readonly cause: unknown, message: string) {
    super(message)
    this.name = "TunekitError"
  }
}

const toResult = <A>(space: Space.Compiled<A> | undefined, t: Trial.FrozenTrial): TrialResult<A> => ({
  number: t.number,
  state: t.state,
  config: space ? space.build((name) => t.params[name]).config : (Trial.paramValues(t) as A),
  params: Trial.paramValues(t),
  value: t.values?.[0],
  values: t.values,
  reason: t.reason
})

/**
 * Runs a study and resolves with its best trial, its Pareto front and the trials it ran. Rejects
 * with a `TunekitError` on an invalid space, options or storage; a failing objective fails its
 * trial only.
 */
export const optimize = async <A = Record<string, unknown>>(options: OptimizeOptions<A>): Promise<OptimizeResult<A>> => {
  const storage = options.storage === undefined || options.storage === "memory" ? Storage.layerMemory : Postgres.layerNamed(options.storage)
  // Only what was given is provided: the study's defaults fill the rest.
  const given = Layer.mergeAll(
    options.sampler ?? Auto.layer(options.trials === undefined ? {} : { trials: options.trials }),
    options.scheduler ?? Layer.empty,
    options.tracker ?? Layer.empty,
    options.trainer ?? Layer.empty
  )
  // Checkpoints every worker reaches: in the study's database when storage is PostgreSQL.
  const where = options.checkpoints ?? (options.storage !== undefined && Postgres.isUrl(options.storage) ? options.storage : undefined)
  const retention = { retention: options.retention ?? Retention.defaults }
  const checkpoints = where === undefined ? Checkpoint.layerMemoryWith(retention) : PostgresCheckpoint.layerNamed(where, retention)
  const layer = Layer.provideMerge(given, Layer.mergeAll(storage, Rng.layer({ seed: options.seed }), checkpoints))
  const program = Effect.map(Study.optimize(options), (r) => {
    const space = r.study.space
    return {
      best: Option.getOrUndefined(Option.map(r.best, (t) => toResult(space, t))),
      paretoFront: r.paretoFront.map((t) => toResult(space, t)),
      trials: r.trials.map((t) => toResult(space, t))
    }
  })
  const exit = await Effect.runPromiseExit(Effect.scoped(Effect.provide(program, layer)))
  if (Exit.isSuccess(exit)) return exit.value
  const error = Cause.squash(exit.cause)
  throw new TunekitError(error, error instanceof Error ? error.message : String(error))
}
