import { Effect, Layer, Logger } from "effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Scheduler, Space, type Storage, Study, Tracker, Trial } from "@tunekit/core"
import { JsonLines, Mlflow, Runs } from "../src/index.js"
import { freePort, serve, type Server, startMlflow } from "./_mlflow.js"

const space = Space.struct({
  lr: Space.float(1e-4, 1e-1, { log: true }),
  layers: Space.int(1, 4),
  activation: Space.categorical(["relu", "tanh"] as const),
  dropout: Space.float(0, 0.5, { step: 0.1 })
})
type Config = Space.Type<typeof space>

const STEPS = 4
const loss = (c: Config, step: number) => (Math.abs(Math.log10(c.lr) + 2.5) + c.dropout + 1 / c.layers) / step
/** Prunes trial 1 at step 2 (a pruned run ends KILLED). */
const pruneSecond = Layer.succeed(Scheduler.Scheduler, {
  name: "prune-second",
  decide: (ctx) => Effect.succeed(ctx.trial.number === 1 && ctx.metric.step === 2 ? Scheduler.Decision.Prune({ reason: "second trial" }) : Scheduler.Continue)
})
const weights = (n: number) => new Uint8Array(Array.from({ length: 64 }, (_, i) => (i * 7 + n) % 256))

let dir: string
let server: Server | undefined
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-tracking-"))
  server = await startMlflow()
}, 600_000)
afterAll(async () => {
  await server?.stop()
  fs.rmSync(dir, { recursive: true, force: true })
})

/**
 * Six trials (one pruned, one failing) that report four steps of two metrics and log tags, a note
 * and weights; the study's parent run gets a tag and an artifact. Returns the trials as stored.
 */
const tunedStudy = (study: string, trackers: Layer.Layer<Tracker.Tracker, unknown, Storage.Storage>, storage: string) =>
  Effect.gen(function*() {
    const tracker = yield* Tracker.Tracker
    const info = (yield* Study.open({ study, space, metric: "loss" })).info
    // The study's own logs, before it runs: its parent run's.
    if (tracker.logged) yield* tracker.logged(info, undefined, Tracker.tags({ dataset: "synthetic" }))
    if (tracker.logged) yield* tracker.logged(info, undefined, Tracker.artifact("space.json", JSON.stringify({ dims: 4 }), "application/json"))
    const r = yield* Study.optimize({
      study,
      space,
      metric: "loss",
      direction: "minimize",
      trials: 6,
      objective: async (c, trial) => {
        await Effect.runPromise(trial.log(Tracker.tags({ model: "mlp", layers: String(c.layers) })))
        await Effect.runPromise(trial.log(Tracker.note(`mlp with ${c.layers} layers`)))
        for (let step = 1; step <= STEPS; step++) {
          await trial.report({ step, values: { loss: loss(c, step), accuracy: 1 - loss(c, step) / 4 } })
          if (trial.number === 4 && step === 3) throw new Error("diverged at step 3")
        }
        await Effect.runPromise(trial.log(Tracker.artifact("model/weights.bin", weights(trial.number))))
        return loss(c, STEPS)
      }
    })
    const all = yield* r.study.trials
    return { info, trials: all, tracker }
  }).pipe(
    Effect.provide(Layer.merge(trackers, pruneSecond)),
    Effect.provide(Study.layerDefaults({ seed: 11, storage })),
    // What the trackers sent and lost, read once their layer has closed (and sent what was left).
    Effect.map(({ tracker, ...rest }) => ({ ...rest, health: tracker.health === undefined ? [] : Effect.runSync(tracker.health) }))
  )

const paramText = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v))
const statusOf = (s: Trial.State) => (s === "Complete" ? "FINISHED" : s === "Pruned" ? "KILLED" : "FAILED")
const sha = (b: Uint8Array) => crypto.createHash("sha256").update(b).digest("hex")

