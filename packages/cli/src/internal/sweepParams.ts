// A sweep file's `parameters`: W&B's search constraints and distributions, each with the meaning
// W&B's documentation gives it (docs.wandb.ai, "Sweep configuration options"; the formulas are
// those of wandb/sweeps src/sweeps/params.py), decoded by an effect/Schema and mapped onto a
// tunekit Space.
//
// The mapping: a distribution that tunekit's Space has is that Space (uniform, int_uniform,
// categorical; the log-uniform family is a log-scaled float over the range of its values). One
// it lacks (normal, log_normal, beta, categorical with probabilities) is a uniform float p in
// [0, 1] that the program receives as F⁻¹(p), the distribution's quantile: random search then
// draws exactly that distribution, and model-based samplers search p, as W&B's Bayesian search
// does. Quantized forms round the value: round(X / q) * q.
import { Schema } from "effect"
import type { JSONSchema } from "effect"
import { Options, Space } from "@tunekit/core"
import * as Quantile from "./quantile.js"

/** The distributions of a sweep file, by their W&B names. */
export const DISTRIBUTIONS = [
  "constant",
  "categorical",
  "int_uniform",
  "uniform",
  "q_uniform",
  "log_uniform",
  "log_uniform_values",
  "q_log_uniform",
  "q_log_uniform_values",
  "inv_log_uniform",
  "inv_log_uniform_values",
  "normal",
  "q_normal",
  "log_normal",
  "q_log_normal",
  "beta",
  "q_beta"
] as const

export type DistributionName = (typeof DISTRIBUTIONS)[number]

/** The keys a parameter may hold, besides `distribution` and `parameters`. */
export type ParamKey = "value" | "values" | "probabilities" | "min" | "max" | "mu" | "sigma" | "q" | "a" | "b"

interface Kind {
  /** The keys it takes (besides `distribution`). */
  readonly keys: ReadonlyArray<ParamKey>
  readonly required: ReadonlyArray<ParamKey>
  /** What a value is, as W&B's documentation says (for docs and the JSON Schema). */
  readonly meaning: string
  /** Takes natural-log exponents as min and max (W&B's "v1" log distributions). */
  readonly exponents?: boolean
  /** Takes the values themselves as min and max of a log scale. */
  readonly logValues?: boolean
}

/** Each distribution: its keys and meaning. The one table that decoding, docs and JSON Schema read. */
export const KINDS: Readonly<Record<DistributionName, Kind>> = {
  constant: { keys: ["value"], required: ["value"], meaning: "always `value`" },
  categorical: {
    keys: ["values", "probabilities"],
    required: ["values"],
    meaning: "one of `values`, each equally likely, or with the given `probabilities` (random search)"
  },
  int_uniform: { keys: ["min", "max"], required: ["min", "max"], meaning: "an integer in [min, max], each equally likely" },
  uniform: { keys: ["min", "max"], required: ["min", "max"], meaning: "a real number uniform in [min, max]" },
  q_uniform: { keys: ["min", "max", "q"], required: ["min", "max"], meaning: "round(X / q) * q, X uniform in [min, max] (q defaults to 1)" },
  log_uniform: {
    keys: ["min", "max"],
    required: ["min", "max"],
    exponents: true,
    meaning: "X in [exp(min), exp(max)] with ln X uniform in [min, max]: min and max are natural-log exponents"
  },
  log_uniform_values: {
    keys: ["min", "max"],
    required: ["min", "max"],
    logValues: true,
    meaning: "X in [min, max] with ln X uniform in [ln min, ln max]"
  },
  q_log_uniform: {
    keys: ["min", "max", "q"],
    required: ["min", "max"],
    exponents: true,
    meaning: "round(X / q) * q, X log_uniform (min and max are natural-log exponents)"
  },
  q_log_uniform_values: {
    keys: ["min", "max", "q"],
    required: ["min", "max"],
    logValues: true,
    meaning: "round(X / q) * q, X log_uniform_values"
  },
  inv_log_uniform: {
    keys: ["min", "max"],
    required: ["min", "max"],
    exponents: true,
    meaning: "X with ln(1/X) uniform in [min, max]: X in [exp(-max), exp(-min)]"
  },
  inv_log_uniform_values: {
    keys: ["min", "max"],
    required: ["min", "max"],
    logValues: true,
    meaning: "X with ln(1/X) uniform in [ln(1/max), ln(1/min)]: X in [min, max]"
  },
  normal: { keys: ["mu", "sigma"], required: [], meaning: "normal with mean mu (default 0) and standard deviation sigma (default 1)" },
  q_normal: { keys: ["mu", "sigma", "q"], required: [], meaning: "round(X / q) * q, X normal" },
  log_normal: { keys: ["mu", "sigma"], required: [], meaning: "X with ln X normal with mean mu (default 0) and standard deviation sigma (default 1)" },
  q_log_normal: { keys: ["mu", "sigma", "q"], required: [], meaning: "round(X / q) * q, X log_normal" },
  beta: { keys: ["a", "b"], required: [], meaning: "Beta(a, b) on [0, 1] (a and b default to 1)" },
  q_beta: { keys: ["a", "b", "q"], required: [], meaning: "round(X / q) * q, X beta" }
}

