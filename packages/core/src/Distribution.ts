/**
 * Distributions: the one description of a parameter that every sampler works on.
 *
 * Each distribution has an internal numeric form (Optuna's `to_internal_repr`): floats and ints are
 * themselves, a categorical is the index of its choice. Samplers work on internal values; users see
 * external ones.
 *
 * @since 0.1.0
 */
import { Either, Schema } from "effect"
import { InvalidSpace } from "./Errors.js"
import * as Options from "./Options.js"

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

/**
 * The Schema of `NumericOptions`.
 *
 * @example
 * import { Distribution } from "@tunekit/core"
 * import { Options } from "@tunekit/core"
 * Options.decodeEither(Distribution.NumericOptionsSchema)({ lg: true }) // Left: lg is not an option here
 */
export const NumericOptionsSchema: Schema.Schema<NumericOptions> = Schema.Struct({
  log: Schema.optional(Options.Boolean),
  step: Schema.optional(Schema.Number)
})

const EPS = 1e-8

// The rules of a numeric distribution, in the order a person fixes them; `path` is the field
// a problem is in.
const boundsProblem = (d: FloatDistribution | IntDistribution): { readonly path: ReadonlyArray<string>; readonly message: string } | undefined => {
  const { high, log, low, step } = d
  const problem = (message: string, path: ReadonlyArray<string> = []) => ({ path, message })
  const kind = d._tag === "Int" ? "an integer" : "a finite number"
  const whole = d._tag === "Int" ? Number.isInteger : Number.isFinite
  if (!whole(low)) return problem(`expected ${kind}, got ${low}`, ["low"])
  if (!whole(high)) return problem(`expected ${kind}, got ${high}`, ["high"])
  if (d._tag === "Int" && !Number.isInteger(step)) return problem(`expected an integer, got ${step}`, ["step"])
  if (low >= high) return problem(`low (${low}) must be below high (${high})`)
  if (log && step !== undefined && !(d._tag === "Int" && step === 1)) return problem("log and step cannot be used together")
  if (log && low <= 0) return problem(`a log scale needs low > 0, got low = ${low}`)
  if (step !== undefined) {
    if (!Number.isFinite(step) || step <= 0) return problem(`expected a positive finite number, got ${step}`, ["step"])
    const n = (high - low) / step
    if (Math.abs(n - Math.round(n)) > EPS * Math.max(1, Math.abs(n))) {
      return problem(`${step} does not divide the range [${low}, ${high}] (${n.toPrecision(6)} steps)`, ["step"])
    }
  }
  return undefined
}

const numericRules = <A extends FloatDistribution | IntDistribution>(self: Schema.Schema<A, any>) =>
  self.pipe(Schema.filter((d) => boundsProblem(d) ?? true))

/**
 * The Schema of a float distribution (its stored JSON form too), with every rule `float` checks.
 *
 * @example
 * import { Distribution, Options } from "@tunekit/core"
 * Options.decodeEither(Distribution.FloatSchema)({ _tag: "Float", low: 1, high: 0, log: false }) // Left: low (1) must be below high (0)
 */
export const FloatSchema: Schema.Schema<FloatDistribution, { readonly _tag: "Float"; readonly low: number; readonly high: number; readonly log: boolean; readonly step?: number | undefined }> =
  numericRules(Schema.Struct({
    _tag: Schema.Literal("Float"),
    low: Schema.Number,
    high: Schema.Number,
    log: Options.Boolean,
    // JSON leaves out an undefined step: absent and undefined are the same.
    step: Schema.optionalWith(Schema.UndefinedOr(Schema.Number), { default: () => undefined })
  }))

/**
 * The Schema of an int distribution (its stored JSON form too), with every rule `int` checks.
 *
 * @example
 * import { Distribution, Options } from "@tunekit/core"
 * Options.decodeEither(Distribution.IntSchema)({ _tag: "Int", low: 0, high: 10, log: false, step: 3 }) // Left: step: 3 does not divide the range [0, 10]
 */
