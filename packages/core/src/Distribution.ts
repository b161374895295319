/**
 * Distributions: the one description of a parameter that every sampler works on.
 *
 * Each distribution has an internal numeric form (Optuna's `to_internal_repr`): floats and ints are
 * themselves, a categorical is the index of its choice. Samplers work on internal values; users see
 * external ones.
 *
 * @since 0.1.0
 */
import { InvalidSpace } from "./Errors.js"

/** A value a categorical can hold. */
export type Choice = string | number | boolean | null

/** A float in [low, high], uniform or log-uniform, optionally on a grid of `step`. */
export interface FloatDistribution {
  readonly _tag: "Float"
  readonly low: number
  readonly high: number
  readonly log: boolean
  readonly step: number | undefined
}

/** An integer in [low, high] on a grid of `step` (1 by default), uniform or log-uniform. */
export interface IntDistribution {
  readonly _tag: "Int"
  readonly low: number
  readonly high: number
  readonly log: boolean
  readonly step: number
}

/** One of a list of choices. */
export interface CategoricalDistribution<A extends Choice = Choice> {
  readonly _tag: "Categorical"
  readonly choices: ReadonlyArray<A>
}

export type Distribution = FloatDistribution | IntDistribution | CategoricalDistribution

/** Options of `float` and `int`. `log` and `step` exclude each other. */
export interface NumericOptions {
  readonly log?: boolean
  readonly step?: number
}

const EPS = 1e-8

const checkBounds = (param: string, low: number, high: number, opts: NumericOptions, allowEqual: boolean) => {
  if (!Number.isFinite(low) || !Number.isFinite(high)) {
    throw new InvalidSpace({ param, reason: `bounds must be finite numbers, got [${low}, ${high}]` })
  }
  if (allowEqual ? low > high : low >= high) {
    throw new InvalidSpace({ param, reason: `low (${low}) must be below high (${high})` })
  }
  if (opts.log && opts.step !== undefined) {
    throw new InvalidSpace({ param, reason: "log and step cannot be used together" })
  }
  if (opts.log && low <= 0) {
    throw new InvalidSpace({ param, reason: `a log scale needs low > 0, got low = ${low}` })
  }
  if (opts.step !== undefined) {
    const step = opts.step
    if (!Number.isFinite(step) || step <= 0) {
      throw new InvalidSpace({ param, reason: `step must be a positive finite number, got ${step}` })
    }
    const n = (high - low) / step
    if (Math.abs(n - Math.round(n)) > EPS * Math.max(1, Math.abs(n))) {
      throw new InvalidSpace({
        param,
        reason: `step ${step} does not divide the range [${low}, ${high}] (${n.toPrecision(6)} steps)`
      })
    }
  }
}

/**
 * A float distribution.
 *
 * @example
 * import { Distribution } from "@tunekit/core"
 * const lr = Distribution.float("lr", 1e-5, 1e-1, { log: true })
 */
export const float = (param: string, low: number, high: number, opts: NumericOptions = {}): FloatDistribution => {
  checkBounds(param, low, high, opts, false)
  return { _tag: "Float", low, high, log: opts.log ?? false, step: opts.step }
}

/**
 * An integer distribution.
 *
 * @example
 * import { Distribution } from "@tunekit/core"
 * const layers = Distribution.int("layers", 1, 6)
 */
export const int = (param: string, low: number, high: number, opts: NumericOptions = {}): IntDistribution => {
  if (!Number.isInteger(low) || !Number.isInteger(high)) {
    throw new InvalidSpace({ param, reason: `integer bounds must be integers, got [${low}, ${high}]` })
  }
  if (opts.step !== undefined && !Number.isInteger(opts.step)) {
    throw new InvalidSpace({ param, reason: `integer step must be an integer, got ${opts.step}` })
  }
  checkBounds(param, low, high, opts, false)
  return { _tag: "Int", low, high, log: opts.log ?? false, step: opts.step ?? 1 }
}

/**
 * A categorical distribution.
 *
 * @example
 * import { Distribution } from "@tunekit/core"
 * const act = Distribution.categorical("activation", ["relu", "tanh"])
 */
export const categorical = <const A extends Choice>(
  param: string,
  choices: ReadonlyArray<A>
): CategoricalDistribution<A> => {
  if (!Array.isArray(choices) || choices.length === 0) {
    throw new InvalidSpace({ param, reason: "a categorical needs at least one choice" })
  }
  const seen = new Set<unknown>()
  for (const c of choices) {
    const ok = c === null || typeof c === "string" || typeof c === "boolean" || (typeof c === "number" && Number.isFinite(c))
    if (!ok) throw new InvalidSpace({ param, reason: `choice ${String(c)} is not a string, finite number, boolean or null` })
    if (seen.has(c)) throw new InvalidSpace({ param, reason: `choice ${JSON.stringify(c)} appears twice` })
    seen.add(c)
  }
  return { _tag: "Categorical", choices: [...choices] }
}