/** A parameter as the file gives it. */
export interface ParamInput {
  readonly distribution?: DistributionName | "categorical_w_probabilities" | undefined
  readonly value?: unknown
  readonly values?: ReadonlyArray<unknown> | undefined
  readonly probabilities?: ReadonlyArray<number> | undefined
  readonly min?: number | undefined
  readonly max?: number | undefined
  readonly mu?: number | undefined
  readonly sigma?: number | undefined
  readonly q?: number | undefined
  readonly a?: number | undefined
  readonly b?: number | undefined
  readonly parameters?: { readonly [name: string]: ParamInput } | undefined
}

const PARAM_KEYS = ["distribution", "value", "values", "probabilities", "min", "max", "mu", "sigma", "q", "a", "b", "parameters"] as const

/** The distribution a parameter has: its own, or the one W&B infers from its keys. */
export const kindOf = (p: ParamInput): DistributionName | "nested" | undefined => {
  if (p.parameters !== undefined) return "nested"
  if (p.distribution !== undefined) return p.distribution === "categorical_w_probabilities" ? "categorical" : p.distribution
  if ("value" in p) return "constant"
  if (p.values !== undefined) return "categorical"
  if (p.min !== undefined && p.max !== undefined) return Number.isInteger(p.min) && Number.isInteger(p.max) ? "int_uniform" : "uniform"
  return undefined
}

type Issue = { readonly path: ReadonlyArray<PropertyKey>; readonly message: string }
const issue = (path: ReadonlyArray<PropertyKey>, message: string): Issue => ({ path, message })
const list = (keys: ReadonlyArray<string>) => keys.length === 0 ? "nothing" : keys.join(", ")

