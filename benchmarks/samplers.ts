// Sample efficiency: each sampler on each problem of benchmarks/_problems.ts, several seeds, a
// budget of trials through the core ask/tell API on memory storage (pure CPU), each problem both as
// a declared space and define-by-run (the same space asked for by trial.suggest*). One JSON line per
// run, then the median final best per problem and sampler (and after half the budget). Noisy
// problems are scored at the true value of the trial a run reports as best. With --optuna, the
// medians of Optuna's samplers on the same problems, seeds and budget (benchmarks/optuna/run.py, in
// the virtual environments that benchmarks/optuna/setup.sh makes) are printed beside them.
//   npm run bench -- samplers [--budget 100] [--seeds 10] [--problems a,b] [--samplers random,tpe]
//                             [--forms declared,byrun] [--optuna latest,v3.1] [--first-seed 0]
//                             [--streams per-sampler|common] [--intervals]
// --intervals prints each median with its 90% bootstrap interval over the seeds.
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Layer, Option } from "effect"
import { Rng, Space, Storage, Study } from "@tunekit/core"
import { noiseOf, optunaTpeQuoted, problems } from "./_problems.js"
import type { Problem } from "./_problems.js"
import { samplerByName, samplers } from "./_samplers.js"
import { emit, formatNumber, median, medianInterval, parseArgs, table } from "./_util.js"

type Form = "declared" | "byrun"

/** The config of a define-by-run trial: the declared space walked through `trial.suggest*`. */
const byRun = (compiled: Space.Compiled<any>, trial: Study.AskedTrial<unknown>): unknown =>
  compiled.build((name, d) => {
    switch (d._tag) {
      case "Float":
        return trial.suggestFloat(name, d.low, d.high, d.log ? { log: true } : d.step !== undefined ? { step: d.step } : {})
      case "Int":
        return trial.suggestInt(name, d.low, d.high, d.log ? { log: true } : { step: d.step })
      case "Categorical":
        return d.choices.indexOf(trial.suggestCategorical(name, d.choices))
    }
  }).config

/**
 * Common random numbers (`--streams common`): a run's random streams derive from the study's name, which
 * holds the problem and the seed only, so every sampler on a seed draws from the same streams (Law
 * & Kelton, "Simulation Modeling and Analysis", ch. 11): a sampler that proposes what another
 * would (Auto while its GP member proposes, GP alone) makes the same trials, and a difference
 * between two samplers on a seed is theirs rather than the draws'. The default, `per-sampler`,
 * puts the sampler's name in the study's name, as every figure before issue 14's fourth round
 * (docs/benchmarks-auto.md) was measured.
 */
type Streams = "common" | "per-sampler"

const runOnce = async (problem: Problem, sampler: string, seed: number, budget: number, form: Form, streams: Streams) => {
  const compiled = Space.compile(problem.space)
  const layer = Layer.mergeAll(Storage.layerMemory, samplerByName(sampler)({ budget }), Rng.layer({ seed }))
  const program = Effect.gen(function*() {
    const study = yield* Study.open({
      study: streams === "common" ? `${problem.name}-${seed}` : `${problem.name}-${sampler}-${seed}`,
      ...(form === "declared" ? { space: problem.space } : {}),
      direction: "minimize"
    })
    const curve: Array<number> = []
    let observed = Infinity
    let scored = Infinity
    for (let i = 0; i < budget; i++) {
      const asked = yield* study.ask
      if (Option.isNone(asked)) break
      const trial = asked.value
      const config = form === "declared" ? trial.config : byRun(compiled, trial as Study.AskedTrial<unknown>)
      const value = problem.f(config, () => noiseOf(seed, trial.number))
      yield* study.tell(trial, value)
      if (value < observed) {
        observed = value
        scored = problem.truth ? problem.truth(config) : value
      }
      curve.push(scored)
    }
    return curve
  })
  const t0 = performance.now()
  const curve = await Effect.runPromise(Effect.scoped(program.pipe(Effect.provide(layer))))
  return { curve, wall: (performance.now() - t0) / 1000 }
}

const here = path.dirname(fileURLToPath(import.meta.url))

/**
 * Optuna's runs on the same problems, seeds and budget: each seed's final best by
 * `problem/sampler`. Runs benchmarks/optuna/run.py in .venv-bench/NAME (made by setup.sh) once per
 * environment and keeps its JSON lines in .venv-bench/results-NAME-... for later runs.
 */
