// The process executor's row of `npm run bench -- executors`: trivial trials, each a Node program
// (_processTrivial.mjs) that reports one value, run through Process.layer and
// Executor.layerProcess. What it measures is mostly what starting a Node process costs.
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Executor, Process, Rng, Sampler, Space, Storage, Study } from "@tunekit/core"
import { emit, median } from "./_util.js"

const program = fileURLToPath(new URL("./_processTrivial.mjs", import.meta.url))
const space = Space.struct({ x: Space.float(0, 1) })

const once = (trials: number, concurrency: number, dir: string) =>
  Effect.gen(function*() {
    const t0 = performance.now()
    const r = yield* Study.optimize({ study: "trivial", space, metric: "value", trials, concurrency })
    const wall = (performance.now() - t0) / 1000
    const bad = r.trials.find((t) => t.state !== "Complete")
    if (bad !== undefined) throw new Error(`a program trial did not complete: ${bad.reason}`)
    return wall
  }).pipe(
    Effect.provide(Layer.mergeAll(
      Process.layer([process.execPath, program], { logs: path.join(dir, "logs"), checkpoints: path.join(dir, "checkpoints") }),
      Executor.layerProcess({ slots: concurrency }),
      Sampler.layerRandom
    )),
    Effect.provide(Layer.merge(Storage.layerMemory, Rng.layer({ seed: 7 }))),
    Effect.scoped
  )

/** Runs the process rows (after a warm-up): emits their JSON lines and gives the table's row. */
export const processRows = async (trials: number, concurrency: number, repeats: number): Promise<Array<unknown>> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-bench-process-"))
  try {
    await Effect.runPromise(once(Math.min(trials, 20), concurrency, dir))
    const walls: Array<number> = []
    for (let i = 0; i < repeats; i++) {
      const wall = await Effect.runPromise(once(trials, concurrency, dir))
      walls.push(wall)
      emit({ bench: "executors", executor: "process", concurrency, objective: "trivial", trials, wall_s: wall, trials_per_s: trials / wall })
    }
    return ["trivial", "process", concurrency, trials, median(walls), trials / median(walls)]
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
