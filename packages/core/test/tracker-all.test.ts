import { Effect, Layer } from "effect"
import { PassThrough } from "node:stream"
import { of } from "rxjs"
import { describe, expect, it } from "vitest"
import { Progress, Space, Storage, Study, Tracker } from "../src/index.js"
import type { StudyInfo } from "../src/Storage.js"

const recorder = (name: string, events: Array<string>, only?: ReadonlyArray<keyof Tracker.TrackerService>): Tracker.TrackerService => {
  const all: Tracker.TrackerService = {
    studyStarted: (s) => Effect.sync(() => void events.push(`${name} study ${s.name}`)),
    trialStarted: (_, t) => Effect.sync(() => void events.push(`${name} start ${t.number}`)),
    metricReported: (_, t, m) => Effect.sync(() => void events.push(`${name} metric ${t.number}@${m.step}`)),
    trialFinished: (_, t) => Effect.sync(() => void events.push(`${name} end ${t.number} ${t.state}`)),
    logged: (_, t, l) => Effect.sync(() => void events.push(`${name} ${l._tag} ${t?.number ?? "study"}`)),
    studyFinished: (s, e) => Effect.sync(() => void events.push(`${name} study ${s.name} ${e.state}`)),
    health: Effect.succeed([{ tracker: name, sent: 1, retried: 0, failed: 0, dropped: 0 }])
  }
  return only === undefined ? all : Object.fromEntries(only.map((k) => [k, all[k]]))
}

const run = (tracker: Layer.Layer<Tracker.Tracker>) =>
  Study.optimize({
    study: "all",
    space: Space.struct({ x: Space.int(0, 9) }),
    metric: "loss",
    objective: (c) => of({ step: 0, values: { loss: c.x } }, { step: 1, values: { loss: c.x / 2 } }),
    trials: 2
  }).pipe(Effect.provide(tracker), Effect.provide(Study.layerDefaults({ seed: 3 })))

describe("Tracker.all", () => {
  it("each event of a study reaches every tracker, in the order given, through Study.optimize", async () => {
    const events: Array<string> = []
    await Effect.runPromise(run(Tracker.all(recorder("a", events), Layer.succeed(Tracker.Tracker, recorder("b", events)))))
    expect(events).toEqual([
      "a study all", "b study all",
      "a start 0", "b start 0", "a metric 0@0", "b metric 0@0", "a metric 0@1", "b metric 0@1", "a end 0 Complete", "b end 0 Complete",
      "a start 1", "b start 1", "a metric 1@0", "b metric 1@0", "a metric 1@1", "b metric 1@1", "a end 1 Complete", "b end 1 Complete",
      "a study all Finished", "b study all Finished"
    ])
  })

  it("leaves out the events no tracker follows, passes the others (logs, study events, health) to those that do", async () => {
    const events: Array<string> = []
    const both = Tracker.allService([recorder("a", events, ["trialFinished", "logged"]), recorder("b", events, ["studyStarted", "logged", "health"])])
    expect(Object.keys(both).sort()).toEqual(["health", "logged", "studyStarted", "trialFinished"])
    const study = { id: 1, name: "s", directions: ["minimize"], metrics: ["value"], userAttrs: {}, systemAttrs: {}, createdAt: 0 } satisfies StudyInfo
    await Effect.runPromise(both.studyStarted!(study))
    await Effect.runPromise(both.logged!(study, undefined, Tracker.note("hello")))
    expect(events).toEqual(["b study s", "a Note study", "b Note study"])
    expect(await Effect.runPromise(both.health!)).toEqual([{ tracker: "b", sent: 1, retried: 0, failed: 0, dropped: 0 }])
    expect(Tracker.allService([])).toEqual({})
  })

  it("builds trackers given as layers in its own scope, and releases them with it", async () => {
    const events: Array<string> = []
    const scoped = Layer.scoped(
      Tracker.Tracker,
      Effect.acquireRelease(Effect.sync(() => (events.push("open"), recorder("s", events, ["trialFinished"]))), () => Effect.sync(() => void events.push("close")))
    )
    await Effect.runPromise(run(Tracker.all(scoped, Tracker.layerNone)))
    expect(events).toEqual(["open", "s end 0 Complete", "s end 1 Complete", "close"])
  })
})

describe("Progress.tracker", () => {
  it("draws the progress line from the tracker events: counts, best value, closed at the study's end", async () => {
    const out = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough
    let text = ""
    out.on("data", (b: Buffer) => void (text += b.toString()))
    const progress = Progress.tracker({ stream: out, plainEveryMs: 0 })
    const program = Effect.gen(function*() {
      const r = yield* Study.optimize({
        study: "progress",
        space: Space.struct({ x: Space.int(0, 9) }),
        objective: (c) => (c.x === 5 ? Promise.reject(new Error("no fives")) : c.x),
        direction: "minimize",
        trials: 6
      })
      yield* progress.studyFinished!(r.study.info, { state: "Finished" })
      return r
    })
    const r = await Effect.runPromise(program.pipe(Effect.provide(Layer.succeed(Tracker.Tracker, progress)), Effect.provide(Study.layerDefaults({ seed: 4 }))))
    const lines = text.trim().split("\n")
    const last = lines[lines.length - 1]
    const complete = r.trials.filter((t) => t.state === "Complete")
    const failed = r.trials.length - complete.length
    const best = Math.min(...complete.map((t) => t.values![0]))
    expect(last).toContain(`trials 6 done (${complete.length} complete, 0 pruned, ${failed} failed), 0 running`)
    expect(last).toContain(`best ${best.toFixed(5)}`)
    // one line per start and end (plainEveryMs 0); the end adds none, the last line being current
    expect(lines.length).toBe(6 * 2)
  })

  it("as a layer, it is a Tracker", async () => {
    const layer = Progress.layer({ stream: new PassThrough() as unknown as NodeJS.WriteStream })
    const t = await Effect.runPromise(Effect.provide(Tracker.Tracker, layer))
    expect(typeof t.trialStarted).toBe("function")
    expect(Storage.layerMemory).toBeDefined()
  })
})
