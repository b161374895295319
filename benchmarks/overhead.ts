// The framework's own cost per trial: a trivial objective (5 floats, sum of squares), random
// sampling, concurrency 1, on memory and on SQLite storage (each trial committed before the next).
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Space, Study } from "@tunekit/core"
import { emit, median, parseArgs, table } from "./_util.js"

const space = Space.struct({ a: Space.float(-1, 1), b: Space.float(-1, 1), c: Space.float(-1, 1), d: Space.float(-1, 1), e: Space.float(-1, 1) })
type Config = Space.Type<typeof space>
const objective = (c: Config) => c.a * c.a + c.b * c.b + c.c * c.c + c.d * c.d + c.e * c.e

/**
 * One run of the study "overhead": its wall time in seconds. On SQLite, in a fresh temporary file,
 * or in `at` when given (the dashboard benchmark runs it in a file the dashboard watches).
 */
export const once = async (storage: "memory" | "sqlite", trials: number, at?: string): Promise<number> => {
  const dir = at === undefined ? fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-overhead-")) : undefined
  const file = storage === "sqlite" ? at ?? path.join(dir!, "overhead.db") : undefined
  const program = Study.optimize({ study: "overhead", space, objective, trials })
  const t0 = performance.now()
  await Effect.runPromise(Effect.scoped(program.pipe(Effect.provide(Study.layerDefaults({ seed: 1, storage: file })))))
  const wall = (performance.now() - t0) / 1000
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true })
  return wall
}

export const main = async (args: ReadonlyArray<string>) => {
  const opts = parseArgs(args)
  const trials = Number(opts.trials ?? 1000)
  const repeats = Number(opts.repeats ?? 9)
  const rows: Array<Array<unknown>> = []
  for (const storage of ["memory", "sqlite"] as const) {
    // Warm the JIT with full-size runs first: the steady state is what a long study sees.
    for (let i = 0; i < 3; i++) await once(storage, trials)
    const walls: Array<number> = []
    for (let i = 0; i < repeats; i++) walls.push(await once(storage, trials))
    const wall = median(walls)
    emit({ bench: "overhead", storage, sampler: "random", trials, wall_s: wall, trials_per_s: trials / wall })
    rows.push([storage, trials, repeats, wall, Math.round(trials / wall)])
  }
  table("overhead (median of repeats)", ["storage", "trials", "repeats", "wall_s", "trials_per_s"], rows)
}
