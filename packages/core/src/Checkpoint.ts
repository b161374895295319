/**
 * Checkpoints: a trainer's saved state (weights, optimizer state, counters), keyed by study, trial
 * number and step. Pausing and resuming (ASHA promotion) and population-based training (a trial
 * continuing from another trial's weights) both go through this service, so that any trainer that
 * saves and loads here works with them.
 *
 * The convention the schedulers rely on: **save the checkpoint of a step before reporting that
 * step's metric**. Then every reported step a scheduler may act on has its state on disk.
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
import * as fs from "node:fs/promises"
import * as path from "node:path"
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

/** The checkpoint service. */
export interface CheckpointService {
  /** A short description for messages ("memory", "files:checkpoints"). */
  readonly label: string
  /** Stores the state of a trial at a step, replacing one saved at the same step. */
  readonly save: (key: Key, step: number, data: Data) => Effect.Effect<void, CheckpointError>
  /** The state saved at a step (the latest step when `step` is left out). */
  readonly load: (key: Key, step?: number) => Effect.Effect<Data, CheckpointError | CheckpointNotFound>
  /** The steps saved for a trial, in increasing order. */
  readonly steps: (key: Key) => Effect.Effect<ReadonlyArray<number>, CheckpointError>
  /** Deletes a trial's checkpoints: all of them, or those before `before`. */
  readonly remove: (key: Key, options?: { readonly before?: number }) => Effect.Effect<void, CheckpointError>
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
  const byTrial = new Map<string, Map<number, Data>>()
  const id = (key: Key) => JSON.stringify([key.study, key.trial])
  const stepsOf = (key: Key) => [...(byTrial.get(id(key))?.keys() ?? [])].sort((a, b) => a - b)
  return {
    label: "memory",
    save: (key, step, data) =>
      checked("save", key, step, () =>
        Effect.try({
          try: () => {
            const m = byTrial.get(id(key)) ?? new Map<number, Data>()
            m.set(step, copy(data))
            byTrial.set(id(key), m)
          },
          catch: (e) => new CheckpointError({ operation: "save", key, step, reason: `the data is not bytes or JSON: ${String(e)}` })
        })),
    load: (key, step) =>
      checked("load", key, step, () => {
        const at = step ?? stepsOf(key).at(-1)
        const data = at === undefined ? undefined : byTrial.get(id(key))?.get(at)
        return data === undefined ? Effect.fail(new CheckpointNotFound({ key, step })) : Effect.succeed(copy(data))
      }),
    steps: (key) => checked("list", key, undefined, () => Effect.sync(() => stepsOf(key))),
    remove: (key, options) =>
      checked("remove", key, options?.before, () =>
        Effect.sync(() => {
          const m = byTrial.get(id(key))
          if (!m) return
          for (const s of [...m.keys()]) if (options?.before === undefined || s < options.before) m.delete(s)
        }))
  }
}

// File names: one directory per study (its name URI-encoded, so that any name is a safe path; "."
// and ".." have their dots encoded too, or they would name this directory and its parent) and
// trial, one file per step. The extension says how to read it back.
const BIN = ".bin"
const JSON_EXT = ".json"
const studyDir = (study: string) => (study === "." || study === ".." ? study.replace(/\./g, "%2E") : encodeURIComponent(study))

/**
 * Checkpoints as files: `<directory>/<study>/trial-<number>/step-<step>.json` or `.bin`. A save
 * writes a temporary file and renames it, so that a process killed while saving never leaves a
 * torn checkpoint behind.
 *
 * @example
 * import { Checkpoint } from "@tunekit/core"
 * const service = Checkpoint.makeFiles("checkpoints")
 */
