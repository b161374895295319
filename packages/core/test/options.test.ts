import Database from "better-sqlite3"
import { Effect, Either, FastCheck as fc, Schema } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { decodeOpenOptions, decodeOptimizeOptions, OpenOptionsSchema, OptimizeOptionsSchema } from "../src/internal/studyOptions.js"
import { makeSqlite } from "../src/internal/sqliteStorage.js"
import { Distribution, InvalidSpace, Options, Sampler, Space } from "../src/index.js"
import { OptionsConformance } from "../src/testing/index.js"

const { Invalid } = OptionsConformance

describe("Options", () => {
  const S = Schema.Struct({
    size: Options.PositiveInt,
    kind: Schema.optional(Options.literals("a", "b")),
    training: Schema.optional(Schema.Struct({ optimizer: Schema.Struct({ learningRate: Options.Positive }) })),
    layers: Schema.optional(Schema.Array(Schema.Struct({ units: Options.PositiveInt })))
  })
  const problem = (u: unknown) => Either.match(Options.decodeEither(S)(u), { onLeft: Options.format, onRight: () => "ok" })

  it("names the field's path and says what was expected and what was given", () => {
    expect(problem({ size: 1, training: { optimizer: { learningRate: -1 } } })).toBe("training.optimizer.learningRate: expected a positive number, got -1")
    expect(problem({ size: 1, layers: [{ units: 3 }, { units: 0 }] })).toBe("layers[1].units: expected a positive integer, got 0")
    expect(problem({ size: "3" })).toBe("size: expected a positive integer, got \"3\"")
    expect(problem({ size: 1, kind: "c" })).toBe("kind: expected one of \"a\", \"b\", got \"c\"")
    expect(problem({})).toBe("size: is required")
    expect(problem({ size: 1, training: 3 })).toBe("training: expected an object, got 3")
    expect(problem(null)).toBe("expected an object, got null")
    expect(problem({ size: 1, kind: undefined })).toBe("ok")
  })

  it("refuses a misspelled option, listing the known ones, unless asked to ignore them", () => {
    expect(problem({ size: 1, knd: "a" })).toBe("knd: is not an option here (expected one of \"size\", \"kind\", \"training\", \"layers\")")
    expect(Either.isRight(Options.decodeEither(S, { excess: "ignore" })({ size: 1, knd: "a" }))).toBe(true)
  })

  it("fails with InvalidOptions carrying the path", () => {
    const e = Effect.runSync(Effect.flip(Options.decode(S)({ size: 0 })))
    expect(e._tag).toBe("InvalidOptions")
    expect(e.path).toBe("size")
    expect(e.message).toBe("size: expected a positive integer, got 0")
  })

  it("describes bounds in messages and JSON Schema", () => {
    const rate = Options.number({ min: 0, below: 1 })
    expect(Either.match(Options.decodeEither(rate)(1), { onLeft: Options.format, onRight: String })).toBe("expected a number in [0, 1), got 1")
    expect(Options.jsonSchema(rate)).toMatchObject({ type: "number", minimum: 0, exclusiveMaximum: 1 })
    expect(Options.jsonSchema(Options.fn<() => void>("a callback"))).toMatchObject({ anyOf: [{ not: {} }] })
  })
})

// ---------------------------------------------------------------------------------------------
// Each options Schema of @tunekit/core: one invalid field is refused, naming its path.
// ---------------------------------------------------------------------------------------------

const study = { id: 1, name: "s", directions: ["minimize" as const], metrics: [], userAttrs: {}, systemAttrs: {}, createdAt: 0 }
const space = Space.compile(Space.struct({ x: Space.int(0, 3) }))
const samplerProblem = (s: Sampler.SamplerService) => OptionsConformance.messageOf(s.check?.(space, study))

OptionsConformance.suite({
  name: "Sampler.grid",
  valid: { shuffle: false },
  fields: { shuffle: Invalid.boolean },
  schema: Sampler.GridOptionsSchema,
  problem: (input) => samplerProblem(Sampler.grid(input as Sampler.GridOptions))
})

OptionsConformance.suite({
  name: "Sampler.sequence",
  valid: { trials: 3 },
  fields: { trials: fc.oneof(Invalid.number({ int: true, min: 0 }), Invalid.missing) },
  schema: Sampler.SequenceOptionsSchema,
  problem: (input) => samplerProblem(Sampler.sequenceService(Sampler.random, input as Sampler.SequenceOptions, Sampler.random))
})

const spaceProblem = (f: () => unknown): string | undefined => {
  try {
    f()
    return undefined
  } catch (e) {
    if (e instanceof InvalidSpace) return e.message
    throw e
  }
}

OptionsConformance.suite({
  name: "Space.float",
  valid: { log: false, step: 0.25 },
  fields: { log: Invalid.boolean, step: Invalid.number({ above: 0 }) },
  schema: Distribution.NumericOptionsSchema,
  problem: (input) => spaceProblem(() => Space.float(0, 1, input as Distribution.NumericOptions))
})

OptionsConformance.suite({
  name: "Space.int",
  valid: { step: 2 },
  fields: { step: Invalid.number({ int: true, above: 0 }), log: Invalid.boolean },
  schema: Distribution.NumericOptionsSchema,
  problem: (input) => spaceProblem(() => Space.int(0, 10, input as Distribution.NumericOptions))
})

