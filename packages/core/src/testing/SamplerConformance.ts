/**
 * The sampler conformance suite: what every Sampler must do. Declare it from a test file with a
 * name and a function that makes a fresh sampler layer (called once per study, so that a sampler
 * keeping state in its instance starts clean, as it would in a new process).
 *
 * It checks that every suggestion is inside its distribution and on its grid (floats, log floats,
 * steps, ints, log ints, categoricals of every choice type), that conditional spaces get exactly
 * the parameters of the chosen path, that the same seed gives the same suggestions and another
 * seed other ones, that four concurrent workers are served, and that a study continued after being
 * reopened from SQLite goes on with valid suggestions.
 *
 * @example
 * import { SamplerConformance } from "@tunekit/core/testing"
 * import { Tpe } from "@tunekit/samplers"
 * SamplerConformance.suite("tpe", () => Tpe.layer({ nStartupTrials: 5 }))
 *
 * @since 0.1.0
 */
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import * as Distribution from "../Distribution.js"
import * as Rng from "../Rng.js"
import type * as Sampler from "../Sampler.js"
import * as Scheduler from "../Scheduler.js"
import * as Space from "../Space.js"
import * as Storage from "../Storage.js"
import * as Study from "../Study.js"
import * as Tracker from "../Tracker.js"
import type { FrozenTrial } from "../Trial.js"

/** Options of the suite. */
export interface Options {
  /** Trials per study: enough for a model-based sampler to leave its startup phase. Default 30. */
  readonly trials?: number
  /** The number of objectives the studies have (2 for multi-objective samplers). Default 1. */
  readonly objectives?: 1 | 2
  /** Per-test timeout in milliseconds. Default 60000. */
  readonly timeout?: number
}

/** A space with every kind of distribution. */
export const everyDistribution = Space.struct({
  f: Space.float(-3, 5),
  fLog: Space.float(1e-5, 1, { log: true }),
  fStep: Space.float(0, 1, { step: 0.125 }),
  i: Space.int(-4, 9),
  iLog: Space.int(1, 1024, { log: true }),
  iStep: Space.int(0, 30, { step: 5 }),
  cat: Space.categorical(["a", "b", "c", "d"]),
  mixed: Space.categorical([1, "two", true, null])
})

/** A conditional space: a branch with a nested branch. */
export const conditional = Space.struct({
  units: Space.int(8, 64, { log: true }),
  optimizer: Space.branch({
    sgd: Space.struct({ lr: Space.float(1e-4, 1, { log: true }), momentum: Space.float(0, 0.99) }),
    adam: Space.struct({
      lr: Space.float(1e-5, 1e-1, { log: true }),
      schedule: Space.branch({
        constant: Space.struct({}),
        cosine: Space.struct({ warmup: Space.int(0, 10) })
      })
    })
  })
})

const numeric = (v: unknown): number => (typeof v === "number" ? v : typeof v === "boolean" ? Number(v) : v === null ? 0.5 : String(v).length)

/** A smooth objective of any config: a sum of squares of the (scaled) numeric parameters. */
const objectiveOf = (objectives: 1 | 2) => (params: Readonly<Record<string, unknown>>): number | ReadonlyArray<number> => {
  let a = 0
  let b = 0
  for (const [k, v] of Object.entries(params)) {
    const x = numeric(v)
    const s = Math.tanh(x / 10 + k.length / 7)
    a += (s - 0.3) ** 2
    b += (s + 0.2) ** 2
  }
  return objectives === 1 ? a : [a, b]
}

/** The parameter names on the path a config of `conditional` took. */
const pathOf = (p: Readonly<Record<string, unknown>>): Array<string> => {
  const names = ["units", "optimizer"]
  if (p.optimizer === "sgd") names.push("optimizer.sgd.lr", "optimizer.sgd.momentum")
  else {
    names.push("optimizer.adam.lr", "optimizer.adam.schedule")
    if (p["optimizer.adam.schedule"] === "cosine") names.push("optimizer.adam.schedule.cosine.warmup")
  }
  return names.sort()
}

/**
 * Declares the suite for one sampler.
 */
