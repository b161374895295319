// Schedulers on learning curves: random search with full training ("none") against the median
// pruner, ASHA (stopping and promotion) and Hyperband, all through `Study.optimize` on the same
// configurations (the same seed gives the same configurations in the same trial numbers).
//
// - `synthetic` (benchmarks/_curves.ts): crossing curves with a known answer, 81 steps, random
//   configurations; `best_final` is the true (noise-free) final value of the configuration with
//   the best reported final value.
// - Recorded curve sets (benchmarks/fixtures/curves-NAME.json.gz, from `record-curves`): each
//   seed draws `--sample` of the recorded configurations without replacement (grid search over the
//   curve index, shuffled by the seed), and the objective replays the recorded curve;
//   `best_final` is the recorded final value of the complete trial with the best final value.
//
// `steps_used` counts the steps the trainers produced (counted in the source, as they are
// emitted), `steps_stored` the steps the study stored.
//
//   npm run bench -- schedulers [--curves synthetic,digits-mlp,sunspots-rnn] [--seeds 10] [--first-seed 1] [--eta 3]
//                               [--configurations 143 (synthetic)] [--noise 0.02] [--directions minimize,maximize]
//                               [--sample 81 (recorded)]
//                               [--asha-min ceil(R/eta^2)] [--hyperband-min max(1, floor(R/eta^3))] [--min-resource N (both)]
//                               [--median-warmup ceil(R/eta)]
//                               [--schedulers none,median,asha,asha-promotion,hyperband]
//
// R is the set's last step (81 synthetic, 50 recorded): the defaults are 9 and 3 for R = 81, 6 and 1 for R = 50
// (Hyperband's rungs 3, 9, 27 and 2, 6, 17: `Hyperband.rungs`).
import { Sampler, Space, Study } from "@tunekit/core"
import type { Scheduler, Storage, Trial } from "@tunekit/core"
import { Asha, Hyperband, Median } from "@tunekit/schedulers"
import { Effect, Layer } from "effect"
import type { Observable } from "rxjs"
import { type Config, type Direction, MAX_STEPS, metricOf, space, trainer, trueFinal } from "./_curves.js"
import * as Recorded from "./_recorded.js"
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

/** One problem: curves to run every scheduler on, in one direction. */
interface Problem<A> {
  readonly curves: string
  readonly direction: Direction
  readonly metric: string
  readonly maxSteps: number
  readonly space: Space.Space<A>
  /** How configurations are drawn (default random search). */
  readonly sampler?: Layer.Layer<Sampler.Sampler>
  /** A seed's trainer, counting the steps it produces. */
  readonly trainer: (seed: number, produced: Recorded.Produced) => (c: A, trial: { readonly number: number; readonly resumeFrom: number | undefined }) => Observable<Trial.Metric>
  /** The final value a configuration is judged by. */
  readonly truth: (c: A) => number
}

interface Outcome {
  readonly configurations: number
  readonly best_final: number
  readonly steps_used: number
  readonly steps_stored: number
  readonly paused_left: number
}

const once = async <A>(p: Problem<A>, name: string, seed: number, setup: Setup): Promise<Outcome> => {
  const compiled = Effect.runSync(Space.validate(p.space))
  const services = comparisonServices(schedulers[name](setup), setup.configurations, seed, p.sampler)
  const produced: Recorded.Produced = { steps: 0 }
  const objective = p.trainer(seed, produced)
  const trials = await Effect.runPromise(Effect.scoped(
    Study.optimize({ study: p.curves, space: p.space, direction: p.direction, metric: p.metric, objective: (c, t) => objective(c, t) }).pipe(
      Effect.flatMap((r) => r.study.trials),
      Effect.provide(services)
    )
  ))
  const better = (a: number, b: number) => (p.direction === "minimize" ? a < b : a > b)
  let best: Trial.FrozenTrial | undefined
  for (const t of trials) {
    const last = t.intermediate[t.intermediate.length - 1]
    if (t.state !== "Complete" || last?.step !== p.maxSteps) continue
    if (best === undefined || better(t.values![0], best.values![0])) best = t
  }
  const config = best === undefined ? undefined : compiled.build((n) => best!.params[n]).config
  return {
    configurations: trials.length,
    best_final: config === undefined ? NaN : p.truth(config),
    steps_used: produced.steps,
    steps_stored: trials.reduce((a, t) => a + t.intermediate.length, 0),
    paused_left: trials.filter((t) => t.state === "Waiting").length
  }
}