describe("trackers against a real MLflow server, the JSON-lines file and the built-in runs", () => {
  it("every event reaches all three: params, every metric step, ends, tags, notes, artifacts, nesting", async () => {
    const storage = path.join(dir, "all.db")
    const trackers = Tracker.all(
      Runs.layer({ directory: path.join(dir, "artifacts") }),
      JsonLines.layer({ directory: path.join(dir, "jsonl") }),
      Mlflow.layer({ url: server!.url })
    )
    const { trials, health } = await Effect.runPromise(tunedStudy("tracked-all", trackers, storage))
    expect(trials.map((t) => t.state)).toEqual(["Complete", "Pruned", "Complete", "Complete", "Failed", "Complete"])
    expect(health.map((h) => h.tracker).sort()).toEqual(["jsonl", "mlflow", "runs"])
    for (const h of health) expect(h.failed + h.dropped).toBe(0)

    // MLflow, read back through its own REST API
    const c = Mlflow.client({ url: server!.url })
    const expId = await Effect.runPromise(c.experimentId("tracked-all"))
    expect(expId).toBeDefined()
    const runs = await Effect.runPromise(c.runs(expId!))
    expect(runs).toHaveLength(7)
    const tagsOf = (r: Mlflow.RunJson) => Object.fromEntries((r.data.tags ?? []).map((t) => [t.key, t.value]))
    const parent = runs.find((r) => tagsOf(r)["mlflow.parentRunId"] === undefined)!
    expect(parent.info.run_name).toBe("tracked-all")
    expect(parent.info.status).toBe("FINISHED")
    expect(tagsOf(parent)).toMatchObject({ "tunekit.study": "tracked-all", dataset: "synthetic", "tunekit.metrics": "loss" })
    expect(await Effect.runPromise(c.artifacts(parent))).toEqual([{ path: "space.json", bytes: 10 }])
    expect(new TextDecoder().decode(await Effect.runPromise(c.artifact(parent, "space.json")))).toBe('{"dims":4}')
    for (const t of trials) {
      const run = runs.find((r) => r.info.run_name === `trial-${t.number}`)!
      const tags = tagsOf(run)
      expect(tags["mlflow.parentRunId"]).toBe(parent.info.run_id)
      expect(run.info.status).toBe(statusOf(t.state))
      expect(run.info.end_time).toBe(t.finishedAt)
      expect(tags).toMatchObject({ "tunekit.trial": String(t.number), "tunekit.state": t.state, model: "mlp", "mlflow.note.content": expect.stringMatching(/^mlp with \d layers$/) })
      if (t.state === "Failed") expect(tags["tunekit.reason"]).toContain("diverged at step 3")
      if (t.state === "Pruned") expect(tags["tunekit.reason"]).toBe("second trial")
      // every param, as its external value
      const params = Object.fromEntries((run.data.params ?? []).map((p) => [p.key, p.value]))
      expect(params).toEqual(Object.fromEntries(Object.entries(Trial.paramValues(t)).map(([k, v]) => [k, paramText(v)])))
      // every metric step, in order, with timestamps inside the trial
      for (const name of ["loss", "accuracy"]) {
        const history = await Effect.runPromise(c.metricHistory(run.info.run_id, name))
        const sorted = [...history].sort((a, b) => a.step - b.step)
        expect(sorted.map((m) => [m.step, m.value])).toEqual(Trial.series(t, name).map(([s, v]) => [s, v]))
        for (const m of sorted) {
          expect(m.timestamp).toBeGreaterThanOrEqual(t.startedAt!)
          expect(m.timestamp).toBeLessThanOrEqual(t.finishedAt! + 1000)
        }
      }
      const files = await Effect.runPromise(c.artifacts(run))
      if (t.state === "Complete") {
        expect(files).toEqual([{ path: "model/weights.bin", bytes: 64 }])
        expect(await Effect.runPromise(c.artifact(run, "model/weights.bin"))).toEqual(weights(t.number))
      } else expect(files).toEqual([])
    }

    // JSON lines
    const events = await Effect.runPromise(JsonLines.read(JsonLines.pathOf(path.join(dir, "jsonl"), "tracked-all")))
    expect(events.filter((e) => e.event === "study_started")).toHaveLength(1)
    expect(events[events.length - 1]).toMatchObject({ event: "study_finished", state: "Finished" })
    for (const t of trials) {
      const mine = events.filter((e) => "trial" in e && e.trial === t.number)
      const started = mine.find((e) => e.event === "trial_started")
      expect(started).toMatchObject({ params: Trial.paramValues(t) })
      const metrics = mine.flatMap((e) => (e.event === "metric" ? [{ step: e.step, values: e.values }] : []))
      expect(metrics).toEqual(t.intermediate.map((m) => ({ step: m.step, values: m.values })))
      expect(mine.find((e) => e.event === "trial_finished")).toMatchObject({ state: t.state, values: t.values ?? null, duration_ms: Trial.duration(t) })
      expect(mine.find((e) => e.event === "tags")).toMatchObject({ tags: { model: "mlp" } })
      const artifact = mine.find((e) => e.event === "artifact")
      if (t.state === "Complete") expect(artifact).toMatchObject({ name: "model/weights.bin", bytes: 64, sha256: sha(weights(t.number)) })
    }
    expect(events.find((e) => e.event === "artifact" && e.trial === null)).toMatchObject({ name: "space.json", bytes: 10 })

    // the built-in runs, in the study's own storage
    const stored = await Effect.runPromise(Runs.list("tracked-all").pipe(Effect.provide(Study.layerDefaults({ storage }))))
    expect(stored.parent).toMatchObject({ name: "tracked-all", status: "FINISHED", tags: { dataset: "synthetic" } })
    expect(stored.parent.finishedAt).toBeGreaterThanOrEqual(stored.parent.startedAt!)
    expect(await Effect.runPromise(Runs.readArtifact(stored.parent.artifacts[0]))).toEqual(new TextEncoder().encode('{"dims":4}'))
    expect(stored.runs.map((r) => [r.name, r.parent, r.status])).toEqual(trials.map((t) => [`trial-${t.number}`, "tracked-all", statusOf(t.state)]))
    for (const [i, run] of stored.runs.entries()) {
      const t = trials[i]
      expect(run.params).toEqual(Trial.paramValues(t))
      expect(run.metrics.loss.map((m) => [m.step, m.value])).toEqual(Trial.series(t, "loss"))
      expect(run.metrics.accuracy).toHaveLength(t.intermediate.length)
      expect(run.tags).toEqual({ model: "mlp", layers: String(Trial.paramValues(t).layers) })
      expect(run.notes).toEqual([`mlp with ${Trial.paramValues(t).layers} layers`])
      if (t.state === "Complete") {
        expect(run.artifacts.map((a) => [a.name, a.bytes, a.sha256])).toEqual([["model/weights.bin", 64, sha(weights(t.number))]])
        expect(await Effect.runPromise(Runs.readArtifact(run.artifacts[0]))).toEqual(weights(t.number))
      }
    }
    const table = Runs.format(stored)
    expect(table.split("\n")[0]).toMatch(/^study tracked-all: FINISHED, 6 runs/)
    expect(table).toMatch(/trial-1\s+KILLED/)
    expect(table).toMatch(/trial-4\s+FAILED/)
  })

  it("retries what fails: through a proxy that answers 503 to every third request, nothing is lost", async () => {
    let n = 0
    const upstream = new URL(server!.url)
    const proxy = await serve((req, res) => {
      if (n++ % 3 === 0) {
        res.writeHead(503, { "content-type": "application/json" })
        res.end('{"error_code":"TEMPORARILY_UNAVAILABLE","message":"try again"}')
        return
      }
      const fwd = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers)
        r.pipe(res)
      })
      req.pipe(fwd)
    })
    try {
      const { trials, health } = await Effect.runPromise(
        tunedStudy("tracked-flaky", Mlflow.layer({ url: proxy.url, backoffMs: 5 }), path.join(dir, "flaky.db"))
      )
      expect(health[0].retried).toBeGreaterThan(0)
      expect(health[0].failed + health[0].dropped).toBe(0)
      const c = Mlflow.client({ url: server!.url })
      const runs = await Effect.runPromise(c.runs((await Effect.runPromise(c.experimentId("tracked-flaky")))!))
      expect(runs).toHaveLength(7)
      for (const t of trials) {
        const run = runs.find((r) => r.info.run_name === `trial-${t.number}`)!
        const history = await Effect.runPromise(c.metricHistory(run.info.run_id, "loss"))
        expect(history.map((m) => m.step).sort()).toEqual(t.intermediate.map((m) => m.step))
      }
    } finally {
      await proxy.close()
    }
  })
})

