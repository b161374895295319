/**
 * The options conformance suite: what every options Schema must do. From a valid options object
 * and, for each field, an arbitrary of values that the field's documented contract refuses, it
 * checks (fast-check) that any one invalid field, set into the valid object, is refused by the
 * module's own entry point with an error that names that field's path; that the valid object is
 * accepted; and that the Schema gives a JSON Schema.
 *
 * `Invalid` builds the arbitraries from the contract (not from the Schema under test).
 *
 * @example
 * import { OptionsConformance } from "@tunekit/core/testing"
 * import { Tpe } from "@tunekit/samplers"
 * OptionsConformance.suite({
 *   name: "Tpe",
 *   valid: { nStartupTrials: 10 },
 *   fields: { nStartupTrials: OptionsConformance.Invalid.number({ int: true, min: 0 }) },
 *   schema: Tpe.OptionsSchema,
 *   problem: (input) => OptionsConformance.messageOf(Tpe.make(input as Tpe.Options).check?.(undefined, study))
 * })
 *
 * @since 0.1.0
 */
import { Cause, Effect, Exit, FastCheck as fc, Option } from "effect"
import type { Schema } from "effect"
import { describe, expect, it } from "vitest"
import * as Options from "../Options.js"

/** Marks a required field to delete: its absence is the invalid value. */
export const missing: unique symbol = Symbol.for("@tunekit/core/testing/OptionsConformance/missing")

const notNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
  fc.array(fc.integer(), { maxLength: 2 })
)

/** Arbitraries of values a field's contract refuses. */
export const Invalid = {
  /** Anything but a finite number. */
  notNumber,
  /** Values outside the bounds (or not integers, for `int`), and non-numbers. */
  number: (b: Options.Bounds): fc.Arbitrary<unknown> => {
    const out: Array<fc.Arbitrary<unknown>> = [notNumber]
    if (b.min !== undefined) out.push(fc.double({ max: b.min, maxExcluded: true, noNaN: true, noDefaultInfinity: true }).filter((x) => x < b.min!))
    if (b.above !== undefined) out.push(fc.double({ max: b.above, noNaN: true, noDefaultInfinity: true }))
    if (b.max !== undefined) out.push(fc.double({ min: b.max, minExcluded: true, noNaN: true, noDefaultInfinity: true }).filter((x) => x > b.max!))
    if (b.below !== undefined) out.push(fc.double({ min: b.below, noNaN: true, noDefaultInfinity: true }))
    if (b.int) {
      const lo = b.min ?? (b.above !== undefined ? b.above + 1 : 0)
      out.push(fc.integer({ min: 0, max: 1000 }).map((k) => lo + k + 0.5))
    }
    return fc.oneof(...out)
  },
  /** Anything but one of the choices. */
  oneOf: (choices: ReadonlyArray<unknown>): fc.Arbitrary<unknown> =>
    fc.oneof(fc.string().filter((s) => !choices.includes(s)), fc.integer().filter((n) => !choices.includes(n)), fc.constant(null)),
  /** Anything but true or false. */
  boolean: fc.oneof(fc.string(), fc.integer(), fc.constant(null)) as fc.Arbitrary<unknown>,
  /** Anything but a function. */
  fn: fc.oneof(fc.string(), fc.integer(), fc.object()) as fc.Arbitrary<unknown>,
  /** Anything but a non-empty string. */
  nonEmptyString: fc.oneof(fc.constant(""), fc.integer(), fc.constant(null)) as fc.Arbitrary<unknown>,
  /** Anything but an object. */
  notObject: fc.oneof(fc.string(), fc.integer(), fc.constant(null)) as fc.Arbitrary<unknown>,
  /** The field left out (for required fields). */
  missing: fc.constant(missing) as fc.Arbitrary<unknown>
}

const parsePath = (path: string): Array<string | number> =>
  [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]))

/**
 * A copy of `value` with the field at `path` (`a.b`, `a[0].b`) set, or deleted for `missing`.
 *
 * @example
 * import { OptionsConformance } from "@tunekit/core/testing"
 * OptionsConformance.setAt({ a: { b: 1 } }, "a.b", 2) // { a: { b: 2 } }
 */
export const setAt = (value: unknown, path: string, field: unknown): unknown => {
  const go = (v: unknown, keys: ReadonlyArray<string | number>): unknown => {
    const [k, ...rest] = keys
    const copy: any = Array.isArray(v) ? [...v] : { ...(v as object) }
    if (rest.length === 0) {
      if (field === missing) delete copy[k]
      else copy[k] = field
    } else {
      copy[k] = go(copy[k], rest)
    }
    return copy
  }
  return go(value, parsePath(path))
}

