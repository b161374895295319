/**
 * What a plot is made from: a study's name, its objectives and their directions, and its trials.
 * Every plot is a plain function of one or several sources, so the same data feeds a file, a
 * report or a live page, and tests build sources by hand.
 *
 * @since 0.1.0
 */
import { Storage, type StorageError, type Study, type StudyNotFound, type Trial } from "@tunekit/core"
import { Effect } from "effect"

/** A study as plots read it. */
export interface Source {
  readonly name: string
  readonly directions: ReadonlyArray<Trial.Direction>
  /** One name per direction: the study's metric names, or "value" ("value 0", "value 1"... for several). */
  readonly objectives: ReadonlyArray<string>
  readonly trials: ReadonlyArray<Trial.FrozenTrial>
  /** The study's system attributes, where they are known (a rung scheduler's record is one). */
  readonly systemAttrs?: Readonly<Record<string, Trial.Json>>
}

/** What `make` needs to know about the study (a `Storage.StudyInfo` fits). */
export interface StudyLike {
  readonly name: string
  readonly directions: ReadonlyArray<Trial.Direction>
  readonly metrics?: ReadonlyArray<string>
  readonly systemAttrs?: Readonly<Record<string, Trial.Json>>
}

/**
 * The names of a study's objectives, as the plots show them: its metrics, else "value" (one
 * objective) or "value i".
 *
 * @example
 * import { Source } from "@tunekit/plots"
 * Source.objectiveNames(["minimize", "maximize"], ["loss"]) // ["loss", "value 1"]
 */
export const objectiveNames = (directions: ReadonlyArray<Trial.Direction>, metrics: ReadonlyArray<string> | undefined): Array<string> =>
  directions.map((_, i) => metrics?.[i] ?? (directions.length === 1 ? "value" : `value ${i}`))

/**
 * A source from a study's description and its trials.
 *
 * @example
 * import { Source } from "@tunekit/plots"
 * import type { Trial } from "@tunekit/core"
 * declare const trials: ReadonlyArray<Trial.FrozenTrial>
 * const study = Source.make({ name: "mlp", directions: ["maximize"], metrics: ["accuracy"] }, trials)
 */
export const make = (study: StudyLike, trials: ReadonlyArray<Trial.FrozenTrial>): Source => ({
  name: study.name,
  directions: study.directions,
  objectives: objectiveNames(study.directions, study.metrics),
  trials,
  ...(study.systemAttrs === undefined ? {} : { systemAttrs: study.systemAttrs })
})

/**
 * Reads a study and its trials from the storage.
 *
 * @example
 * import { Effect } from "effect"
 * import { Storage } from "@tunekit/core"
 * import { History, Source } from "@tunekit/plots"
 * const data = Source.load("mlp").pipe(Effect.map((s) => History.make(s)), Effect.provide(Storage.layerSqlite("tunekit.db")))
 */
export const load = (name: string): Effect.Effect<Source, StorageError | StudyNotFound, Storage.Storage> =>
  Effect.gen(function*() {
    const storage = yield* Storage.Storage
    const info = yield* storage.getStudy(name)
    const trials = yield* storage.getTrials(info.id)
    return make(info, trials)
  })

/**
 * The source of an open study.
 *
 * @example
 * import { Effect } from "effect"
 * import { Study } from "@tunekit/core"
 * import { Source } from "@tunekit/plots"
 * declare const study: Study.Handle<unknown>
 * const source = Source.fromHandle(study)
 */
export const fromHandle = <A>(handle: Study.Handle<A>): Effect.Effect<Source, StorageError> =>
  Effect.map(handle.trials, (trials) => ({
    name: handle.info.name,
    directions: handle.objectives.map((o) => o.direction),
    objectives: objectiveNames(handle.objectives.map((o) => o.direction), handle.info.metrics.length > 0 ? handle.info.metrics : undefined),
    trials,
    systemAttrs: handle.info.systemAttrs
  }))
