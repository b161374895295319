/**
 * Checkpoints: a trainer's saved state (weights, optimizer state, counters), keyed by study, trial
 * number and step. Pausing and resuming (ASHA promotion) and population-based training (a trial
 * continuing from another trial's weights) both go through this service, so that any trainer that
 * saves and loads here works with them.
 *
 * The convention the schedulers rely on: **save the checkpoint of a step before reporting that
 * step's metric**. Then every reported step a scheduler may act on has its state on disk.
 *
 * Stores keep a checksum with each checkpoint and refuse to load one that does not match
 * (`CheckpointCorrupt`). `layer` applies a retention policy (see the Retention module): a study
 * keeps what its trials may still need, and its disk use stays bounded. See docs/checkpoints.md.
 *
 * @example
 * import { Effect } from "effect"
 * import { Checkpoint } from "@tunekit/core"
 *
 * const program = Effect.gen(function*() {
 *   const checkpoints = yield* Checkpoint.Checkpoint
 *   const key = { study: "mnist", trial: 3 }
 *   yield* checkpoints.save(key, 10, { weights: [0.1, 0.2] })
 *   return yield* checkpoints.load(key, 10) // { weights: [0.1, 0.2] }
 * })
 * Effect.runPromise(program.pipe(Effect.provide(Checkpoint.layer({ directory: "checkpoints" }))))
 *
 * @since 0.1.0
 */
import { Context, Data as EffectData, Effect, Layer, Option } from "effect"
import * as crypto from "node:crypto"
import { makeFilesWith } from "./internal/checkpointFiles.js"
import { type Policy, retained } from "./internal/retention.js"
import type { StorageService } from "./Storage.js"
import type { Json } from "./Trial.js"

/** Which trial a checkpoint belongs to: the study's name and the trial's number in it. */
export interface Key {
  readonly study: string
  readonly trial: number
}

/** What a checkpoint holds: raw bytes (serialized weights) or a JSON value. */
export type Data = Uint8Array | Json

/** Reading or writing a checkpoint failed (a file could not be read, written or parsed). */
export class CheckpointError extends EffectData.TaggedError("CheckpointError")<{
  readonly operation: string
  readonly key: Key
  readonly step: number | undefined
  readonly reason: string
}> {
  override get message() {
    const at = this.step === undefined ? "" : ` step ${this.step}`
    return `checkpoint ${this.operation} of study "${this.key.study}" trial ${this.key.trial}${at} failed: ${this.reason}`
  }
}

/** No checkpoint is stored for that trial (at that step). */
export class CheckpointNotFound extends EffectData.TaggedError("CheckpointNotFound")<{
  readonly key: Key
  readonly step: number | undefined
}> {
  override get message() {
    const at = this.step === undefined ? "" : ` at step ${this.step}`
    return `no checkpoint of study "${this.key.study}" trial ${this.key.trial}${at}`
  }
}

/**
 * A stored checkpoint that does not read back as it was written: cut short, changed, or with a
 * damaged header (its checksum or length does not match). It is never loaded: the trial that
 * loads it fails with this error, which names the checkpoint and where it is stored.
 */
export class CheckpointCorrupt extends EffectData.TaggedError("CheckpointCorrupt")<{
  readonly key: Key
  readonly step: number
  /** Where it is stored: a file's path, a database table. */
  readonly location: string
  readonly reason: string
}> {
  override get message() {
    return `the checkpoint of study "${this.key.study}" trial ${this.key.trial} step ${this.step} (${this.location}) is corrupt: ${this.reason}; it was not loaded`
  }
}

/** One stored checkpoint, as `list` gives it. */
export interface Entry {
  readonly trial: number
  readonly step: number
  /** Its size in the store, in bytes. */
  readonly bytes: number
  /** When it was saved (ms since epoch), where the store knows. */
  readonly savedAt?: number
  /** Whether a worker (of any process) is loading it right now. */
  readonly loading?: boolean
}

/** What `remove` deletes of a trial: every step, those before `before`, or the `steps` listed (both: those of them before `before`). */
export interface RemoveOptions {
  readonly before?: number
  readonly steps?: ReadonlyArray<number>
}

