/**
 * Conformance suites, exported so that every implementation of a service runs the same tests.
 * They declare vitest tests: import them from a test file.
 *
 * @since 0.1.0
 */
export * as StorageConformance from "./StorageConformance.js"
export * as SamplerConformance from "./SamplerConformance.js"
export * as SchedulerConformance from "./SchedulerConformance.js"
export * as CheckpointConformance from "./CheckpointConformance.js"
export * as OptionsConformance from "./OptionsConformance.js"
