/**
 * Trials: one evaluation of one config, and what is stored about it.
 *
 * @since 0.1.0
 */
import * as Distribution from "./Distribution.js"

/** The life of a trial: Waiting (enqueued or paused) -> Running -> Complete | Pruned | Failed. */
export type State = "Waiting" | "Running" | "Complete" | "Pruned" | "Failed"

/** Whether a state is final: a finished trial never changes. */
export const isFinished = (s: State): boolean => s === "Complete" || s === "Pruned" || s === "Failed"

/** The direction of one objective. */
export type Direction = "minimize" | "maximize"

/** One report of a trial's metrics at a step (an epoch, a fold, a number of samples...). */
export interface Metric {
  readonly step: number
  readonly values: Readonly<Record<string, number>>
}

/** A JSON value, for user and system attributes. */
export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [k: string]: Json }

/**
 * A snapshot of a trial as storage holds it. Parameters are stored in their internal numeric form
 * with their distributions; `Trial.paramValues` gives the external values.
 */
export interface FrozenTrial {
  /** Unique in the storage. */
  readonly id: number
  /** 0, 1, 2... within the study, in order of creation. */
  readonly number: number
  readonly state: State
  /** Internal values by parameter name. */
  readonly params: Readonly<Record<string, number>>
  readonly distributions: Readonly<Record<string, Distribution.Distribution>>
  /** The objective values, one per direction of the study, once complete (or the last ones, when pruned). */
  readonly values: ReadonlyArray<number> | undefined
  /** Every reported metric, by step, in order of steps. */
  readonly intermediate: ReadonlyArray<Metric>
  readonly userAttrs: Readonly<Record<string, Json>>
  readonly systemAttrs: Readonly<Record<string, Json>>
  readonly startedAt: number | undefined
  readonly finishedAt: number | undefined
  /** Who ran it: `host:pid`. */
  readonly worker: string | undefined
  /** Why it failed or was pruned. */
  readonly reason: string | undefined
}

/**
 * A trial from the fields that matter to the caller; the rest empty (no params, values, metrics,
 * attributes or times). For histories built by hand: tests, pruners on a lone stream, records of
 * other studies.
 *
 * @example
 * import { Trial } from "@tunekit/core"
 * const t = Trial.make({ id: 1, number: 0, state: "Complete", values: [0.5] })
 */
export const make = (fields: Partial<FrozenTrial> & Pick<FrozenTrial, "id" | "number" | "state">): FrozenTrial => ({
  params: {},
  distributions: {},
  values: undefined,
  intermediate: [],
  userAttrs: {},
  systemAttrs: {},
  startedAt: undefined,
  finishedAt: undefined,
  worker: undefined,
  reason: undefined,
  ...fields
})

/**
 * The external parameter values of a trial, by name.
 *
 * @example
 * import { Trial } from "@tunekit/core"
 * declare const t: Trial.FrozenTrial
 * Trial.paramValues(t) // { lr: 0.001, activation: "relu" }
 */
export const paramValues = (t: FrozenTrial): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(t.params)) out[k] = Distribution.toExternal(t.distributions[k], t.params[k])
  return out
}

/** The last reported step, if any. */
export const lastStep = (t: FrozenTrial): number | undefined =>
  t.intermediate.length === 0 ? undefined : t.intermediate[t.intermediate.length - 1].step

/** The value of one metric at each step where it was reported. */
export const series = (t: FrozenTrial, metric: string): ReadonlyArray<readonly [step: number, value: number]> => {
  const out: Array<readonly [number, number]> = []
  for (const m of t.intermediate) {
    const v = m.values[metric]
    if (v !== undefined) out.push([m.step, v])
  }
  return out
}

/** Duration in milliseconds, once finished. */
export const duration = (t: FrozenTrial): number | undefined =>
  t.startedAt !== undefined && t.finishedAt !== undefined ? t.finishedAt - t.startedAt : undefined