/** What is wrong with one parameter (not its nested ones), or undefined. */
const paramIssue = (p: ParamInput): Issue | undefined => {
  const present = PARAM_KEYS.filter((k) => k in p && (k === "value" || p[k] !== undefined))
  const kind = kindOf(p)
  if (kind === "nested") {
    const other = present.find((k) => k !== "parameters")
    return other === undefined ? undefined : issue([other], "a parameter with nested `parameters` takes no other key")
  }
  if (kind === undefined) {
    return issue([], "give `values`, `value`, `min` and `max`, a `distribution`, or nested `parameters`")
  }
  const spec = KINDS[kind]
  const stray = present.find((k) => k !== "distribution" && !spec.keys.includes(k as ParamKey))
  if (stray !== undefined) return issue([stray], `is not a key of ${kind} (it takes ${list(spec.keys)})`)
  const missing = spec.required.filter((k) => !present.includes(k))
  if (missing.length > 0) return issue([], `${kind} needs ${missing.join(" and ")}`)
  if (p.min !== undefined && p.max !== undefined && !(p.min < p.max)) return issue(["max"], `must be above min (${p.min}), got ${p.max}`)
  if (kind === "int_uniform") {
    for (const k of ["min", "max"] as const) if (!Number.isInteger(p[k])) return issue([k], `int_uniform takes integers, got ${p[k]}`)
  }
  if (spec.logValues && p.min! <= 0) {
    const hint = p.max! <= 0 ? `; min ${p.min} and max ${p.max} look like natural-log exponents: use ${kind.replace("_values", "")} for values in [${fmt(Math.exp(p.min!))}, ${fmt(Math.exp(p.max!))}]` : ""
    return issue(["min"], `${kind} takes the values themselves, which must be above 0, got ${p.min}${hint}`)
  }
  if (spec.exponents) {
    const [lo, hi] = kind === "inv_log_uniform" ? [-p.max!, -p.min!] : [p.min!, p.max!]
    if (!Number.isFinite(Math.exp(hi))) {
      return issue([kind === "inv_log_uniform" ? "min" : "max"], `${kind} takes natural-log exponents: exp(${hi}) is too large; for values use ${kind.replace("log_uniform", "log_uniform_values")}`)
    }
    if (Math.exp(lo) === 0) return issue([kind === "inv_log_uniform" ? "max" : "min"], `${kind} takes natural-log exponents: exp(${lo}) is 0`)
  }
  if (p.values !== undefined && p.values.length === 0) return issue(["values"], "needs at least one value")
  if (p.probabilities !== undefined) {
    if (p.probabilities.length !== p.values!.length) {
      return issue(["probabilities"], `needs one probability for each of the ${p.values!.length} values, got ${p.probabilities.length}`)
    }
    const sum = p.probabilities.reduce((a, b) => a + b, 0)
    if (Math.abs(sum - 1) > 1e-6) return issue(["probabilities"], `must sum to 1, got ${fmt(sum)}`)
  }
  return undefined
}

/** A number as messages show it: short, without float noise. */
export const fmt = (x: number): string => String(Number(x.toPrecision(6)))

/** The names a parameter may have (W&B's rule). */
const ParamName = Schema.String.pipe(Schema.pattern(/^[A-Za-z_][A-Za-z0-9_.-]*$/)).annotations(
  Options.expecting("a parameter name (a letter or _, then letters, digits, _, . or -)")
)

const distributionDescription = DISTRIBUTIONS.map((d) => `${d}: ${KINDS[d].meaning}`).join("; ")

/** The JSON Schema of one parameter: W&B's forms, one per distribution, for editors. */
const paramJsonSchema = (): object => {
  const num = { type: "number" }
  const props: Record<ParamKey, object> = {
    value: { description: "the constant value" },
    values: { type: "array", minItems: 1, description: "the values to choose from" },
    probabilities: { type: "array", items: { type: "number", minimum: 0 }, description: "the probability of each value (random search)" },
    min: num,
    max: num,
    mu: { type: "number", default: 0 },
    sigma: { type: "number", minimum: 0, default: 1 },
    q: { type: "number", exclusiveMinimum: 0, default: 1 },
    a: { type: "number", exclusiveMinimum: 0, default: 1 },
    b: { type: "number", exclusiveMinimum: 0, default: 1 }
  }
  const pick = (keys: ReadonlyArray<ParamKey>) => Object.fromEntries(keys.map((k) => [k, props[k]]))
  const explicit = DISTRIBUTIONS.map((d) => ({
    type: "object",
    description: KINDS[d].meaning,
    required: ["distribution", ...KINDS[d].required],
    properties: { distribution: { const: d }, ...pick(KINDS[d].keys) },
    additionalProperties: false
  }))
  const inferred = [
    { type: "object", description: "categorical", required: ["values"], properties: pick(["values", "probabilities"]), additionalProperties: false },
    { type: "object", description: "constant", required: ["value"], properties: pick(["value"]), additionalProperties: false },
    {
      type: "object",
      description: "int_uniform when min and max are integers, uniform otherwise",
      required: ["min", "max"],
      properties: pick(["min", "max"]),
      additionalProperties: false
    },
    {
      type: "object",
      description: "nested parameters: the program gets them as one object",
      required: ["parameters"],
      properties: { parameters: { type: "object", additionalProperties: { $ref: "#/$defs/Parameter" } } },
      additionalProperties: false
    }
  ]
  return { description: "a parameter: its values, or a distribution", anyOf: [...inferred, ...explicit] }
}

