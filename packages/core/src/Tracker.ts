/**
 * Trackers follow a study as it runs: parameters and metrics of every trial, for experiment
 * tracking services. The no-op tracker is the default.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import type { StudyInfo } from "./Storage.js"
import type { FrozenTrial, Metric } from "./Trial.js"

/** The tracker service. Failures of a tracker are logged, never fail a trial. */
export interface TrackerService {
  readonly trialStarted: (study: StudyInfo, trial: FrozenTrial) => Effect.Effect<void>
  readonly metricReported: (study: StudyInfo, trial: FrozenTrial, metric: Metric) => Effect.Effect<void>
  readonly trialFinished: (study: StudyInfo, trial: FrozenTrial) => Effect.Effect<void>
}

/** The Tracker service tag. */
export class Tracker extends Context.Tag("@tunekit/core/Tracker")<Tracker, TrackerService>() {}

/** A tracker that records nothing. */
export const none: TrackerService = {
  trialStarted: () => Effect.void,
  metricReported: () => Effect.void,
  trialFinished: () => Effect.void
}

/**
 * The no-op tracker as a layer.
 *
 * @example
 * import { Tracker } from "@tunekit/core"
 * const layer = Tracker.layerNone
 */
export const layerNone: Layer.Layer<Tracker> = Layer.succeed(Tracker, none)
