import { Context, Effect, Layer, Logger, LogLevel } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Space, type Storage, Study, Tracker, Trial } from "@tunekit/core"
import { Mlflow } from "../src/index.js"
import { serve } from "./_mlflow.js"

// A server that answers as MLflow does and records each request's path and body: what the tracker
// sends, request by request, without a real server; each answer after `delayMs`.
let server: Awaited<ReturnType<typeof serve>>
let url: string
let delayMs = 0
const requests: Array<{ path: string; body: any }> = []
beforeAll(async () => {
  let runs = 0
  server = await serve((req, res) => {
    let text = ""
    req.on("data", (c) => (text += c))
    req.on("end", () => {
      const p = (req.url ?? "").replace("/api/2.0/mlflow/", "")
      requests.push({ path: p, body: text === "" ? undefined : JSON.parse(text) })
      const body = JSON.stringify(
        p === "experiments/create"
          ? { experiment_id: "1" }
          : p === "runs/create"
          ? { run: { info: { run_id: `run-${++runs}`, artifact_uri: "mlflow-artifacts:/1/artifacts" } } }
          : {}
      )
      if (delayMs === 0) res.end(body)
      else setTimeout(() => res.end(body), delayMs)
    })
  })
  url = server.url
})
afterAll(() => server.close())

const space = Space.struct({ x: Space.float(0, 1) })
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-batching-"))
const run = (study: string, trials: number, steps: number, stepMs: number, flushMs: number, options: Partial<Mlflow.Options> = {}) =>
  Effect.runPromise(
    Study.optimize({
      study,
      space,
      metric: "loss",
      trials,
      objective: async (c, trial) => {
        for (let step = 1; step <= steps; step++) {
          if (stepMs > 0) await new Promise((r) => setTimeout(r, stepMs))
          else await new Promise((r) => setImmediate(r))
          await trial.report({ step, values: { loss: c.x / step } })
        }
        return c.x
      }
    }).pipe(
      Effect.provide(Layer.merge(Layer.map(Mlflow.layer({ url, flushMs, ...options }), timedEnd), Logger.minimumLogLevel(LogLevel.Error))),
      Effect.provide(Study.layerDefaults({ seed: 3, storage: path.join(dir, `${study}.db`) }))
    )
  )
const count = (p: string) => requests.filter((r) => r.path === p).length

/** The tracker's last study's end: how long the run loop waited in it, the requests received by then, and the tracker's health after it closed. */
const ended = { ms: 0, updates: 0, health: (): ReadonlyArray<Tracker.Health> => [] }
const timedEnd = (ctx: Context.Context<Tracker.Tracker>) => {
  const t = Context.get(ctx, Tracker.Tracker)
  ended.health = () => Effect.runSync(t.health!)
  return Context.add(ctx, Tracker.Tracker, {
    ...t,
    studyFinished: (s, e) =>
      Effect.suspend(() => {
        const t0 = Date.now()
        return Effect.ensuring(t.studyFinished!(s, e), Effect.sync(() => void ((ended.ms = Date.now() - t0), (ended.updates = count("runs/update")))))
      })
  })
}

describe("the MLflow tracker's requests", () => {
  it("a short trial costs three requests however many steps it reports: create, one log-batch, update", async () => {
    requests.length = 0
    await run("short", 5, 8, 0, 1000)
    expect(count("runs/create")).toBe(6) // the parent and five trials
    expect(count("runs/update")).toBe(6)
    const batches = requests.filter((r) => r.path === "runs/log-batch")
    expect(batches).toHaveLength(5)
    // each with its trial's param and every step, in order
    for (const b of batches) {
      expect(b.body.params.map((p: any) => p.key)).toEqual(["x"])
      expect(b.body.metrics.map((m: any) => m.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    }
  })

  it("a long trial's metrics are sent while it runs, every flushMs", async () => {
    requests.length = 0
    await run("long", 1, 6, 60, 100)
    const batches = requests.filter((r) => r.path === "runs/log-batch")
    // 6 steps of 60 ms with a flush every 100 ms: sent in more than one batch, before the end
    expect(batches.length).toBeGreaterThan(1)
    expect(batches.length).toBeLessThan(6)
    expect(batches.flatMap((b) => b.body.metrics.map((m: any) => m.step))).toEqual([1, 2, 3, 4, 5, 6])
    const update = requests.findIndex((r) => r.path === "runs/update")
    expect(requests.findIndex((r) => r.path === "runs/log-batch")).toBeLessThan(update)
  })

  it("NaN and infinities go as the strings MLflow reads", async () => {
    requests.length = 0
    const { tracker, close } = await Effect.runPromise(Mlflow.make({ url }))
    const study: Storage.StudyInfo = { id: 77, name: "non-finite", directions: ["minimize"], metrics: ["loss"], userAttrs: {}, systemAttrs: {}, createdAt: 0 }
    const trial = Trial.make({ id: 770, number: 0, state: "Running" })
    await Effect.runPromise(Effect.all([
      tracker.studyStarted!(study),
      tracker.trialStarted!(study, trial),
      tracker.metricReported!(study, trial, { step: 1, values: { loss: NaN, a: Infinity, b: -Infinity, c: 0.5 } }),
      tracker.trialFinished!(study, { ...trial, state: "Complete", values: [0.5] })
    ]))
    await Effect.runPromise(close)
    const metrics = requests.filter((r) => r.path === "runs/log-batch").flatMap((r) => r.body.metrics)
    expect(metrics.map((m: any) => [m.key, m.value])).toEqual([["loss", "NaN"], ["a", "Infinity"], ["b", "-Infinity"], ["c", 0.5]])
  })

  // The study's end may wait up to 400 ms here (finishShare 1: the whole study's time, some 300 ms).
  const end = { finishShare: 1, finishTimeoutMs: 400 }
  /** The study run against the server answering each request after `ms`. */
  const runSlowed = async (ms: number, study: string) => {
    delayMs = ms
    try {
      await run(study, 10, 3, 10, 1000, end)
    } finally {
      delayMs = 0
    }
  }

  it("a server that keeps up: the study's end waits for its requests, and every run is ended when it returns", async () => {
    requests.length = 0
    await runSlowed(5, "keeps-up")
    // 31 requests of 5 ms (the parent's and 3 a trial), 4 at a time, fit in the time allowed
    expect(ended.updates).toBe(11)
    expect(ended.health()[0]).toMatchObject({ failed: 0, dropped: 0 })
  })

  it("a server too slow for the time allowed: the study's end does not wait, and the close still sends every request", async () => {
    requests.length = 0
    await runSlowed(200, "too-slow")
    // some 30 requests of 200 ms, 4 at a time, do not fit in 400 ms: it gave up at once
    expect(ended.ms).toBeLessThan(100)
    expect(ended.updates).toBeLessThan(11)
    // and the tracker's close sent them all, nothing lost
    expect(count("runs/create")).toBe(11)
    const batches = requests.filter((r) => r.path === "runs/log-batch").map((r) => r.body)
    expect(batches.flatMap((b) => b.params)).toHaveLength(10)
    expect(batches.flatMap((b) => b.metrics)).toHaveLength(30)
    expect(count("runs/update")).toBe(11)
    expect(ended.health()[0]).toMatchObject({ failed: 0, dropped: 0 })
  })
})
