import { Rng, Sampler, Scheduler, Space, Storage, Study, Tracker } from "@tunekit/core"
import { SamplerConformance } from "@tunekit/core/testing"
import { Effect, Layer, Logger } from "effect"
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
    expect(pick(box(2), 40)).toBe("gp")
    expect(pick(box(10, true), 200)).toBe("gp")
    expect(pick(box(11), 100)).toBe("tpe")
    expect(pick(box(3), 500)).toBe("tpe")
    expect(pick(box(5), 2000)).toBe("cmaes")
    expect(pick(box(5, true), 2000)).toBe("tpe")
    expect(pick(conditional, 50)).toBe("tpe")
    expect(pick(undefined, 50)).toBe("tpe")
    expect(pick(box(3), undefined)).toBe("tpe")
    expect(pick(box(3), 100, ["minimize", "maximize"])).toBe("motpe")
    expect(pick(box(3), 1000, ["minimize", "maximize"])).toBe("nsga2")
  })

  it("gives a reason that names what decided", () => {
    expect(Auto.choose(box(2), ["minimize"], 40).reason).toContain("40 trials")
    expect(Auto.choose(box(2), ["minimize"], 40).reason).toContain("2 dimensions")
    expect(Auto.choose(conditional, ["minimize"], 50).reason).toContain("conditional")
    expect(Auto.choose(box(2), ["minimize", "minimize"], 50).reason).toContain("2 objectives")
  })
})

describe("Auto sampler", () => {
  it("logs its choice and records it on the study", async () => {
    const lines: Array<string> = []
    const logger = Logger.make(({ message }) => void lines.push(String(Array.isArray(message) ? message.join(" ") : message)))
    const space = Space.struct({ x: Space.float(-2, 2), y: Space.float(-2, 2) })
    const program = Effect.gen(function*() {
      const r = yield* Study.optimize({ study: "auto", space, objective: (c) => c.x ** 2 + c.y ** 2, trials: 12 })
      const storage = yield* Storage.Storage
      return { r, info: yield* storage.getStudy("auto") }
    })
    const { r, info } = await Effect.runPromise(Effect.scoped(program.pipe(
      Effect.provide(Layer.mergeAll(Scheduler.layerNone, Tracker.layerNone, Rng.layer({ seed: 1 }))),
      Effect.provide(Auto.layer({ trials: 12 })),
      Effect.provide(Storage.layerMemory),
      Effect.provide(Logger.replace(Logger.defaultLogger, logger))
    )))
    expect(r.trials.length).toBe(12)
    const recorded = info.systemAttrs[Auto.ATTRIBUTE] as { sampler: string; reason: string }
    expect(recorded.sampler).toBe("gp")
    expect(recorded.reason).toContain("12 trials")
    expect(lines.some((l) => l.includes("auto sampler: gp") && l.includes("12 trials"))).toBe(true)
  })

  it("chooses without a study start too (ask/tell), from the space it sees", async () => {
    const sampler = Auto.make({ trials: 5 })
    const space = Space.struct({ x: Space.float(0, 1) })
    const program = Effect.gen(function*() {
      const study = yield* Study.open({ study: "a", space })
      const t = yield* study.ask
      return { t, id: study.info.id }
    })
    const { id } = await Effect.runPromise(Effect.scoped(program.pipe(
      Effect.provide(Layer.mergeAll(Storage.layerMemory, Layer.succeed(Sampler.Sampler, sampler), Scheduler.layerNone, Tracker.layerNone, Rng.layer({ seed: 1 })))
    )))
    expect(sampler.choice(id)?.sampler).toBe("sobol")
  })
})

SamplerConformance.suite("auto (budget 30)", () => Auto.layer({ trials: 30 }))
SamplerConformance.suite("auto (two objectives)", () => Auto.layer({ trials: 30 }), { objectives: 2 })
