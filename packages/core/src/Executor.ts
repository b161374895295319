/**
 * Executors: where a trial runs. `Study.optimize` asks the Executor service to run each trial's
 * trainer and gets back what the trainer returns (a metric stream, usually); unsubscribing from
 * that stream stops the work wherever it runs. Samplers and schedulers stay in the study's
 * process: with trials on other threads, a slow suggestion no longer stalls training.
 *
 * - `layerInline` (the default): in this process, on its event loop.
 * - `layerProcess({ slots })`: external programs (`Process.trainer`), one process (group) a trial.
 * - `layerThreads({ size })`: a pool of worker threads (one per core by default). The trainer is
 *   loaded in each worker from its module (`Trainer.layerModule`), each metric is decided on in
 *   the study's process before the trainer produces the next one, checkpoints go through the
 *   study's Checkpoint service, and a worker that crashes fails only its trial and is replaced.
 *
 * Resources per trial (Ray Tune's `resources_per_trial`): a study declares what one trial needs
 * (`resourcesPerTrial: { cpu: 1, gpu: 0.5 }`), an executor what it has (`capacity`), and no more
 * trials run at once than fit.
 *
 * @example
 * import { Effect } from "effect"
 * import { Executor, Space, Study, Trainer } from "@tunekit/core"
 *
 * const space = Space.struct({ lr: Space.float(1e-4, 1e-1, { log: true }) })
 * // trainer.ts exports `trainer`, a Trainer service (or a Trainer layer)
 * const program = Study.optimize({ study: "threads", space, metric: "loss", trials: 40, concurrency: 2 }).pipe(
 *   Effect.provide(Trainer.layerModule(new URL("./trainer.ts", import.meta.url), "trainer")),
 *   Effect.provide(Executor.layerThreads({ size: 2 })),
 *   Effect.provide(Study.layerDefaults({ seed: 1 }))
 * )
 *
 * @since 0.2.0
 */
import { Context, Effect, Layer, Option } from "effect"
import * as os from "node:os"
import * as Checkpoint from "./Checkpoint.js"
import { InvalidOptions } from "./Errors.js"
import * as ProgramCheckpoints from "./internal/programCheckpoints.js"
import { makePools } from "./internal/processPool.js"
import { makePool, type PoolOptions } from "./internal/threads.js"
import * as Process from "./Process.js"
import type { ObjectiveResult, TrialContext } from "./Study.js"
import type { TrainerService } from "./Trainer.js"

/** Amounts of resources by kind: `cpu`, `gpu`, or any named slot. */
export type Resources = Readonly<Record<string, number>>

/**
 * A program's trial with the study's Checkpoint service, if one is provided: its checkpoint folder
 * is then saved at each report and restored for a continuation through it (see Process).
 */
const withCheckpoints = <T extends object>(trial: T): Effect.Effect<T> =>
  Effect.map(Effect.serviceOption(Checkpoint.Checkpoint), (service) => (Option.isSome(service) ? ProgramCheckpoints.attach(trial, service.value) : trial))

/** The executor service. */
export interface ExecutorService {
  readonly name: string
  /** What it has: trials whose needs do not fit wait. Kinds it leaves out are unlimited. */
  readonly capacity: Resources
  /** How many trials it runs at once when the study does not say (`concurrency`). */
  readonly defaultConcurrency: number
  /** Checks, when the study starts, that it can run this trainer. */
  readonly check?: (trainer: TrainerService<any>) => Effect.Effect<void, InvalidOptions>
  /** Runs one trial: what the trainer returns, produced wherever the executor runs it. */
  readonly run: <A>(trainer: TrainerService<A>, config: A, trial: TrialContext<A>) => Effect.Effect<ObjectiveResult>
}

/** The Executor service tag. */
export class Executor extends Context.Tag("@tunekit/core/Executor")<Executor, ExecutorService>() {}

/**
 * Runs trials in this process (the default).
 *
 * @example
 * import { Executor } from "@tunekit/core"
 * Executor.inline.name // "inline"
 */
export const inline: ExecutorService = {
  name: "inline",
  capacity: {},
  defaultConcurrency: 1,
  run: (trainer, config, trial) =>
    trainer.command === undefined ? Effect.sync(() => trainer.train(config, trial)) : Effect.map(withCheckpoints(trial), (t) => trainer.train(config, t))
}

/**
 * The inline executor as a layer.
 *
 * @example
 * import { Executor } from "@tunekit/core"
 * const layer = Executor.layerInline
 */