/** The checkpoint service. */
export interface CheckpointService {
  /** A short description for messages ("memory", "files:checkpoints"). */
  readonly label: string
  /** Stores the state of a trial at a step, replacing one saved at the same step. */
  readonly save: (key: Key, step: number, data: Data) => Effect.Effect<void, CheckpointError>
  /**
   * The state saved at a step (the latest step when `step` is left out). A checkpoint that does
   * not match its checksum fails with `CheckpointCorrupt`. A checkpoint being loaded is not
   * deleted under the loader (by `remove` here or in another process).
   */
  readonly load: (key: Key, step?: number) => Effect.Effect<Data, CheckpointError | CheckpointNotFound | CheckpointCorrupt>
  /** The steps saved for a trial, in increasing order. */
  readonly steps: (key: Key) => Effect.Effect<ReadonlyArray<number>, CheckpointError>
  /** Deletes a trial's checkpoints: all of them, those before `before`, or the `steps` given. */
  readonly remove: (key: Key, options?: RemoveOptions) => Effect.Effect<void, CheckpointError>
  /**
   * Every checkpoint of a study, with its size (each store of tunekit has it; retention and
   * `tunekit checkpoints` use it).
   */
  readonly list?: (study: string) => Effect.Effect<ReadonlyArray<Entry>, CheckpointError>
  /**
   * Tells the store that a study's trials changed, with the study's storage. A store with a
   * retention policy (see the Retention module) then deletes what no trial can need any more;
   * others ignore it. The run loop calls it when a study starts, after each trial, and when the
   * run ends (`Checkpoint.settle`). Never fails: a problem is logged.
   */
  readonly settle?: (study: string, storage: StorageService) => Effect.Effect<void>
}

/** The Checkpoint service tag. */
export class Checkpoint extends Context.Tag("@tunekit/core/Checkpoint")<Checkpoint, CheckpointService>() {}

const checkKey = (operation: string, key: Key, step: number | undefined): CheckpointError | undefined => {
  if (typeof key.study !== "string" || key.study.length === 0) {
    return new CheckpointError({ operation, key, step, reason: "the study name must be a non-empty string" })
  }
  if (!Number.isInteger(key.trial) || key.trial < 0) {
    return new CheckpointError({ operation, key, step, reason: `the trial number must be a non-negative integer, got ${key.trial}` })
  }
  if (step !== undefined && !Number.isFinite(step)) {
    return new CheckpointError({ operation, key, step, reason: `the step must be a finite number, got ${step}` })
  }
  return undefined
}

const checked = <A, E>(operation: string, key: Key, step: number | undefined, f: () => Effect.Effect<A, E>) =>
  Effect.suspend((): Effect.Effect<A, E | CheckpointError> => {
    const bad = checkKey(operation, key, step)
    return bad ? Effect.fail(bad) : f()
  })

/**
 * For store implementations: runs `f` when the key (and step) are valid, and fails with
 * `CheckpointError` naming the operation otherwise (an empty study name, a trial number that is
 * not a non-negative integer, a step that is not finite), as every store must.
 *
 * @example
 * import { Effect } from "effect"
 * import { Checkpoint } from "@tunekit/core"
 * const steps = (key: Checkpoint.Key) => Checkpoint.guard("list", key, undefined, () => Effect.succeed([]))
 */
export const guard: <A, E>(operation: string, key: Key, step: number | undefined, f: () => Effect.Effect<A, E>) => Effect.Effect<A, E | CheckpointError> = checked

/** A checkpoint's data as bytes, as stores keep it: JSON as its UTF-8 text, marked `json`. */
export interface Encoded {
  readonly json: boolean
  readonly bytes: Uint8Array
}

/**
 * For store implementations: the bytes to store for the data (a copy; JSON as its text). Throws
 * an Error when the data is neither bytes nor JSON.
 *
 * @example
 * import { Checkpoint } from "@tunekit/core"
 * Checkpoint.toBytes({ w: [1, 2] }) // { json: true, bytes: <the UTF-8 of {"w":[1,2]}> }
 */
export const toBytes = (data: Data): Encoded =>
  data instanceof Uint8Array ? { json: false, bytes: new Uint8Array(data) } : { json: true, bytes: new TextEncoder().encode(jsonText(data)) }

/**
 * For store implementations: the data stored bytes hold (`toBytes` inverted). Throws on JSON that
 * does not parse.
 *
 * @example
 * import { Checkpoint } from "@tunekit/core"
 * Checkpoint.fromBytes(Checkpoint.toBytes([1, "two"])) // [1, "two"]
 */
export const fromBytes = (encoded: Encoded): Data =>
  encoded.json ? JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(encoded.bytes)) as Json : encoded.bytes