/**
 * The message of an Effect's failure, or undefined when it succeeds (for `Case.problem`).
 *
 * @example
 * import { Effect } from "effect"
 * import { OptionsConformance } from "@tunekit/core/testing"
 * await OptionsConformance.messageOf(Effect.fail(new Error("nope"))) // "nope"
 */
export const messageOf = async (effect: Effect.Effect<unknown, unknown> | undefined): Promise<string | undefined> => {
  if (effect === undefined) return undefined
  const exit = await Effect.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) return undefined
  const failure = Cause.failureOption(exit.cause)
  const error = Option.isSome(failure) ? failure.value : Cause.squash(exit.cause)
  return error instanceof Error ? error.message : String(error)
}

/** One options Schema under test. */
export interface Case {
  /** The suite's name: the module and its options. */
  readonly name: string
  /** A valid options object, with every field the test corrupts present (or absent for `missing`). */
  readonly valid: unknown
  /** For each field path, values its contract refuses. */
  readonly fields: Readonly<Record<string, fc.Arbitrary<unknown>>>
  /**
   * Runs the module's own entry point on the input: the message of the error it raises, or
   * undefined when the input is accepted.
   */
  readonly problem: (input: unknown) => string | undefined | Promise<string | undefined>
  /** The options Schema, whose JSON Schema must exist. */
  readonly schema?: Schema.Schema<any, any, never>
  /**
   * Where the module's errors place these options (`optimizer` for an optimizer's settings inside
   * the training settings): the error names `prefix.path`.
   */
  readonly prefix?: string
  /** Runs of the property (default 60). */
  readonly numRuns?: number
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/**
 * Whether an error message names the field at `path` (as `path: ...`, not as the tail of a
 * longer path).
 *
 * @example
 * import { OptionsConformance } from "@tunekit/core/testing"
 * OptionsConformance.names("tpe sampler: gamma: expected a function", "gamma") // true
 */
export const names = (message: string, path: string): boolean => new RegExp(`(^|[\\s:"(])${escape(path)}: `).test(message)

/**
 * Declares the suite's vitest tests.
 *
 * @example
 * import { OptionsConformance } from "@tunekit/core/testing"
 * import { Either } from "effect"
 * import { Options, Sampler } from "@tunekit/core"
 * OptionsConformance.suite({
 *   name: "Sampler.grid",
 *   valid: { shuffle: true },
 *   fields: { shuffle: OptionsConformance.Invalid.boolean },
 *   schema: Sampler.GridOptionsSchema,
 *   problem: (input) => Either.match(Options.decodeEither(Sampler.GridOptionsSchema)(input), { onLeft: Options.format, onRight: () => undefined })
 * })
 */
export const suite = (c: Case): void => {
  describe(`${c.name} options`, () => {
    it("accepts the valid object", async () => {
      expect(await c.problem(c.valid)).toBeUndefined()
    })

    it("names the path of any one invalid field", async () => {
      const paths = Object.keys(c.fields)
      const one = fc.constantFrom(...paths).chain((path) => c.fields[path].map((value) => ({ path, value })))
      await fc.assert(
        fc.asyncProperty(one, async ({ path, value }) => {
          const message = await c.problem(setAt(c.valid, path, value))
          const named = c.prefix === undefined ? path : path.startsWith("[") ? `${c.prefix}${path}` : `${c.prefix}.${path}`
          if (message === undefined || !names(message, named)) {
            throw new Error(`${path} = ${Options.show(value)}: ${message === undefined ? "accepted" : `the error does not name ${named}: ${message}`}`)
          }
        }),
        { numRuns: c.numRuns ?? 60 }
      )
    })

    if (c.schema !== undefined) {
      const schema = c.schema
      it("gives a JSON Schema that describes every field", () => {
        const json = Options.jsonSchema(schema) as { readonly $schema?: string }
        expect(json.$schema).toBe("http://json-schema.org/draft-07/schema#")
        expect(JSON.parse(JSON.stringify(json))).toEqual(json)
        const described = new Set<string>()
        const walk = (v: unknown): void => {
          if (typeof v !== "object" || v === null) return
          const props = (v as { properties?: Record<string, unknown> }).properties
          if (props !== undefined) for (const k of Object.keys(props)) described.add(k)
          for (const x of Object.values(v)) walk(x)
        }
        walk(json)
        // each field of the valid object that a path starts from (deeper keys may be a record's,
        // which JSON Schema does not name; a path to an unknown key tests that it is refused)
        for (const path of Object.keys(c.fields)) {
          const key = parsePath(path)[0]
          if (typeof key === "string" && typeof c.valid === "object" && c.valid !== null && key in c.valid) {
            expect(described, `${path} in the JSON Schema`).toContain(key)
          }
        }
      })
    }
  })
}