export const suite = (name: string, make: () => Layer.Layer<Sampler.Sampler>, options: Options = {}): void => {
  const trials = options.trials ?? 30
  const objectives = options.objectives ?? 1
  const directions = objectives === 1 ? (["minimize"] as const) : (["minimize", "minimize"] as const)
  const timeout = options.timeout ?? 60_000
  const f = objectiveOf(objectives)

  const services = (seed: number, storage: Layer.Layer<Storage.Storage, any> = Storage.layerMemory) =>
    Layer.mergeAll(storage, make(), Scheduler.layerNone, Tracker.layerNone, Rng.layer({ seed }))

  const optimize = <A>(
    space: Space.Space<A>,
    seed: number,
    extra: { readonly concurrency?: number; readonly trials?: number; readonly storage?: Layer.Layer<Storage.Storage, any>; readonly sleep?: boolean } = {}
  ) =>
    Effect.runPromise(
      Effect.scoped(
        Study.optimize({
          study: "conformance",
          space,
          directions,
          trials: extra.trials ?? trials,
          concurrency: extra.concurrency ?? 1,
          objective: (_, t) => {
            const v = f(t.params)
            return extra.sleep ? Effect.as(Effect.sleep("1 millis"), v) : v
          }
        }).pipe(Effect.provide(services(seed, extra.storage)))
      )
    )

  const expectValid = (t: FrozenTrial, space: Space.Compiled<any>) => {
    for (const [k, v] of Object.entries(t.params)) {
      const d = space.params.get(k)
      expect(d, `trial ${t.number}: parameter ${k} is not in the space`).toBeDefined()
      expect(Distribution.contains(d!, v), `trial ${t.number}: ${k} = ${v} is outside ${Distribution.describe(d!)} or off its grid`).toBe(true)
    }
  }

  describe(`Sampler conformance: ${name}`, () => {
    it("keeps every suggestion inside its distribution and on its grid", async () => {
      const compiled = Space.compile(everyDistribution)
      const r = await optimize(everyDistribution, 1)
      expect(r.trials.length).toBe(trials)
      for (const t of r.trials) {
        expect(t.state).toBe("Complete")
        expect(Object.keys(t.params).sort()).toEqual([...compiled.params.keys()].sort())
        expectValid(t, compiled)
        // External values are exactly the declared ones: ints are integers, steps on the grid.
        const p = Object.fromEntries(Object.entries(t.params).map(([k, v]) => [k, Distribution.toExternal(compiled.params.get(k)!, v)]))
        expect(Number.isInteger(p.i) && Number.isInteger(p.iLog) && (p.iStep as number) % 5 === 0).toBe(true)
        expect(Number.isInteger((p.fStep as number) * 8)).toBe(true)
        expect([1, "two", true, null]).toContain(p.mixed)
      }
    }, timeout)

    it("samples exactly the parameters of the chosen path in conditional spaces", async () => {
      const compiled = Space.compile(conditional)
      const r = await optimize(conditional, 2)
      expect(r.trials.length).toBe(trials)
      const cases = new Set<unknown>()
      for (const t of r.trials) {
        expect(t.state).toBe("Complete")
        expectValid(t, compiled)
        const p = Object.fromEntries(Object.entries(t.params).map(([k, v]) => [k, Distribution.toExternal(compiled.params.get(k)!, v)]))
        expect(Object.keys(t.params).sort()).toEqual(pathOf(p))
        cases.add(p.optimizer)
      }
      expect(cases.size).toBe(2)
    }, timeout)

    it("gives the same suggestions for the same seed and other ones for another seed", async () => {
      const params = async (seed: number) => (await optimize(everyDistribution, seed)).trials.map((t) => t.params)
      const a = await params(7)
      const b = await params(7)
      const c = await params(8)
      expect(b).toEqual(a)
      expect(c).not.toEqual(a)
      // Not only the first trials: the suggestions differ after any startup phase too.
      expect(c.slice(-5)).not.toEqual(a.slice(-5))
    }, timeout)

    it("serves four concurrent workers", async () => {
      const compiled = Space.compile(conditional)
      const r = await optimize(conditional, 3, { concurrency: 4, sleep: true })
      expect(r.trials.length).toBe(trials)
      expect(new Set(r.trials.map((t) => t.number)).size).toBe(trials)
      for (const t of r.trials) {
        expect(t.state).toBe("Complete")
        expectValid(t, compiled)
      }
      const distinct = new Set(r.trials.map((t) => JSON.stringify(t.params)))
      expect(distinct.size).toBeGreaterThan(1)
    }, timeout)

    it("continues a study reopened from SQLite", async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-sampler-conformance-"))
      const file = path.join(dir, "study.db")
      try {
        const compiled = Space.compile(conditional)
        const half = Math.ceil(trials / 2)
        const first = await optimize(conditional, 4, { trials: half, storage: Storage.layerSqlite(file) })
        expect(first.trials.length).toBe(half)
        // A new sampler instance and a new connection: as if another process continued the study.
        const second = await optimize(conditional, 4, { trials: half, storage: Storage.layerSqlite(file) })
        expect(second.trials.length).toBe(half)
        expect(second.trials.map((t) => t.number).sort((a, b) => a - b)).toEqual(Array.from({ length: half }, (_, i) => half + i))
        for (const t of second.trials) {
          expect(t.state).toBe("Complete")
          expectValid(t, compiled)
          expect(Object.keys(t.params).sort()).toEqual(pathOf(Object.fromEntries(Object.entries(t.params).map(([k, v]) => [k, Distribution.toExternal(compiled.params.get(k)!, v)]))))
        }
        const stored = await Effect.runPromise(
          Effect.scoped(Effect.gen(function*() {
            const s = yield* Storage.Storage
            const info = yield* s.getStudy("conformance")
            return yield* s.getTrials(info.id)
          }).pipe(Effect.provide(Storage.layerSqlite(file))))
        )
        expect(stored.length).toBe(2 * half)
        expect(stored.every((t) => t.state === "Complete")).toBe(true)
      } finally {
        fs.rmSync(dir, { recursive: true, force: true })
      }
    }, timeout)
  })
}