const synthetic = (direction: Direction, noise: number): Problem<Config> => ({
  curves: "synthetic",
  direction,
  metric: metricOf(direction),
  maxSteps: MAX_STEPS,
  space,
  trainer: (seed, produced) => trainer(seed, direction, noise, produced),
  truth: (c) => trueFinal(c, direction)
})

// A recorded set: the configuration is the curve's index, drawn without replacement (grid search
// over the indices visits them in an order shuffled by the study's seed).
const recorded = (set: Recorded.CurveSet): Problem<{ readonly curve: number }> => ({
  curves: set.name,
  direction: set.direction,
  metric: set.metric,
  maxSteps: set.epochs,
  space: Space.struct({ curve: Space.int(0, set.curves.length - 1) }),
  sampler: Sampler.layerGrid(),
  trainer: (_, produced) => (c, trial) => Recorded.replay(set.curves[c.curve], trial.resumeFrom, produced),
  truth: (c) => Recorded.finalValue(set, set.curves[c.curve]) ?? NaN
})

/**
 * The rungs for curves of `maxSteps` (R) steps: the flags, else the same rung structure whatever
 * R. ASHA's grace period (and the median's warm-up) is ceil(R / eta^2): two rungs below R.
 * Hyperband's minResource is floor(R / eta^3), so that s_max = floor(log_eta(R / minResource)) = 3
 * (Li et al. 2018, Algorithm 1): three rungs below R, at R / eta^3, R / eta^2, R / eta (rounded up
 * to whole steps), about a third of full training's steps per iteration
 * (docs/benchmarks-schedulers.md). Rounding ASHA's grace period up keeps a rung from fitting in
 * below R (floor(50 / 9) = 5 would give rungs 5, 15, 45). For R = 81 and eta = 3: 9 and 3
 * (Hyperband's rungs 3, 9, 27); for R = 50: 6 and 1 (Hyperband's rungs 2, 6, 17).
 */
const setupFor = (opts: Record<string, string | true>, maxSteps: number, configurations: number): Setup => {
  const eta = Number(opts.eta ?? 3)
  const min = opts["min-resource"] === undefined ? undefined : Number(opts["min-resource"])
  const grace = Math.max(1, Math.ceil(maxSteps / eta ** 2))
  return {
    asha: { minResource: Number(opts["asha-min"] ?? min ?? grace), maxResource: maxSteps, reductionFactor: eta },
    hyperband: { minResource: Number(opts["hyperband-min"] ?? min ?? Math.max(1, Math.floor(maxSteps / eta ** 3))), maxResource: maxSteps, reductionFactor: eta },
    // The median pruner compares curves from ceil(R/eta) on: with ASHA's grace, ceil(R/eta^2), it
    // pruned the sunspots' best GRU/LSTM curves before they crossed (chosen on seeds 11-20).
    medianWarmup: Number(opts["median-warmup"] ?? Math.ceil(maxSteps / eta)),
    configurations
  }
}

