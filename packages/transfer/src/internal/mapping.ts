// Configs of one search space carried onto another (Feurer et al. 2015's initialization needs the
// best configs of earlier tasks as configs of the new one). Parameters are matched by name:
// - a value inside the new distribution is kept (snapped to its grid: an int, a step);
// - a number outside the new range is clipped to the nearest bound, or dropped, by policy;
// - a categorical value the new choices lack, or a value of the wrong kind, is dropped;
// - a dropped or missing parameter is left to the sampler, and parameters the new space lacks
//   are ignored.
// Every change is written down as a note.
import { Distribution, type Space } from "@tunekit/core"

/** What to do with a number outside the new range. */
export type OutOfRange = "clip" | "drop"

export interface Mapped {
  /** Internal values of the new space, by name, for the parameters that carried over. */
  readonly params: Readonly<Record<string, number>>
  readonly notes: ReadonlyArray<string>
}

const show = (v: unknown) => (typeof v === "string" ? JSON.stringify(v) : String(v))

/** One external value onto a distribution: its internal value, or why it cannot be. */
export const mapValue = (
  d: Distribution.Distribution,
  name: string,
  value: unknown,
  policy: OutOfRange
): { readonly internal?: number; readonly note?: string } => {
  if (d._tag === "Categorical") {
    const i = d.choices.findIndex((c) => c === value)
    return i >= 0 ? { internal: i } : { note: `${name}: ${show(value)} is not one of ${JSON.stringify(d.choices)}, dropped` }
  }
  if (typeof value !== "number" || !Number.isFinite(value)) return { note: `${name}: ${show(value)} is not a number, dropped` }
  if (value >= d.low && value <= d.high) return { internal: Distribution.snap(d, value) }
  const bound = value < d.low ? d.low : d.high
  return policy === "clip"
    ? { internal: Distribution.snap(d, bound), note: `${name}: ${value} is outside ${Distribution.describe(d)}, clipped to ${bound}` }
    : { note: `${name}: ${value} is outside ${Distribution.describe(d)}, dropped` }
}

/** A flat config (external values by parameter name) onto a compiled space. */
export const mapConfig = (space: Space.Compiled<unknown>, config: Readonly<Record<string, unknown>>, policy: OutOfRange): Mapped => {
  const params: Record<string, number> = {}
  const notes: Array<string> = []
  for (const [name, d] of space.params) {
    if (!(name in config)) continue
    const r = mapValue(d, name, config[name], policy)
    if (r.internal !== undefined) params[name] = r.internal
    if (r.note !== undefined) notes.push(r.note)
  }
  return { params, notes }
}

/**
 * A complete config of the space from mapped parameters: those on the path the config takes are
 * used, the rest drawn by `sample` (the new space's parameters that the old config lacked).
 */
export const complete = <A>(
  space: Space.Compiled<A>,
  mapped: Mapped,
  sample: (name: string, d: Distribution.Distribution) => number
): { readonly config: A; readonly params: Record<string, number>; readonly sampled: ReadonlyArray<string> } => {
  const sampled: Array<string> = []
  const built = space.build((name, d) => {
    const v = mapped.params[name]
    if (v !== undefined && Distribution.contains(d, v)) return v
    sampled.push(name)
    return sample(name, d)
  })
  return { ...built, sampled }
}
