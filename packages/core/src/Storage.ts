/**
 * Storage: the single source of truth of a study. Samplers and schedulers are functions of the
 * history held here, which is why one sampler works unchanged in memory, on SQLite and across
 * machines.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Option } from "effect"
import * as os from "node:os"
import type * as Distribution from "./Distribution.js"
import type { ClaimTaken, InvalidSpace, StorageError, StudyMismatch, StudyNotFound, TrialStateError } from "./Errors.js"
import { makeMemory } from "./internal/memoryStorage.js"
import { isAlive } from "./internal/processes.js"
import * as Retries from "./internal/retries.js"
import { makeSqlite, type SqliteOptions } from "./internal/sqliteStorage.js"
import type { Direction, FrozenTrial, Json, Metric, State } from "./Trial.js"

/** A study as storage holds it. */
export interface StudyInfo {
  readonly id: number
  readonly name: string
  readonly directions: ReadonlyArray<Direction>
  /** The metric each direction applies to (the objective's names), when given. */
  readonly metrics: ReadonlyArray<string>
  readonly userAttrs: Readonly<Record<string, Json>>
  readonly systemAttrs: Readonly<Record<string, Json>>
  readonly createdAt: number
}

/** What is needed to create a trial. */
export interface TrialInit {
  readonly state: "Running" | "Waiting"
  readonly params?: Readonly<Record<string, number>>
  readonly distributions?: Readonly<Record<string, Distribution.Distribution>>
  readonly userAttrs?: Readonly<Record<string, Json>>
  readonly systemAttrs?: Readonly<Record<string, Json>>
  readonly worker?: string
  /**
   * The number the caller sampled for. When the trial gets another number, or when `claim` is
   * taken, it is created without params, distributions and claim (the caller samples again).
   */
  readonly expectedNumber?: number
  /**
   * Params sampled for the numbers after `expectedNumber` (`later[0]` for expectedNumber + 1, and
   * so on), kept when the trial gets one of those because other workers created trials meanwhile.
   * Only without `claim`.
   */
  readonly later?: ReadonlyArray<SampledParams>
  /** A key unique in the study, as in `setParams`. */
  readonly claim?: string
}

/** Parameters sampled for one trial number, in their internal form, with their distributions. */
export interface SampledParams {
  readonly params: Readonly<Record<string, number>>
  readonly distributions: Readonly<Record<string, Distribution.Distribution>>
}

/** How a trial ends. */
export interface TrialEnd {
  readonly state: "Complete" | "Pruned" | "Failed"
  readonly values?: ReadonlyArray<number>
  readonly reason?: string
  /** When it ended (default now): a trial whose worker died ended at its last sign of life. */
  readonly finishedAt?: number
  /**
   * A trial to create in the same write (a retry of this one, see `Study.RETRY_OF`): so that a
   * worker dying between the two can neither lose the retry nor make it twice. Its distributions
   * must be the finishing trial's own (registered already).
   */
  readonly retry?: TrialInit
  /**
   * The trial this worker runs next, created Running in the same write when no trial waits to be
   * claimed (a waiting one goes first); the worker's next `claimWaiting` of the study, without an
   * id, takes it. A write fewer a trial (see `makesNext`; ignored by a storage without it).
   */
  readonly next?: TrialInit
}

/** What `changedTrials` read: the trials that changed, and the change counter they bring the reader to. */
export interface Changes {
  readonly seq: number
  readonly trials: ReadonlyArray<FrozenTrial>
}

