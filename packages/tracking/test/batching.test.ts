import { Effect, Layer, Logger, LogLevel } from "effect"
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Space, Study } from "@tunekit/core"
import { Mlflow } from "../src/index.js"
import { freePort } from "./_mlflow.js"

// A server that answers as MLflow does and records each request's path and body: what the tracker
// sends, request by request, without a real server.
let server: http.Server
let url: string
const requests: Array<{ path: string; body: any }> = []
beforeAll(async () => {
  let runs = 0
  server = http.createServer((req, res) => {
    let text = ""
    req.on("data", (c) => (text += c))
    req.on("end", () => {
      const p = (req.url ?? "").replace("/api/2.0/mlflow/", "")
      requests.push({ path: p, body: text === "" ? undefined : JSON.parse(text) })
      res.end(JSON.stringify(
        p === "experiments/create"
          ? { experiment_id: "1" }
          : p === "runs/create"
          ? { run: { info: { run_id: `run-${++runs}`, artifact_uri: "mlflow-artifacts:/1/artifacts" } } }
          : {}
      ))
    })
  })
  const port = await freePort()
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r))
  url = `http://127.0.0.1:${port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
})

const space = Space.struct({ x: Space.float(0, 1) })
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-batching-"))
const run = (study: string, trials: number, steps: number, stepMs: number, flushMs: number) =>
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
      Effect.provide(Layer.merge(Mlflow.layer({ url, flushMs }), Logger.minimumLogLevel(LogLevel.Error))),
      Effect.provide(Study.layerDefaults({ seed: 3, storage: path.join(dir, `${study}.db`) }))
    )
  )
const count = (p: string) => requests.filter((r) => r.path === p).length

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
})
