// The GP's startup design: a Latin hypercube (McKay, Beckman & Conover 1979) of n points, one
// column per parameter name, trial number i taking point i. Every stratum [k/n, (k+1)/n) of every
// column holds exactly one point of the design.
//
// With a declared space n is fixed by the space. Define-by-run, the space is unknown until a trial
// has run: trial 0 (and any trial sampled before a trial completed) is drawn at random, and the
// first trial to complete (the anchor) fixes the design: n from its parameters, and its own point
// is the design's point at its number, so that every column's permutation places the other points
// in the strata it left free. The anchor is a study attribute (`ATTRIBUTE`), written once, so
// that every worker builds the same design; until the run loop has stored it, each worker derives
// the same anchor from the history (the earliest completion, then the lowest number).
import { Distribution } from "@tunekit/core"
import type { Sampler, Trial } from "@tunekit/core"

/** The study attribute that fixes a define-by-run design: `{ size, anchor }`. */
export const ATTRIBUTE = "gp.design"

export interface Design {
  readonly size: number
  /** Define-by-run: the trial whose point the design is built around, and its unit coordinates. */
  readonly anchor: { readonly trial: number; readonly units: ReadonlyMap<string, number> } | undefined
  /** Whether the design was just fixed from the history (the sampler then proposes the attribute). */
  readonly derived: boolean
}

/** The default size for d parameters: max(10, 2 d + 2) (docs/benchmarks-gp-qmc.md). */
export const defaultSize = (d: number): number => Math.max(10, 2 * d + 2)

const modelled = (d: Distribution.Distribution) => !Distribution.isSingle(d)

const unitsOf = (t: Trial.FrozenTrial): Map<string, number> => {
  const out = new Map<string, number>()
  for (const [k, v] of Object.entries(t.params)) {
    const d = t.distributions[k]
    if (d !== undefined && modelled(d)) out.set(k, Distribution.toUnit(d, v))
  }
  return out
}

const isComplete = (t: Trial.FrozenTrial) => t.state === "Complete" && t.values !== undefined

/** The first trial to complete: earliest `finishedAt`, then lowest number. */
export const firstComplete = (history: ReadonlyArray<Trial.FrozenTrial>): Trial.FrozenTrial | undefined => {
  let first: Trial.FrozenTrial | undefined
  for (const t of history) {
    if (!isComplete(t)) continue
    const a = t.finishedAt ?? Infinity
    const b = first?.finishedAt ?? Infinity
    if (first === undefined || a < b || (a === b && t.number < first.number)) first = t
  }
  return first
}

/**
 * The study's design, or undefined when there is none yet (define-by-run before any trial
 * completed). `size` overrides the default size.
 */
export const designOf = (ctx: Sampler.SampleContext, size: number | undefined): Design | undefined => {
  if (ctx.space !== undefined) {
    let d = 0
    for (const dist of ctx.space.params.values()) if (modelled(dist)) d++
    return { size: size ?? defaultSize(d), anchor: undefined, derived: false }
  }
  const stored = ctx.study.systemAttrs[ATTRIBUTE] as { size?: unknown; anchor?: unknown } | undefined
  if (stored !== undefined && typeof stored.size === "number" && typeof stored.anchor === "number") {
    const t = ctx.history.find((x) => x.number === stored.anchor)
    if (t !== undefined) return { size: stored.size, anchor: { trial: t.number, units: unitsOf(t) }, derived: false }
  }
  const first = firstComplete(ctx.history)
  if (first === undefined) return undefined
  const units = unitsOf(first)
  return { size: size ?? defaultSize(units.size), anchor: { trial: first.number, units }, derived: true }
}

/** The attribute that stores a design. */
export const attributeOf = (design: Design): Record<string, Trial.Json> => ({
  [ATTRIBUTE]: { size: design.size, anchor: design.anchor?.trial ?? null }
})

/**
 * The unit coordinate of `name` for trial `number` in the design, or undefined outside it (numbers
 * past the design, or the anchor itself).
 */
export const coordinate = (ctx: Sampler.SampleContext, design: Design, name: string, number: number): number | undefined => {
  const n = design.size
  if (number >= n || number === design.anchor?.trial) return undefined
  const g = ctx.derive("gp-design", n, name)
  const anchored = design.anchor !== undefined && design.anchor.trial < n ? design.anchor : undefined
  const u = anchored?.units.get(name)
  const taken = u === undefined ? undefined : Math.min(n - 1, Math.floor(u * n))
  // The strata the anchor left free, shuffled, go to the other points in order of number.
  const free = g.shuffle(Array.from({ length: n }, (_, k) => k).filter((k) => k !== taken))
  const jitter = Array.from({ length: n }, () => g.next())
  const slot = taken === undefined || anchored === undefined ? number : number < anchored.trial ? number : number - 1
  const stratum = taken === undefined ? free[number] : free[slot]
  return (stratum + jitter[number]) / n
}

/** Whether the startup design still serves: no design yet, or fewer complete trials than its size. */
export const inStartup = (ctx: Sampler.SampleContext, size: number | undefined): boolean => {
  const design = designOf(ctx, size)
  if (design === undefined) return true
  let k = 0
  for (const t of ctx.history) if (isComplete(t) && ++k >= design.size) return false
  return true
}