/**
 * The checksum stores keep with each checkpoint and check on load: SHA-256, as hex.
 *
 * @example
 * import { Checkpoint } from "@tunekit/core"
 * Checkpoint.digest(new Uint8Array([1, 2, 3])) // "039058c6f2c0cb49..."
 */
export const digest = (bytes: Uint8Array): string => crypto.createHash("sha256").update(bytes).digest("hex")

/**
 * For store implementations: whether `remove(key, options)` deletes a step.
 *
 * @example
 * import { Checkpoint } from "@tunekit/core"
 * Checkpoint.removes({ steps: [3, 5], before: 4 }, 3) // true
 */
export const removes = (options: RemoveOptions | undefined, step: number): boolean =>
  (options?.before === undefined || step < options.before) && (options?.steps === undefined || options.steps.includes(step))

// Bytes are copied on save and on load, so that a trainer reusing its buffer cannot change a
// stored checkpoint, and JSON goes through a string for the same reason.
const copy = (data: Data): Data => (data instanceof Uint8Array ? new Uint8Array(data) : JSON.parse(jsonText(data)) as Json)

/** The JSON text of the data; what JSON cannot hold (undefined, a function, a symbol) is an error, not "undefined". */
const jsonText = (data: unknown): string => {
  const text = JSON.stringify(data)
  if (typeof text !== "string") throw new Error(`${typeof data} is not JSON`)
  return text
}

/**
 * Checkpoints in this process's memory: for tests, and for trainers whose state is small.
 *
 * @example
 * import { Checkpoint } from "@tunekit/core"
 * const service = Checkpoint.makeMemory()
 */
export const makeMemory = (): CheckpointService => {
  const byTrial = new Map<string, Map<number, { readonly data: Data; readonly bytes: number; readonly savedAt: number }>>()
  const id = (key: Key) => JSON.stringify([key.study, key.trial])
  const stepsOf = (key: Key) => [...(byTrial.get(id(key))?.keys() ?? [])].sort((a, b) => a - b)
  return {
    label: "memory",
    save: (key, step, data) =>
      checked("save", key, step, () =>
        Effect.try({
          try: () => {
            const m = byTrial.get(id(key)) ?? new Map()
            const stored = copy(data)
            const bytes = stored instanceof Uint8Array ? stored.byteLength : jsonText(stored).length
            m.set(step, { data: stored, bytes, savedAt: Date.now() })
            byTrial.set(id(key), m)
          },
          catch: (e) => new CheckpointError({ operation: "save", key, step, reason: `the data is not bytes or JSON: ${String(e)}` })
        })),
    load: (key, step) =>
      checked("load", key, step, () => {
        const at = step ?? stepsOf(key).at(-1)
        const stored = at === undefined ? undefined : byTrial.get(id(key))?.get(at)
        return stored === undefined ? Effect.fail(new CheckpointNotFound({ key, step })) : Effect.succeed(copy(stored.data))
      }),
    steps: (key) => checked("list", key, undefined, () => Effect.sync(() => stepsOf(key))),
    remove: (key, options) =>
      checked("remove", key, options?.before, () =>
        Effect.sync(() => {
          const m = byTrial.get(id(key))
          if (!m) return
          for (const s of [...m.keys()]) if (removes(options, s)) m.delete(s)
          if (m.size === 0) byTrial.delete(id(key))
        })),
    list: (study) =>
      Effect.sync(() => {
        const out: Array<Entry> = []
        for (const [k, m] of byTrial) {
          const [name, trial] = JSON.parse(k) as [string, number]
          if (name !== study) continue
          for (const [step, s] of m) out.push({ trial, step, bytes: s.bytes, savedAt: s.savedAt })
        }
        return out.sort((a, b) => a.trial - b.trial || a.step - b.step)
      })
  }
}

/**
 * Checkpoints as files: `<directory>/<study>/trial-<number>/step-<step>.ckpt`, the study's name
 * URI-encoded. Each file starts with a header line holding the kind of data (bytes or JSON), its
 * length and its SHA-256, checked on load: a cut or changed file fails with `CheckpointCorrupt`.
 * A save writes a temporary file and renames it, so that a process killed while saving never
 * leaves a torn checkpoint behind. A load first hard-links the file to a lease of its own and
 * reads that, so that a checkpoint deleted meanwhile (by retention in any process sharing the
 * folder, even on another machine over NFS) stays readable until the load ends; retention skips
 * checkpoints with a lease. Files `step-<step>.json` and `.bin` written by tunekit before
 * checksums existed load as before.
 *
 * The directory may be a folder that several workers share (NFS, say): every operation is safe
 * under concurrency.
 *
 * @example
 * import { Checkpoint } from "@tunekit/core"
 * const service = Checkpoint.makeFiles("checkpoints")
 */
