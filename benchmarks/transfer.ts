// Hyperparameter transfer: no transfer, warm start and prior transfer, each task held out in turn
// with every other task (and its tuning history) in the transfer database.
//
// - synthetic: Branin variants whose optimum and scale shift from task to task (tagged "branin":
//   similarity 0.9 between them, 0.1 otherwise), and unrelated functions on the same box;
// - real: XGBoost on each bundled tabular dataset (a recorded grid, see _transferTable.ts), the
//   tasks' similarity from their data's meta-features.
//
// Each earlier task's history is one TPE study of --history trials. Modes: none (TPE), warm (the
// best --per-task configs of each of the 3 most similar tasks first, then TPE), prior (TPE with
// the 3 most similar tasks' histories as its prior), gp (GP-BO, no transfer), gp-prior (GP-BO
// with their histories as its prior: the ranking-weighted GP ensemble, Feurer et al. 2018),
// warm+prior (the warm start's configs first, then TPE with the prior) and warm+gp-prior (the same
// with GP-BO). Prints a JSON line per (family, task, mode, seed) with the best-so-far curve, then
// tables of the median normalized regret, (best - optimum) / (median of the task - optimum), over
// held-out tasks and seeds (--first-seed, --first-seed + 1, ...: settings were chosen on seeds
// 11-20 and the figures of docs/transfer.md are seeds 1-10), and for the real family a yardstick:
// static portfolios chosen from the other tasks' whole grids (`portfolios`).
//
//   nice -n 10 npm run bench -- transfer [--seeds 10] [--first-seed 0] [--trials 100] [--history 60]
//     [--family synthetic,real] [--modes none,warm,prior,gp-prior,warm+prior] [--per-task 1]
//     [--tasks related|unrelated|NAME,...] (held-out tasks to run; every task stays in the database)
import { Effect, Layer } from "effect"
import { Rng, Sampler, Space, Study, type Trial } from "@tunekit/core"
import { Gp, Tpe } from "@tunekit/samplers"
import { Transfer } from "@tunekit/transfer"
import * as TransferTable from "./_transferTable.js"
import { emit, median, parseArgs, table } from "./_util.js"

const ALL_MODES = ["none", "warm", "prior", "gp", "gp-prior", "warm+prior", "warm+gp-prior"] as const
type Mode = (typeof ALL_MODES)[number]
const DEFAULT_MODES: ReadonlyArray<Mode> = ["none", "warm", "prior", "gp-prior", "warm+prior"]

interface Task {
  readonly name: string
  /** Unrelated to the family (the second target applies to these). */
  readonly unrelated: boolean
  readonly tags: ReadonlyArray<string>
  readonly metaFeatures?: Readonly<Record<string, number>>
  readonly f: (c: any) => number
  readonly optimum: number
  /** The median value over the space: the regret's scale. */
  readonly reference: number
}

/** A value's normalized regret on a task: (value - optimum) / (median - optimum), 0 at best. */
const regretOf = (task: Task, value: number): number => Math.max(0, value - task.optimum) / (task.reference - task.optimum)

interface Family {
  readonly name: string
  readonly space: Space.Space<any>
  readonly tasks: ReadonlyArray<Task>
  readonly similarity?: (a: Transfer.Task, b: Transfer.Task) => number
}

// ---------------------------------------------------------------------------------------------
// The synthetic family
// ---------------------------------------------------------------------------------------------

const BRANIN_MIN = 0.397887
const branin = (x0: number, x1: number) => {
  const b = 5.1 / (4 * Math.PI ** 2), c = 5 / Math.PI, t = 1 / (8 * Math.PI)
  return (x1 - b * x0 ** 2 + c * x0 - 6) ** 2 + 10 * (1 - t) * Math.cos(x0) + 10
}
const box = Space.struct({ x0: Space.float(-5, 10), x1: Space.float(0, 15) })

/** The median of f over the box, from 2,000 points of a fixed generator. */
const medianOver = (f: (c: { x0: number; x1: number }) => number) => {
  const rng = Rng.generator(0, "transfer-bench-reference")
  return median(Array.from({ length: 2000 }, () => f({ x0: -5 + 15 * rng.next(), x1: 15 * rng.next() })))
}

