// Several objectives: the hypervolume each sampler's trials reach on ZDT1, ZDT2 (Zitzler, Deb,
// Thiele 2000; 5 variables here) and DTLZ2 (Deb, Thiele, Laumanns, Zitzler 2002; 3 objectives,
// 6 variables), through the ask/tell API on memory storage. One JSON line a run, then the median
// hypervolume per problem and sampler (larger is better) and the true front's volume.
//   npm run bench -- multiobjective [--budget 200] [--seeds 5] [--problems zdt1,zdt2,dtlz2] [--samplers random,nsga2,tpe]
import { Effect, Layer, Option } from "effect"
import { Rng, Scheduler, Space, Storage, Study, Tracker } from "@tunekit/core"
import { Hypervolume } from "@tunekit/samplers"
import { samplerByName } from "./_samplers.js"
import { emit, median, parseArgs, table } from "./_util.js"

interface MoProblem {
  readonly space: Space.Space<any>
  readonly f: (c: Record<string, number>) => ReadonlyArray<number>
  readonly reference: ReadonlyArray<number>
  /** The hypervolume of the true Pareto front against the reference. */
  readonly ideal: number
}

const box = (n: number) => Space.struct(Object.fromEntries(Array.from({ length: n }, (_, i) => [`x${i}`, Space.float(0, 1)])))
const vec = (c: Record<string, number>, n: number) => Array.from({ length: n }, (_, i) => c[`x${i}`])

const zdt = (shape: (r: number) => number) => (c: Record<string, number>) => {
  const x = vec(c, 5)
  const g = 1 + (9 * (x[1] + x[2] + x[3] + x[4])) / 4
  return [x[0], g * shape(x[0] / g)]
}

const problems: Record<string, MoProblem> = {
  // Front f2 = 1 - sqrt(f1): volume against (1.1, 1.1) is 1.21 - 1/3 = 0.8767.
  zdt1: { space: box(5), f: zdt((r) => 1 - Math.sqrt(r)), reference: [1.1, 1.1], ideal: 1.21 - 1 / 3 },
  // Front f2 = 1 - f1^2 (concave): 1.21 - 2/3 = 0.5433.
  zdt2: { space: box(5), f: zdt((r) => 1 - r * r), reference: [1.1, 1.1], ideal: 1.21 - 2 / 3 },
  // The positive octant of the unit sphere: 1.1^3 - pi/6 = 0.8074.
  dtlz2: {
    space: box(6),
    f: (c) => {
      const x = vec(c, 6)
      let g = 0
      for (let i = 2; i < 6; i++) g += (x[i] - 0.5) ** 2
      const a = (x[0] * Math.PI) / 2
      const b = (x[1] * Math.PI) / 2
      return [(1 + g) * Math.cos(a) * Math.cos(b), (1 + g) * Math.cos(a) * Math.sin(b), (1 + g) * Math.sin(a)]
    },
    reference: [1.1, 1.1, 1.1],
    ideal: 1.331 - Math.PI / 6
  }
}

const runOnce = async (name: string, problem: MoProblem, sampler: string, seed: number, budget: number) => {
  const directions = problem.reference.map(() => "minimize" as const)
  const layer = Layer.mergeAll(Storage.layerMemory, samplerByName(sampler)(), Scheduler.layerNone, Tracker.layerNone, Rng.layer({ seed }))
  const program = Effect.gen(function*() {
    const study = yield* Study.open({ study: `${name}-${sampler}-${seed}`, space: problem.space, directions })
    for (let i = 0; i < budget; i++) {
      const asked = yield* study.ask
      if (Option.isNone(asked)) break
      yield* study.tell(asked.value, problem.f(asked.value.config))
    }
    return Hypervolume.ofTrials(yield* study.trials, directions, problem.reference)
  })
  const t0 = performance.now()
  const hv = await Effect.runPromise(Effect.scoped(program.pipe(Effect.provide(layer))))
  return { hv, wall: (performance.now() - t0) / 1000 }
}

export const main = async (args: ReadonlyArray<string>) => {
  const opts = parseArgs(args)
  const budget = Number(opts.budget ?? 200)
  const seeds = Number(opts.seeds ?? 5)
  const names = typeof opts.problems === "string" ? opts.problems.split(",") : Object.keys(problems)
  const samplerNames = typeof opts.samplers === "string" ? opts.samplers.split(",") : ["random", "nsga2"]
  for (const p of names) if (!(p in problems)) throw new Error(`unknown problem "${p}"; known: ${Object.keys(problems).join(", ")}`)
  for (const s of samplerNames) samplerByName(s)
  const results = new Map<string, Array<number>>()
  const walls = new Map<string, Array<number>>()
  for (const p of names) {
    for (const s of samplerNames) {
      for (let seed = 0; seed < seeds; seed++) {
        const { hv, wall } = await runOnce(p, problems[p], s, seed, budget)
        emit({ bench: "multiobjective", problem: p, sampler: s, seed, hypervolume: hv, wall_s: wall })
        results.set(`${p}/${s}`, [...(results.get(`${p}/${s}`) ?? []), hv])
        walls.set(`${p}/${s}`, [...(walls.get(`${p}/${s}`) ?? []), wall])
      }
    }
  }
  table(
    `median hypervolume after ${budget} trials over ${seeds} seeds (larger is better)`,
    ["problem", "true front", ...samplerNames],
    names.map((p) => [p, problems[p].ideal, ...samplerNames.map((s) => median(results.get(`${p}/${s}`)!))])
  )
  table("median wall seconds per run", ["problem", ...samplerNames], names.map((p) => [p, ...samplerNames.map((s) => median(walls.get(`${p}/${s}`)!))]))
}
