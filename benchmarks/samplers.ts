// Sample efficiency: each sampler on each problem of benchmarks/_problems.ts, several seeds, a
// budget of trials through the core ask/tell API on memory storage (pure CPU). One JSON line per
// run, then the median final best per problem and sampler (and after half the budget), beside
// Optuna 3.1's TPE as quoted in issue 3 (a quoted figure, not measured here).
//   npm run bench -- samplers [--budget 100] [--seeds 10] [--problems a,b] [--samplers random,tpe]
import { Effect, Layer, Option } from "effect"
import { Rng, Scheduler, Storage, Study, Tracker } from "@tunekit/core"
import { optunaTpeQuoted, problems } from "./_problems.js"
import type { Problem } from "./_problems.js"
import { samplerByName, samplers } from "./_samplers.js"
import { emit, median, parseArgs, table } from "./_util.js"

const runOnce = async (problem: Problem, sampler: string, seed: number, budget: number) => {
  const layer = Layer.mergeAll(Storage.layerMemory, samplerByName(sampler)({ budget }), Scheduler.layerNone, Tracker.layerNone, Rng.layer({ seed }))
  const program = Effect.gen(function*() {
    const study = yield* Study.open({ study: `${problem.name}-${sampler}-${seed}`, space: problem.space, direction: "minimize" })
    const curve: Array<number> = []
    let best = Infinity
    for (let i = 0; i < budget; i++) {
      const asked = yield* study.ask
      if (Option.isNone(asked)) break
      const value = problem.f(asked.value.config)
      yield* study.tell(asked.value, value)
      best = Math.min(best, value)
      curve.push(best)
    }
    return curve
  })
  const t0 = performance.now()
  const curve = await Effect.runPromise(Effect.scoped(program.pipe(Effect.provide(layer))))
  return { curve, wall: (performance.now() - t0) / 1000 }
}

export const main = async (args: ReadonlyArray<string>) => {
  const opts = parseArgs(args)
  const budget = Number(opts.budget ?? 100)
  const seeds = Number(opts.seeds ?? 10)
  const problemNames = typeof opts.problems === "string" ? opts.problems.split(",") : Object.keys(problems)
  const samplerNames = typeof opts.samplers === "string" ? opts.samplers.split(",") : Object.keys(samplers)
  for (const p of problemNames) if (!(p in problems)) throw new Error(`unknown problem "${p}"; known: ${Object.keys(problems).join(", ")}`)
  for (const s of samplerNames) samplerByName(s)
  const finals = new Map<string, Array<number>>()
  const halves = new Map<string, Array<number>>()
  const walls = new Map<string, Array<number>>()
  for (const p of problemNames) {
    for (const s of samplerNames) {
      for (let seed = 0; seed < seeds; seed++) {
        const { curve, wall } = await runOnce(problems[p], s, seed, budget)
        emit({ bench: "samplers", problem: p, sampler: s, seed, best_curve: curve, wall_s: wall })
        const key = `${p}/${s}`
        finals.set(key, [...(finals.get(key) ?? []), curve[curve.length - 1]])
        halves.set(key, [...(halves.get(key) ?? []), curve[Math.max(0, Math.floor(budget / 2) - 1)]])
        walls.set(key, [...(walls.get(key) ?? []), wall])
      }
    }
  }
  const header = ["problem", "optimum", ...samplerNames, "optuna-tpe (quoted)"]
  const rows = problemNames.map((p) => [
    p,
    problems[p].optimum,
    ...samplerNames.map((s) => median(finals.get(`${p}/${s}`)!)),
    optunaTpeQuoted[p] ?? "-"
  ])
  table(`median final best after ${budget} trials over ${seeds} seeds (minimize)`, header, rows)
  table(
    `median best after ${Math.floor(budget / 2)} trials (half the budget) over ${seeds} seeds`,
    ["problem", ...samplerNames, `optuna-tpe at ${budget} (quoted)`],
    problemNames.map((p) => [p, ...samplerNames.map((s) => median(halves.get(`${p}/${s}`)!)), optunaTpeQuoted[p] ?? "-"])
  )
  table(
    "median wall seconds per run",
    ["problem", ...samplerNames],
    problemNames.map((p) => [p, ...samplerNames.map((s) => median(walls.get(`${p}/${s}`)!))])
  )
}