const synthetic = (): Family => {
  // Shifts of the optimum (in x0, x1) and scales: related, not identical.
  const variants: ReadonlyArray<readonly [number, number, number]> = [[0, 0, 1], [0.25, -0.2, 2], [-0.2, 0.3, 0.5], [0.3, 0.15, 3], [-0.3, -0.25, 1.5]]
  const tasks: Array<Task> = variants.map(([dx, dy, scale], i) => {
    const f = (c: { x0: number; x1: number }) => scale * branin(c.x0 - dx, c.x1 - dy) + 5 * i
    return { name: `branin-${i}`, unrelated: false, tags: ["branin"], f, optimum: scale * BRANIN_MIN + 5 * i, reference: medianOver(f) }
  })
  // Unrelated landscapes on the same box, with their optima away from Branin's.
  const bowl = (c: { x0: number; x1: number }) => ((c.x0 + 4) / 15) ** 2 + ((c.x1 - 14) / 15) ** 2
  const ridge = (c: { x0: number; x1: number }) => {
    const u = (c.x0 + 5) / 15, v = c.x1 / 15
    return 100 * (v - u * u) ** 2 + (1 - u) ** 2
  }
  const waves = (c: { x0: number; x1: number }) => {
    const u = (c.x0 - 8) / 3, v = (c.x1 - 12) / 3
    return u * u + v * v - Math.cos(3 * u) - Math.cos(3 * v) + 2
  }
  tasks.push(
    { name: "bowl", unrelated: true, tags: ["bowl"], f: bowl, optimum: 0, reference: medianOver(bowl) },
    { name: "ridge", unrelated: true, tags: ["ridge"], f: ridge, optimum: 0, reference: medianOver(ridge) },
    { name: "waves", unrelated: true, tags: ["waves"], f: waves, optimum: 0, reference: medianOver(waves) }
  )
  const similarity = (a: Transfer.Task, b: Transfer.Task) => (a.tags.some((t) => b.tags.includes(t)) ? 0.9 : 0.1)
  return { name: "synthetic", space: box, tasks, similarity }
}

// ---------------------------------------------------------------------------------------------
// The real family
// ---------------------------------------------------------------------------------------------

const real = (): Family => {
  const t = TransferTable.read()
  const tasks = t.tasks.map((task): Task => ({
    name: task.name,
    unrelated: false,
    tags: ["boosting"],
    metaFeatures: task.metaFeatures,
    f: (c: TransferTable.Config) => task.values[TransferTable.indexOf(c)],
    optimum: Math.min(...task.values),
    reference: median(task.values)
  }))
  return { name: "real", space: TransferTable.space, tasks }
}

/**
 * What no study can know: each held-out task's regret after the first 10 configs of a static
 * portfolio chosen from the other tasks' whole grids. Greedy: each next config lowers most the
 * other tasks' mean best normalized regret (Wistuba, Schilling & Schmidt-Thieme 2015, "Sequential
 * model-free hyperparameter tuning"). Average rank: the configs by their mean rank on the other
 * tasks (Probst, Boulesteix & Bischl 2019's defaults). A yardstick for the real family's target:
 * how close 10 trials come when the other datasets' optima are known exactly.
 */
