import { Rng, Sampler, Scheduler, Space, Storage, Study, Tracker } from "@tunekit/core"
import { SamplerConformance } from "@tunekit/core/testing"
import { Effect, Layer, Logger, Option } from "effect"
import { describe, expect, it } from "vitest"
import * as Auto from "../src/Auto.js"

const box = (n: number, categorical = false) =>
  Space.compile(Space.struct(Object.fromEntries(Array.from({ length: n }, (_, i) => [`x${i}`, categorical && i === 0 ? Space.categorical(["a", "b"]) : Space.float(0, 1)]))))
const conditional = Space.compile(Space.struct({ opt: Space.branch({ sgd: Space.struct({ m: Space.float(0, 1) }), adam: Space.struct({ b: Space.float(0, 1) }) }) }))

describe("Auto.choose", () => {
  it("follows the rules of thumb", () => {
    const pick = (space: Space.Compiled<any> | undefined, trials: number | undefined, directions: ReadonlyArray<"minimize" | "maximize"> = ["minimize"]) =>
      Auto.choose(space, directions, trials).sampler
    expect(pick(box(3), 8)).toBe("sobol")
    expect(pick(box(30), 8)).toBe("random")
    expect(pick(box(2), 40)).toBe("portfolio")
    expect(pick(box(10, true), 200)).toBe("portfolio")
    expect(pick(box(11), 100)).toBe("tpe")
    expect(pick(box(3), 500)).toBe("tpe")
    expect(pick(box(5), 2000)).toBe("cmaes")
    expect(pick(box(5, true), 2000)).toBe("tpe")
    expect(pick(conditional, 50)).toBe(Auto.thresholds.gpOnBranches ? "portfolio" : "tpe")
    expect(pick(undefined, 50)).toBe("portfolio")
    expect(pick(box(3), undefined)).toBe("portfolio")
    expect(pick(box(3), 100, ["minimize", "maximize"])).toBe("motpe")
    expect(pick(box(3), 1000, ["minimize", "maximize"])).toBe("nsga2")
  })

  it("gives a reason that names what decided", () => {
    expect(Auto.choose(box(2), ["minimize"], 40).reason).toContain("40 trials")
    expect(Auto.choose(box(2), ["minimize"], 40).reason).toContain("2 dimensions")
    expect(Auto.choose(conditional, ["minimize"], 50).reason).toContain("branches")
    expect(Auto.choose(box(2), ["minimize", "minimize"], 50).reason).toContain("2 objectives")
  })

  it("reads a define-by-run study's space from its completed trials: the same choice as the declared space", async () => {
    const declared = Space.struct({
      model: Space.branch({ a: Space.struct({ x: Space.float(0, 1) }), b: Space.struct({ y: Space.int(1, 9), z: Space.float(0, 1) }) }),
      lr: Space.float(1e-4, 1, { log: true })
    })
    const compiled = Space.compile(declared)
    const byRun = (trial: Study.AskedTrial<unknown>) => {
      const m = trial.suggestCategorical("model", ["a", "b"])
      if (m === "a") trial.suggestFloat("model.a.x", 0, 1)
      else {
        trial.suggestInt("model.b.y", 1, 9)
        trial.suggestFloat("model.b.z", 0, 1)
      }
      trial.suggestFloat("lr", 1e-4, 1, { log: true })
    }
    const history = await Effect.runPromise(Effect.gen(function*() {
      const study = yield* Study.open({ study: "dbr" })
      for (let i = 0; i < 12; i++) {
        const t = Option.getOrThrow(yield* study.ask)
        byRun(t as Study.AskedTrial<unknown>)
        yield* study.tell(t, i)
      }
      return yield* study.trials
    }).pipe(Effect.provide(Layer.mergeAll(Storage.layerMemory, Rng.layer({ seed: 3 })))))
    const shape = Auto.shapeOf(undefined, history)!
    expect(shape.conditional).toBe(true)
    expect([...shape.params.keys()].sort()).toEqual([...compiled.params.keys()].sort())
    for (const trials of [8, 60, 150, 500]) {
      expect(Auto.choose(shape, ["minimize"], trials)).toEqual(Auto.choose(compiled, ["minimize"], trials))
    }
    // Nothing known yet (no completed trial): the portfolio, whose GP starts at random.
    expect(Auto.shapeOf(undefined, [])).toBeUndefined()
  })
})

