// How CMA-ES sees a search space: each numeric parameter is one coordinate of the unit cube
// (log parameters in log space, as Distribution.toUnit maps them). Parameters on a grid (ints,
// floats with a step) are cut into equal cells, the same cells Distribution.fromUnit uses, so
// that the margin of CMA-ES with margin can reason about the boundaries between values.
import { Distribution, Sampler } from "@tunekit/core"
import type { Discrete } from "./cma.js"

export interface Dim {
  readonly name: string
  readonly distribution: Distribution.Distribution
  /** Set for parameters on a grid. */
  readonly discrete: Discrete | undefined
  /** The unit coordinate of a stored (internal) value: for grid values, their cell. */
  readonly cellOfValue: (v: number) => number
  /** The middle of a cell, in unit coordinates. */
  readonly center: (cell: number) => number
  /** The internal value of a cell. */
  readonly valueOf: (cell: number) => number
  /** For continuous parameters: unit coordinate of an internal value, and back. */
  readonly toUnit: (v: number) => number
  readonly fromUnit: (u: number) => number
}

const clampInt = (k: number, hi: number) => Math.min(hi, Math.max(0, k))

/** The coordinate description of one numeric distribution. */
export const dimOf = (name: string, d: Distribution.FloatDistribution | Distribution.IntDistribution): Dim => {
  const base = {
    name,
    distribution: d,
    toUnit: (v: number) => Distribution.toUnit(d, v),
    fromUnit: (u: number) => Distribution.fromUnit(d, Math.min(1, Math.max(0, u)))
  }
  if (d._tag === "Float" && d.step === undefined) {
    return { ...base, discrete: undefined, cellOfValue: () => 0, center: () => 0.5, valueOf: () => d.low }
  }
  if (d.log) {
    // A log int (step 1): cells of log space around each integer, as Distribution.fromUnit.
    const lo = Math.log(d.low - 0.5)
    const hi = Math.log(d.high + 0.5)
    const count = d.high - d.low + 1
    const unit = (x: number) => (Math.log(x) - lo) / (hi - lo)
    return {
      ...base,
      discrete: {
        count,
        threshold: (i) => unit(d.low + i + 0.5),
        cellOf: (u) => clampInt(Math.round(Math.exp(lo + u * (hi - lo))) - d.low, count - 1)
      },
      cellOfValue: (v) => clampInt(Math.round(v) - d.low, count - 1),
      center: (c) => unit(d.low + c),
      valueOf: (c) => d.low + c
    }
  }
  const step = d.step!
  const count = Math.round((d.high - d.low) / step) + 1
  return {
    ...base,
    discrete: {
      count,
      threshold: (i) => (i + 1) / count,
      cellOf: (u) => clampInt(Math.floor(u * count), count - 1)
    },
    cellOfValue: (v) => clampInt(Math.round((v - d.low) / step), count - 1),
    center: (c) => (c + 0.5) / count,
    valueOf: (c) => Distribution.snap(d, d.low + c * step)
  }
}

/** Whether CMA-ES can model a distribution: numeric with more than one value. */
export const isNumeric = (d: Distribution.Distribution): d is Distribution.FloatDistribution | Distribution.IntDistribution =>
  d._tag !== "Categorical" && !Distribution.isSingle(d)

/**
 * The parameters of a declared space that every config has (not under a branch case), numeric.
 * A branch is a categorical whose cases' fields are named `branch.case.field`.
 */
export const unconditionalNumeric = (params: Sampler.SearchSpace): Map<string, Distribution.Distribution> => {
  const prefixes: Array<string> = []
  for (const [k, d] of params) {
    if (d._tag !== "Categorical") continue
    // A branch at the root is named "value" and its cases' fields are `case.field`.
    if (k === "value") for (const c of d.choices) prefixes.push(`${String(c)}.`)
    else prefixes.push(`${k}.`)
  }
  const out = new Map<string, Distribution.Distribution>()
  for (const [k, d] of params) {
    if (isNumeric(d) && !prefixes.some((p) => k.startsWith(p))) out.set(k, d)
  }
  return out
}
