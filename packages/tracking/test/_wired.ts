// What the run loop does with the tracker events it does not call yet (studyStarted,
// studyFinished, and a trial's logs): tests call them the way the run loop is to.
import { Effect, Exit, Option } from "effect"
import { Study, Tracker } from "@tunekit/core"
import type { Storage, Trial } from "@tunekit/core"

/** The provided tracker, or none. */
export const currentTracker = Effect.map(Effect.serviceOption(Tracker.Tracker), Option.getOrElse(() => Tracker.none))

/** `Study.optimize` between `studyStarted` and `studyFinished`. */
export const optimizeTracked = <A>(options: Study.OptimizeOptions<A>) =>
  Effect.gen(function*() {
    const tracker = yield* currentTracker
    const study = yield* Study.open(options)
    if (tracker.studyStarted) yield* tracker.studyStarted(study.info)
    return yield* Study.optimize(options).pipe(
      Effect.onExit((exit) =>
        tracker.studyFinished?.(study.info, Exit.isSuccess(exit) ? { state: "Finished" } : Exit.isInterrupted(exit) ? { state: "Interrupted" } : { state: "Failed" }) ??
          Effect.void
      )
    )
  })

/** A running trial as trackers see it when it logs (its id and number are what they use). */
export const running = (trial: { readonly id: number; readonly number: number }): Trial.FrozenTrial => ({
  id: trial.id,
  number: trial.number,
  state: "Running",
  params: {},
  distributions: {},
  values: undefined,
  intermediate: [],
  userAttrs: {},
  systemAttrs: {},
  startedAt: undefined,
  finishedAt: undefined,
  worker: undefined,
  reason: undefined
})

/** Logs from inside an objective, as `TrialContext.log` is to. */
export const logFrom = (tracker: Tracker.TrackerService, study: Storage.StudyInfo, trial: { readonly id: number; readonly number: number } | undefined, log: Tracker.Log) =>
  Effect.runPromise(tracker.logged?.(study, trial === undefined ? undefined : running(trial), log) ?? Effect.void)