/** The storage service. Every method is atomic; writes are durable when the Effect succeeds. */
export interface StorageService {
  /** A short description for messages ("memory", "sqlite:tunekit.db"). */
  readonly label: string
  /**
   * The storage makes a finishing worker's next trial in the finish's write (`TrialEnd.next`):
   * where a write costs more than sampling the next trial ahead (a transaction, a round trip), so
   * that the run loop's tells make it. Storages without it ignore `TrialEnd.next`.
   */
  readonly makesNext?: boolean
  /** Creates a study or loads it when one with that name exists (its directions must match). */
  readonly createStudy: (
    name: string,
    options: { readonly directions: ReadonlyArray<Direction>; readonly metrics?: ReadonlyArray<string> }
  ) => Effect.Effect<StudyInfo, StorageError | StudyMismatch>
  readonly getStudy: (name: string) => Effect.Effect<StudyInfo, StorageError | StudyNotFound>
  readonly listStudies: () => Effect.Effect<ReadonlyArray<StudyInfo>, StorageError>
  readonly deleteStudy: (name: string) => Effect.Effect<void, StorageError | StudyNotFound>
  readonly setStudyAttr: (
    studyId: number,
    kind: "user" | "system",
    key: string,
    value: Json
  ) => Effect.Effect<void, StorageError>

  readonly createTrial: (studyId: number, init: TrialInit) => Effect.Effect<FrozenTrial, StorageError | InvalidSpace>
  /** The number the next trial of the study will most likely get (another worker may be faster). */
  readonly nextNumber: (studyId: number) => Effect.Effect<number, StorageError>
  /**
   * Takes a Waiting trial and marks it Running for `worker`: the one given, or else the trial a
   * finish made for this worker (`TrialEnd.next`), or else the oldest enqueued one (paused trials
   * are only taken by id). None when there is none to take.
   */
  readonly claimWaiting: (
    studyId: number,
    worker: string,
    trialId?: number
  ) => Effect.Effect<Option.Option<FrozenTrial>, StorageError>
  /**
   * Sets parameters of a running trial. Fails with `InvalidSpace` when a name is already used in
   * the study with another distribution. A `claim` is a key unique in the study (a grid point, say):
   * when another trial holds it already, this fails with `ClaimTaken` and writes nothing. That is
   * how concurrent workers avoid duplicates. The claim is kept in the system attribute `claim`.
   */
  readonly setParams: (
    trialId: number,
    params: Readonly<Record<string, number>>,
    distributions: Readonly<Record<string, Distribution.Distribution>>,
    claim?: string
  ) => Effect.Effect<void, StorageError | TrialStateError | InvalidSpace | ClaimTaken>
  /** Stores a reported metric of a running trial (a later report at the same step replaces it). */
  readonly report: (trialId: number, metric: Metric) => Effect.Effect<void, StorageError | TrialStateError>
  readonly setTrialAttr: (
    trialId: number,
    kind: "user" | "system",
    key: string,
    value: Json
  ) => Effect.Effect<void, StorageError | TrialStateError>
  /** Puts a running trial back to Waiting, paused at its last step, to be resumed by id. */
  readonly pauseTrial: (trialId: number) => Effect.Effect<void, StorageError | TrialStateError>
  /** Finishes a running trial, and creates `end.retry` with it; a finished trial never changes again. */
  readonly finishTrial: (trialId: number, end: TrialEnd) => Effect.Effect<FrozenTrial, StorageError | TrialStateError>
  /**
   * Takes a key unique in the study (the same keys as `setParams`' claims): true when this call
   * took it, false when some trial or worker holds it already. Schedulers use it for places that
   * workers in several processes must not both take (a place past an ASHA rung).
   */
  readonly claim: (studyId: number, key: string) => Effect.Effect<boolean, StorageError>
  /** Marks running trials alive now. */
  readonly heartbeat: (trialIds: ReadonlyArray<number>) => Effect.Effect<void, StorageError>
  readonly getTrial: (trialId: number) => Effect.Effect<FrozenTrial, StorageError | TrialStateError>
  /** The trials of a study in order of number, optionally only those in some states. */
  readonly getTrials: (
    studyId: number,
    options?: { readonly states?: ReadonlyArray<State> }
  ) => Effect.Effect<ReadonlyArray<FrozenTrial>, StorageError>
  /** Heartbeat times of running trials, by trial id (ms since epoch). */
  readonly heartbeats: (studyId: number) => Effect.Effect<ReadonlyMap<number, number>, StorageError>
  /**
   * The trials of a study changed after the change counter `since` (0: every trial), in the order
   * they changed, with the counter to ask from next time. A reader in another process (the
   * dashboard) follows a study this way without reading it whole. Optional, so that a backend can
   * come without it; its readers then diff `getTrials` (finished trials never change).
   */
  readonly changedTrials?: (studyId: number, since: number) => Effect.Effect<Changes, StorageError>
  readonly close: Effect.Effect<void>
}

