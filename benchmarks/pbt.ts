// Population-based training on a schedule only PBT can follow: a toy training whose ideal
// learning rate decays tenfold over the run (the problem of packages/schedulers/test/pbt.test.ts).
// Compares PBT with random search over the same number of configs trained fully, and with the best
// fixed learning rate found on a fine grid (an oracle no search reaches).
//
//   npm run bench -- pbt [--seeds 10] [--population 8] [--steps 60] [--interval 4]
import { Checkpoint, Rng, Sampler, Scheduler, Space, Storage, Study, Tracker, type Trial } from "@tunekit/core"
import { Pbt } from "@tunekit/schedulers"
import { Effect, Layer, Option } from "effect"
import { emit, median, parseArgs, table } from "./_util.js"

const space = Space.struct({ lr: Space.float(1e-3, 1, { log: true }) })
type Config = Space.Type<typeof space>

export const main = async (args: ReadonlyArray<string>) => {
  const o = parseArgs(args)
  const seeds = Number(o.seeds ?? 10)
  const population = Number(o.population ?? 8)
  const steps = Number(o.steps ?? 60)
  const interval = Number(o.interval ?? 4)
  const ideal = (step: number) => 0.1 * 0.1 ** (step / steps)
  const gain = (lr: number, step: number) => Math.exp(-(Math.log(lr / ideal(step)) ** 2) / (2 * 0.5 ** 2))
  const advance = (loss: number, lr: number, step: number) => loss * (1 - 0.1 * gain(lr, step))
  const fixedFinal = (lr: number) => {
    let loss = 1
    for (let s = 1; s <= steps; s++) loss = advance(loss, lr, s)
    return loss
  }

  const run = (seed: number, scheduler: "pbt" | "none") => {
    let used = 0
    const program = Effect.gen(function*() {
      const checkpoints = yield* Checkpoint.Checkpoint
      const r = yield* Study.optimize({
        study: "pbt-bench",
        space,
        metric: "loss",
        direction: "minimize",
        trials: population,
        concurrency: population,
        objective: async (config: Config, trial: Study.TrialContext<Config>) => {
          const ckpt = Checkpoint.forTrial(checkpoints, trial)
          const start = await Effect.runPromise(ckpt.restore)
          let step = Option.isSome(start) ? start.value.step : 0
          let loss = Option.isSome(start) ? (start.value.data as { loss: number }).loss : 1
          while (step < steps) {
            step++
            used++
            loss = advance(loss, config.lr, step)
            await Effect.runPromise(ckpt.save(step, { loss }))
            await trial.report({ step, values: { loss } })
          }
          return loss
        }
      })
      return Option.getOrThrow(r.best)
    })
    const services = Layer.mergeAll(
      scheduler === "pbt" ? Pbt.layer({ perturbationInterval: interval, hyperparamMutations: { lr: true }, maxStep: steps }) : Scheduler.layerNone,
      Sampler.layerRandom,
      Tracker.layerNone
    ).pipe(Layer.provideMerge(Layer.mergeAll(Storage.layerMemory, Rng.layer({ seed }), Checkpoint.layerMemory)))
    return Effect.runPromise(program.pipe(Effect.provide(services)) as Effect.Effect<Trial.FrozenTrial>).then((best) => ({
      best: best.values![0],
      used
    }))
  }

  let oracle = Infinity
  for (let i = 0; i <= 4000; i++) oracle = Math.min(oracle, fixedFinal(1e-3 * 1000 ** (i / 4000)))

  const results: Record<string, Array<{ best: number; used: number }>> = { pbt: [], random: [] }
  for (let seed = 1; seed <= seeds; seed++) {
    for (const method of ["pbt", "random"] as const) {
      const r = await run(seed, method === "pbt" ? "pbt" : "none")
      results[method].push(r)
      emit({ bench: "pbt", method, seed, best_final: r.best, steps_used: r.used })
    }
  }
  emit({ bench: "pbt", method: "best_fixed_oracle", seed: null, best_final: oracle, steps_used: null })
  table(
    `PBT on a decaying ideal learning rate: population ${population}, ${steps} steps, interval ${interval}, medians over ${seeds} seeds`,
    ["method", "best final loss (median)", "vs best fixed", "steps used (median)"],
    [
      ["pbt", median(results.pbt.map((r) => r.best)), median(results.pbt.map((r) => r.best)) / oracle, median(results.pbt.map((r) => r.used))],
      ["random, full training", median(results.random.map((r) => r.best)), median(results.random.map((r) => r.best)) / oracle, median(results.random.map((r) => r.used))],
      ["best fixed lr (grid oracle)", oracle, 1, "-"]
    ]
  )
}