export const makeFiles = (directory: string): CheckpointService => {
  const dirOf = (key: Key) => path.join(directory, studyDir(key.study), `trial-${key.trial}`)
  const fail = (operation: string, key: Key, step: number | undefined) => (e: unknown) =>
    new CheckpointError({ operation, key, step, reason: e instanceof Error ? e.message : String(e) })

  const list = (key: Key) =>
    Effect.tryPromise({
      try: async () => {
        let names: Array<string>
        try {
          names = await fs.readdir(dirOf(key))
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === "ENOENT") return new Map<number, string>()
          throw e
        }
        const out = new Map<number, string>()
        for (const n of names) {
          const m = /^step-(.+)\.(json|bin)$/.exec(n)
          if (m === null) continue
          const s = Number(m[1])
          if (Number.isFinite(s)) out.set(s, n)
        }
        return out
      },
      catch: fail("list", key, undefined)
    })

  const nameOf = (step: number, data: Data) => `step-${step}${data instanceof Uint8Array ? BIN : JSON_EXT}`

  return {
    label: `files:${directory}`,
    save: (key, step, data) =>
      checked("save", key, step, () =>
        Effect.flatMap(list(key), (existing) =>
          Effect.tryPromise({
            try: async () => {
              const dir = dirOf(key)
              await fs.mkdir(dir, { recursive: true })
              const bytes = data instanceof Uint8Array ? data : new TextEncoder().encode(jsonText(data))
              const file = path.join(dir, nameOf(step, data))
              const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
              await fs.writeFile(tmp, bytes)
              await fs.rename(tmp, file)
              // A step saved before in the other format is replaced, not kept beside this one.
              const old = existing.get(step)
              if (old !== undefined && old !== nameOf(step, data)) await fs.rm(path.join(dir, old), { force: true })
            },
            catch: fail("save", key, step)
          }))),
    load: (key, step) =>
      checked("load", key, step, () =>
        Effect.flatMap(list(key), (files): Effect.Effect<Data, CheckpointError | CheckpointNotFound> => {
          const at = step ?? [...files.keys()].sort((a, b) => a - b).at(-1)
          const name = at === undefined ? undefined : files.get(at)
          if (name === undefined) return Effect.fail(new CheckpointNotFound({ key, step }))
          return Effect.tryPromise({
            try: async (): Promise<Data> => {
              const buf = await fs.readFile(path.join(dirOf(key), name))
              return name.endsWith(BIN)
                ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
                : JSON.parse(buf.toString("utf8")) as Json
            },
            catch: fail("load", key, at)
          })
        })),
    steps: (key) => checked("list", key, undefined, () => Effect.map(list(key), (files) => [...files.keys()].sort((a, b) => a - b))),
    remove: (key, options) =>
      checked("remove", key, options?.before, () =>
        Effect.flatMap(list(key), (files) =>
          Effect.tryPromise({
            try: async () => {
              for (const [s, name] of files) {
                if (options?.before === undefined || s < options.before) await fs.rm(path.join(dirOf(key), name), { force: true })
              }
            },
            catch: fail("remove", key, options?.before)
          })))
  }
}

/**
 * Checkpoints as files under a directory (the default: `tunekit-checkpoints`).
 *
 * @example
 * import { Checkpoint } from "@tunekit/core"
 * const layer = Checkpoint.layer({ directory: "runs/checkpoints" })
 */
export const layer = (options: { readonly directory?: string } = {}): Layer.Layer<Checkpoint> =>
  Layer.sync(Checkpoint, () => makeFiles(options.directory ?? "tunekit-checkpoints"))

/**
 * Checkpoints in memory.
 *
 * @example
 * import { Checkpoint } from "@tunekit/core"
 * const layer = Checkpoint.layerMemory
 */
export const layerMemory: Layer.Layer<Checkpoint> = Layer.sync(Checkpoint, makeMemory)

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
   * another trial's (a population-based-training exploit). None for a trial that starts fresh.
   */
  readonly restore: Effect.Effect<Option.Option<{ readonly step: number; readonly data: Data }>, CheckpointError | CheckpointNotFound>
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
    restore: from === undefined
      ? Effect.succeed(Option.none())
      : Effect.map(service.load({ study: name, trial: from.trial }, from.step), (data) => Option.some({ step: from.step, data }))
  }
}