export const makeFiles = (directory: string): CheckpointService => makeFilesWith(directory)

/** Options of the Checkpoint layers. */
export interface LayerOptions {
  /**
   * What to keep of each study's checkpoints (see the Retention module), or `false` to keep
   * everything. Default `Retention.defaults`: the last 2 of each living trial, the final one of
   * the best 3 complete trials, and what a living trial may restore from.
   */
  readonly retention?: Policy | false
}

const withRetention = (make: () => CheckpointService, options: LayerOptions): Layer.Layer<Checkpoint> =>
  Layer.sync(Checkpoint, () => (options.retention === false ? make() : retained(make(), options.retention ?? {})))

/**
 * Checkpoints as files under a directory (default `tunekit-checkpoints`), with the default
 * retention policy: a study's disk use stays bounded (see the Retention module, and
 * docs/checkpoints.md). The run loop tells the store when trials change (`settle`); retention
 * learns the rest from the study's storage.
 *
 * @example
 * import { Checkpoint } from "@tunekit/core"
 * const layer = Checkpoint.layer({ directory: "runs/checkpoints", retention: { keepLast: 3, keepBest: 5 } })
 * const everything = Checkpoint.layer({ directory: "runs/checkpoints", retention: false })
 */
export const layer = (options: { readonly directory?: string } & LayerOptions = {}): Layer.Layer<Checkpoint> =>
  withRetention(() => makeFiles(options.directory ?? "tunekit-checkpoints"), options)

/**
 * Checkpoints in memory, all kept (for tests, and for trainers whose state is small and runs that
 * are short). `layerMemoryWith({ retention })` applies a retention policy.
 *
 * @example
 * import { Checkpoint } from "@tunekit/core"
 * const layer = Checkpoint.layerMemory
 */
export const layerMemory: Layer.Layer<Checkpoint> = Layer.sync(Checkpoint, makeMemory)

/**
 * Checkpoints in memory with a retention policy (default `Retention.defaults`), so that a long run
 * in memory (population-based training, say) holds a bounded number of them.
 *
 * @example
 * import { Checkpoint } from "@tunekit/core"
 * const layer = Checkpoint.layerMemoryWith({ retention: { keepLast: 1, keepBest: 1 } })
 */
export const layerMemoryWith = (options: LayerOptions = {}): Layer.Layer<Checkpoint> => withRetention(makeMemory, options)

/**
 * Tells the provided Checkpoint service, if any, that a study's trials changed (its `settle`):
 * what the run loop calls when a study starts, after each trial, and when the run ends.
 *
 * @example
 * import { Effect } from "effect"
 * import { Checkpoint, Storage } from "@tunekit/core"
 * const afterTrial = Effect.flatMap(Storage.Storage, (storage) => Checkpoint.settle("my-study", storage))
 */
export const settle = (study: string, storage: StorageService): Effect.Effect<void> =>
  Effect.flatMap(Effect.serviceOption(Checkpoint), (service) =>
    Option.isSome(service) && service.value.settle !== undefined ? service.value.settle(study, storage) : Effect.void)

/** Where a trial starts from: the checkpoint of a trial (its number in the study) at a step. */
export interface RestorePoint {
  readonly trial: number
  readonly step: number
}

/** A trial as a trainer sees it (a `Study.TrialContext` fits). */
export interface TrialLike {
  readonly study?: string | undefined
  readonly number: number
  readonly restoreFrom?: RestorePoint | undefined
}

/** A trainer's view of the checkpoints of its own trial. */
export interface ForTrial {
  readonly key: Key
  /** Saves this trial's state at a step (do it before reporting that step's metric). */
  readonly save: (step: number, data: Data) => Effect.Effect<void, CheckpointError>
  /**
   * The state to start from, when the trial continues earlier training: its own paused state, or
   * another trial's (a population-based-training exploit; if the donor's checkpoint is gone, its
   * latest, see `loadRestorePoint`), with the step it holds. None for a trial that starts fresh.
   */
  readonly restore: Effect.Effect<Option.Option<{ readonly step: number; readonly data: Data }>, CheckpointError | CheckpointNotFound | CheckpointCorrupt>
}