const optunaFinals = (envs: ReadonlyArray<string>, problemNames: ReadonlyArray<string>, seeds: number, budget: number) => {
  const out = new Map<string, Array<number>>()
  for (const env of envs) {
    const python = path.join(here, "..", ".venv-bench", env, "bin", "python")
    if (!fs.existsSync(python)) throw new Error(`no ${python}: run benchmarks/optuna/setup.sh first`)
    const cache = path.join(here, "..", ".venv-bench", `results-${env}-${budget}-${seeds}.jsonl`)
    const have = fs.existsSync(cache) ? fs.readFileSync(cache, "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l)) : []
    const missing = problemNames.filter((p) => !have.some((r) => r.problem === p))
    if (missing.length > 0) {
      const lines = execFileSync(python, [path.join(here, "optuna", "run.py"), "--budget", String(budget), "--seeds", String(seeds), "--problems", missing.join(",")], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
        maxBuffer: 1 << 28
      })
      fs.appendFileSync(cache, lines)
      for (const l of lines.split("\n")) if (l.trim() !== "") have.push(JSON.parse(l))
    }
    const runs = new Map<string, Array<ReadonlyArray<number>>>()
    for (const r of have) {
      if (!problemNames.includes(r.problem)) continue
      const key = `${r.problem}/optuna-${env}-${r.sampler}`
      runs.set(key, [...(runs.get(key) ?? []), r.best_curve])
      emit({ bench: "samplers", ...r, sampler: `optuna-${env}-${r.sampler}`, optuna: r.version })
    }
    for (const [key, curves] of runs) {
      out.set(key, curves.map((c) => c[c.length - 1]))
    }
  }
  return out
}

export const main = async (args: ReadonlyArray<string>) => {
  const opts = parseArgs(args)
  const budget = Number(opts.budget ?? 100)
  const seeds = Number(opts.seeds ?? 10)
  const problemNames = typeof opts.problems === "string" ? opts.problems.split(",") : Object.keys(problems)
  const samplerNames = typeof opts.samplers === "string" ? opts.samplers.split(",") : Object.keys(samplers)
  const forms = (typeof opts.forms === "string" ? opts.forms.split(",") : ["declared", "byrun"]) as ReadonlyArray<Form>
  const envs = opts.optuna === undefined ? [] : typeof opts.optuna === "string" ? opts.optuna.split(",") : ["latest", "v3.1"]
  const firstSeed = Number(opts["first-seed"] ?? 0)
  const streams = (opts.streams ?? "per-sampler") as Streams
  const intervals = opts.intervals === true
  /** A column's median over the seeds, with its interval when asked. */
  const cell = (xs: ReadonlyArray<number> | undefined): number | string => {
    if (xs === undefined) return "-"
    if (!intervals) return median(xs)
    const [lo, hi] = medianInterval(xs, 0.9)
    return `${formatNumber(median(xs))} [${formatNumber(lo)}, ${formatNumber(hi)}]`
  }
  if (streams !== "common" && streams !== "per-sampler") throw new Error(`unknown streams "${String(streams)}"; known: common, per-sampler`)
  for (const p of problemNames) if (!(p in problems)) throw new Error(`unknown problem "${p}"; known: ${Object.keys(problems).join(", ")}`)
  for (const s of samplerNames) samplerByName(s)
  for (const f of forms) if (f !== "declared" && f !== "byrun") throw new Error(`unknown form "${f}"; known: declared, byrun`)
  const finals = new Map<string, Array<number>>()
  const halves = new Map<string, Array<number>>()
  const walls = new Map<string, Array<number>>()
  const columns = samplerNames.flatMap((s) => forms.map((f) => (forms.length > 1 ? `${s}:${f}` : s)))
  for (const p of problemNames) {
    for (const s of samplerNames) {
      for (const form of forms) {
        for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
          const { curve, wall } = await runOnce(problems[p], s, seed, budget, form, streams)
          emit({ bench: "samplers", problem: p, sampler: s, form, seed, streams, best_curve: curve, wall_s: wall })
          const key = `${p}/${forms.length > 1 ? `${s}:${form}` : s}`
          finals.set(key, [...(finals.get(key) ?? []), curve[curve.length - 1]])
          halves.set(key, [...(halves.get(key) ?? []), curve[Math.max(0, Math.floor(budget / 2) - 1)]])
          walls.set(key, [...(walls.get(key) ?? []), wall])
        }
      }
    }
  }
  const optuna = optunaFinals(envs, problemNames, seeds, budget)
  const optunaColumns = [...new Set([...optuna.keys()].map((k) => k.slice(k.indexOf("/") + 1)))].sort()
  const header = ["problem", "optimum", ...columns, ...optunaColumns, ...(envs.length === 0 ? ["optuna-tpe (quoted)"] : [])]
  const rows = problemNames.map((p) => [
    p,
    problems[p].optimum,
    ...columns.map((c) => cell(finals.get(`${p}/${c}`))),
    ...optunaColumns.map((c) => cell(optuna.get(`${p}/${c}`))),
    ...(envs.length === 0 ? [optunaTpeQuoted[p] ?? "-"] : [])
  ])
  const ci = intervals ? " [90% bootstrap interval]" : ""
  table(`median final best after ${budget} trials over ${seeds} seeds (minimize)${ci}`, header, rows)
  table(
    `median best after ${Math.floor(budget / 2)} trials (half the budget) over ${seeds} seeds; Optuna's after ${budget}${ci}`,
    ["problem", ...columns, ...optunaColumns.map((c) => `${c} at ${budget}`)],
    problemNames.map((p) => [p, ...columns.map((c) => cell(halves.get(`${p}/${c}`))), ...optunaColumns.map((c) => cell(optuna.get(`${p}/${c}`)))])
  )
  table(
    "median wall seconds per run",
    ["problem", ...columns],
    problemNames.map((p) => [p, ...columns.map((c) => median(walls.get(`${p}/${c}`)!))])
  )
}