/** The Storage service tag. */
export class Storage extends Context.Tag("@tunekit/core/Storage")<Storage, StorageService>() {}

/** The id of this process as a worker: `host:pid`. */
export const workerId = (): string => `${os.hostname()}:${process.pid}`

/**
 * Storage in this process's memory: fast, gone when the process ends.
 *
 * @example
 * import { Storage } from "@tunekit/core"
 * const layer = Storage.layerMemory
 */
export const layerMemory: Layer.Layer<Storage> = Layer.sync(Storage, makeMemory)

/**
 * Storage in an SQLite file (WAL journal): the embedded default. A trial is committed before the
 * call that finishes it returns; several processes may share the file.
 *
 * @example
 * import { Storage } from "@tunekit/core"
 * const layer = Storage.layerSqlite("tunekit.db")
 */
export const layerSqlite = (path: string, options: SqliteOptions = {}): Layer.Layer<Storage, StorageError> =>
  Layer.scoped(
    Storage,
    Effect.acquireRelease(makeSqlite(path, options), (s) => s.close)
  )

export type { SqliteOptions }

/**
 * Fails the trials left Running by workers that died: on this host, a worker whose process is gone;
 * anywhere, a trial whose heartbeat is older than `graceMs`. Returns the trials it failed (a trial
 * another worker finished or failed meanwhile is left out: each stale trial is failed once).
 */
export const failStaleTrials = (
  studyId: number,
  options: {
    readonly graceMs?: number
    readonly now?: number
    /** Retries of one config at most: each stale trial is failed with its retry in one write. */
    readonly retries?: number
  } = {}
): Effect.Effect<ReadonlyArray<FrozenTrial>, StorageError, Storage> =>
  Effect.gen(function*() {
    const storage = yield* Storage
    const running = yield* storage.getTrials(studyId, { states: ["Running"] })
    if (running.length === 0) return []
    const beats = yield* storage.heartbeats(studyId)
    const now = options.now ?? Date.now()
    const grace = options.graceMs ?? 5 * 60_000
    const host = os.hostname()
    const failed: Array<FrozenTrial> = []
    for (const t of running) {
      const beat = beats.get(t.id)
      const reason = staleReason(t, host, beat, now, grace)
      if (reason === undefined) continue
      // It ran until its worker's last heartbeat, not until this reopening.
      const finishedAt = beat ?? t.startedAt
      const retry = options.retries === undefined ? undefined : Retries.retryInit(t, options.retries)
      const done = yield* Effect.either(
        storage.finishTrial(t.id, { state: "Failed", reason, ...(finishedAt === undefined ? {} : { finishedAt }), ...(retry ? { retry } : {}) })
      )
      if (done._tag === "Right") failed.push(done.right)
    }
    return failed
  })

const staleReason = (t: FrozenTrial, host: string, beat: number | undefined, now: number, grace: number) => {
  const [h, p] = (t.worker ?? "").split(":")
  const pid = Number(p)
  if (h === host && Number.isInteger(pid) && pid !== process.pid && !isAlive(pid)) {
    return `worker ${t.worker} died while the trial was running (process ${pid} is gone)`
  }
  const last = beat ?? t.startedAt
  if (last !== undefined && now - last > grace) {
    return `worker ${t.worker ?? "?"} stopped sending heartbeats ${Math.round((now - last) / 1000)} s ago`
  }
  return undefined
}

