// Retries, heartbeats and fencing on the path users run (Study.optimize), in one process; the
// multi-process faults (kill -9, SIGSTOP, a server restart) are in the PostgreSQL chaos test.
import { Effect, Layer, Logger } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { Distribution, Rng, Space, Storage, Study, Trial } from "../src/index.js"

const space = Space.struct({ x: Space.float(0, 1), k: Space.int(1, 9) })

const tmpdb = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-retries-")), "study.db")

const run = <A, E>(e: Effect.Effect<A, E, Storage.Storage | Rng.Rng>, storage: Layer.Layer<Storage.Storage, any> = Storage.layerMemory) => {
  const logs: Array<string> = []
  const logger = Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => void logs.push(String(message))))
  return Effect.runPromise(Effect.scoped(e.pipe(Effect.provide(Layer.mergeAll(storage, Rng.layer({ seed: 3 }), logger))))).then((r) => ({ r, logs }))
}

const chainOf = (trials: ReadonlyArray<Trial.FrozenTrial>, t: Trial.FrozenTrial): Array<number> => {
  const byNumber = new Map(trials.map((x) => [x.number, x]))
  const chain = [t.number]
  for (let n = Study.retryOf(t); n !== undefined; n = Study.retryOf(byNumber.get(n)!)) chain.unshift(n)
  return chain
}

describe("retries", () => {
  it("runs a config whose objective failed again, linked to the trial it retries, outside the budget", async () => {
    const seen = new Map<string, number>()
    const { r } = await run(
      Study.optimize({
        study: "flaky",
        space,
        trials: 6,
        retries: { max: 2, onError: true },
        // Every config fails on its first run and succeeds on its second.
        objective: (c) => {
          const key = JSON.stringify(c)
          const n = (seen.get(key) ?? 0) + 1
          seen.set(key, n)
          if (n === 1) throw new Error(`first run of ${key}`)
          return c.x
        }
      })
    )
    const trials = r.trials
    expect(trials.length).toBe(12)
    const failed = trials.filter((t) => t.state === "Failed")
    const complete = trials.filter((t) => t.state === "Complete")
    expect(failed.length).toBe(6)
    expect(complete.length).toBe(6)
    for (const t of complete) {
      const original = trials.find((x) => x.number === Study.retryOf(t))!
      expect(original.state).toBe("Failed")
      expect(t.params).toEqual(original.params)
      expect(t.systemAttrs[Study.RETRIES]).toBe(1)
    }
  })

  it("stops at max retries: a config that always fails runs 1 + max times", async () => {
    const { r } = await run(
      Study.optimize({ study: "broken", space, trials: 2, retries: { max: 3, onError: true }, objective: () => Number.NaN })
    )
    expect(r.trials.length).toBe(8)
    expect(r.trials.every((t) => t.state === "Failed")).toBe(true)
    const last = r.trials.filter((t) => t.systemAttrs[Study.RETRIES] === 3)
    expect(last.length).toBe(2)
    for (const t of last) expect(chainOf(r.trials, t)).toHaveLength(4)
  })

  it("without onError, a failing objective is not retried", async () => {
    const { r } = await run(Study.optimize({ study: "once", space, trials: 3, retries: { max: 3 }, objective: () => { throw new Error("no") } }))
    expect(r.trials.length).toBe(3)
    expect(r.trials.every((t) => Study.retryOf(t) === undefined)).toBe(true)
  })
})

