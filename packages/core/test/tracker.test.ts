import { Effect, Layer } from "effect"
import { of } from "rxjs"
import { expect, it } from "vitest"
import { Rng, Sampler, Scheduler, Space, Storage, Study, Tracker } from "../src/index.js"

it("a tracker sees each trial start, each metric and each end, with the parameters", async () => {
  const events: Array<string> = []
  const tracker: Tracker.TrackerService = {
    trialStarted: (_, t) => Effect.sync(() => void events.push(`start ${t.number} x=${t.params.x}`)),
    metricReported: (_, t, m) => Effect.sync(() => void events.push(`metric ${t.number} step ${m.step}`)),
    trialFinished: (s, t) => Effect.sync(() => void events.push(`end ${s.name} ${t.number} ${t.state}`))
  }
  const layer = Layer.mergeAll(Storage.layerMemory, Sampler.layerRandom, Scheduler.layerNone, Layer.succeed(Tracker.Tracker, tracker), Rng.layer({ seed: 1 }))
  const r = await Effect.runPromise(Study.optimize({
    study: "tracked",
    space: Space.struct({ x: Space.int(0, 9) }),
    metric: "loss",
    objective: (c) => of({ step: 0, values: { loss: c.x } }, { step: 1, values: { loss: c.x / 2 } }),
    trials: 2
  }).pipe(Effect.provide(layer)))
  const [a, b] = r.trials.map((t) => t.params.x)
  expect(events).toEqual([
    `start 0 x=${a}`, "metric 0 step 0", "metric 0 step 1", "end tracked 0 Complete",
    `start 1 x=${b}`, "metric 1 step 0", "metric 1 step 1", "end tracked 1 Complete"
  ])
})
