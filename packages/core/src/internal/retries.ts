// Retries: a failed trial runs again as a new Waiting trial with the same config, linked to the
// trial it retries. Optuna's RetryFailedTrialCallback does this for trials whose heartbeat went
// stale only; a policy here may also cover trials whose objective failed (optuna#6085).
import { Effect, Option } from "effect"
import type { InvalidSpace, StorageError } from "../Errors.js"
import type { StorageService } from "../Storage.js"
import { RESTORE_FROM } from "../Study.js"
import type { FrozenTrial, Json } from "../Trial.js"

/** The system attribute of a retry: the number of the trial it runs again. */
export const RETRY_OF = "retryOf"
/** The system attribute of a retry: how many runs of its config came before it (1 for the first retry). */
export const RETRIES = "retries"

/** The number of the trial a trial retries, if it is a retry. */
export const retryOf = (t: FrozenTrial): number | undefined => {
  const n = t.systemAttrs[RETRY_OF]
  return typeof n === "number" ? n : undefined
}

const retriesOf = (t: FrozenTrial): number => {
  const n = t.systemAttrs[RETRIES]
  return typeof n === "number" ? n : 0
}

/**
 * Enqueues a retry of a failed trial, unless its config has been retried `max` times already or
 * another worker retried it first (a claim on `retry:NUMBER` makes it once per trial, whichever
 * workers see the failure). The retry keeps the trial's params, user attributes and restore point.
 */
export const retry = (
  storage: StorageService,
  studyId: number,
  failed: FrozenTrial,
  max: number
): Effect.Effect<Option.Option<FrozenTrial>, StorageError | InvalidSpace> =>
  Effect.gen(function*() {
    const before = retriesOf(failed)
    if (failed.state !== "Failed" || before >= max) return Option.none()
    if (!(yield* storage.claim(studyId, `retry:${failed.number}`))) return Option.none()
    const systemAttrs: Record<string, Json> = { [RETRY_OF]: failed.number, [RETRIES]: before + 1 }
    // A continuation (PBT's exploit) retried starts from the same checkpoint.
    const restore = failed.systemAttrs[RESTORE_FROM]
    if (restore !== undefined) systemAttrs[RESTORE_FROM] = restore
    return Option.some(
      yield* storage.createTrial(studyId, {
        state: "Waiting",
        params: failed.params,
        distributions: failed.distributions,
        userAttrs: failed.userAttrs,
        systemAttrs
      })
    )
  })
