// Retries: a failed trial runs again as a new Waiting trial with the same config, linked to the
// trial it retries. Optuna's RetryFailedTrialCallback does this for trials whose heartbeat went
// stale only; a policy here may also cover trials whose objective failed (optuna#6085). The retry
// is created in the write that fails the trial (`TrialEnd.retry`), so that it is made exactly once
// by whichever worker fails the trial, even if that worker dies right after.
import type { TrialInit } from "../Storage.js"
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

/**
 * The retry of a trial about to fail (its params, user attributes and restore point), or
 * undefined when its config has run `1 + max` times already, or when it has no config yet (its
 * worker failed while sampling it: nothing was lost).
 */
export const retryInit = (t: FrozenTrial, max: number): TrialInit | undefined => {
  const before = typeof t.systemAttrs[RETRIES] === "number" ? (t.systemAttrs[RETRIES] as number) : 0
  if (before >= max || Object.keys(t.params).length === 0) return undefined
  const systemAttrs: Record<string, Json> = { [RETRY_OF]: t.number, [RETRIES]: before + 1 }
  // A continuation (PBT's exploit) retried starts from the same checkpoint.
  const restore = t.systemAttrs[RESTORE_FROM]
  if (restore !== undefined) systemAttrs[RESTORE_FROM] = restore
  return { state: "Waiting", params: t.params, distributions: t.distributions, userAttrs: t.userAttrs, systemAttrs }
}
