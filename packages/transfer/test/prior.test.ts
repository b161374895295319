// Prior transfer from the database: Transfer.gp gives GP-BO the most similar tasks' histories, so
// that its first trials land where an identical earlier task was best.
import { Effect, Layer } from "effect"
import { describe, expect, it } from "vitest"
import { Space, Study } from "@tunekit/core"
import { Tpe } from "@tunekit/samplers"
import { Transfer } from "../src/index.js"

const space = Space.struct({ x: Space.float(0, 1), y: Space.float(0, 1) })
const bowl = (c: { x: number; y: number }) => (c.x - 0.62) ** 2 + (c.y - 0.27) ** 2

describe("Transfer.gp", () => {
  it("starts where the most similar task's history was best, and beats GP-BO's startup design", async () => {
    const db = Layer.succeed(Transfer.Transfer, Transfer.makeMemory())
    const program = Effect.gen(function*() {
      const history = yield* Study.optimize({ study: "old", space, objective: bowl, trials: 40 }).pipe(Effect.provide(Tpe.layer()))
      yield* Transfer.recordStudy("old", { task: "bowl_a" })
      yield* Transfer.saveTask({ name: "far" })
      const similarity = (a: Transfer.Task, b: Transfer.Task) => (b.name === "bowl_a" ? 0.9 : 0.1)
      const r = yield* Study.optimize({ study: "new", space, objective: bowl, trials: 5 }).pipe(
        Effect.provide(Transfer.gp({ task: "bowl_b", space, k: 2, similarity }))
      )
      return { history: history.trials, trials: r.trials }
    }).pipe(Effect.provide(Layer.merge(db, Study.layerDefaults({ seed: 4 }))))
    const { history, trials } = await Effect.runPromise(program)
    const bestOld = Math.min(...history.map((t) => t.values![0]))
    const best5 = Math.min(...trials.map((t) => t.values![0]))
    // GP-BO alone spends its first 10 trials on a Latin hypercube: its best of 5 is a random point's.
    expect(trials[0].values![0]).toBeLessThan(1e-2)
    expect(best5).toBeLessThan(Math.max(bestOld, 1e-4) * 10)
  }, 60_000)
})
