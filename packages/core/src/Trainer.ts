/**
 * Trainers as a service: a typed config and the trial's context in, a metric stream out.
 * `Study.optimize` without an `objective` runs the provided Trainer, so a training loop is swapped
 * like any other part of a study: by providing another layer.
 *
 * @example
 * import { Effect } from "effect"
 * import { interval, map, take } from "rxjs"
 * import { Space, Study, Trainer } from "@tunekit/core"
 *
 * const space = Space.struct({ lr: Space.float(1e-4, 1e-1, { log: true }) })
 * const curve = Trainer.layer((c: Space.Type<typeof space>) =>
 *   interval(1).pipe(take(10), map((i) => ({ step: i + 1, values: { loss: c.lr / (i + 1) } }))),
 *   { maxStep: 10 }
 * )
 * const program = Study.optimize({ study: "curves", space, metric: "loss", trials: 20 }).pipe(
 *   Effect.provide(curve),
 *   Effect.provide(Study.layerDefaults({ seed: 1 }))
 * )
 *
 * @since 0.2.0
 */
import { Context, Data, Effect, Layer, Option } from "effect"
import * as Checkpoint from "./Checkpoint.js"
import type { ObjectiveResult, TrialContext } from "./Study.js"

/** The trainer service: one training run per trial. */
export interface TrainerService<A = any> {
  readonly name: string
  /**
   * Runs one trial. An `Observable<Metric>` is the usual result (unsubscribing stops the
   * training); a number, a Promise or an Effect are accepted as for objectives.
   */
  readonly train: (config: A, trial: TrialContext<A>) => ObjectiveResult
  /**
   * The step at which a trial has trained fully (its last epoch). A report at or past it
   * completes the trial whatever the scheduler decides: a fully trained trial is never pruned.
   */
  readonly maxStep?: number | ((config: A) => number | undefined)
  /**
   * Where the trainer can be loaded from (set by `layerModule`): executors that run trials in
   * other threads or processes load it there.
   */
  readonly module?: { readonly url: string; readonly export: string }
  /** The program it runs, for a trainer that runs an external program (`Process.trainer`). */
  readonly command?: ReadonlyArray<string>
}

/** The Trainer service tag. */
export class Trainer extends Context.Tag("@tunekit/core/Trainer")<Trainer, TrainerService<any>>() {}

/**
 * A trainer from a function of the config and the trial's context.
 *
 * @example
 * import { of } from "rxjs"
 * import { Trainer } from "@tunekit/core"
 * const t = Trainer.make((c: { x: number }) => of({ step: 1, values: { value: c.x ** 2 } }), { name: "square" })
 */
export const make = <A>(
  train: (config: A, trial: TrialContext<A>) => ObjectiveResult,
  options: { readonly name?: string; readonly maxStep?: TrainerService<A>["maxStep"] } = {}
): TrainerService<A> => ({
  name: options.name ?? "function",
  train,
  ...(options.maxStep === undefined ? {} : { maxStep: options.maxStep })
})

/**
 * A function as the Trainer layer.
 *
 * @example
 * import { of } from "rxjs"
 * import { Trainer } from "@tunekit/core"
 * const layer = Trainer.layer((c: { x: number }) => of({ step: 1, values: { value: c.x ** 2 } }))
 */
export const layer = <A>(
  train: (config: A, trial: TrialContext<A>) => ObjectiveResult,
  options: { readonly name?: string; readonly maxStep?: TrainerService<A>["maxStep"] } = {}
): Layer.Layer<Trainer> => Layer.succeed(Trainer, make(train, options))

/** Whether a value is a Trainer service (what a trainer module may export, besides a layer). */
export const isTrainerService = (u: unknown): u is TrainerService =>
  u !== null && typeof u === "object" && typeof (u as TrainerService).train === "function"

/** The step at which a config has trained fully, if the trainer says. */
export const maxStepOf = <A>(trainer: TrainerService<A>, config: A): number | undefined =>
  typeof trainer.maxStep === "function" ? trainer.maxStep(config) : trainer.maxStep

/** A trainer module could not be loaded, or its export is not a trainer. */
export class TrainerModuleError extends Data.TaggedError("TrainerModuleError")<{
  readonly url: string
  readonly export: string
  readonly reason: string
}> {
  override get message() {
    return `trainer module ${this.url} (export "${this.export}"): ${this.reason}`
  }
}

/**
 * The Trainer exported by a module (a Trainer service, or a Trainer layer that may use the
 * Checkpoint service), remembered with where it came from, so that executors running trials in
 * worker threads load the same trainer there. In this process it is loaded too (its name, its
 * `maxStep`, and the inline executor use it); a layer export gets the study's Checkpoint service,
 * or checkpoints in memory when none is provided.
 *
 * @example
 * import { Trainer } from "@tunekit/core"
 * const layer = Trainer.layerModule(new URL("./trainer.js", import.meta.url), "trainer")
 */
export const layerModule = (url: URL | string, name = "trainer"): Layer.Layer<Trainer, TrainerModuleError> => {
  const href = typeof url === "string" ? url : url.href
  const module = { url: href, export: name }
  const bad = (reason: string) => new TrainerModuleError({ url: href, export: name, reason })
  const checkpoints = Layer.effect(
    Checkpoint.Checkpoint,
    Effect.map(Effect.serviceOption(Checkpoint.Checkpoint), Option.getOrElse(() => Checkpoint.makeMemory()))
  )
  return Layer.unwrapEffect(Effect.gen(function*() {
    const mod = yield* Effect.tryPromise({ try: () => import(href) as Promise<Record<string, unknown>>, catch: (e) => bad(`cannot be imported: ${e instanceof Error ? e.message : String(e)}`) })
    const exported = mod[name]
    if (Layer.isLayer(exported)) {
      const built = (exported as Layer.Layer<Trainer, unknown, Checkpoint.Checkpoint>).pipe(Layer.provide(checkpoints), Layer.mapError((e) => bad(`its layer failed: ${String(e)}`)))
      return Layer.map(built, (ctx) => Context.add(ctx, Trainer, { ...Context.get(ctx, Trainer), module }))
    }
    if (isTrainerService(exported)) return Layer.succeed(Trainer, { ...exported, module })
    return yield* bad("is not a Trainer service (Trainer.make) or a Trainer layer")
  }))
}
