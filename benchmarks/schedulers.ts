// Schedulers on a learning-curve problem with crossing curves (benchmarks/_curves.ts), 81 steps
// max: random search with full training ("none") against the median pruner, ASHA (stopping and
// promotion) and Hyperband, all on the same configurations (the same seed gives the same random
// configurations in the same trial numbers). `best_final` is the true (noise-free) final value of
// the configuration with the best reported final value; `steps_used` counts every reported step.
//
//   npm run bench -- schedulers [--seeds 10] [--configurations 143] [--noise 0.02] [--eta 3]
//                               [--asha-min 9] [--hyperband-min 3] [--min-resource N (both)] [--median-warmup 9]
//                               [--schedulers none,median,asha,asha-promotion,hyperband]
//                               [--directions minimize,maximize]
import { Space, Study } from "@tunekit/core"
import type { Scheduler, Storage, Trial } from "@tunekit/core"
import { Asha, Hyperband, Median } from "@tunekit/schedulers"
import { Effect, Layer } from "effect"
import { type Config, type Direction, MAX_STEPS, metricOf, space, trainer, trueFinal } from "./_curves.js"
import { comparisonServices, noScheduler } from "./_scheduling.js"
import { emit, median, parseArgs, table } from "./_util.js"

interface Rungs {
  readonly minResource: number
  readonly maxResource: number
  readonly reductionFactor: number
}

interface Setup {
  readonly asha: Rungs
  readonly hyperband: Rungs
  readonly medianWarmup: number
  readonly configurations: number
}

const schedulers: Record<string, (s: Setup) => Layer.Layer<Scheduler.Scheduler, never, Storage.Storage>> = {
  none: noScheduler,
  median: (s) => Median.layer({ nStartupTrials: 5, nWarmupSteps: s.medianWarmup }),
  asha: (s) => Asha.layer(s.asha),
  "asha-promotion": (s) => Asha.layer({ ...s.asha, mode: "promotion" }),
  hyperband: (s) => Hyperband.layer({ ...s.hyperband, limit: s.configurations })
}

const once = async (name: string, direction: Direction, seed: number, setup: Setup, noise: number) => {
  const configurations = setup.configurations
  const compiled = Effect.runSync(Space.validate(space))
  const services = comparisonServices(schedulers[name](setup), configurations, seed)
  const objective = trainer(seed, direction, noise)
  const trials = await Effect.runPromise(Effect.scoped(
    Study.optimize({ study: "curves", space, direction, metric: metricOf(direction), objective: (c, t) => objective(c, t) }).pipe(
      Effect.flatMap((r) => r.study.trials),
      Effect.provide(services)
    )
  ))
  const better = (a: number, b: number) => (direction === "minimize" ? a < b : a > b)
  let best: Trial.FrozenTrial | undefined
  for (const t of trials) {
    const last = t.intermediate[t.intermediate.length - 1]
    if (t.state !== "Complete" || last?.step !== MAX_STEPS) continue
    if (best === undefined || better(t.values![0], best.values![0])) best = t
  }
  const config = best === undefined ? undefined : (compiled.build((n) => best!.params[n]).config as Config)
  return {
    configurations: trials.length,
    best_final: config === undefined ? NaN : trueFinal(config, direction),
    steps_used: trials.reduce((a, t) => a + t.intermediate.length, 0),
    paused_left: trials.filter((t) => t.state === "Waiting").length
  }
}

