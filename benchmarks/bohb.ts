// BOHB (TPE choosing the configurations Hyperband runs) against Hyperband with random search, on
// a multi-fidelity problem with a known answer: a 4-d quadratic measured on a fraction of the data,
// with a bias that vanishes on the full data (the problem of packages/schedulers/test/bohb.test.ts).
// best_final is the true value of the best configuration found; steps_used the resource units
// spent (an evaluation at fraction r/27 costs r).
//
//   npm run bench -- bohb [--seeds 10] [--iterations 2]
import { Rng, Sampler, Space, Storage, Study, Tracker, Trial } from "@tunekit/core"
import { Bohb, Budget, Fidelity, Hyperband } from "@tunekit/schedulers"
import { Effect, Layer, Option } from "effect"
import { emit, median, parseArgs, table } from "./_util.js"

const space = Space.struct({ a: Space.float(0, 1), b: Space.float(0, 1), c: Space.float(0, 1), d: Space.float(0, 1) })
type Config = Space.Type<typeof space>
const truth = (c: Config) => (c.a - 0.2) ** 2 + (c.b - 0.7) ** 2 + (c.c - 0.4) ** 2 + (c.d - 0.9) ** 2
const measured = (c: Config, fraction: number) => truth(c) + 0.1 * (1 - fraction) * Math.sin(9 * c.a + 7 * c.b - 5 * c.c)

const resources = { minResource: 1, maxResource: 27, reductionFactor: 3 }
const data = Fidelity.fraction(resources)
const plan = Hyperband.plan(resources)

export const main = async (args: ReadonlyArray<string>) => {
  const o = parseArgs(args)
  const seeds = Number(o.seeds ?? 10)
  const iterations = Number(o.iterations ?? 2)

  const run = async (seed: number, method: "bohb" | "hyperband") => {
    let used = 0
    const best = await Effect.runPromise(
      Study.optimize({
        study: "bohb-bench",
        space,
        metric: "loss",
        direction: "minimize",
        objective: Fidelity.objective(data, (c: Config, e) => {
          used += e.resource
          return measured(c, e.fidelity)
        }, { metric: "loss", startAt: Fidelity.hyperbandStart(resources) })
      }).pipe(
        Effect.map((r) => Option.getOrThrow(r.best)),
        Effect.provide(
          Layer.mergeAll(
            Budget.layerConfigurations(plan.configurations * iterations).pipe(
              Layer.provide(method === "bohb" ? Bohb.layer(resources) : Sampler.layerRandom)
            ),
            Hyperband.layer(resources),
            Tracker.layerNone
          ).pipe(Layer.provideMerge(Layer.mergeAll(Storage.layerMemory, Rng.layer({ seed }))))
        )
      ) as Effect.Effect<Trial.FrozenTrial>
    )
    return { best: truth(Trial.paramValues(best) as unknown as Config), used }
  }

  const results: Record<string, Array<{ best: number; used: number }>> = { bohb: [], hyperband: [] }
  for (let seed = 1; seed <= seeds; seed++) {
    for (const method of ["bohb", "hyperband"] as const) {
      const r = await run(seed, method)
      results[method].push(r)
      emit({ bench: "bohb", method, direction: "minimize", seed, best_final: r.best, steps_used: r.used })
    }
  }
  table(
    `BOHB vs Hyperband (random search), ${iterations} Hyperband iterations of ${plan.configurations} configurations, resources 1..27 eta 3, medians over ${seeds} seeds (optimum 0)`,
    ["method", "best_final (median)", "steps_used (median)"],
    (["bohb", "hyperband"] as const).map((m) => [m, median(results[m].map((r) => r.best)), median(results[m].map((r) => r.used))])
  )
}
