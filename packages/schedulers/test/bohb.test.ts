import { Rng, Sampler, Space, Storage, Study, Tracker, type Trial } from "@tunekit/core"
import { Effect, Either, Layer, Option } from "effect"
import { describe, expect, it } from "vitest"
import { Bohb, Budget, Fidelity, Hyperband } from "../src/index.js"

const trial = (number: number, state: Trial.State, steps: ReadonlyArray<readonly [number, number]>): Trial.FrozenTrial => ({
  id: number + 1,
  number,
  state,
  params: { x: number / 10 },
  distributions: { x: { _tag: "Float", low: 0, high: 1, log: false, step: undefined } },
  values: state === "Complete" ? [steps.at(-1)![1]] : undefined,
  intermediate: steps.map(([step, loss]) => ({ step, values: { loss } })),
  userAttrs: {},
  systemAttrs: {},
  startedAt: 0,
  finishedAt: undefined,
  worker: undefined,
  reason: undefined
})

describe("Bohb's view of the history", () => {
  const history = [
    trial(0, "Complete", [[1, 5], [3, 4], [9, 2]]),
    trial(1, "Pruned", [[1, 6], [3, 5]]),
    trial(2, "Waiting", [[1, 7], [3, 1]]), // paused at rung 3
    trial(3, "Pruned", [[1, 9]]),
    trial(4, "Running", [[1, 3]]),
    trial(5, "Running", [])
  ]

  it("picks the largest budget with enough observations", () => {
    expect(Bohb.modelBudget(history, "loss", [1, 3, 9], 5)).toBe(1)
    expect(Bohb.modelBudget(history, "loss", [1, 3, 9], 3)).toBe(3)
    expect(Bohb.modelBudget(history, "loss", [1, 3, 9], 1)).toBe(9)
    expect(Bohb.modelBudget(history, "loss", [1, 3, 9], 6)).toBeUndefined()
  })

  it("shows the trials observed at the budget as complete with their value there, and running ones as pending", () => {
    const at3 = Bohb.historyAt(history, "loss", 3)
    expect(at3.map((t) => [t.number, t.state, t.values ?? null])).toEqual([
      [0, "Complete", [4]],
      [1, "Complete", [5]],
      [2, "Complete", [1]],
      [4, "Running", null],
      [5, "Running", null]
    ])
  })
})

// A multi-fidelity problem with a known optimum: the score on a fraction of the data is the true
// score plus a bias that vanishes on the full data.
const space = Space.struct({ a: Space.float(0, 1), b: Space.float(0, 1), c: Space.float(0, 1), d: Space.float(0, 1) })
type Config = Space.Type<typeof space>
const truth = (c: Config) => (c.a - 0.2) ** 2 + (c.b - 0.7) ** 2 + (c.c - 0.4) ** 2 + (c.d - 0.9) ** 2
const measured = (c: Config, fraction: number) => truth(c) + 0.1 * (1 - fraction) * Math.sin(9 * c.a + 7 * c.b - 5 * c.c)

const resources = { minResource: 1, maxResource: 27, reductionFactor: 3 }
const data = Fidelity.fraction(resources)
const plan = Hyperband.plan(resources)

const runHyperband = (seed: number, sampler: Layer.Layer<Sampler.Sampler>, iterations: number) =>
  Effect.runPromise(
    Study.optimize({
      study: "mf",
      space,
      metric: "loss",
      direction: "minimize",
      objective: Fidelity.objective(data, (c: Config, e) => measured(c, e.fidelity), {
        metric: "loss",
        startAt: Fidelity.hyperbandStart(resources)
      })
    }).pipe(
      Effect.map((r) => Option.getOrThrow(r.best)),
      Effect.provide(
        Layer.mergeAll(
          Budget.layerConfigurations(plan.configurations * iterations).pipe(Layer.provide(sampler)),
          Hyperband.layer(resources),
          Tracker.layerNone
        ).pipe(Layer.provideMerge(Layer.mergeAll(Storage.layerMemory, Rng.layer({ seed }))))
      )
    )
  )

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

describe("BOHB with Hyperband", () => {
  it("finds better configurations than Hyperband with random search, on the same budget", async () => {
    const seeds = [1, 2, 3, 4, 5]
    const bohb = await Promise.all(seeds.map((s) => runHyperband(s, Bohb.layer(resources), 2)))
    const random = await Promise.all(seeds.map((s) => runHyperband(s, Sampler.layerRandom, 2)))
    const b = bohb.map((t) => t.values![0])
    const r = random.map((t) => t.values![0])
    if (process.env.TUNEKIT_PRINT) console.log("bohb", b, "random", r)
    expect(median(b)).toBeLessThan(median(r))
  })

  it("is deterministic for a seed", async () => {
    const [a, b] = await Promise.all([runHyperband(7, Bohb.layer(resources), 1), runHyperband(7, Bohb.layer(resources), 1)])
    expect(a.params).toEqual(b.params)
    expect(a.number).toBe(b.number)
  })

  it("fails at the start on several objectives and bad options", async () => {
    const start = (o: Bohb.Options, directions: ReadonlyArray<Trial.Direction> = ["minimize"]) =>
      Effect.runPromise(Effect.either(Study.optimize({ study: "bad", space, directions, objective: () => directions.map(() => 1), trials: 1 }).pipe(
        Effect.provide(Layer.mergeAll(Bohb.layer(o), Tracker.layerNone, Hyperband.layer(resources)).pipe(
          Layer.provideMerge(Layer.mergeAll(Storage.layerMemory, Rng.layer({ seed: 1 })))
        ))
      )))
    const two = await start(resources, ["minimize", "maximize"])
    expect(Either.isLeft(two) && two.left.message).toBe("bohb sampler: BOHB optimizes one objective; the study has 2")
    const frac = await start({ ...resources, randomFraction: 2 })
    expect(Either.isLeft(frac) && frac.left.message).toBe("bohb sampler: randomFraction: expected a number in [0, 1], got 2")
    const tpe = await start({ ...resources, tpe: { nEiCandidates: 0 } })
    expect(Either.isLeft(tpe) && tpe.left.message).toBe("bohb sampler: tpe.nEiCandidates: expected a positive integer, got 0")
    const swapped = await start({ minResource: 30, maxResource: 27 })
    expect(Either.isLeft(swapped) && swapped.left.message).toBe("bohb sampler: minResource: must not exceed maxResource (27), got 30")
  })
})