export const layerInline: Layer.Layer<Executor> = Layer.succeed(Executor, inline)

/** Options of the process executor. */
export interface ProcessOptions {
  /** How many programs run at once (default: one per core). */
  readonly slots?: number
  /**
   * Starts the program once per slot and hands it trial after trial (Ray Tune's `reuse_actors`),
   * instead of a process per trial. The program opts in by iterating its reporter's `trials()`
   * (`tunekit/report` in Node, `tunekit_report` in Python); each trial's params and `TUNEKIT_*`
   * variables come in the message that hands it over, not as `--name=value` arguments. The
   * trainer must come from `Process.trainer` or `Process.layer`. Default false.
   */
  readonly reuse?: boolean
}

/**
 * Runs external programs (`Process.trainer`): each trial is a process of its own, in a process
 * group of its own, and at most `slots` run at once (default: one per core). With `reuse: true`,
 * each slot's program is started once and runs trial after trial (its processes stop with the
 * layer's scope): see docs/executors.md.
 *
 * @example
 * import { Executor } from "@tunekit/core"
 * const layer = Executor.layerProcess({ slots: 4 })
 * const reused = Executor.layerProcess({ slots: 4, reuse: true })
 */
export const layerProcess = (options: ProcessOptions = {}): Layer.Layer<Executor> => {
  const slots = options.slots ?? Math.max(1, os.availableParallelism?.() ?? os.cpus().length)
  const refuse = (reason: string) => Effect.fail(new InvalidOptions({ reason }))
  const perTrial: ExecutorService = {
    name: "process",
    capacity: { slots },
    defaultConcurrency: slots,
    check: (trainer) =>
      trainer.command === undefined
        ? refuse(`the process executor runs programs: provide one with Process.layer(argv) (the "${trainer.name}" trainer is not a program)`)
        : Effect.void,
    run: inline.run
  }
  if (options.reuse !== true) return Layer.succeed(Executor, perTrial)
  return Layer.scoped(
    Executor,
    Effect.map(Effect.acquireRelease(Effect.sync(() => makePools(slots)), (p) => Effect.promise(() => p.close())), (pools): ExecutorService => ({
      ...perTrial,
      check: (trainer) => {
        const program = Process.programOf(trainer)
        if (program === undefined) return refuse(`the process executor reuses programs made by Process.trainer or Process.layer (the "${trainer.name}" trainer is not one)`)
        return program.argv.length === 0 ? refuse("a program trainer needs a command: an argv array such as [\"python3\", \"train.py\"]") : Effect.void
      },
      run: (trainer, _config, trial) => Effect.map(withCheckpoints(trial), (t) => pools.run(Process.programOf(trainer)!, t as TrialContext<unknown>))
    }))
  )
}

/** Options of the worker-thread pool. */
export interface ThreadsOptions extends PoolOptions {
  /** Worker threads (default: one per core). */
  readonly size?: number
  /** What the pool has (default: `{ cpu: size, gpu: 0 }`). */
  readonly capacity?: Resources
}

/**
 * A pool of worker threads, started with the layer and stopped when its scope closes.
 *
 * @example
 * import { Executor } from "@tunekit/core"
 * const layer = Executor.layerThreads({ size: 2 })
 */
export const layerThreads = (options: ThreadsOptions = {}): Layer.Layer<Executor> =>
  Layer.scoped(
    Executor,
    Effect.gen(function*() {
      const size = options.size ?? Math.max(1, os.availableParallelism?.() ?? os.cpus().length)
      const pool = yield* Effect.acquireRelease(Effect.sync(() => makePool(size, options)), (p) => Effect.promise(() => p.close()))
      const service: ExecutorService = {
        name: "threads",
        capacity: options.capacity ?? { cpu: size, gpu: 0 },
        defaultConcurrency: size,
        check: pool.check,
        run: pool.run
      }
      return service
    })
  )

/**
 * How many trials fit at once: the least, over the kinds a trial needs, of what the executor has
 * over what a trial needs. Infinity when nothing limits it.
 *
 * @example
 * import { Executor } from "@tunekit/core"
 * Executor.fit({ cpu: 2, gpu: 1 }, { cpu: 1, gpu: 0.5 }) // 2
 */
export const fit = (capacity: Resources, need: Resources): number => {
  let n = Infinity
  for (const [kind, amount] of Object.entries(need)) {
    if (!(amount > 0)) continue
    const has = capacity[kind]
    if (has !== undefined) n = Math.min(n, Math.floor(has / amount + 1e-9))
  }
  return n
}