export const main = async (args: ReadonlyArray<string>) => {
  const opts = parseArgs(args)
  const seeds = Number(opts.seeds ?? 10)
  const firstSeed = Number(opts["first-seed"] ?? 1)
  const noise = Number(opts.noise ?? 0.02)
  const names = String(opts.schedulers ?? Object.keys(schedulers).join(",")).split(",")
  const directions = String(opts.directions ?? "minimize,maximize").split(",") as Array<Direction>
  const sets = String(opts.curves ?? ["synthetic", ...Recorded.available()].join(",")).split(",")
  for (const n of names) if (!(n in schedulers)) throw new Error(`unknown scheduler ${n}; known: ${Object.keys(schedulers).join(", ")}`)
  // Each curve set with its settings; the synthetic curves run in both directions.
  const groups: Array<{ readonly title: string; readonly problems: ReadonlyArray<Problem<any>>; readonly setup: Setup }> = []
  for (const c of sets) {
    if (c === "synthetic") {
      // default: as many configurations as one whole iteration of Hyperband(R = 81, eta = 3, minResource = 1)
      const configurations = Number(opts.configurations ?? Hyperband.plan({ minResource: 1, maxResource: MAX_STEPS, reductionFactor: 3 }).configurations)
      const setup = setupFor(opts, MAX_STEPS, configurations)
      groups.push({ title: `synthetic curves: ${configurations} configurations, ${MAX_STEPS} steps max, noise ${noise}`, problems: directions.map((d) => synthetic(d, noise)), setup })
    } else {
      const set = Recorded.load(c)
      const setup = setupFor(opts, set.epochs, Math.min(Number(opts.sample ?? 81), set.curves.length))
      groups.push({
        title: `${set.name} (recorded ${String(set.provenance.recorded).slice(0, 10)}, ${set.metric}): ${setup.configurations} of ${set.curves.length} recorded configurations a seed, ${set.epochs} epochs max`,
        problems: [recorded(set)],
        setup
      })
    }
  }
  for (const { problems, setup, title } of groups) {
    const rows: Array<Array<unknown>> = []
    for (const problem of problems) {
      const direction = problem.direction
      const results = new Map<string, Array<Outcome & { seed: number }>>()
      for (const name of names) {
        const rs: Array<Outcome & { seed: number }> = []
        for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
          const r = await once(problem, name, seed, setup)
          emit({ bench: "schedulers", curves: problem.curves, scheduler: name, direction, seed, best_final: r.best_final, steps_used: r.steps_used, steps_stored: r.steps_stored })
          if (r.configurations !== setup.configurations) process.stderr.write(`warning: ${problem.curves} ${name} seed ${seed} ran ${r.configurations} configurations\n`)
          // the study's end stores paused trials as Pruned (Scheduler.finish): none may stay Waiting
          if (r.paused_left > 0) process.stderr.write(`warning: ${problem.curves} ${name} seed ${seed} left ${r.paused_left} trials paused\n`)
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
        // the target: within 1% of full training, and for ASHA and Hyperband at most a third of its steps
        const frugal = name === "median" || ratio <= 1 / 3
        rows.push([
          name,
          direction,
          best,
          base === undefined ? "" : `${gap.toFixed(2)}%`,
          base === undefined ? "" : `${gapOfMedians.toFixed(2)}%`,
          base === undefined ? "" : `${gaps.filter((g) => g <= 1).length}/${gaps.length}`,
          median(rs.map((r) => r.steps_used)),
          median(rs.map((r) => r.steps_stored)),
          base === undefined ? "" : ratio.toFixed(3),
          name === "none" || base === undefined ? "" : gap <= 1 && frugal ? "yes" : "no"
        ])
      }
    }
    const { asha, hyperband } = setup
    table(
      `${title}, eta ${asha.reductionFactor}, minResource asha ${asha.minResource} hyperband ${hyperband.minResource} (rungs ${Hyperband.rungs(hyperband).join(", ")}), median warmup ${setup.medianWarmup}, medians over seeds ${firstSeed}-${firstSeed + seeds - 1}`,
      [
        "scheduler",
        "direction",
        "best_final",
        "gap (median of seeds)",
        "gap of medians",
        "seeds within 1%",
        "steps_used",
        "steps_stored",
        "steps_vs_none",
        "target met (median gap <= 1%; steps <= 1/3 for ASHA, Hyperband)"
      ],
      rows
    )
  }
}