export const main = async (args: ReadonlyArray<string>) => {
  const opts = parseArgs(args)
  const seeds = Number(opts.seeds ?? 10)
  const eta = Number(opts.eta ?? 3)
  const min = opts["min-resource"] === undefined ? undefined : Number(opts["min-resource"])
  // Grace periods: ASHA's first rung at 9 = 81 / eta^2, Hyperband's smallest rung at 3 (s_max = 3);
  // --min-resource sets both (1 is Li et al.'s Hyperband(R = 81, eta = 3)).
  const asha = { minResource: Number(opts["asha-min"] ?? min ?? 9), maxResource: MAX_STEPS, reductionFactor: eta }
  const hyperband = { minResource: Number(opts["hyperband-min"] ?? min ?? 3), maxResource: MAX_STEPS, reductionFactor: eta }
  // default: as many configurations as one whole iteration of Hyperband(R = 81, eta = 3, minResource = 1)
  const configurations = Number(opts.configurations ?? Hyperband.plan({ minResource: 1, maxResource: MAX_STEPS, reductionFactor: 3 }).configurations)
  const setup: Setup = { asha, hyperband, medianWarmup: Number(opts["median-warmup"] ?? 9), configurations }
  const noise = Number(opts.noise ?? 0.02)
  const names = String(opts.schedulers ?? Object.keys(schedulers).join(",")).split(",")
  const directions = String(opts.directions ?? "minimize,maximize").split(",") as Array<Direction>
  for (const n of names) if (!(n in schedulers)) throw new Error(`unknown scheduler ${n}; known: ${Object.keys(schedulers).join(", ")}`)
  const rows: Array<Array<unknown>> = []
  for (const direction of directions) {
    const results = new Map<string, Array<{ best_final: number; steps_used: number; seed: number }>>()
    for (const name of names) {
      const rs: Array<{ best_final: number; steps_used: number; seed: number }> = []
      for (let seed = 1; seed <= seeds; seed++) {
        const r = await once(name, direction, seed, setup, noise)
        emit({ bench: "schedulers", scheduler: name, direction, seed, best_final: r.best_final, steps_used: r.steps_used })
        if (r.configurations !== configurations) process.stderr.write(`warning: ${name} seed ${seed} ran ${r.configurations} configurations\n`)
        // the study's end stores paused trials as Pruned (Scheduler.finish): none may stay Waiting
        if (r.paused_left > 0) process.stderr.write(`warning: ${name} seed ${seed} left ${r.paused_left} trials paused\n`)
        rs.push({ ...r, seed })
      }
      results.set(name, rs)
    }
    const base = results.get("none")
    for (const [name, rs] of results) {
      // regret relative to full-budget random search on the same seed, in percent (positive: worse);
      // the table also gives the gap between the medians of best_final, a stricter reading
      const gaps = base === undefined ? [] : rs.map((r, i) => {
        const b = base[i].best_final
        return (100 * (direction === "minimize" ? r.best_final - b : b - r.best_final)) / Math.abs(b)
      })
      const ratios = base === undefined ? [] : rs.map((r, i) => r.steps_used / base[i].steps_used)
      const gap = median(gaps)
      const ratio = median(ratios)
      const best = median(rs.map((r) => r.best_final))
      const baseBest = base === undefined ? NaN : median(base.map((r) => r.best_final))
      const gapOfMedians = (100 * (direction === "minimize" ? best - baseBest : baseBest - best)) / Math.abs(baseBest)
      rows.push([
        name,
        direction,
        best,
        base === undefined ? "" : `${gap.toFixed(2)}%`,
        base === undefined ? "" : `${gapOfMedians.toFixed(2)}%`,
        base === undefined ? "" : `${gaps.filter((g) => g <= 1).length}/${gaps.length}`,
        median(rs.map((r) => r.steps_used)),
        base === undefined ? "" : ratio.toFixed(3),
        name === "none" ? "" : gap <= 1 && ratio <= 1 / 3 ? "yes" : "no"
      ])
    }
  }
  table(
    `schedulers: ${configurations} configurations, ${MAX_STEPS} steps max, eta ${eta}, minResource asha ${asha.minResource} hyperband ${hyperband.minResource}, median warmup ${setup.medianWarmup}, noise ${noise}, medians over ${seeds} seeds`,
    [
      "scheduler",
      "direction",
      "best_final",
      "gap (median of seeds)",
      "gap of medians",
      "seeds within 1%",
      "steps_used",
      "steps_vs_none",
      "target met (median gap <= 1%, steps <= 1/3)"
    ],
    rows
  )
}
