/**
 * @tunekit/core: typed search spaces, trials and studies, storage, samplers, schedulers, and the
 * run loop.
 *
 * @since 0.1.0
 */
export * as Bridge from "./Bridge.js"
export * as Checkpoint from "./Checkpoint.js"
export * as Distribution from "./Distribution.js"
export * as Executor from "./Executor.js"
export * from "./Errors.js"
export * as Export from "./Export.js"
export * as Options from "./Options.js"
export * as Process from "./Process.js"
export * as Progress from "./Progress.js"
export * as Retention from "./Retention.js"
export * as Rng from "./Rng.js"
export * as Sampler from "./Sampler.js"
export * as Scheduler from "./Scheduler.js"
export * as Space from "./Space.js"
export * as Storage from "./Storage.js"
export * as StorageBackend from "./StorageBackend.js"
export * as Study from "./Study.js"
export * as Tracker from "./Tracker.js"
export * as Trainer from "./Trainer.js"
export * as Trial from "./Trial.js"