describe("heartbeats", () => {
  it("fails a trial another worker left silent past the grace period, during the run, and retries its config", async () => {
    const file = tmpdb()
    const storage = Storage.layerSqlite(file)
    const { r } = await run(
      Effect.gen(function*() {
        const s = yield* Storage.Storage
        const info = yield* s.createStudy("silent", { directions: ["minimize"] })
        // A worker on another machine took a trial, then went silent.
        const abandoned = yield* s.createTrial(info.id, {
          state: "Running",
          worker: "elsewhere:1",
          params: { x: 0.25, k: 4 },
          distributions: { x: Distribution.float("x", 0, 1), k: Distribution.int("k", 1, 9) }
        })
        const result = yield* Study.optimize({
          study: "silent",
          space,
          trials: 8,
          retries: { max: 1 },
          heartbeat: { interval: 40, grace: 150 },
          objective: (c) => Effect.as(Effect.sleep(40), c.x)
        })
        return { result, abandoned, all: yield* s.getTrials(info.id) }
      }),
      storage
    )
    const stale = r.all.find((t) => t.id === r.abandoned.id)!
    expect(stale.state).toBe("Failed")
    expect(stale.reason).toMatch(/stopped sending heartbeats/)
    const retried = r.all.find((t) => Study.retryOf(t) === stale.number)!
    expect(retried.state).toBe("Complete")
    expect(retried.params).toEqual(stale.params)
    // The retry used none of the budget: 8 sampled configs ran besides it.
    expect(r.result.trials.filter((t) => Study.retryOf(t) === undefined).length).toBe(8)
  })

  it("refuses a grace period that live trials could outlast", async () => {
    const e = await Effect.runPromise(
      Effect.flip(Study.optimize({ study: "g", space, trials: 1, heartbeat: { interval: 1000, grace: 1500 }, objective: (c) => c.x })).pipe(
        Effect.provide(Layer.merge(Storage.layerMemory, Rng.layer({ seed: 1 })))
      )
    )
    expect(e._tag).toBe("InvalidOptions")
    expect(e.message).toMatch(/heartbeat\.grace.*more than twice the interval/)
  })
})

describe("fencing", () => {
  it("a worker whose trial was failed elsewhere drops its late result and carries on", async () => {
    const { r, logs } = await run(
      Effect.gen(function*() {
        const s = yield* Storage.Storage
        const result = yield* Study.optimize({
          study: "fenced",
          space,
          trials: 3,
          objective: (c, trial) =>
            Effect.gen(function*() {
              // Meanwhile another worker took this one for dead and failed it.
              if (trial.number === 1) yield* s.finishTrial(trial.id, { state: "Failed", reason: "worker w:1 stopped sending heartbeats 9 s ago" })
              return c.x
            })
        })
        return result
      })
    )
    expect(r.trials.map((t) => t.state)).toEqual(["Complete", "Failed", "Complete"])
    expect(r.trials[1].reason).toMatch(/stopped sending heartbeats/)
    expect(r.trials[1].values).toBeUndefined()
    expect(logs.some((l) => /trial 1 ended elsewhere \(Failed/.test(l))).toBe(true)
  })

  it("a stream whose trial was failed elsewhere stops at its next report", async () => {
    let produced = 0
    const { r } = await run(
      Effect.gen(function*() {
        const s = yield* Storage.Storage
        return yield* Study.optimize({
          study: "fenced-stream",
          space,
          trials: 1,
          metric: "loss",
          objective: (c, trial) =>
            Effect.promise(async () => {
              for (let step = 1; step <= 100; step++) {
                produced++
                if (step === 5) await Effect.runPromise(s.finishTrial(trial.id, { state: "Failed", reason: "stale" }))
                await trial.report({ step, values: { loss: c.x / step } })
              }
              return c.x
            })
        })
      })
    )
    expect(r.trials[0].state).toBe("Failed")
    expect(r.trials[0].reason).toBe("stale")
    expect(produced).toBe(5)
    expect(r.trials[0].intermediate.map((m) => m.step)).toEqual([1, 2, 3, 4])
  })
})

describe("a stop asked of a running trial", () => {
  it("ends the trial as Pruned with its last values within about a second, and the study goes on", async () => {
    let produced = 0
    const { r } = await run(
      Effect.gen(function*() {
        const s = yield* Storage.Storage
        return yield* Study.optimize({
          study: "stop",
          space,
          trials: 2,
          metric: "loss",
          objective: (c, trial) =>
            Effect.gen(function*() {
              for (let step = 1; step <= (trial.number === 0 ? 400 : 5); step++) {
                if (trial.number === 0) produced++
                // What the dashboard writes when asked (another process, as far as the run loop knows).
                if (trial.number === 0 && step === 3) yield* s.setTrialAttr(trial.id, "system", Study.STOP, { at: Date.now(), by: "test" })
                yield* Effect.sleep(10)
                yield* Effect.promise(() => trial.report({ step, values: { loss: c.x / step } }))
              }
              return c.x
            })
        })
      }),
      Storage.layerSqlite(tmpdb())
    )
    expect(r.trials[0].state).toBe("Pruned")
    expect(r.trials[0].reason).toBe("stopped on request (test)")
    expect(r.trials[0].values).toEqual([r.trials[0].intermediate.at(-1)!.values.loss])
    expect(produced).toBeLessThan(250)
    expect(r.trials[1].state).toBe("Complete")
  })
})