/** The Schema of one parameter (and of its nested ones). */
export const ParamSchema: Schema.Schema<ParamInput> = Schema.Struct({
  distribution: Schema.optional(Options.literals(...DISTRIBUTIONS, "categorical_w_probabilities")).annotations({ description: distributionDescription }),
  value: Schema.optional(Schema.Unknown),
  values: Schema.optional(Schema.Array(Schema.Unknown)),
  probabilities: Schema.optional(Schema.Array(Options.NonNegative)),
  min: Schema.optional(Options.Finite),
  max: Schema.optional(Options.Finite),
  mu: Schema.optional(Options.Finite),
  sigma: Schema.optional(Options.NonNegative),
  q: Schema.optional(Options.Positive),
  a: Schema.optional(Options.Positive),
  b: Schema.optional(Options.Positive),
  parameters: Schema.optional(Schema.Record({ key: ParamName, value: Schema.suspend((): Schema.Schema<ParamInput> => ParamSchema) }))
}).pipe(
  Schema.filter((p) => paramIssue(p) ?? true),
  Schema.annotations({ identifier: "Parameter", jsonSchema: paramJsonSchema() as JSONSchema.JsonSchema7 })
)

/** A parameter of the tree, with where it is in the file. */
export interface Leaf {
  /** Its keys in the file: `["optimizer", "parameters", "lr"]` for a nested one. */
  readonly path: ReadonlyArray<string>
  /** Its name in the Space and in storage: the names on its path, joined by dots. */
  readonly name: string
  readonly kind: DistributionName
  readonly input: ParamInput
}

/** Every parameter of a `parameters` block, nested ones included, in the file's order. */
export const leaves = (params: { readonly [name: string]: ParamInput }, prefix: ReadonlyArray<string> = [], names: ReadonlyArray<string> = []): Array<Leaf> =>
  Object.entries(params).flatMap(([k, p]) => {
    const kind = kindOf(p)!
    return kind === "nested"
      ? leaves(p.parameters!, [...prefix, k, "parameters"], [...names, k])
      : [{ path: [...prefix, k], name: [...names, k].join("."), kind, input: p }]
  })

/** Search methods: W&B's, and tunekit's samplers. */
export const METHODS = ["grid", "random", "bayes", "tpe", "gp", "cmaes", "qmc", "auto"] as const
export type Method = (typeof METHODS)[number]

const GRID: ReadonlyArray<DistributionName> = ["constant", "categorical", "int_uniform", "q_uniform"]

/** The most points a grid may have (each is held in memory). */
export const MAX_GRID = 1_000_000

/** `arange(min, max, q)`: the values W&B's grid search takes for a q_uniform parameter. */
export const arange = (min: number, max: number, q: number): Array<number> => {
  const n = Math.max(0, Math.ceil((max - min) / q - 1e-9))
  return Array.from({ length: n }, (_, i) => clean(min + i * q, q))
}

const sizeOf = (l: Leaf): number =>
  l.kind === "constant" ? 1 : l.kind === "categorical" ? l.input.values!.length : l.kind === "int_uniform" ? l.input.max! - l.input.min! + 1 : arange(l.input.min!, l.input.max!, l.input.q ?? 1).length

/** What keeps the method from searching these parameters, at the key to blame, or undefined. */
export const methodIssue = (method: Method, params: { readonly [name: string]: ParamInput }): Issue | undefined => {
  const all = leaves(params)
  if (all.every((l) => l.kind === "constant")) return issue([], "every parameter is a constant: there is nothing to search")
  if (method !== "grid") return undefined
  for (const l of all) {
    const at = [...l.path, ...(l.input.distribution !== undefined ? ["distribution"] : [])]
    if (!GRID.includes(l.kind)) {
      return issue(at, `grid search takes constant, categorical, int_uniform and q_uniform parameters, and ${l.name} is ${l.kind}: give it \`values\`, or use another method (random, bayes, tpe, ...)`)
    }
    if (l.kind === "categorical" && l.input.probabilities !== undefined) {
      return issue([...l.path, "probabilities"], "grid search runs every value once: probabilities are for random search")
    }
    if (l.kind === "q_uniform" && sizeOf(l) === 0) return issue(l.path, "has no grid value in [min, max) with this q")
  }
  const points = all.reduce((n, l) => n * sizeOf(l), 1)
  if (points > MAX_GRID) return issue([], `the grid has ${points} points, more than ${MAX_GRID}`)
  return undefined
}

