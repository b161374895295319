// What the scheduler benchmarks share: every scheduler runs on the same configurations (random
// search, trial n's config from the seed and n, stopped after `configurations`), on memory storage.
import { Rng, Sampler, Storage, Tracker } from "@tunekit/core"
import type { Scheduler } from "@tunekit/core"
import { Budget, Pruner } from "@tunekit/schedulers"
import { Layer } from "effect"

/** Full training: a scheduler that lets every trial go on. */
export const noScheduler = (): Layer.Layer<Scheduler.Scheduler> => Pruner.layer(Pruner.make("none", () => ({ _tag: "Continue" })))

/**
 * The services of one run: the scheduler, `configurations` configs from the sampler (default
 * random search; grid search over an index draws recorded configurations without replacement),
 * memory storage.
 */
export const comparisonServices = (
  scheduler: Layer.Layer<Scheduler.Scheduler, never, Storage.Storage>,
  configurations: number,
  seed: number,
  sampler: Layer.Layer<Sampler.Sampler> = Sampler.layerRandom
) =>
  Layer.mergeAll(
    scheduler,
    Budget.layerConfigurations(configurations).pipe(Layer.provide(sampler)),
    Tracker.layerNone,
    Rng.layer({ seed })
  ).pipe(Layer.provideMerge(Storage.layerMemory))
