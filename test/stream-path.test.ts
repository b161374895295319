// One path for metric streams: the operator a user composes by hand (Operators.pruneWhen, built on
// Scheduler.decisions) is the one Study.optimize applies, and each decision is taken before the
// trainer produces its next metric. Counted on synchronous sources, which cannot be stopped any
// other way.
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { map, Observable, range } from "rxjs"
import { describe, expect, it } from "vitest"
import { Checkpoint, Scheduler, Space, Storage, Study, type Trial } from "@tunekit/core"
import { Asha, Hyperband, Operators, Pbt, Threshold } from "@tunekit/schedulers"

const STEPS = 10_000
const space = Space.struct({ x: Space.float(0, 1) })

/** Values that cross 10.5 at step 11, so a threshold of 10.5 prunes every trial at step 11. */
const metricOf = (step: number): Trial.Metric => ({ step, values: { value: step } })

/** A trainer written as a loop that checks `subscriber.closed`, counting what it produces. */
const loop = (count: { n: number }) => () =>
  new Observable<Trial.Metric>((subscriber) => {
    for (let step = 1; step <= STEPS && !subscriber.closed; step++) {
      count.n++
      subscriber.next(metricOf(step))
    }
    subscriber.complete()
  })

/** RxJS's own synchronous `range`, counting what it produces. */
const ranged = (count: { n: number }) => () => range(1, STEPS).pipe(map((step) => (count.n++, metricOf(step))))

const tmpdb = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-stream-")), "study.db")

describe("a synchronous source", () => {
  for (const [label, source] of [["a loop checking subscriber.closed", loop], ["rxjs range", ranged]] as const) {
    it(`under the operator, composed by hand, produces nothing after the pruning step (${label})`, () => {
      const count = { n: 0 }
      const seen: Array<number> = []
      source(count)().pipe(Operators.pruneWhen(Threshold.make({ upper: 10.5 }))).subscribe((m) => seen.push(m.step))
      expect(seen).toEqual(Array.from({ length: 11 }, (_, i) => i + 1))
      expect(count.n).toBe(11)
    })

    for (const [storage, layer] of [["memory", () => Storage.layerMemory], ["SQLite", () => Storage.layerSqlite(tmpdb())]] as const) {
      it(`under Study.optimize on ${storage} storage, 5 trials produce 11 values each (${label})`, async () => {
        const count = { n: 0 }
        const r = await Effect.runPromise(Effect.scoped(
          Study.optimize({ study: "sync", space, objective: source(count), trials: 5 }).pipe(
            Effect.provide(Threshold.layer({ upper: 10.5 })),
            Effect.provide(Study.layerDefaults({ seed: 1 })),
            Effect.provide(layer())
          )
        ))
        expect(r.trials.map((t) => [t.state, t.intermediate.length])).toEqual(Array.from({ length: 5 }, () => ["Pruned", 11]))
        expect(count.n).toBe(55)
      })
    }
  }

  it("stops where a rung scheduler pauses it, and resumes from there (ASHA promotion)", async () => {
    const produced: Array<[number, number]> = []
    const objective = (_: unknown, trial: Study.TrialContext<unknown>) =>
      new Observable<Trial.Metric>((subscriber) => {
        for (let step = (trial.resumeFrom ?? 0) + 1; step <= 9 && !subscriber.closed; step++) {
          produced.push([trial.number, step])
          subscriber.next({ step, values: { value: 1 / step + trial.number / 100 } })
        }
        subscriber.complete()
      })
    const r = await Effect.runPromise(Effect.scoped(
      Study.optimize({ study: "pause", space, objective, trials: 9 }).pipe(
        Effect.provide(Asha.layer({ minResource: 1, maxResource: 9, reductionFactor: 3, mode: "promotion" })),
        Effect.provide(Study.layerDefaults({ seed: 2 }))
      )
    ))
    // Every step a trainer produced was stored, exactly once: nothing ran ahead of a pause.
    const stored = r.trials.flatMap((t) => t.intermediate.map((m) => [t.number, m.step] as [number, number]))
    expect([...produced].sort((a, b) => a[0] - b[0] || a[1] - b[1])).toEqual(stored.sort((a, b) => a[0] - b[0] || a[1] - b[1]))
    expect(r.trials.some((t) => t.state === "Complete")).toBe(true)
  })
})

describe("promotion ASHA with a trial budget and several workers", () => {
  it("returns the trials as stored, each once, and ends with completed trials", async () => {
    const objective = (c: { x: number }, trial: Study.TrialContext<{ x: number }>) =>
      new Observable<Trial.Metric>((subscriber) => {
        let step = (trial.resumeFrom ?? 0) + 1
        const tick = () => {
          if (subscriber.closed) return
          if (step > 27) return subscriber.complete()
          subscriber.next({ step, values: { value: c.x + 1 / step } })
          step++
          setImmediate(tick)
        }
        setImmediate(tick)
      })
    const r = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const result = yield* Study.optimize({ study: "promo", space, objective, trials: 40, concurrency: 4 })
      return { result, stored: yield* result.study.trials }
    }).pipe(
      Effect.provide(Asha.layer({ minResource: 1, maxResource: 27, reductionFactor: 3, mode: "promotion" })),
      Effect.provide(Checkpoint.layerMemory),
      Effect.provide(Study.layerDefaults({ seed: 3 }))
    )))
    const ids = r.result.trials.map((t) => t.id)
    expect(new Set(ids).size).toBe(ids.length)
    // 40 configurations: resumptions use none of the budget.
    expect(r.stored.length).toBe(40)
    expect([...r.result.trials].sort((a, b) => a.number - b.number)).toEqual(r.stored)
    expect(r.stored.filter((t) => t.state === "Waiting" || t.state === "Running")).toEqual([])
    expect(r.stored.filter((t) => t.state === "Complete").length).toBeGreaterThan(0)
    expect(r.result.best._tag).toBe("Some")
  })
})

describe("mismatched combinations fail when the study starts", () => {
  const run = (layer: Layer.Layer<Scheduler.Scheduler, never, Storage.Storage | Checkpoint.Checkpoint>, objective: () => unknown) =>
    Effect.runPromise(Effect.flip(Effect.scoped(
      Study.optimize({ study: "bad", space, objective: objective as () => number, trials: 3 }).pipe(
        Effect.provide(layer),
        Effect.provide(Layer.merge(Study.layerDefaults({ seed: 1 }), Checkpoint.layerMemory))
      )
    )))

  it("ASHA or Hyperband with an objective that reports no metric stream", async () => {
    for (const layer of [Asha.layer({ minResource: 1, maxResource: 9 }), Hyperband.layer({ minResource: 1, maxResource: 9 })]) {
      const e = await run(layer, () => 0.5)
      expect(e._tag).toBe("InvalidOptions")
      expect(e.message).toMatch(/compares trials on their metric streams, but the objective returned 0.5/)
    }
  })

  it("a scheduler that needs no stream takes a plain objective", async () => {
    const ok = await Effect.runPromise(Effect.scoped(
      Study.optimize({ study: "ok", space, objective: (c) => c.x, trials: 3 }).pipe(
        Effect.provide(Pbt.layer({ perturbationInterval: 2 })),
        Effect.provide(Layer.merge(Study.layerDefaults({ seed: 1 }), Checkpoint.layerMemory))
      )
    ))
    expect(ok.trials.every((t) => t.state === "Complete")).toBe(true)
  })
})