/** A warning about a parameter that decodes but is probably not what was meant. */
export interface Warning {
  readonly path: ReadonlyArray<string>
  readonly message: string
}

/**
 * Ranges whose bounds look like values where the distribution takes natural-log exponents
 * (`log_uniform` with min 0.0001): the warning shows the range that results.
 */
export const warnings = (params: { readonly [name: string]: ParamInput }): Array<Warning> =>
  leaves(params).flatMap((l): Array<Warning> => {
    const spec = KINDS[l.kind]
    if (!spec.exponents) return []
    const { min, max } = l.input as { min: number; max: number }
    const looksLikeValues = (min > 0 && max <= 1) || max > 30
    if (!looksLikeValues) return []
    const [lo, hi] = l.kind === "inv_log_uniform" ? [Math.exp(-max), Math.exp(-min)] : [Math.exp(min), Math.exp(max)]
    const values = l.kind.replace("log_uniform", "log_uniform_values")
    return [{
      path: [...l.path, "min"],
      message: `${l.name}: ${l.kind} takes natural-log exponents, so min ${min} and max ${max} give values in [${fmt(lo)}, ${fmt(hi)}]; for values in [${min}, ${max}] use ${values}`
    }]
  })

// --- the Space and the values programs receive -------------------------------------------------

const decimals = (q: number): number => {
  const [mantissa, exp] = q.toExponential().split("e")
  const frac = mantissa.split(".")[1]?.length ?? 0
  return Math.max(0, frac - Number(exp))
}

/** A multiple of q without float noise (0.30000000000000004 is 0.3). */
const clean = (x: number, q: number): number => {
  const d = decimals(q)
  return d <= 15 ? Number(x.toFixed(d)) : x
}

/** round(x / q) * q, W&B's quantization. */
export const quantize = (x: number, q: number): number => clean(Math.round(x / q) * q, q)

const isChoice = (v: unknown): v is string | number | boolean | null =>
  v === null || typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v))

/** A categorical over the values themselves when Space can hold them, else over their indices. */
const categorical = (values: ReadonlyArray<unknown>): { space: Space.Space<unknown>; value: (c: unknown) => unknown } => {
  const direct = values.every(isChoice) && new Set(values).size === values.length
  return direct
    ? { space: Space.categorical(values as ReadonlyArray<string | number | boolean | null>), value: (c) => c }
    : { space: Space.categorical(values.map((_, i) => i)), value: (c) => values[c as number] }
}

