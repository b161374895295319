/**
 * Trackers follow a study as it runs: parameters and metrics of every trial, for experiment
 * tracking services. The no-op tracker is the default.
 *
 * @since 0.1.0
 */
import { Context, type Effect, Layer } from "effect"
import type { StudyInfo } from "./Storage.js"
import type { FrozenTrial, Metric } from "./Trial.js"

/**
 * The tracker service: each event is optional, and a tracker leaves out those it does not follow
 * (the run loop then skips preparing them). A tracker's effects cannot fail: a tracker that talks
 * to a server handles its own errors, so that tracking never fails a trial.
 */
export interface TrackerService {
  readonly trialStarted?: (study: StudyInfo, trial: FrozenTrial) => Effect.Effect<void>
  readonly metricReported?: (study: StudyInfo, trial: FrozenTrial, metric: Metric) => Effect.Effect<void>
  readonly trialFinished?: (study: StudyInfo, trial: FrozenTrial) => Effect.Effect<void>
}

/** The Tracker service tag. */
export class Tracker extends Context.Tag("@tunekit/core/Tracker")<Tracker, TrackerService>() {}

/** A tracker that records nothing. */
export const none: TrackerService = {}

/**
 * The no-op tracker as a layer.
 *
 * @example
 * import { Tracker } from "@tunekit/core"
 * const layer = Tracker.layerNone
 */
export const layerNone: Layer.Layer<Tracker> = Layer.succeed(Tracker, none)