/** Whether two distributions are the same. */
export const equals = (a: Distribution, b: Distribution): boolean => {
  if (a._tag !== b._tag) return false
  if (a._tag === "Categorical") {
    const bc = (b as CategoricalDistribution).choices
    return a.choices.length === bc.length && a.choices.every((c, i) => c === bc[i])
  }
  const bn = b as FloatDistribution | IntDistribution
  return a.low === bn.low && a.high === bn.high && a.log === bn.log && a.step === bn.step
}

/** Whether a distribution has a single possible value. */
export const isSingle = (d: Distribution): boolean =>
  d._tag === "Categorical" ? d.choices.length === 1 : d.low === d.high

/** The external value of an internal one. */
export const toExternal = (d: Distribution, internal: number): unknown =>
  d._tag === "Categorical" ? d.choices[internal] : internal

/** The internal value of an external one; throws when the value is not in the distribution. */
export const toInternal = (d: Distribution, external: unknown): number => {
  if (d._tag === "Categorical") {
    const i = d.choices.indexOf(external as Choice)
    if (i < 0) throw new Error(`${JSON.stringify(external)} is not one of ${JSON.stringify(d.choices)}`)
    return i
  }
  if (typeof external !== "number") throw new Error(`${JSON.stringify(external)} is not a number`)
  return external
}

/** Whether an internal value lies in the distribution (inside the bounds and on its grid). */
export const contains = (d: Distribution, internal: number): boolean => {
  if (!Number.isFinite(internal)) return false
  if (d._tag === "Categorical") return Number.isInteger(internal) && internal >= 0 && internal < d.choices.length
  if (internal < d.low || internal > d.high) return false
  if (d._tag === "Int" && !Number.isInteger(internal)) return false
  if (d.step !== undefined) {
    const k = (internal - d.low) / d.step
    return Math.abs(k - Math.round(k)) < 1e-6
  }
  return true
}

/** Rounds an internal value onto the distribution: clipped to the bounds, snapped to the step. */
export const snap = (d: Distribution, internal: number): number => {
  if (d._tag === "Categorical") return Math.min(d.choices.length - 1, Math.max(0, Math.round(internal)))
  let v = Math.min(d.high, Math.max(d.low, internal))
  if (d.step !== undefined) {
    const n = Math.round((d.high - d.low) / d.step)
    const k = Math.min(n, Math.max(0, Math.round((v - d.low) / d.step)))
    // Written as low + k * step and trimmed of float noise so that 0.1 + 2 * 0.1 prints as 0.3.
    v = Number((d.low + k * d.step).toPrecision(12))
  } else if (d._tag === "Int") {
    v = Math.round(v)
  }
  return v
}

/**
 * Maps an internal value to [0, 1]: linearly, or in log space for log distributions. Categoricals
 * map their index to the middle of its cell. Model-based samplers work in this unit cube.
 */
export const toUnit = (d: Distribution, internal: number): number => {
  if (d._tag === "Categorical") return (internal + 0.5) / d.choices.length
  const [lo, hi, x] = d.log ? [Math.log(d.low), Math.log(d.high), Math.log(internal)] : [d.low, d.high, internal]
  return hi === lo ? 0.5 : (x - lo) / (hi - lo)
}

/** The inverse of `toUnit`, snapped onto the distribution (ints and steps cover equal cells). */
export const fromUnit = (d: Distribution, u: number): number => {
  const t = Math.min(1, Math.max(0, u))
  if (d._tag === "Categorical") return Math.min(d.choices.length - 1, Math.floor(t * d.choices.length))
  if (d.log) {
    // For a log int, widen by half a unit so that both ends get a full cell.
    const pad = d._tag === "Int" ? 0.5 : 0
    const lo = Math.log(d.low - pad)
    const hi = Math.log(d.high + pad)
    return snap(d, Math.exp(lo + t * (hi - lo)))
  }
  if (d._tag === "Int" || d.step !== undefined) {
    const n = Math.round((d.high - d.low) / d.step!) + 1
    const k = Math.min(n - 1, Math.floor(t * n))
    return snap(d, d.low + k * d.step!)
  }
  return d.low + t * (d.high - d.low)
}

/**
 * Every value of a discrete distribution, in order; undefined for a continuous float (no step).
 */
export const gridValues = (d: Distribution): ReadonlyArray<number> | undefined => {
  if (d._tag === "Categorical") return d.choices.map((_, i) => i)
  if (d._tag === "Float" && d.step === undefined) return d.low === d.high ? [d.low] : undefined
  const step = d.step!
  const n = Math.round((d.high - d.low) / step)
  return Array.from({ length: n + 1 }, (_, k) => snap(d, d.low + k * step))
}

/** A short human description, used in error messages and tables. */
export const describe = (d: Distribution): string =>
  d._tag === "Categorical"
    ? `categorical ${JSON.stringify(d.choices)}`
    : `${d._tag.toLowerCase()} [${d.low}, ${d.high}]${d.log ? " log" : ""}${
        d.step !== undefined && !(d._tag === "Int" && d.step === 1) ? ` step ${d.step}` : ""
      }`
