// Reading a trial's objective metric out of its reports, and small statistics on the values.
import type { Trial } from "@tunekit/core"

export type Direction = Trial.Direction

/** The objective's value in a report: the named metric, or the only one when the name is the default. */
export const valueOf = (metric: Trial.Metric, name: string): number | undefined => {
  const v = metric.values[name]
  if (v !== undefined) return v
  if (name === "value") {
    const keys = Object.keys(metric.values)
    if (keys.length === 1) return metric.values[keys[0]]
  }
  return undefined
}

/** The trial's objective values by step, in order of steps. */
export const seriesOf = (t: Trial.FrozenTrial, name: string): Array<readonly [number, number]> => {
  const out: Array<readonly [number, number]> = []
  for (const m of t.intermediate) {
    const v = valueOf(m, name)
    if (v !== undefined) out.push([m.step, v])
  }
  return out
}

/** The value reported at exactly `step`, if any. */
export const valueAt = (t: Trial.FrozenTrial, name: string, step: number): number | undefined => {
  for (const m of t.intermediate) if (m.step === step) return valueOf(m, name)
  return undefined
}

/** Whether `a` is strictly better than `b`; NaN is worse than anything. */
export const better = (a: number, b: number, direction: Direction): boolean =>
  Number.isNaN(b) ? !Number.isNaN(a) : direction === "minimize" ? a < b : a > b

/** The best of some values (NaN only when all are NaN or there are none). */
export const bestOf = (xs: ReadonlyArray<number>, direction: Direction): number => {
  let best = NaN
  for (const x of xs) if (better(x, best, direction)) best = x
  return best
}

/** A percentile (0-100) with linear interpolation, ignoring NaN (numpy's `nanpercentile`). */
export const percentile = (xs: ReadonlyArray<number>, q: number): number => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const pos = (q / 100) * (s.length - 1)
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return s[lo] + (s[hi] - s[lo]) * (pos - lo)
}

/** A number for messages. */
export const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : Number(x.toPrecision(4)).toString())