describe("a tracker whose server is down or slow", () => {
  const logged = () => {
    const lines: Array<string> = []
    const logger = Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => void lines.push((Array.isArray(message) ? message : [message]).join(" "))))
    return { lines, logger }
  }

  it("down: the study completes, and the failures are counted and reported when it ends", async () => {
    const port = await freePort()
    const { lines, logger } = logged()
    const { trials, health } = await Effect.runPromise(
      tunedStudy("down", Mlflow.layer({ url: `http://127.0.0.1:${port}`, retries: 2, backoffMs: 5 }), path.join(dir, "down.db")).pipe(Effect.provide(logger))
    )
    expect(trials.filter((t) => t.state === "Complete")).toHaveLength(4)
    expect(health[0].failed).toBeGreaterThan(0)
    expect(health[0].lastError).toMatch(/ECONNREFUSED|not trying again/)
    // reported when the study ends, or (what was still in flight) when the tracker closes
    expect(lines.some((l) => /tracker mlflow, study "(down|\(all\))": [1-9]\d* failed/.test(l))).toBe(true)
  })

  it("slow: requests time out, the study does not wait for them, and what was not sent is reported", async () => {
    const slow = await serve((_req, res) => void setTimeout(() => res.end("{}"), 2000))
    const { lines, logger } = logged()
    try {
      const { trials } = await Effect.runPromise(
        tunedStudy("slow", Mlflow.layer({ url: slow.url, timeoutMs: 200, retries: 1, backoffMs: 5, finishTimeoutMs: 50, closeTimeoutMs: 50 }), path.join(dir, "slow.db"))
          .pipe(Effect.provide(logger))
      )
      expect(trials).toHaveLength(6)
      expect(lines.some((l) => /tracker mlflow, study "(slow|\(all\))": \d+ failed and \d+ dropped/.test(l))).toBe(true)
    } finally {
      await slow.close()
    }
  })

  it("a server whose answers are not MLflow's: every event is counted as failed, none silently lost", async () => {
    const junk = await serve((req, res) => {
      req.resume()
      res.end("{}")
    })
    try {
      const { trials, health } = await Effect.runPromise(tunedStudy("junk", Mlflow.layer({ url: junk.url }), path.join(dir, "junk.db")))
      expect(trials).toHaveLength(6)
      expect(health[0].dropped).toBe(0)
      expect(health[0].failed).toBeGreaterThan(6)
      expect(health[0].lastError).toMatch(/an answer MLflow does not give/)
    } finally {
      await junk.close()
    }
  })

  it("refuses bad options, naming the field", async () => {
    const r = await Effect.runPromise(Effect.either(Layer.build(Mlflow.layer({ url: "ftp://x" })).pipe(Effect.scoped)))
    expect(r._tag === "Left" && r.left.message).toMatch(/^url: expected an http\(s\) URL/)
  })
})
