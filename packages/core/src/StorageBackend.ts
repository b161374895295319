/**
 * What a storage backend in another package (PostgreSQL, say) shares with the built-in ones, so
 * that every backend applies the same rules and reads the same rows the same way: the checks of
 * the Storage contract, stored JSON decoded through its Schema, and the per-study history cache.
 *
 * @since 0.1.0
 */
import type * as Distribution from "./Distribution.js"
import type { InvalidSpace, StudyMismatch, TrialStateError } from "./Errors.js"
import * as Rules from "./internal/storageRules.js"
import * as Rows from "./internal/storedRows.js"
import type { SampledParams, StudyInfo, TrialInit } from "./Storage.js"
import type { Direction, FrozenTrial, Metric, State } from "./Trial.js"

/** A study row: JSON kept as text, times in ms since epoch. */
export type StudyRow = Rows.StudyRow
/** A trial row: JSON kept as text, times in ms since epoch, null for what is missing. */
export type TrialRow = Rows.TrialRow

/**
 * A study row as a `StudyInfo` (its JSON decoded; a corrupt field throws naming the study).
 *
 * @example
 * import { StorageBackend } from "@tunekit/core"
 * const info = StorageBackend.toStudy({
 *   id: 1, name: "s", directions: '["minimize"]', metrics: "[]", user_attrs: "{}", system_attrs: "{}", created_at: 0
 * })
 */
export const toStudy: (row: StudyRow) => StudyInfo = Rows.toStudy

/**
 * A trial row and its reported metrics as a `FrozenTrial` (a corrupt field throws naming the trial).
 *
 * @example
 * import { StorageBackend } from "@tunekit/core"
 * const t = StorageBackend.toTrial({
 *   id: 1, study_id: 1, number: 0, state: "Running", params: "{}", distributions: "{}", values: null,
 *   user_attrs: "{}", system_attrs: "{}", started_at: 0, finished_at: null, worker: "h:1", reason: null
 * }, [])
 */
export const toTrial: (row: TrialRow, intermediate: ReadonlyArray<Metric>) => FrozenTrial = Rows.toTrial

/**
 * Decodes a parameter's stored distribution (JSON text); `where` names the row in the error.
 *
 * @example
 * import { StorageBackend } from "@tunekit/core"
 * const d = StorageBackend.readDistribution('{"_tag":"Float","low":0,"high":1,"log":false}', "x")
 */
export const readDistribution: (text: string, where: string) => Distribution.Distribution = Rows.read.distribution

/**
 * Whether a thrown value is one of the Storage contract's typed errors (StudyMismatch,
 * StudyNotFound, TrialStateError, InvalidSpace, ClaimTaken) rather than the database's failure.
 *
 * @example
 * import { StorageBackend, StudyNotFound } from "@tunekit/core"
 * StorageBackend.isDomainError(new StudyNotFound({ study: "s" })) // true
 */
export const isDomainError: (e: unknown) => boolean = Rows.isDomainError

/**
 * Fails (returns the error) when a parameter name is already used in the study with another
 * distribution.
 *
 * @example
 * import { Distribution, StorageBackend } from "@tunekit/core"
 * const known = new Map([["x", Distribution.float("x", 0, 1)]])
 * StorageBackend.checkCompatible(known, { x: Distribution.int("x", 0, 3) }) // InvalidSpace
 */
export const checkCompatible: (
  known: ReadonlyMap<string, Distribution.Distribution>,
  distributions: Readonly<Record<string, Distribution.Distribution>>
) => InvalidSpace | undefined = Rules.checkCompatible

/**
 * The error when a study is loaded with other directions than it was created with.
 *
 * @example
 * import { StorageBackend } from "@tunekit/core"
 * StorageBackend.checkDirections("s", ["minimize"], ["maximize"]) // StudyMismatch
 */
export const checkDirections: (
  name: string,
  stored: ReadonlyArray<Direction>,
  asked: ReadonlyArray<Direction>
) => StudyMismatch | undefined = Rules.checkDirections

/**
 * The error for a write on a trial that is not running.
 *
 * @example
 * import { StorageBackend } from "@tunekit/core"
 * const e = StorageBackend.notRunning(3, "Complete", "report")
 */
export const notRunning: (trialNumber: number, state: State, operation: string) => TrialStateError = Rules.notRunning

/**
 * The states a `getTrials` asks for, once each and sorted, when they are only Running and Waiting
 * (few trials, each state in a partial index: read them directly, not through the history cache);
 * undefined otherwise.
 *
 * @example
 * import { StorageBackend } from "@tunekit/core"
 * StorageBackend.fewStates(["Waiting", "Running"]) // ["Running", "Waiting"]
 * StorageBackend.fewStates(["Complete"]) // undefined
 */
export const fewStates: (states: ReadonlyArray<State> | undefined) => ReadonlyArray<"Running" | "Waiting"> | undefined = Rules.fewStates

/**
 * The params a trial created with `init` keeps when it gets `number` (`TrialInit.expectedNumber`
 * and `later`): undefined when it was sampled for another number, and is created bare.
 *
 * @example
 * import { StorageBackend } from "@tunekit/core"
 * const init = { state: "Running", expectedNumber: 4, params: { x: 1 }, later: [{ params: { x: 2 }, distributions: {} }] } as const
 * StorageBackend.sampledFor(init, 5)?.params // { x: 2 }
 * StorageBackend.sampledFor(init, 7) // undefined
 */
export const sampledFor: (init: TrialInit, number: number) => SampledParams | undefined = Rules.sampledFor

/**
 * The trials that finishes made for their workers (`TrialEnd.next`), kept by study and worker
 * until the worker's next `claimWaiting` of the study takes them.
 *
 * @example
 * import { StorageBackend } from "@tunekit/core"
 * const given = new StorageBackend.Handed()
 * // in finishTrial, once the write committed: given.put(studyId, end.next.worker, created)
 * // in claimWaiting without an id, first: given.take(studyId, worker)
 * given.take(1, "host:42") // undefined: nothing was made for it
 */
export const Handed = Rules.Handed
/** See `Handed`. */
export type Handed = Rules.Handed

/**
 * A study's history as this process last read it, refreshed from the trials that changed since
 * `mark` (the backend's own notion of "since": a change counter, a transaction horizon).
 *
 * @example
 * import { StorageBackend, Trial } from "@tunekit/core"
 * const cache = new StorageBackend.HistoryCache(0)
 * cache.put(Trial.make({ id: 1, number: 0, state: "Running" }), 1)
 * cache.trials(["Running"]).length // 1
 */
export const HistoryCache = Rows.HistoryCache
/** A study's cached history (see `HistoryCache`). */
export type HistoryCache<Mark> = Rows.HistoryCache<Mark>
