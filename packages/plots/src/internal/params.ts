// Parameter axes shared by the plots of parameters (parallel coordinates, contour, slice, rank)
// and the importance evaluators. A parameter's axis comes from the distributions its trials
// stored; a trial without the parameter (an inactive branch of the space) has no value on it.
import { Distribution, type Trial } from "@tunekit/core"

/** How a parameter's axis is drawn. */
export type Scale = "linear" | "log" | "categorical"

/** A parameter's axis: numbers on a linear or log scale, or the labels of its choices. */
export interface ParamAxis {
  readonly name: string
  readonly scale: Scale
  /** The bounds of the distributions (for a categorical: 0 and the last choice's index). */
  readonly range: readonly [number, number]
  /** The choices' labels, for a categorical; a trial's value on the axis is the index of its choice. */
  readonly choices?: ReadonlyArray<string>
  /** For a linear axis of integers or of a float with a step: the grid's step (every distribution's). */
  readonly step?: number
}

export const label = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v) ?? String(v))

/** Every parameter name any trial used, sorted (as Optuna's plots order them). */
export const names = (trials: ReadonlyArray<Trial.FrozenTrial>): Array<string> => {
  const seen = new Set<string>()
  for (const t of trials) for (const k of Object.keys(t.params)) seen.add(k)
  return [...seen].sort()
}

/**
 * The axis of a parameter over the trials that used it: categorical when any of them stored it
 * as a categorical (choices in order of first appearance across distributions), log when all
 * stored it on a log scale; the range covers every distribution's bounds.
 */
export const axisOf = (trials: ReadonlyArray<Trial.FrozenTrial>, name: string): ParamAxis | undefined => {
  const ds: Array<Distribution.Distribution> = []
  for (const t of trials) if (t.distributions[name] !== undefined && t.params[name] !== undefined) ds.push(t.distributions[name])
  if (ds.length === 0) return undefined
  if (ds.some((d) => d._tag === "Categorical")) {
    const choices: Array<string> = []
    const add = (c: string) => {
      if (!choices.includes(c)) choices.push(c)
    }
    for (const d of ds) if (d._tag === "Categorical") d.choices.forEach((c) => add(label(c)))
    // A parameter stored as a number in some trials and a choice in others: its numbers become choices too.
    for (const t of trials) if (t.distributions[name] !== undefined && t.distributions[name]._tag !== "Categorical" && t.params[name] !== undefined) add(label(t.params[name]))
    return { name, scale: "categorical", range: [0, choices.length - 1], choices }
  }
  const numeric = ds as Array<Distribution.FloatDistribution | Distribution.IntDistribution>
  let lo = Infinity
  let hi = -Infinity
  for (const d of numeric) {
    lo = Math.min(lo, d.low)
    hi = Math.max(hi, d.high)
  }
  const log = numeric.every((d) => d.log)
  const step = numeric[0].step
  const stepped = !log && step !== undefined && numeric.every((d) => !d.log && d.step === step)
  return { name, scale: log ? "log" : "linear", range: [lo, hi], ...(stepped ? { step } : {}) }
}

/** A trial's value on an axis: the external number, or the index of its choice; undefined when inactive. */
export const valueOn = (axis: ParamAxis, t: Trial.FrozenTrial): number | undefined => {
  const d = t.distributions[axis.name]
  const v = t.params[axis.name]
  if (d === undefined || v === undefined) return undefined
  const external = Distribution.toExternal(d, v)
  if (axis.choices === undefined) return typeof external === "number" ? external : undefined
  const i = axis.choices.indexOf(label(external))
  return i < 0 ? undefined : i
}

/** A position in [0, 1] on the axis (log scales in log space, choices at the middle of their cells). */
export const toUnit = (axis: ParamAxis, v: number): number => {
  if (axis.scale === "categorical") return (v + 0.5) / axis.choices!.length
  const [lo, hi, x] = axis.scale === "log" ? [Math.log(axis.range[0]), Math.log(axis.range[1]), Math.log(v)] : [axis.range[0], axis.range[1], v]
  return hi === lo ? 0.5 : (x - lo) / (hi - lo)
}

/** The inverse of `toUnit` for numeric axes. */
export const fromUnit = (axis: ParamAxis, u: number): number => {
  const [lo, hi] = axis.range
  return axis.scale === "log" ? Math.exp(Math.log(lo) + u * (Math.log(hi) - Math.log(lo))) : lo + u * (hi - lo)
}

/** The axes of the named parameters (default: every parameter), each used by some trial. */
export const axesOf = (
  trials: ReadonlyArray<Trial.FrozenTrial>,
  params: ReadonlyArray<string> | undefined,
  fail: (reason: string) => never
): Array<ParamAxis> =>
  (params ?? names(trials)).map((p) => axisOf(trials, p) ?? fail(`no trial has the parameter "${p}"${suggest(trials)}`))

const suggest = (trials: ReadonlyArray<Trial.FrozenTrial>) => {
  const all = names(trials)
  return all.length === 0 ? " (no trial has parameters)" : ` (its parameters: ${all.join(", ")})`
}
