// TPE's prior transfer (Options.prior): earlier tasks' histories shape the model from the first
// trial. With an identical earlier task it beats no transfer; with an unrelated one it does no
// worse at 100 trials, because the unrelated task's weight falls as the study learns.
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { Rng, Space, Study, type Trial } from "@tunekit/core"
import { Tpe } from "../src/index.js"
import * as Parzen from "../src/internal/parzen.js"
import * as Prior from "../src/internal/tpePrior.js"

const space = Space.struct({ x0: Space.float(0, 1), x1: Space.float(0, 1), x2: Space.float(0, 1) })
const sphere = (c: ReadonlyArray<number>) => (x: Record<string, number>) => c.reduce((a, ci, i) => a + (x[`x${i}`] - ci) ** 2, 0)
const target = sphere([0.7, 0.2, 0.55])
const unrelated = sphere([0.1, 0.9, 0.05])

const run = (f: (x: Record<string, number>) => number, trials: number, seed: number, prior?: ReadonlyArray<Tpe.PriorTask>) =>
  Effect.runPromise(
    Study.optimize({ study: "s", space, objective: f, trials }).pipe(
      Effect.provide(Tpe.layer(prior === undefined ? {} : { prior })),
      Effect.provide(Study.layerDefaults({ seed }))
    )
  ).then((r) => r.trials)
const bestAt = (ts: ReadonlyArray<Trial.FrozenTrial>, n: number) => Math.min(...ts.slice(0, n).map((t) => t.values?.[0] ?? Infinity))
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const SEEDS = [0, 1, 2, 3, 4, 5, 6, 7, 8]

describe("TPE prior transfer", () => {
  it("with an identical earlier task it beats no transfer: its 10th trial is better than no transfer's 50th", async () => {
    const history = await run(target, 60, 1000)
    const none: Array<Array<number>> = []
    const prior: Array<Array<number>> = []
    for (const seed of SEEDS) {
      const a = await run(target, 50, seed)
      const b = await run(target, 50, seed, [{ trials: history, direction: "minimize" }])
      none.push([bestAt(a, 10), bestAt(a, 50)])
      prior.push([bestAt(b, 10), bestAt(b, 50)])
    }
    expect(median(prior.map((r) => r[0]))).toBeLessThan(median(none.map((r) => r[0])))
    expect(median(prior.map((r) => r[0]))).toBeLessThan(median(none.map((r) => r[1])))
  })

  it("with an unrelated earlier task it does no worse than no transfer at 100 trials", async () => {
    const history = await run(unrelated, 60, 1000)
    const none: Array<number> = []
    const prior: Array<number> = []
    for (const seed of SEEDS) {
      none.push(bestAt(await run(target, 100, seed), 100))
      prior.push(bestAt(await run(target, 100, seed, [{ trials: history, direction: "minimize" }]), 100))
    }
    expect(median(prior)).toBeLessThanOrEqual(median(none))
  })

  it("an earlier task's weight falls as the study's good trials move away from its good region, and stays up when they agree", async () => {
    const specs = [0, 1, 2].map((i) => Parzen.specOf(`x${i}`, Space.compile(space).params.get(`x${i}`)!))
    const options: Parzen.ParzenOptions = {
      considerPrior: true, priorWeight: 1, considerMagicClip: true, considerEndpoints: false, multivariate: true, bandwidth: 0.1, spread: 0, spreadFloor: 0
    }
    const model = (trials: ReadonlyArray<Trial.FrozenTrial>) => Prior.taskModel("m", specs, trials, "minimize", 1, Tpe.defaultGamma, Tpe.defaultWeights, options)!
    const same = model(await run(target, 60, 1000))
    const other = model(await run(unrelated, 60, 1000))
    const study = await run(target, 60, 7)
    const weightAt = (m: Prior.TaskModel, n: number) => {
      const ts = study.slice(0, n)
      const nBelow = Tpe.defaultGamma(n)
      const below = [...ts].sort((a, b) => a.values![0] - b.values![0]).slice(0, nBelow)
      const l = Parzen.build(specs, Prior.observations(specs, below), Tpe.defaultWeights(below.length), options)
      return Prior.taskWeights(l, n, [m], Rng.generator(1, "w", n), 256, 10).tasks[0]
    }
    const unrelatedWeights = [5, 20, 60].map((n) => weightAt(other, n))
    const identicalWeights = [5, 20, 60].map((n) => weightAt(same, n))
    console.log(`weights at 5, 20, 60 trials: unrelated ${unrelatedWeights.map((w) => w.toFixed(3))}, identical ${identicalWeights.map((w) => w.toFixed(3))}`)
    // with one earlier task the most it can have is 1/2
    expect(unrelatedWeights[0]).toBeGreaterThan(0.3)
    expect(unrelatedWeights[1]).toBeLessThan(unrelatedWeights[0])
    expect(unrelatedWeights[2]).toBeLessThan(unrelatedWeights[1])
    expect(unrelatedWeights[2]).toBeLessThan(0.1)
    expect(identicalWeights[2]).toBeGreaterThan(3 * unrelatedWeights[2])
    // before any trial of its own, the earlier tasks share all the weight by similarity
    const l0 = Parzen.build(specs, Prior.observations(specs, []), [], options)
    expect(Prior.taskWeights(l0, 0, [same, { ...other, similarity: 0.25 }], Rng.generator(1), 64, 10)).toEqual({ target: 0, tasks: [0.8, 0.2] })
  })

  it("refuses a similarity outside [0, 1], naming the field", () => {
    const s = Tpe.make({ prior: [{ trials: [], direction: "minimize", similarity: 2 }] })
    const study = { id: 1, name: "s", directions: ["minimize" as const], metrics: [], userAttrs: {}, systemAttrs: {}, createdAt: 0 }
    const r = Effect.runSync(Effect.either(s.check!(Space.compile(space), study)))
    expect(r._tag === "Left" && r.left.message).toMatch(/prior\[0\]\.similarity/)
  })
})