describe("Auto sampler", () => {
  const space = Space.struct({ x: Space.float(-2, 2), y: Space.float(-2, 2) })

  it("never logs: nothing reaches the logger while it chooses and samples", async () => {
    const lines: Array<string> = []
    const logger = Logger.make(({ message }) => void lines.push(String(message)))
    const r = await Effect.runPromise(Study.optimize({ study: "auto", space, objective: (c) => c.x ** 2 + c.y ** 2, trials: 14 }).pipe(
      Effect.provide(Auto.layer({ trials: 14 })),
      Effect.provide(Study.layerDefaults({ seed: 1 })),
      Effect.provide(Logger.replace(Logger.defaultLogger, logger))
    ))
    expect(r.trials.length).toBe(14)
    expect(lines).toEqual([])
  })

  it("proposes each trial's record: the member as a trial attribute, the strategy and reason as a study attribute", async () => {
    const sampler = Auto.make({ trials: 40 })
    const proposals: Array<Sampler.Relative> = []
    const recording: Sampler.SamplerService = {
      ...sampler,
      sampleRelative: (ctx, s) => {
        const r = sampler.sampleRelative!(ctx, s)
        proposals.push(r)
        return r
      }
    }
    const r = await Effect.runPromise(Study.optimize({ study: "rec", space, objective: (c) => (c.x - 1) ** 2 + (c.y + 0.5) ** 2, trials: 24 }).pipe(
      Effect.provide(Layer.succeed(Sampler.Sampler, recording)),
      Effect.provide(Study.layerDefaults({ seed: 2 }))
    ))
    expect(proposals.length).toBe(24)
    const members = proposals.map((p) => p.attrs?.[Auto.ATTRIBUTE])
    // GP's startup design first (max(10, 2 d + 2) = 10 trials), then the portfolio's members.
    expect(members.slice(0, 10)).toEqual(Array(10).fill("design"))
    // A smooth objective: the GP explains it, so GP-BO proposes every trial after the design.
    expect(members.slice(10)).toEqual(Array(14).fill("gp"))
    for (const p of proposals) {
      const study = p.studyAttrs?.[Auto.ATTRIBUTE] as { sampler: string; reason: string }
      expect(study.sampler).toBe("portfolio")
      expect(study.reason).toContain("40 trials")
    }
    const id = r.study.info.id
    expect(r.trials.map((t) => sampler.proposer(id, t.number))).toEqual(members)
  })

  it("hands over to TPE once the GP leaves a large share of a rugged objective to noise", async () => {
    // Rastrigin (period-1 ripples on a bowl) on [-5, 5]^2: 20 trials cannot resolve the ripples.
    const rastrigin = (c: { x: number; y: number }) => [c.x - 1.3, c.y + 0.7].reduce((a, z) => a + z * z - 10 * Math.cos(2 * Math.PI * z) + 10, 0)
    const r = await Effect.runPromise(Study.optimize({ study: "rugged", space: Space.struct({ x: Space.float(-5, 5), y: Space.float(-5, 5) }), objective: rastrigin, trials: 26 }).pipe(
      Effect.provide(Auto.layer({ trials: 26 })),
      Effect.provide(Study.layerDefaults({ seed: 1 }))
    ))
    const members = r.trials.map((t) => t.systemAttrs[Auto.ATTRIBUTE])
    expect(members.slice(10, 20)).toEqual(Array(10).fill("gp"))
    // The first fit, after 20 completed trials, decides the next ones.
    expect(members.slice(20)).toEqual(Array(6).fill("tpe"))
  })

  it("chooses without a study start too (ask/tell), from the space it sees", async () => {
    const sampler = Auto.make({ trials: 5 })
    const program = Effect.gen(function*() {
      const study = yield* Study.open({ study: "a", space: Space.struct({ x: Space.float(0, 1) }) })
      const t = yield* study.ask
      return { t, id: study.info.id }
    })
    const { id } = await Effect.runPromise(Effect.scoped(program.pipe(
      Effect.provide(Layer.mergeAll(Storage.layerMemory, Layer.succeed(Sampler.Sampler, sampler), Scheduler.layerNone, Tracker.layerNone, Rng.layer({ seed: 1 })))
    )))
    expect(sampler.choice(id)?.sampler).toBe("sobol")
  })
})

// The run loop stores a relative sample's attrs on the trial and its studyAttrs on the study
// (Sampler.Relative), so the record does not depend on the order of the layers.
describe("Auto's record in storage", () => {
  const space = Space.struct({ x: Space.float(-2, 2), y: Space.float(-2, 2) })
  const run = (order: "sampler first" | "storage first") => {
    const program = Effect.gen(function*() {
      const r = yield* Study.optimize({ study: "order", space, objective: (c) => c.x ** 2 + c.y ** 2, trials: 12 })
      const storage = yield* Storage.Storage
      return { trials: r.trials, info: yield* storage.getStudy("order") }
    })
    const provided = order === "sampler first"
      ? program.pipe(Effect.provide(Auto.layer({ trials: 12 })), Effect.provide(Study.layerDefaults({ seed: 1 })))
      : program.pipe(Effect.provide(Study.layerDefaults({ seed: 1 })), Effect.provide(Auto.layer({ trials: 12 })))
    return Effect.runPromise(provided)
  }
  for (const order of ["sampler first", "storage first"] as const) {
    it(`is stored whatever the order of the layers (${order})`, async () => {
      const { info, trials } = await run(order)
      expect((info.systemAttrs[Auto.ATTRIBUTE] as { sampler: string }).sampler).toBe("portfolio")
      expect(trials.slice(0, 10).map((t) => t.systemAttrs[Auto.ATTRIBUTE])).toEqual(Array(10).fill("design"))
      for (const t of trials.slice(10)) expect(["gp", "tpe"]).toContain(t.systemAttrs[Auto.ATTRIBUTE])
    })
  }
})

SamplerConformance.suite("auto (budget 30)", () => Auto.layer({ trials: 30 }))
SamplerConformance.suite("auto (two objectives)", () => Auto.layer({ trials: 30 }), { objectives: 2 })