export const IntSchema: Schema.Schema<IntDistribution> = numericRules(Schema.Struct({
  _tag: Schema.Literal("Int"),
  low: Schema.Number,
  high: Schema.Number,
  log: Options.Boolean,
  step: Schema.Number
}))

const ChoiceSchema: Schema.Schema<Choice> = Schema.Union(Schema.String, Options.Finite, Schema.Boolean, Schema.Null).annotations(
  Options.expecting("a string, finite number, boolean or null")
)

/**
 * The Schema of a categorical distribution (its stored JSON form too): at least one choice, each
 * a string, finite number, boolean or null, none twice.
 *
 * @example
 * import { Distribution, Options } from "@tunekit/core"
 * Options.decodeEither(Distribution.CategoricalSchema)({ _tag: "Categorical", choices: ["a", "a"] }) // Left: choices: "a" appears twice
 */
export const CategoricalSchema: Schema.Schema<CategoricalDistribution> = Schema.Struct({
  _tag: Schema.Literal("Categorical"),
  choices: Schema.Array(ChoiceSchema).pipe(Schema.filter((cs) => {
    if (cs.length === 0) return "a categorical needs at least one choice"
    const seen = new Set<unknown>()
    for (const c of cs) {
      if (seen.has(c)) return `${JSON.stringify(c)} appears twice`
      seen.add(c)
    }
    return true
  }))
})

/**
 * The Schema of any distribution: how distributions are stored (as JSON) and read back.
 *
 * @example
 * import { Distribution, Options } from "@tunekit/core"
 * const read = Options.decodeEither(Distribution.DistributionSchema)
 * read(JSON.parse('{"_tag":"Int","low":1,"high":6,"log":false,"step":1}')) // Right(int [1, 6])
 */
export const DistributionSchema: Schema.Schema<Distribution, any> = Schema.Union(FloatSchema, IntSchema, CategoricalSchema)

// Builds a distribution through its Schema: the constructors and stored JSON obey one set of rules.
const decodeOrThrow = <A>(schema: Schema.Schema<A, any>) => {
  const run = Options.decodeEither(schema)
  return (param: string, input: unknown): A =>
    Either.getOrThrowWith(run(input), (p) => new InvalidSpace({ param, reason: Options.format(p) }))
}
const numericOptions = decodeOrThrow(NumericOptionsSchema)
const floatOf = decodeOrThrow(FloatSchema)
const intOf = decodeOrThrow(IntSchema)
const categoricalOf = decodeOrThrow(CategoricalSchema)

/**
 * A float distribution.
 *
 * @example
 * import { Distribution } from "@tunekit/core"
 * const lr = Distribution.float("lr", 1e-5, 1e-1, { log: true })
 */
export const float = (param: string, low: number, high: number, opts: NumericOptions = {}): FloatDistribution => {
  const o = numericOptions(param, opts)
  return floatOf(param, { _tag: "Float", low, high, log: o.log ?? false, step: o.step })
}

/**
 * An integer distribution.
 *
 * @example
 * import { Distribution } from "@tunekit/core"
 * const layers = Distribution.int("layers", 1, 6)
 */
export const int = (param: string, low: number, high: number, opts: NumericOptions = {}): IntDistribution => {
  const o = numericOptions(param, opts)
  if (o.log && o.step !== undefined) throw new InvalidSpace({ param, reason: "log and step cannot be used together" })
  return intOf(param, { _tag: "Int", low, high, log: o.log ?? false, step: o.step ?? 1 })
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
): CategoricalDistribution<A> => categoricalOf(param, { _tag: "Categorical", choices }) as CategoricalDistribution<A>

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
  // A log int's range is widened by half a unit, as in `fromUnit`, so that one inverts the other.
  const pad = d.log && d._tag === "Int" ? 0.5 : 0
  const [lo, hi, x] = d.log
    ? [Math.log(d.low - pad), Math.log(d.high + pad), Math.log(internal)]
    : [d.low, d.high, internal]
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
