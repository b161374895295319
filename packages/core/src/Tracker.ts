/**
 * Trackers follow a study as it runs: parameters and metrics of every trial, for experiment
 * tracking services. The no-op tracker is the default; `all` follows a study with several.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import type { StudyInfo } from "./Storage.js"
import type { FrozenTrial, Metric } from "./Trial.js"

/**
 * What a trial (or the study's parent run) records besides its params and metrics: tags, a note
 * (text, such as a model summary), or an artifact (a file: a checkpoint, a log, a plot, the model).
 */
export type Log =
  | { readonly _tag: "Tags"; readonly tags: Readonly<Record<string, string>> }
  | { readonly _tag: "Note"; readonly text: string }
  | { readonly _tag: "Artifact"; readonly name: string; readonly data: Uint8Array | string; readonly contentType?: string }

/** How a study's run ended: all its trials done, an error, or an interruption. */
export interface StudyEnd {
  readonly state: "Finished" | "Failed" | "Interrupted"
  readonly reason?: string
}

/**
 * What a tracker that talks to a server counts: requests sent, retried, failed after their
 * retries, and events dropped (a full queue, or left unsent when the tracker closed). A failing
 * tracker never fails a trial; it reports these at the end of the study.
 */
export interface Health {
  readonly tracker: string
  readonly sent: number
  readonly retried: number
  readonly failed: number
  readonly dropped: number
  readonly lastError?: string
}

/**
 * The tracker service: each event is optional, and a tracker leaves out those it does not follow
 * (the run loop then skips preparing them). A tracker's effects cannot fail: a tracker that talks
 * to a server handles its own errors, so that tracking never fails a trial.
 */
export interface TrackerService {
  /** The study's run starts (`Study.optimize` begins): the parent run of its trials. */
  readonly studyStarted?: (study: StudyInfo) => Effect.Effect<void>
  readonly trialStarted?: (study: StudyInfo, trial: FrozenTrial) => Effect.Effect<void>
  readonly metricReported?: (study: StudyInfo, trial: FrozenTrial, metric: Metric) => Effect.Effect<void>
  /** A trial ended (Complete, Pruned, Failed), or was paused (Waiting) to be resumed later. */
  readonly trialFinished?: (study: StudyInfo, trial: FrozenTrial) => Effect.Effect<void>
  /** Tags, a note or an artifact of a running trial, or of the study's parent run (no trial). */
  readonly logged?: (study: StudyInfo, trial: FrozenTrial | undefined, log: Log) => Effect.Effect<void>
  /** The study's run ended: a tracker reports its failures here (see `Health`). */
  readonly studyFinished?: (study: StudyInfo, end: StudyEnd) => Effect.Effect<void>
  /** What a tracker talking to a server has counted so far. */
  readonly health?: Effect.Effect<ReadonlyArray<Health>>
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

/**
 * Tags for `TrackerService.logged`.
 *
 * @example
 * import { Tracker } from "@tunekit/core"
 * const log = Tracker.tags({ model: "cnn", dataset: "mnist" })
 */
export const tags = (tags: Readonly<Record<string, string>>): Log => ({ _tag: "Tags", tags })

/**
 * A note for `TrackerService.logged`.
 *
 * @example
 * import { Tracker } from "@tunekit/core"
 * const log = Tracker.note("conv 3x3x16 -> dense 10; 7,850 parameters")
 */
export const note = (text: string): Log => ({ _tag: "Note", text })

/**
 * An artifact (a file's bytes or text) for `TrackerService.logged`.
 *
 * @example
 * import { Tracker } from "@tunekit/core"
 * const log = Tracker.artifact("weights.bin", new Uint8Array([1, 2, 3]), "application/octet-stream")
 */
export const artifact = (name: string, data: Uint8Array | string, contentType?: string): Log => ({
  _tag: "Artifact",
  name,
  data,
  ...(contentType === undefined ? {} : { contentType })
})

/** A tracker given either as a service or as a layer. */
export type TrackerLike<E = never, R = never> = TrackerService | Layer.Layer<Tracker, E, R>

/** The trackers' handlers of one event, run one after the other; undefined when none follows it. */
const each = <Args extends ReadonlyArray<unknown>>(
  handlers: ReadonlyArray<((...args: Args) => Effect.Effect<void>) | undefined>
): ((...args: Args) => Effect.Effect<void>) | undefined => {
  const fs = handlers.filter((f): f is (...args: Args) => Effect.Effect<void> => f !== undefined)
  if (fs.length === 0) return undefined
  if (fs.length === 1) return fs[0]
  return (...args) => Effect.forEach(fs, (f) => f(...args), { discard: true })
}

/**
 * Several trackers as one: each event reaches every tracker that follows it, in the order given.
 * A tracker's events cannot fail, so one tracker never keeps an event from another.
 *
 * @example
 * import { Effect } from "effect"
 * import { Tracker } from "@tunekit/core"
 * const both = Tracker.allService([Tracker.none, { trialFinished: () => Effect.log("done") }])
 */
export const allService = (trackers: ReadonlyArray<TrackerService>): TrackerService => {
  const studyStarted = each(trackers.map((t) => t.studyStarted))
  const trialStarted = each(trackers.map((t) => t.trialStarted))
  const metricReported = each(trackers.map((t) => t.metricReported))
  const trialFinished = each(trackers.map((t) => t.trialFinished))
  const logged = each(trackers.map((t) => t.logged))
  const studyFinished = each(trackers.map((t) => t.studyFinished))
  const healths = trackers.flatMap((t) => (t.health === undefined ? [] : [t.health]))
  return {
    ...(studyStarted && { studyStarted }),
    ...(trialStarted && { trialStarted }),
    ...(metricReported && { metricReported }),
    ...(trialFinished && { trialFinished }),
    ...(logged && { logged }),
    ...(studyFinished && { studyFinished }),
    ...(healths.length > 0 && { health: Effect.map(Effect.all(healths), (hs) => hs.flat()) })
  }
}

/**
 * Several trackers, given as services or layers, as one layer: `Tracker.all(a, b)` follows a study
 * with both.
 *
 * @example
 * import { Tracker, Progress } from "@tunekit/core"
 * const layer = Tracker.all(Progress.layer(), Tracker.layerNone)
 */
export const all = <const T extends ReadonlyArray<TrackerLike<any, any>>>(
  ...trackers: T
): Layer.Layer<Tracker, LayerError<T[number]>, LayerContext<T[number]>> =>
  Layer.scoped(
    Tracker,
    Effect.gen(function*() {
      const services: Array<TrackerService> = []
      for (const t of trackers) services.push(Layer.isLayer(t) ? Context.get(yield* Layer.build(t as Layer.Layer<Tracker, unknown, unknown>), Tracker) : (t as TrackerService))
      return allService(services)
    })
  ) as Layer.Layer<Tracker, any, any>

type LayerError<T> = T extends Layer.Layer<Tracker, infer E, any> ? E : never
type LayerContext<T> = T extends Layer.Layer<Tracker, any, infer R> ? R : never
