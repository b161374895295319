// `npm run bench -- executors`: the same study through each executor. The quickstart's TensorFlow.js
// MLP (same seed, same trials) inline and on worker threads, and trivial trials through each, to
// measure what an executor costs per trial.
//
//   --mlp-trials N (25, the quickstart's)  --trivial-trials N (2000)  --repeats N (3)  --threads N (cores)
//   --process-trials N (200)  --reuse-trials N (2000)  --process-concurrency N (2 x cores)
//   --only mlp|trivial|process (process: only the process executor's rows)
import { Effect, Layer } from "effect"
import * as os from "node:os"
import { Checkpoint, Executor, Rng, Sampler, Space, Storage, Study, Trainer } from "@tunekit/core"
import { space as mlpSpace } from "../examples/quickstart.js"
import { processRows } from "./_processExecutor.js"
import { emit, median, parseArgs, table } from "./_util.js"

const module = new URL("./_executorTrainers.ts", import.meta.url)
const trivialSpace = Space.struct({ x: Space.float(0, 1) })

interface Run {
  readonly executor: "inline" | "threads"
  readonly objective: "mlp" | "trivial"
  readonly concurrency: number
  readonly trials: number
  readonly wall_s: number
}

const once = (executor: Layer.Layer<Executor.Executor>, objective: "mlp" | "trivial", trials: number, concurrency: number) =>
  Effect.gen(function*() {
    const t0 = performance.now()
    const r = yield* Study.optimize({
      study: `${objective}`,
      space: (objective === "mlp" ? mlpSpace : trivialSpace) as Space.Space<unknown>,
      metric: objective === "mlp" ? "val_accuracy" : "value",
      direction: objective === "mlp" ? "maximize" : "minimize",
      trials,
      concurrency
    })
    const wall = (performance.now() - t0) / 1000
    if (r.trials.some((t) => t.state !== "Complete")) throw new Error(`a ${objective} trial did not complete: ${r.trials.find((t) => t.state !== "Complete")?.reason}`)
    return { wall, best: r.best }
  }).pipe(
    Effect.provide(Trainer.layerModule(module, objective)),
    Effect.provide(Layer.mergeAll(executor, Sampler.layerRandom, Checkpoint.layerMemory)),
    Effect.provide(Layer.merge(Storage.layerMemory, Rng.layer({ seed: 7 }))),
    Effect.scoped
  )

export const main = async (argv: ReadonlyArray<string>) => {
  const args = parseArgs(argv)
  const cores = Math.max(1, os.availableParallelism?.() ?? os.cpus().length)
  const size = Number(args.threads ?? cores)
  const repeats = Number(args.repeats ?? 3)
  const only = typeof args.only === "string" ? args.only : undefined
  const plan: Array<{ objective: "mlp" | "trivial"; trials: number }> = []
  if (only === undefined || only === "mlp") plan.push({ objective: "mlp", trials: Number(args["mlp-trials"] ?? 25) })
  if (only === undefined || only === "trivial") plan.push({ objective: "trivial", trials: Number(args["trivial-trials"] ?? 2000) })
  const runs: Array<Run> = []
  // One pool for every threads run, as a long-lived program would have: its workers start once.
  const pool = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const threads = yield* Layer.build(Executor.layerThreads({ size }))
    const layers = { inline: Executor.layerInline, threads: Layer.succeedContext(threads) }
    // A warm-up of each, not measured: workers load their trainers, TensorFlow.js its backend, and
    // the JIT compiles the hot paths.
    for (const { objective, trials } of plan) {
      for (const executor of ["inline", "threads"] as const) yield* once(layers[executor], objective, objective === "mlp" ? size : trials, size)
    }
    for (let i = 0; i < repeats; i++) {
      for (const { objective, trials } of plan) {
        // Side by side in one loop, alternating, so that the machine's noise falls on both.
        for (const executor of ["inline", "threads"] as const) {
          const { wall } = yield* once(layers[executor], objective, trials, size)
          const run: Run = { executor, objective, concurrency: size, trials, wall_s: wall }
          runs.push(run)
          emit({ bench: "executors", executor, concurrency: size, objective, trials, wall_s: wall, trials_per_s: trials / wall })
        }
      }
    }
    return runs
  })))
  const rows = plan.flatMap(({ objective, trials }) =>
    (["inline", "threads"] as const).map((executor) => {
      const walls = pool.filter((r) => r.objective === objective && r.executor === executor).map((r) => r.wall_s)
      const inline = median(pool.filter((r) => r.objective === objective && r.executor === "inline").map((r) => r.wall_s))
      return [objective, executor, size, trials, median(walls), trials / median(walls), inline / median(walls)]
    })
  )
  if (only !== "mlp") {
    const inline = rows.find((r) => r[0] === "trivial" && r[1] === "inline")
    const processes = await processRows(Number(args["process-trials"] ?? 200), Number(args["reuse-trials"] ?? 2000), Number(args["process-concurrency"] ?? 2 * cores), repeats)
    for (const row of processes) rows.push([...row, inline === undefined ? NaN : (row[5] as number) / (inline[5] as number)] as (typeof rows)[number])
  }
  table(`executors: median of ${repeats} runs on ${cores} cores`, ["objective", "executor", "concurrency", "trials", "wall_s", "trials_per_s", "vs inline"], rows)
}