const portfolios = (family: Family, held: ReadonlyArray<Task>): Array<Array<unknown>> => {
  const grid = TransferTable.configs()
  const regrets = new Map(family.tasks.map((t) => [t, grid.map((c) => regretOf(t, t.f(c)))]))
  const bestOf = (r: ReadonlyArray<number>, picked: ReadonlyArray<number>) => Math.min(...picked.map((c) => r[c]))
  return held.map((task) => {
    const others = family.tasks.filter((t) => t !== task).map((t) => regrets.get(t)!)
    const greedy: Array<number> = []
    // each other task's best regret over the configs picked so far
    let best = others.map(() => Infinity)
    while (greedy.length < 10) {
      let pick = -1, score = Infinity
      for (let c = 0; c < grid.length; c++) {
        if (greedy.includes(c)) continue
        const s = others.reduce((a, r, i) => a + Math.min(best[i], r[c]), 0)
        if (s < score) [pick, score] = [c, s]
      }
      greedy.push(pick)
      best = others.map((r, i) => Math.min(best[i], r[pick]))
    }
    const ranks = others.map((r) => {
      const rank = new Array<number>(grid.length)
      Array.from(r.keys()).sort((a, b) => r[a] - r[b]).forEach((c, i) => (rank[c] = i))
      return rank
    })
    const meanRank = (c: number) => ranks.reduce((a, r) => a + r[c], 0)
    const byRank = Array.from(grid.keys()).sort((a, b) => meanRank(a) - meanRank(b)).slice(0, 10)
    const own = regrets.get(task)!
    return [task.name, bestOf(own, greedy), bestOf(own, byRank)]
  })
}

// ---------------------------------------------------------------------------------------------

const optimize = (space: Space.Space<any>, f: (c: any) => number, trials: number, seed: number, sampler: Layer.Layer<Sampler.Sampler, unknown, Transfer.Transfer>, db: Layer.Layer<Transfer.Transfer>) =>
  Effect.runPromise(
    Study.optimize({ study: "t", space, objective: f, direction: "minimize", trials }).pipe(
      Effect.provide(sampler),
      Effect.provide(Layer.merge(db, Study.layerDefaults({ seed })))
    )
  ).then((r) => r.trials)

const bestCurve = (trials: ReadonlyArray<Trial.FrozenTrial>): Array<number> => {
  let best = Infinity
  return trials.map((t) => (best = Math.min(best, t.values?.[0] ?? Infinity)))
}

/** A database with every task of the family and the history of one TPE study on each. */
const database = async (family: Family, history: number): Promise<Layer.Layer<Transfer.Transfer>> => {
  const db = Transfer.makeMemory()
  const layer = Layer.succeed(Transfer.Transfer, db)
  const compiled = Space.compile(family.space)
  for (const [i, task] of family.tasks.entries()) {
    const trials = await optimize(family.space, task.f, history, 1000 + i, Tpe.layer(), layer)
    await Effect.runPromise(db.saveTask({ name: task.name, tags: task.tags, ...(task.metaFeatures ? { metaFeatures: task.metaFeatures } : {}) }))
    await Effect.runPromise(db.record({
      task: task.name,
      study: `${task.name}-tpe`,
      direction: "minimize",
      metric: "value",
      space: Object.fromEntries(compiled.params),
      trials: trials.filter((t) => t.state === "Complete").map((t) => ({ params: paramsOf(t), value: t.values![0], state: "Complete" as const })),
      recordedAt: i
    }))
  }
  return layer
}

const paramsOf = (t: Trial.FrozenTrial) => {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(t.params)) {
    const d = t.distributions[k]
    out[k] = d._tag === "Categorical" ? d.choices[v] : v
  }
  return out
}

const samplerOf = (mode: Mode, family: Family, task: Task, perTask: number): Layer.Layer<Sampler.Sampler, unknown, Transfer.Transfer> => {
  const start = { task: task.name, space: family.space, k: 3, ...(family.similarity ? { similarity: family.similarity } : {}) }
  const warm = (then: Layer.Layer<Sampler.Sampler, unknown, Transfer.Transfer>) =>
    Layer.unwrapEffect(Effect.map(Effect.context<Transfer.Transfer>(), (c) => Transfer.warmStart({ ...start, perTask }, Layer.provide(then, Layer.succeedContext(c)) as Layer.Layer<Sampler.Sampler>)))
  switch (mode) {
    case "none":
      return Tpe.layer()
    case "warm":
      return warm(Tpe.layer())
    case "prior":
      return Transfer.tpe(start)
    case "gp":
      return Gp.layer()
    case "gp-prior":
      return Transfer.gp(start)
    case "warm+prior":
      return warm(Transfer.tpe(start))
    case "warm+gp-prior":
      return warm(Transfer.gp(start))
  }
}

