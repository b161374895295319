/**
 * Options as Schemas: every public options object of tunekit is described once as an
 * `effect/Schema` and decoded through it. This module holds what they share: the decoding, the
 * one message format (`training.optimizer.learningRate: expected a positive number, got -1`),
 * the building blocks whose messages a person understands, and the JSON Schema of an options
 * Schema (for editors and sweep files).
 *
 * @example
 * import { Schema } from "effect"
 * import { Options } from "@tunekit/core"
 *
 * const MySchema = Schema.Struct({ size: Options.PositiveInt, kind: Schema.optional(Options.literals("a", "b")) })
 * Options.decodeEither(MySchema)({ size: 0 }) // Left({ path: "size", message: "expected a positive integer, got 0" })
 *
 * @since 0.1.0
 */
import { Effect, Either, JSONSchema, ParseResult, Schema } from "effect"
import { InvalidOptions } from "./Errors.js"

/**
 * One thing wrong with an input: where (a dotted path, `[i]` for list items; "" for the input
 * itself) and what.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * const p: Options.Problem = { path: "training.batchSize", message: "expected a positive integer, got 0" }
 * Options.format(p) // "training.batchSize: expected a positive integer, got 0"
 */
export interface Problem {
  readonly path: string
  readonly message: string
  /** The path as keys (a key may hold dots, as a sweep file's parameter names do). */
  readonly keys?: ReadonlyArray<PropertyKey>
}

/**
 * A problem as one line: `path: message`, or the message alone for the input itself.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * Options.format({ path: "kappa", message: "expected a number >= 0, got -1" }) // "kappa: expected a number >= 0, got -1"
 */
export const format = (problem: Problem): string => (problem.path === "" ? problem.message : `${problem.path}: ${problem.message}`)

/**
 * A path as tunekit writes it: `training.optimizer.learningRate`, `layers[2].units`.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * Options.formatPath(["layers", 2, "units"]) // "layers[2].units"
 */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (out, key) => (typeof key === "number" ? `${out}[${key}]` : out === "" ? String(key) : `${out}.${String(key)}`),
    ""
  )

/**
 * Prefixes a problem's path, for an options object that sits inside another.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * Options.within("training", { path: "batchSize", message: "expected a positive integer, got 0" }).path // "training.batchSize"
 */
export const within = (prefix: string, problem: Problem): Problem => ({
  path: prefix === "" ? problem.path : problem.path === "" ? prefix : problem.path.startsWith("[") ? `${prefix}${problem.path}` : `${prefix}.${problem.path}`,
  message: problem.message
})

/**
 * A value as a message shows it: numbers as written (NaN, Infinity), strings quoted, objects as
 * JSON, functions as "a function".
 *
 * @example
 * import { Options } from "@tunekit/core"
 * Options.show(-1) // "-1"
 * Options.show("abc") // "\"abc\""
 */
export const show = (u: unknown): string => {
  if (typeof u === "number" || typeof u === "bigint" || typeof u === "boolean" || typeof u === "symbol") return String(u)
  if (u === undefined) return "nothing"
  if (typeof u === "function") return "a function"
  try {
    const json = JSON.stringify(u)
    return json === undefined ? String(u) : json.length > 80 ? `${json.slice(0, 77)}...` : json
  } catch {
    return String(u)
  }
}

// Effect's default messages name the Schema ("Expected { readonly lr: number }, actual 3"): say
// what kind of value was expected instead.
const expectedKind = (expected: string): string => {
  if (expected.startsWith("{")) return "an object"
  if (expected.startsWith("ReadonlyArray<") || expected.startsWith("readonly [")) return "a list"
  switch (expected) {
    case "number":
      return "a number"
    case "string":
      return "a string"
    case "boolean":
      return "true or false"
    default:
      return expected
  }
}

const toProblem = (issue: ParseResult.ArrayFormatterIssue): Problem => {
  const path = formatPath(issue.path)
  const keys = issue.path
  if (issue._tag === "Missing") return { path, keys, message: "is required" }
  if (issue._tag === "Unexpected") {
    const known = /expected: (.*)$/.exec(issue.message)?.[1]
    return { path, keys, message: known === undefined ? "is not an option here" : `is not an option here (expected one of ${known.split(" | ").join(", ")})` }
  }
  const m = /^Expected (.*), actual (.*)$/s.exec(issue.message)
  return { path, keys, message: m === null ? issue.message : `expected ${expectedKind(m[1])}, got ${m[2]}` }
}

// An optional field is a union with `undefined`, so a bad value also fails that member; and a
// union of structs fails every member. The problem to report is the most precise one: the
// deepest, then a wrong value before a missing one, and never "expected undefined".
const rank = (issue: ParseResult.ArrayFormatterIssue): number =>
  issue.message.startsWith("Expected undefined,") ? 2 : issue._tag === "Missing" || issue._tag === "Unexpected" ? 1 : 0