/**
 * The checkpoints of one trial, for a trainer: `save(step, data)` and `restore`, which loads the
 * checkpoint named by the trial's `restoreFrom` (if any).
 *
 * @example
 * import { Effect, Option } from "effect"
 * import { Checkpoint } from "@tunekit/core"
 *
 * declare const trial: Checkpoint.TrialLike
 * const train = Effect.gen(function*() {
 *   const ckpt = Checkpoint.forTrial(yield* Checkpoint.Checkpoint, trial)
 *   const start = yield* ckpt.restore
 *   let step = Option.match(start, { onNone: () => 0, onSome: (s) => s.step })
 *   // ... train one step, then:
 *   yield* ckpt.save(step + 1, { weights: [] })
 * })
 */
export const forTrial = (service: CheckpointService, trial: TrialLike, study?: string): ForTrial => {
  const name = study ?? trial.study ?? ""
  const key: Key = { study: name, trial: trial.number }
  const from = trial.restoreFrom
  return {
    key,
    save: (step, data) => service.save(key, step, data),
    restore: from === undefined ? Effect.succeed(Option.none()) : Effect.map(loadRestorePoint(service, name, trial.number, from), Option.some)
  }
}

/** Tries of a fallback load whose checkpoint the donor's retention deleted between listing and loading. */
const FALLBACK_TRIES = 3

/**
 * Loads the checkpoint trial `trial` of a study starts from (its `restoreFrom`), giving the step it
 * holds. When the restore point is another trial's (a PBT exploit, or a retry of one) and is gone,
 * it loads that donor's latest checkpoint instead, and says so in a warning: across processes the
 * donor may save newer steps while the exploiter decides, and its own retention then deletes the
 * chosen one before the continuation exists to keep it. The latest is the donor's current
 * weights, which is what PBT's exploit copies (Jaderberg et al. 2017, "Population Based Training
 * of Neural Networks", section 3); the step given is the one loaded, so a trainer that counts from
 * it stays consistent. A trial's own restore point (a paused trial) has no fallback: retention
 * keeps it. A corrupt checkpoint fails (`CheckpointCorrupt`), and so does a donor with no
 * checkpoint left (`CheckpointNotFound`).
 *
 * @example
 * import { Effect } from "effect"
 * import { Checkpoint } from "@tunekit/core"
 * declare const service: Checkpoint.CheckpointService
 * // Trial 7 continues from trial 2's step 12 (or trial 2's latest, if step 12 was deleted meanwhile):
 * const start = Checkpoint.loadRestorePoint(service, "pbt", 7, { trial: 2, step: 12 }) // { step, data }
 */
export const loadRestorePoint = (
  service: CheckpointService,
  study: string,
  trial: number,
  from: RestorePoint
): Effect.Effect<{ readonly step: number; readonly data: Data }, CheckpointError | CheckpointNotFound | CheckpointCorrupt> => {
  const donor: Key = { study, trial: from.trial }
  const latest = (tries: number, missing: CheckpointNotFound): Effect.Effect<{ readonly step: number; readonly data: Data }, CheckpointError | CheckpointNotFound | CheckpointCorrupt> =>
    Effect.flatMap(service.steps(donor), (steps) => {
      const step = steps.at(-1)
      if (step === undefined) return Effect.fail(missing)
      return service.load(donor, step).pipe(
        Effect.map((data) => ({ step, data })),
        // Deleted between the listing and the load: the donor has a newer one still.
        Effect.catchTag("CheckpointNotFound", (e) => (tries > 1 ? latest(tries - 1, missing) : Effect.fail(e)))
      )
    })
  return service.load(donor, from.step).pipe(
    Effect.map((data) => ({ step: from.step, data })),
    Effect.catchTag("CheckpointNotFound", (missing) =>
      from.trial === trial
        ? Effect.fail(missing)
        : Effect.tap(latest(FALLBACK_TRIES, missing), ({ step }) =>
          Effect.logWarning(
            `checkpoint: trial ${trial} of study "${study}" was to start from trial ${from.trial}'s step ${from.step}, which is gone (its own retention deleted it after newer saves); it starts from trial ${from.trial}'s latest checkpoint, step ${step}, the donor's current weights, as PBT's exploit copies them`
          )))
  )
}
