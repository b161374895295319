// The process executor's rows of `npm run bench -- executors`: trivial trials of a Node program
// (_processTrivial.mjs) that reports one value, run through Process.layer and
// Executor.layerProcess, a process per trial (what it measures is mostly what starting a Node
// process costs) and reused (`reuse: true`: one process per slot takes trial after trial). Each
// run also measures the study's own CPU per trial (process.cpuUsage of this process), against the
// CPU this process spends launching the same program bare, with no study around it.
import { Effect, Layer } from "effect"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Executor, Process, Rng, Sampler, Space, Storage, Study } from "@tunekit/core"
import { emit, median, table } from "./_util.js"

const program = fileURLToPath(new URL("./_processTrivial.mjs", import.meta.url))
const space = Space.struct({ x: Space.float(0, 1) })

interface Measured {
  readonly wall: number
  /** This process's CPU (user + system) per trial, in ms. */
  readonly cpuMs: number
}

// The reused programs start within the measured time: the layer is built inside it.
const once = (trials: number, concurrency: number, dir: string, reuse: boolean) =>
  Effect.gen(function*() {
    const t0 = performance.now()
    const c0 = process.cpuUsage()
    const r = yield* Study.optimize({ study: "trivial", space, metric: "value", trials, concurrency }).pipe(
      Effect.provide(Executor.layerProcess({ slots: concurrency, reuse }))
    )
    const cpu = process.cpuUsage(c0)
    const wall = (performance.now() - t0) / 1000
    const bad = r.trials.find((t) => t.state !== "Complete")
    if (bad !== undefined) throw new Error(`a program trial did not complete: ${bad.reason}`)
    return { wall, cpuMs: (cpu.user + cpu.system) / 1000 / trials } satisfies Measured
  }).pipe(
    Effect.provide(Layer.mergeAll(
      Process.layer([process.execPath, program], { logs: path.join(dir, "logs"), checkpoints: path.join(dir, "checkpoints") }),
      Sampler.layerRandom
    )),
    Effect.provide(Layer.merge(Storage.layerMemory, Rng.layer({ seed: 7 }))),
    Effect.scoped
  )

/** This process's CPU per launch of the program bare: spawned as tunekit does, its one metric answered, nothing kept. */
const bare = async (trials: number, concurrency: number): Promise<number> => {
  const one = () =>
    new Promise<void>((resolve) => {
      const child = spawn(process.execPath, [program], {
        env: { ...process.env, TUNEKIT_PARAMS: "{\"x\":0.5}", TUNEKIT_TRIAL: "0", TUNEKIT_ACK: "1" },
        detached: true,
        stdio: ["pipe", "pipe", "pipe"]
      })
      child.stdout.on("data", () => child.stdin.write("continue\n"))
      child.stderr.resume()
      child.on("close", () => resolve())
    })
  let next = 0
  const c0 = process.cpuUsage()
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < trials) await one()
  }))
  const cpu = process.cpuUsage(c0)
  return (cpu.user + cpu.system) / 1000 / trials
}

/**
 * Runs the process rows, a process per trial and reused, alternating (after a warm-up of each):
 * emits their JSON lines, prints the CPU table, and gives the executors table's rows.
 */
export const processRows = async (trials: number, reuseTrials: number, concurrency: number, repeats: number): Promise<Array<Array<unknown>>> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-bench-process-"))
  const modes = [{ reuse: false, trials }, { reuse: true, trials: reuseTrials }] as const
  try {
    for (const { reuse } of modes) await Effect.runPromise(once(20, concurrency, dir, reuse))
    const runs: Array<Array<Measured>> = [[], []]
    const bareCpu: Array<number> = []
    for (let i = 0; i < repeats; i++) {
      for (const [m, { reuse, trials }] of modes.entries()) {
        const run = await Effect.runPromise(once(trials, concurrency, dir, reuse))
        runs[m].push(run)
        emit({ bench: "executors", executor: "process", concurrency, objective: "trivial", trials, wall_s: run.wall, trials_per_s: trials / run.wall, ...(reuse ? { reuse: true } : {}) })
      }
      bareCpu.push(await bare(trials, concurrency))
    }
    const cpu = (m: number) => median(runs[m].map((r) => r.cpuMs))
    table(`process executor: this process's CPU per trial (ms, median of ${repeats})`, ["mode", "trials", "cpu_ms_per_trial"], [
      ["a process per trial", trials, cpu(0)],
      ["reused (reuse: true)", reuseTrials, cpu(1)],
      ["launching the program bare", trials, median(bareCpu)]
    ])
    return modes.map(({ reuse, trials }, m) => {
      const wall = median(runs[m].map((r) => r.wall))
      return ["trivial", reuse ? "process reuse" : "process", concurrency, trials, wall, trials / wall]
    })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
