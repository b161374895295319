// Stagnation: no improvement in the last `patience` reports (Keras' EarlyStopping counts the same way).
import { Options } from "@tunekit/core"
import type { Trial } from "@tunekit/core"
import { Schema } from "effect"
import { better, bestOf, type Direction, fmt, seriesOf } from "./series.js"

export interface PatienceOptions {
  /** How many reports in a row may pass without improvement. */
  readonly patience: number
  /** An improvement smaller than this does not count (default 0). */
  readonly minDelta?: number
}

export const PatienceOptionsSchema: Schema.Schema<PatienceOptions> = Schema.Struct({
  patience: Options.PositiveInt,
  minDelta: Schema.optional(Options.NonNegative)
})

/** Why the trial stagnates, or undefined while it still improves (or has too few reports). */
export const stagnation = (t: Trial.FrozenTrial, name: string, direction: Direction, o: PatienceOptions): string | undefined => {
  const values = seriesOf(t, name).map(([, v]) => v)
  if (values.length <= o.patience) return undefined
  const before = bestOf(values.slice(0, values.length - o.patience), direction)
  const after = bestOf(values.slice(values.length - o.patience), direction)
  const delta = o.minDelta ?? 0
  const target = direction === "minimize" ? before - delta : before + delta
  // NaN after is never an improvement; NaN before is beaten by any number.
  const improved = Number.isNaN(before) ? !Number.isNaN(after) : better(after, target, direction)
  return improved
    ? undefined
    : `no improvement of ${name} by more than ${fmt(delta)} in the last ${o.patience} reports (best ${fmt(after)} after ${fmt(before)})`
}
