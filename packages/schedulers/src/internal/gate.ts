// Warmup and interval gating shared by the pruners that follow Optuna's `n_warmup_steps` and
// `interval_steps`: a trial is judged only after the warmup, at its first report in each interval.
import { Options } from "@tunekit/core"
import type { Trial } from "@tunekit/core"
import { Schema } from "effect"

export interface StepOptions {
  /** No pruning at steps below this (default 0). */
  readonly nWarmupSteps?: number
  /** Judge only at the first report in each interval of this many steps after the warmup (default 1). */
  readonly intervalSteps?: number
}

/** The Schema fields of `StepOptions`, for the Schemas of the pruners that gate by step. */
export const stepFields = {
  nWarmupSteps: Schema.optional(Options.NonNegative),
  intervalSteps: Schema.optional(Options.PositiveInt)
}

/** Whether the report at `step` is one that gets judged. */
export const judged = (trial: Trial.FrozenTrial, step: number, o: StepOptions): boolean => {
  const warm = o.nWarmupSteps ?? 0
  if (step < warm) return false
  const every = o.intervalSteps ?? 1
  if (every === 1) return true
  let prev: number | undefined
  for (const m of trial.intermediate) if (m.step < step && (prev === undefined || m.step > prev)) prev = m.step
  const bucket = (s: number) => Math.floor((s - warm) / every)
  return prev === undefined || prev < warm || bucket(prev) !== bucket(step)
}