OptionsConformance.suite({
  name: "Distribution (stored JSON)",
  valid: { _tag: "Float", low: 0, high: 1, log: false, step: 0.5 },
  fields: { low: Invalid.notNumber, high: Invalid.notNumber, log: Invalid.boolean, step: Invalid.number({ above: 0 }) },
  schema: Distribution.DistributionSchema,
  problem: (input) => Either.match(Options.decodeEither(Distribution.DistributionSchema)(input), { onLeft: Options.format, onRight: () => undefined })
})

const studyProblem = (decode: (u: unknown) => Effect.Effect<unknown, { readonly message: string }>) => (input: unknown) =>
  OptionsConformance.messageOf(decode(input))

OptionsConformance.suite({
  name: "Study.open",
  valid: { study: "s", directions: ["minimize", "maximize"], metrics: ["loss", "accuracy"] },
  fields: {
    study: fc.oneof(Invalid.nonEmptyString, Invalid.missing),
    "directions[1]": Invalid.oneOf(["minimize", "maximize"]),
    "metrics[0]": Invalid.nonEmptyString,
    direction: Invalid.oneOf(["minimize", "maximize"])
  },
  schema: OpenOptionsSchema,
  problem: studyProblem(decodeOpenOptions)
})

OptionsConformance.suite({
  name: "Study.optimize",
  valid: { study: "s", direction: "maximize", metric: "accuracy", trials: 10, maxStep: 20, timeout: "10 minutes", trialTimeout: 60_000, concurrency: 2, progress: false, objective: () => 1 },
  fields: {
    study: Invalid.nonEmptyString,
    direction: Invalid.oneOf(["minimize", "maximize"]),
    metric: Invalid.nonEmptyString,
    trials: Invalid.number({ int: true, min: 0 }),
    maxStep: Invalid.number({ min: 0 }),
    timeout: Invalid.number({ above: 0 }),
    trialTimeout: fc.constantFrom(-1, 0, Number.NaN, "5 sec", "soon", "-5 seconds", null, true, {}),
    concurrency: Invalid.number({ int: true, above: 0 }),
    progress: Invalid.boolean,
    directions: Invalid.notObject
  },
  schema: OptimizeOptionsSchema,
  problem: studyProblem(decodeOptimizeOptions)
})

describe("Study options across fields", () => {
  const message = (u: unknown) => Effect.runSync(Effect.flip(decodeOptimizeOptions(u))).message
  it("names the field to change", () => {
    expect(message({ study: "s", direction: "minimize", directions: ["minimize"] })).toBe("directions: give either direction or directions, not both")
    expect(message({ study: "s", directions: ["minimize"], metrics: ["a", "b"] })).toBe("metrics: 2 metrics named for 1 directions")
    expect(message({ study: "s", directions: ["minimize", "maximize"], metric: "a" })).toBe("metric: 1 metrics named for 2 directions")
  })

  it("gives the objectives and defaults", () => {
    const d = Effect.runSync(decodeOptimizeOptions({ study: "s", metric: "acc", direction: "maximize", timeout: "2 seconds", space: {}, objective: () => 1 }))
    expect(d).toMatchObject({ study: "s", directions: ["maximize"], metrics: ["acc"], concurrency: 1, progress: false, trials: undefined })
    expect(d.timeout?.toJSON()).toMatchObject({ _id: "Duration", millis: 2000 })
  })
})

// ---------------------------------------------------------------------------------------------
// Stored JSON is decoded through its Schema: a corrupt row is a StorageError naming the trial
// and the field, not a crash.
// ---------------------------------------------------------------------------------------------

describe("SQLite rows", () => {
  const corrupt = async (column: string, text: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-rows-"))
    const file = path.join(dir, "t.db")
    const s = await Effect.runPromise(makeSqlite(file))
    const st = await Effect.runPromise(s.createStudy("s", { directions: ["minimize"] }))
    await Effect.runPromise(s.createTrial(st.id, { state: "Running", params: { x: 1 }, distributions: { x: Distribution.int("x", 0, 3) } }))
    const t = await Effect.runPromise(s.createTrial(st.id, { state: "Running", params: { x: 2 }, distributions: { x: Distribution.int("x", 0, 3) } }))
    await Effect.runPromise(s.close)
    const db = new Database(file)
    db.prepare(`UPDATE trials SET ${column} = ? WHERE id = ?`).run(text, t.id)
    db.close()
    const again = await Effect.runPromise(makeSqlite(file))
    const e = await Effect.runPromise(Effect.flip(again.getTrials(st.id)))
    await Effect.runPromise(again.close)
    fs.rmSync(dir, { recursive: true, force: true })
    return e
  }

  it.each([
    ["distributions", "{\"x\":{\"_tag\":\"Int\",\"low\":3,\"high\":0,\"log\":false,\"step\":1}}", "trial 1 (id 2) is corrupt: distributions.x: low (3) must be below high (0)"],
    ["distributions", "{\"x\":{\"_tag\":\"Flot\",\"low\":0,\"high\":1}}", "trial 1 (id 2) is corrupt: distributions.x._tag"],
    ["params", "{\"x\":\"two\"}", "trial 1 (id 2) is corrupt: params.x: expected a number, got \"two\""],
    ["params", "{\"x\":", "trial 1 (id 2) is corrupt: params"],
    ["user_attrs", "[1, 2]", "trial 1 (id 2) is corrupt: userAttrs: expected an object, got [1,2]"],
    ["system_attrs", "null", "trial 1 (id 2) is corrupt: systemAttrs: expected an object, got null"]
  ])("a corrupt %s column is a StorageError naming the trial and the field", async (column, text, expected) => {
    const e = await corrupt(column, text)
    expect(e._tag).toBe("StorageError")
    expect(e.message).toContain(expected)
  })
})
