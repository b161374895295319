// What the dashboard writes, with --allow-write only: enqueue a configuration, ask a running trial
// to stop, and edit notes.
//
// Notes are kept in the study's system attributes (`dashboard:note` for the study,
// `dashboard:note:trial:N` for trial N), as optuna-dashboard keeps them: a finished trial never
// changes, but it may get a note.
//
// A stop is a request stored on the running trial (system attribute `stop`, with when and by whom):
// the worker running the trial sees it within a second and prunes the trial at its next report.
import { Distribution, type Storage, type StorageError, Study, type Trial, TrialStateError } from "@tunekit/core"
import { Data, Effect } from "effect"
import { type Followed, trialsOf } from "./feed.js"

/** A write the dashboard refuses: what is wrong with it. */
export class Refused extends Data.TaggedError("Refused")<{ readonly reason: string }> {
  override get message() {
    return this.reason
  }
}

export const NOTE = "dashboard:note"
export const trialNoteKey = (number: number) => `${NOTE}:trial:${number}`
/** The stop request the run loop reads (core's `Study.STOP`). */
export const STOP = Study.STOP

/** The longest note kept. */
const MAX_NOTE = 20_000

/** The distributions of the study's parameters, as its trials have them. */
export const distributionsOf = (f: Followed): Record<string, Distribution.Distribution> => {
  const out: Record<string, Distribution.Distribution> = {}
  for (const t of trialsOf(f)) for (const [k, d] of Object.entries(t.distributions)) out[k] ??= d
  return out
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * Enqueues a configuration: external values of some of the study's parameters (a worker samples
 * the others when it takes the trial).
 */
export const enqueue = (storage: Storage.StorageService, f: Followed, body: unknown): Effect.Effect<Trial.FrozenTrial, Refused | StorageError> =>
  Effect.gen(function*() {
    const given = isRecord(body) && isRecord(body.params) ? body.params : undefined
    if (given === undefined) return yield* new Refused({ reason: 'enqueue takes {"params": {"name": value, ...}}' })
    const known = distributionsOf(f)
    const params: Record<string, number> = {}
    const distributions: Record<string, Distribution.Distribution> = {}
    for (const [k, v] of Object.entries(given)) {
      const d = known[k]
      if (d === undefined) return yield* new Refused({ reason: `the study has no parameter ${JSON.stringify(k)}` })
      const internal = yield* Effect.try({
        try: () => Distribution.toInternal(d, v),
        catch: (e) => new Refused({ reason: `${k}: ${(e as Error).message}` })
      })
      if (!Distribution.contains(d, internal)) {
        return yield* new Refused({ reason: `${k}: ${JSON.stringify(v)} is outside ${Distribution.describe(d)}` })
      }
      params[k] = internal
      distributions[k] = d
    }
    if (Object.keys(params).length === 0) return yield* new Refused({ reason: "give at least one parameter's value" })
    const trial = yield* Effect.catchTag(
      storage.createTrial(f.info.id, { state: "Waiting", params, distributions, userAttrs: { enqueued_by: "dashboard" } }),
      "InvalidSpace",
      (e) => Effect.fail(new Refused({ reason: e.message }))
    )
    return trial
  })

/** Asks a running trial to stop. */
export const stop = (storage: Storage.StorageService, t: Trial.FrozenTrial): Effect.Effect<void, Refused | StorageError> =>
  t.state !== "Running"
    ? Effect.fail(new Refused({ reason: `trial ${t.number} is ${t.state}, not running` }))
    : Effect.catchIf(
      storage.setTrialAttr(t.id, "system", STOP, { at: Date.now(), by: "dashboard" }),
      (e): e is TrialStateError => e instanceof TrialStateError,
      (e) => Effect.fail(new Refused({ reason: e.message }))
    )

/** Sets the note of the study, or of one of its trials (an empty text removes it). */
export const setNote = (storage: Storage.StorageService, f: Followed, body: unknown): Effect.Effect<void, Refused | StorageError> =>
  Effect.gen(function*() {
    if (!isRecord(body) || typeof body.text !== "string") return yield* new Refused({ reason: 'notes take {"text": "...", "trial": N (optional)}' })
    if (body.text.length > MAX_NOTE) return yield* new Refused({ reason: `a note is at most ${MAX_NOTE} characters` })
    const trial = body.trial
    if (trial !== undefined && !(typeof trial === "number" && Number.isInteger(trial) && trial >= 0)) {
      return yield* new Refused({ reason: "trial must be a trial's number" })
    }
    if (trial !== undefined && !trialsOf(f).some((t) => t.number === trial)) {
      return yield* new Refused({ reason: `the study has no trial ${trial}` })
    }
    yield* storage.setStudyAttr(f.info.id, "system", trial === undefined ? NOTE : trialNoteKey(trial), body.text)
  })