/**
 * The one problem a parse error reports (the most precise of its issues, through
 * `ParseResult.ArrayFormatter`).
 *
 * @example
 * import { Either, Schema } from "effect"
 * import { Options } from "@tunekit/core"
 * const r = Schema.decodeUnknownEither(Schema.Struct({ n: Options.PositiveInt }))({ n: 0 })
 * if (Either.isLeft(r)) Options.problemOf(r.left) // { path: "n", message: "expected a positive integer, got 0" }
 */
export const problemOf = (error: ParseResult.ParseError): Problem => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  let best = issues[0]
  for (const i of issues) {
    if (i.path.length > best.path.length || (i.path.length === best.path.length && rank(i) < rank(best))) best = i
  }
  return best === undefined ? { path: "", message: "is invalid" } : toProblem(best)
}

/** How strictly to decode. */
export interface DecodeOptions {
  /**
   * "error" (default): a key the Schema does not describe is a problem (a misspelled option is
   * not silently ignored); "ignore": such keys are dropped, for objects the Schema describes in
   * part.
   */
  readonly excess?: "error" | "ignore"
}

/**
 * Decodes unknown input with a Schema: the decoded value, or the problem.
 *
 * @example
 * import { Schema } from "effect"
 * import { Options } from "@tunekit/core"
 * const decode = Options.decodeEither(Schema.Struct({ rate: Options.Probability }))
 * decode({ rate: 2 }) // Left({ path: "rate", message: "expected a number in [0, 1], got 2" })
 */
export const decodeEither = <A, I>(schema: Schema.Schema<A, I, never>, options: DecodeOptions = {}) => {
  const run = Schema.decodeUnknownEither(schema, { onExcessProperty: options.excess === "ignore" ? "ignore" : "error" })
  return (input: unknown): Either.Either<A, Problem> => Either.mapLeft(run(input), problemOf)
}

/**
 * Decodes unknown input with a Schema, failing with `InvalidOptions` that names the field.
 *
 * @example
 * import { Effect, Schema } from "effect"
 * import { Options } from "@tunekit/core"
 * const program = Options.decode(Schema.Struct({ trials: Options.NonNegativeInt }))({ trials: -1 })
 * // fails with InvalidOptions: "trials: expected an integer >= 0, got -1"
 */
export const decode = <A, I>(schema: Schema.Schema<A, I, never>, options: DecodeOptions = {}) => {
  const run = decodeEither(schema, options)
  return (input: unknown): Effect.Effect<A, InvalidOptions> =>
    Either.match(run(input), {
      onLeft: (p) => Effect.fail(new InvalidOptions({ reason: p.message, path: p.path })),
      onRight: Effect.succeed
    })
}

/**
 * Options over defaults: a field left out or given as `undefined` takes its default (a spread
 * would let `undefined` through).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * Options.withDefaults({ size: 10, log: false }, { size: undefined, log: true }) // { size: 10, log: true }
 */
export const withDefaults = <A extends object>(defaults: A, options: Partial<A>): A => {
  const out = { ...defaults }
  for (const k of Object.keys(options) as Array<keyof A>) if (options[k] !== undefined) out[k] = options[k] as A[keyof A]
  return out
}

/**
 * The JSON Schema (draft-07) of an options Schema, for editors and sweep files.
 *
 * @example
 * import { Schema } from "effect"
 * import { Options } from "@tunekit/core"
 * Options.jsonSchema(Schema.Struct({ trials: Options.NonNegativeInt }))
 * // { $schema: "http://json-schema.org/draft-07/schema#", type: "object", properties: { trials: { type: "integer", minimum: 0, ... } }, ... }
 */
export const jsonSchema = <A, I>(schema: Schema.Schema<A, I, never>): JSONSchema.JsonSchema7Root => JSONSchema.make(schema)

/**
 * `true` when two types are mutually assignable: `const _: Options.Same<Schema.Schema.Type<typeof S>, Options> = true`
 * checks that a Schema describes a module's options type exactly.
 *
 * @example
 * import type { Options } from "@tunekit/core"
 * const ok: Options.Same<{ readonly a?: number | undefined }, { readonly a?: number }> = true
 */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false

// ---------------------------------------------------------------------------------------------
// Building blocks, each with a message that says what was expected and what was given.
// ---------------------------------------------------------------------------------------------

/**
 * Annotations that make a Schema's failure read `expected WHAT, got VALUE`, and describe it in
 * JSON Schema.
 *
 * @example
 * import { Schema } from "effect"
 * import { Options } from "@tunekit/core"
 * const Odd = Schema.Int.pipe(Schema.filter((n) => n % 2 === 1)).annotations(Options.expecting("an odd integer"))
 */
export const expecting = (what: string) => ({
  title: what,
  description: what,
  message: (issue: ParseResult.ParseIssue) => ({
    message: `expected ${what}, got ${show("actual" in issue ? issue.actual : undefined)}`,
    override: true
  })
})

/** Bounds of a number, for `number`. */
export interface Bounds {
  /** Integers only. */
  readonly int?: boolean
  /** At least this. */
  readonly min?: number
  /** Above this. */
  readonly above?: number
  /** At most this. */
  readonly max?: number
  /** Below this. */
  readonly below?: number
}