export const main = async (args: ReadonlyArray<string>): Promise<void> => {
  const a = parseArgs(args)
  const seeds = Number(a.seeds ?? 10)
  const trials = Number(a.trials ?? 100)
  const history = Number(a.history ?? 60)
  const families = String(a.family ?? "synthetic,real").split(",")
  const firstSeed = Number(a["first-seed"] ?? 0)
  const perTask = Number(a["per-task"] ?? 1)
  const only = a.tasks === undefined ? undefined : String(a.tasks).split(",")
  const held = (t: Task) => only === undefined || only.includes(t.name) || only.includes(t.unrelated ? "unrelated" : "related")
  const MODES = a.modes === undefined ? DEFAULT_MODES : String(a.modes).split(",").map((m) => {
    if (!(ALL_MODES as ReadonlyArray<string>).includes(m)) throw new Error(`unknown mode ${m}: the modes are ${ALL_MODES.join(", ")}`)
    return m as Mode
  })
  if (!MODES.includes("none")) throw new Error("--modes must include none (the baseline)")
  const at = [10, 50, trials].filter((n, i, xs) => n <= trials && xs.indexOf(n) === i)
  for (const family of families.map((f) => (f === "real" ? real() : synthetic()))) {
    const t0 = Date.now()
    const db = await database(family, history)
    // regret[mode][task] = one normalized curve per seed
    const regret = new Map<Mode, Map<string, Array<Array<number>>>>(MODES.map((m) => [m, new Map()]))
    for (const task of family.tasks.filter(held)) {
      for (const mode of MODES) {
        for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
          const curve = bestCurve(await optimize(family.space, task.f, trials, seed, samplerOf(mode, family, task, perTask), db))
          emit({ bench: "transfer", family: family.name, task: task.name, mode, seed, best_curve: curve })
          const list = regret.get(mode)!.get(task.name) ?? []
          list.push(curve.map((v) => regretOf(task, v)))
          regret.get(mode)!.set(task.name, list)
        }
      }
    }
    const groups: ReadonlyArray<readonly [string, (t: Task) => boolean]> = family.tasks.some((t) => t.unrelated)
      ? [["related", (t) => !t.unrelated], ["unrelated", (t) => t.unrelated]]
      : [["all", () => true]]
    const rows: Array<Array<unknown>> = []
    for (const [group, keep] of groups) {
      const names = family.tasks.filter(keep).filter(held).map((t) => t.name)
      if (names.length === 0) continue
      const medianAt = (mode: Mode, n: number) => median(names.flatMap((name) => regret.get(mode)!.get(name)!.map((c) => c[n - 1])))
      const none50 = medianAt("none", Math.min(50, trials))
      for (const mode of MODES) {
        rows.push([
          group,
          mode,
          ...at.map((n) => medianAt(mode, n)),
          mode === "none" ? "-" : medianAt(mode, 10) <= none50 ? "yes" : "no",
          // the trial at which no transfer reaches what this mode has at 10
          mode === "none" ? "-" : String(Array.from({ length: trials }, (_, i) => i + 1).find((n) => medianAt("none", n) <= medianAt(mode, 10)) ?? `>${trials}`),
          mode === "none" ? "-" : medianAt(mode, trials) <= medianAt("none", trials) ? "yes" : "no"
        ])
      }
    }
    table(
      `transfer, ${family.name} family: median normalized regret over held-out tasks and ${seeds} seeds (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
      ["tasks", "mode", ...at.map((n) => `@${n}`), `@10 <= none@${Math.min(50, trials)}`, "none reaches @10 at", `@${trials} <= none@${trials}`],
      rows
    )
    if (family.name === "real") {
      const yardstick = portfolios(family, family.tasks.filter(held))
      yardstick.push(["median", median(yardstick.map((r) => r[1] as number)), median(yardstick.map((r) => r[2] as number))])
      table("real family: regret of the first 10 configs of a static portfolio chosen from the other tasks' whole grids", ["held-out task", "greedy", "average rank"], yardstick)
    }
  }
}
