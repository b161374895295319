// Which number of a trial a plot shows: one of the study's objectives (by index or name), or a
// function of the trial (Optuna's `target`). Only complete trials with a finite value count.
import type { Trial } from "@tunekit/core"
import { InvalidPlot } from "../Errors.js"
import type { Source } from "../Source.js"

/** Which value of a trial a plot shows. */
export interface TargetOptions {
  /** The objective, by index or name (default the first). */
  readonly objective?: number | string
  /** Or any number of a trial, with a name for the axis (and a direction for "best"). */
  readonly target?: {
    readonly name: string
    readonly value: (t: Trial.FrozenTrial) => number | undefined
    readonly direction?: Trial.Direction
  }
}

export interface Target {
  readonly name: string
  readonly direction: Trial.Direction
  /** The value of a complete trial, when it has a finite one. */
  readonly valueOf: (t: Trial.FrozenTrial) => number | undefined
}

export const objectiveIndex = (source: Source, objective: number | string | undefined, plot: string): number => {
  if (objective === undefined) return 0
  const i = typeof objective === "number" ? objective : source.objectives.indexOf(objective)
  if (!(Number.isInteger(i) && i >= 0 && i < source.directions.length)) {
    const n = source.directions.length
    throw new InvalidPlot({
      plot,
      reason: `the study "${source.name}" has ${n} objective${n === 1 ? "" : "s"} (${source.objectives.join(", ")}), not objective ${JSON.stringify(objective)}`
    })
  }
  return i
}

const finite = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v : undefined)

export const resolve = (source: Source, options: TargetOptions, plot: string): Target => {
  if (options.target !== undefined) {
    const { value, name, direction } = options.target
    return { name, direction: direction ?? "minimize", valueOf: (t) => (t.state === "Complete" ? finite(value(t)) : undefined) }
  }
  const i = objectiveIndex(source, options.objective, plot)
  return {
    name: source.objectives[i],
    direction: source.directions[i],
    valueOf: (t) => (t.state === "Complete" ? finite(t.values?.[i]) : undefined)
  }
}

/** The complete trials with a value, in order of number, with that value. */
export const valued = (trials: ReadonlyArray<Trial.FrozenTrial>, target: Target): Array<{ trial: Trial.FrozenTrial; value: number }> => {
  const out: Array<{ trial: Trial.FrozenTrial; value: number }> = []
  for (const t of [...trials].sort((a, b) => a.number - b.number)) {
    const value = target.valueOf(t)
    if (value !== undefined) out.push({ trial: t, value })
  }
  return out
}