const describeBounds = (b: Bounds): string => {
  const kind = b.int ? "an integer" : "a number"
  const lo = b.min !== undefined ? `[${b.min}` : b.above !== undefined ? `(${b.above}` : undefined
  const hi = b.max !== undefined ? `${b.max}]` : b.below !== undefined ? `${b.below})` : undefined
  if (lo !== undefined && hi !== undefined) return `${kind} in ${lo}, ${hi}`
  if (b.min !== undefined) return `${kind} >= ${b.min}`
  if (b.above !== undefined) return b.above === 0 ? (b.int ? "a positive integer" : "a positive number") : `${kind} > ${b.above}`
  if (b.max !== undefined) return `${kind} <= ${b.max}`
  if (b.below !== undefined) return `${kind} < ${b.below}`
  return b.int ? "an integer" : "a finite number"
}

/**
 * A finite number (or integer) within bounds; its message and JSON Schema say which.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * const Momentum = Options.number({ min: 0, below: 1 }) // "expected a number in [0, 1), got 1.5"
 */
export const number = (bounds: Bounds = {}, what: string = describeBounds(bounds)): Schema.Schema<number> => {
  let s: Schema.Schema<number> = bounds.int ? Schema.Int : Schema.Number.pipe(Schema.finite())
  if (bounds.min !== undefined) s = s.pipe(Schema.greaterThanOrEqualTo(bounds.min))
  if (bounds.above !== undefined) s = s.pipe(Schema.greaterThan(bounds.above))
  if (bounds.max !== undefined) s = s.pipe(Schema.lessThanOrEqualTo(bounds.max))
  if (bounds.below !== undefined) s = s.pipe(Schema.lessThan(bounds.below))
  return s.annotations(expecting(what))
}

/**
 * A finite number.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * const seed = Options.Finite
 */
export const Finite: Schema.Schema<number> = number()

/**
 * An integer > 0.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * const batchSize = Options.PositiveInt
 */
export const PositiveInt: Schema.Schema<number> = number({ int: true, above: 0 })

/**
 * An integer >= 0.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * const trials = Options.NonNegativeInt
 */
export const NonNegativeInt: Schema.Schema<number> = number({ int: true, min: 0 })

/**
 * A finite number > 0.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * const learningRate = Options.Positive
 */
export const Positive: Schema.Schema<number> = number({ above: 0 })

/**
 * A finite number >= 0.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * const weightDecay = Options.NonNegative
 */
export const NonNegative: Schema.Schema<number> = number({ min: 0 })

/**
 * A probability: a number in [0, 1].
 *
 * @example
 * import { Options } from "@tunekit/core"
 * const crossoverProb = Options.Probability
 */
export const Probability: Schema.Schema<number> = number({ min: 0, max: 1 })

/**
 * A rate in [0, 1): a dropout, a momentum.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * const dropout = Options.Rate
 */
export const Rate: Schema.Schema<number> = number({ min: 0, below: 1 })

/**
 * A non-empty string.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * const study = Options.NonEmptyString // "expected a non-empty string, got \"\""
 */
export const NonEmptyString: Schema.Schema<string> = Schema.String.pipe(Schema.minLength(1)).annotations(expecting("a non-empty string"))

/**
 * True or false.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * const scramble = Options.Boolean
 */
export const Boolean: Schema.Schema<boolean> = Schema.Boolean.annotations(expecting("true or false"))

/**
 * One of the given literals: `expected one of "sobol", "halton", "lhs", got "x"`.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * const kind = Options.literals("sobol", "halton", "lhs")
 */
export const literals = <const L extends ReadonlyArray<string | number | boolean | null>>(...values: L): Schema.Schema<L[number]> =>
  Schema.Literal(...(values as unknown as [L[number]])).annotations(
    expecting(values.length === 1 ? JSON.stringify(values[0]) : `one of ${values.map((v) => JSON.stringify(v)).join(", ")}`)
  ) as unknown as Schema.Schema<L[number]>

/**
 * A function, which code can give and JSON cannot: its JSON Schema admits nothing, so a sweep
 * file that sets it is refused.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * const gamma = Options.fn<(n: number) => number>("a function of the number of trials")
 */
export const fn = <F extends (...args: ReadonlyArray<any>) => unknown>(what: string): Schema.Schema<F> =>
  instance((u: unknown): u is F => typeof u === "function", what)

/**
 * A value that passes a predicate (a class instance, a service): described by `what` in messages
 * and JSON Schema, and refused by JSON Schema.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * const bytes = Options.instance((u): u is Uint8Array => u instanceof Uint8Array, "bytes")
 */
export const instance = <A>(is: (u: unknown) => u is A, what: string): Schema.Schema<A> =>
  Schema.declare(is, { ...expecting(what), jsonSchema: codeOnly(what) })

// JSON cannot hold it: a JSON Schema that no value satisfies (`anyOf` marks it as complete for
// Effect's JSONSchema, which otherwise asks for a `type`).
const codeOnly = (what: string) => ({ description: `${what} (set in code only)`, anyOf: [{ not: {} }] })
