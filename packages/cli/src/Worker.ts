/**
 * Workers: any number of processes, on any number of machines, running the trials of one study
 * from shared storage (PostgreSQL, or one SQLite file on one machine). Storage is the study's
 * single source of truth: each waiting trial is claimed by one worker, samplers see the trials
 * others run, and schedulers decide from what all workers stored.
 *
 * A worker runs a sweep that storage holds (its program, as `tunekit sweep agent` does), or the
 * study a module defines (a `Worker.define` export: space, objective or trainer, layers).
 *
 * @example
 * // study.mjs
 * import { Space } from "@tunekit/core"
 * import { Worker } from "@tunekit/cli"
 * export const study = Worker.define({
 *   space: Space.struct({ lr: Space.float(1e-4, 1e-1, { log: true }) }),
 *   objective: (c) => (Math.log10(c.lr) + 2) ** 2,
 *   retries: { max: 2 }
 * })
 * // then, on every machine:
 * // tunekit worker --storage postgres://host/db --study lr --module study.mjs --slots 4
 *
 * @since 0.3.0
 */
import { Data, Effect, Layer, Option } from "effect"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { Storage, Study, type Trial } from "@tunekit/core"
import * as Sweep from "./Sweep.js"

/** What a module gives a worker: the study's options but its name and budget, and its layers. */
export interface Definition<A = any> extends Omit<Study.OptimizeOptions<A>, "study" | "trials" | "concurrency" | "progress"> {
  /**
   * The layers the study runs with: sampler, scheduler, trainer, executor, seed (`Rng.layer`).
   * They may use the study's storage (ASHA and PBT do).
   */
  readonly layer?: Layer.Layer<any, any, Storage.Storage>
}

/**
 * A study for workers, typed by its space (the identity: it is the module's export).
 *
 * @example
 * import { Space } from "@tunekit/core"
 * import { Worker } from "@tunekit/cli"
 * export const study = Worker.define({ space: Space.struct({ x: Space.float(0, 1) }), objective: (c) => c.x })
 */
export const define = <A>(definition: Definition<A>): Definition<A> => definition

/** A worker could not start: no such study, a module that does not load or define one. */
export class WorkerError extends Data.TaggedError("WorkerError")<{ readonly reason: string }> {
  override get message() {
    return this.reason
  }
}

/** How a worker runs. */
export interface Options {
  /** The study's name. */
  readonly study: string
  /** How storage is named in messages (its URL with the password masked, or its file). */
  readonly storage: string
  /** Trials at once in this worker (default 1). */
  readonly slots?: number
  /** At most this many new configurations in this worker (default: until the study has no more). */
  readonly count?: number
  /** The module that defines the study (needed unless storage holds it as a sweep). */
  readonly module?: string
  /** The module's export (default `study`, else `default`). */
  readonly export?: string
  /** A progress line on stderr (default false). */
  readonly progress?: boolean
}

/** What a worker did, and where the study stands. */
export interface Summary {
  readonly study: string
  /** The trials this worker ran. */
  readonly ran: ReadonlyArray<Trial.FrozenTrial>
  /** Every trial of the study. */
  readonly trials: ReadonlyArray<Trial.FrozenTrial>
  /** The summary as lines for a terminal. */
  readonly text: string
}

const loadDefinition = (file: string, name: string | undefined) =>
  Effect.gen(function*() {
    const url = pathToFileURL(path.resolve(file)).href
    const mod = yield* Effect.tryPromise({
      try: () => import(url) as Promise<Record<string, unknown>>,
      catch: (e) =>
        new WorkerError({
          reason: `the study module ${file} did not load: ${(e as Error).message}${
            /\.[cm]?ts$/.test(file) && (e as { code?: string }).code === "ERR_UNKNOWN_FILE_EXTENSION" ? " (a TypeScript module needs tsx: run the worker with `npx tsx`, or compile the module)" : ""
          }`
        })
    })
    const key = name ?? ("study" in mod ? "study" : "default")
    const definition = mod[key] as Definition | undefined
    const hasRun = definition !== null && typeof definition === "object" && (typeof definition.objective === "function" || definition.layer !== undefined)
    if (!hasRun) {
      return yield* new WorkerError({
        reason: `the study module ${file} has no export "${key}" defining a study (export const ${key} = Worker.define({ space, objective }))`
      })
    }
    return definition
  })

const count = (ts: ReadonlyArray<Trial.FrozenTrial>, state: Trial.State) => ts.filter((t) => t.state === state).length

const summaryOf = (study: string, ran: ReadonlyArray<Trial.FrozenTrial>, trials: ReadonlyArray<Trial.FrozenTrial>): Summary => {
  const states = (["Complete", "Pruned", "Failed"] as const).map((s) => `${count(ran, s)} ${s.toLowerCase()}`).join(", ")
  const text = `worker ${Storage.workerId()} ran ${ran.length} trials of study "${study}" (${states}); the study has ${trials.length} trials, ${
    count(trials, "Running")
  } running, ${count(trials, "Waiting")} waiting`
  return { study, ran, trials, text }
}

/**
 * Runs a worker on the storage provided, until the study has no more trials to run (the sampler is
 * exhausted, the sweep's run cap reached) or `count` new configurations ran here.
 *
 * @example
 * import { Effect } from "effect"
 * import { Postgres } from "@tunekit/postgres"
 * import { Worker } from "@tunekit/cli"
 * const summary = Worker.run({ study: "lr", storage: "postgres://host/db", module: "study.mjs", slots: 4 }).pipe(
 *   Effect.provide(Postgres.layer("postgres://host/db"))
 * )
 */
export const run = (options: Options): Effect.Effect<Summary, WorkerError | Sweep.RunError, Storage.Storage> =>
  Effect.gen(function*() {
    const storage = yield* Storage.Storage
    const existing = yield* Effect.option(storage.getStudy(options.study))
    if (Option.isSome(existing) && existing.value.systemAttrs[Sweep.DEFINITION] !== undefined) {
      const s = yield* Sweep.agentIn(options.study, options.storage, {
        ...(options.count === undefined ? {} : { count: options.count }),
        ...(options.slots === undefined ? {} : { concurrency: options.slots }),
        progress: options.progress ?? false
      })
      return summaryOf(options.study, s.ran, s.trials)
    }
    if (options.module === undefined) {
      return yield* new WorkerError({
        reason: Option.isNone(existing)
          ? `no study "${options.study}" in ${options.storage}: give --module FILE, a module that defines it (Worker.define), to start it`
          : `study "${options.study}" in ${options.storage} is not a sweep: give --module FILE, the module that defines it (Worker.define)`
      })
    }
    const { layer, ...study } = yield* loadDefinition(options.module, options.export)
    const result = yield* Study.optimize({
      ...study,
      study: options.study,
      concurrency: options.slots ?? 1,
      ...(options.count === undefined ? {} : { trials: options.count }),
      progress: options.progress ?? false
    }).pipe(Effect.provide(layer ?? Layer.empty))
    return summaryOf(options.study, result.trials, yield* result.study.trials)
  })