/** The Space of one parameter and the value its internal config value gives the program. */
export const leafSpace = (l: Leaf, method: Method): { space: Space.Space<unknown>; value: (c: unknown) => unknown } | undefined => {
  const p = l.input
  const q = p.q ?? 1
  const id = (c: unknown) => c
  const unit = (f: (u: number) => number) => ({ space: Space.float(0, 1) as Space.Space<unknown>, value: (c: unknown) => f(c as number) })
  const logFloat = (lo: number, hi: number, quantized: boolean) => ({
    space: Space.float(lo, hi, { log: true }) as Space.Space<unknown>,
    value: quantized ? (c: unknown) => quantize(c as number, q) : id
  })
  switch (l.kind) {
    case "constant":
      return undefined
    case "categorical": {
      if (p.probabilities === undefined) return categorical(p.values!)
      // The inverse CDF of the weighted choice (W&B's ppf): the first value whose cumulative
      // probability exceeds p.
      const cdf: Array<number> = []
      for (const w of p.probabilities) cdf.push((cdf[cdf.length - 1] ?? 0) + w)
      return unit((u) => {
        const i = cdf.findIndex((c) => u < c)
        return p.values![i < 0 ? p.values!.length - 1 : i] as number
      })
    }
    case "int_uniform":
      return { space: Space.int(p.min!, p.max!) as Space.Space<unknown>, value: id }
    case "uniform":
      return { space: Space.float(p.min!, p.max!) as Space.Space<unknown>, value: id }
    case "q_uniform":
      return method === "grid"
        ? categorical(arange(p.min!, p.max!, q))
        : { space: Space.float(p.min!, p.max!) as Space.Space<unknown>, value: (c) => quantize(c as number, q) }
    case "log_uniform":
    case "q_log_uniform":
      return logFloat(Math.exp(p.min!), Math.exp(p.max!), l.kind === "q_log_uniform")
    case "log_uniform_values":
    case "q_log_uniform_values":
      return logFloat(p.min!, p.max!, l.kind === "q_log_uniform_values")
    // ln(1/X) uniform is ln X uniform over the mirrored range: the same log-uniform values.
    case "inv_log_uniform":
      return logFloat(Math.exp(-p.max!), Math.exp(-p.min!), false)
    case "inv_log_uniform_values":
      return logFloat(p.min!, p.max!, false)
    case "normal":
    case "q_normal": {
      const f = (u: number) => (p.mu ?? 0) + (p.sigma ?? 1) * Quantile.normal(u)
      return unit(l.kind === "normal" ? f : (u) => quantize(f(u), q))
    }
    case "log_normal":
    case "q_log_normal": {
      const f = (u: number) => Math.exp((p.mu ?? 0) + (p.sigma ?? 1) * Quantile.normal(u))
      return unit(l.kind === "log_normal" ? f : (u) => quantize(f(u), q))
    }
    case "beta":
    case "q_beta": {
      const f = (u: number) => Quantile.beta(u, p.a ?? 1, p.b ?? 1)
      return unit(l.kind === "beta" ? f : (u) => quantize(f(u), q))
    }
  }
}

/** A sweep's parameters as a tunekit Space, and the config a program receives from a sampled one. */
export interface Searched {
  readonly space: Space.Space<Record<string, unknown>>
  /** The program's config (nested as in the file) from the Space's config. */
  readonly config: (sampled: Readonly<Record<string, unknown>>) => Record<string, unknown>
}

/** Builds the Space of a (decoded, checked) `parameters` block for a method. */
export const searched = (params: { readonly [name: string]: ParamInput }, method: Method): Searched => {
  const build = (ps: { readonly [name: string]: ParamInput }, prefix: ReadonlyArray<string>, names: ReadonlyArray<string>) => {
    const fields: Record<string, Space.Space<unknown>> = {}
    const makers: Array<(sampled: Readonly<Record<string, unknown>> | undefined, out: Record<string, unknown>) => void> = []
    for (const [k, p] of Object.entries(ps)) {
      const kind = kindOf(p)!
      if (kind === "nested") {
        const inner = build(p.parameters!, [...prefix, k, "parameters"], [...names, k])
        if (inner.fields !== undefined) fields[k] = inner.fields
        makers.push((s, out) => {
          const o: Record<string, unknown> = {}
          inner.make(s?.[k] as Readonly<Record<string, unknown>> | undefined, o)
          out[k] = o
        })
        continue
      }
      const leaf = leafSpace({ path: [...prefix, k], name: [...names, k].join("."), kind, input: p }, method)
      if (leaf === undefined) {
        makers.push((_, out) => void (out[k] = p.value))
        continue
      }
      fields[k] = leaf.space
      makers.push((s, out) => void (out[k] = leaf.value(s?.[k])))
    }
    return {
      fields: Object.keys(fields).length === 0 ? undefined : Space.struct(fields),
      make: (s: Readonly<Record<string, unknown>> | undefined, out: Record<string, unknown>) => makers.forEach((m) => m(s, out))
    }
  }
  const top = build(params, [], [])
  return {
    space: top.fields as Space.Space<Record<string, unknown>>,
    config: (sampled) => {
      const out: Record<string, unknown> = {}
      top.make(sampled, out)
      return out
    }
  }
}
