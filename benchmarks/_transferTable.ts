// The real family of the transfer benchmark: gradient boosting (XGBoost) tuned on each bundled
// tabular dataset, recorded once over a grid of configurations (record-transfer-table.ts) so that
// a benchmark trial is a lookup (a tabular benchmark, as HPOBench's). Each task keeps its
// dataset's meta-features, computed from the data.
import * as fs from "node:fs"
import * as path from "node:path"
import * as zlib from "node:zlib"
import { Space } from "@tunekit/core"
import { fixturesDir } from "./_recorded.js"

export const FORMAT = "tunekit-transfer-table/1"
export const FILE = path.join(fixturesDir, "transfer-boosting.json.gz")

/** The grid: every combination of these values is one recorded configuration. */
export const GRID = {
  learningRate: [0.01, 0.03, 0.1, 0.3, 1],
  maxDepth: [1, 2, 4, 6],
  nEstimators: [10, 30, 100],
  subsample: [0.6, 1],
  minChildWeight: [1, 5]
} as const

export type Config = { readonly [K in keyof typeof GRID]: (typeof GRID)[K][number] }

/** The grid as a search space (categoricals of the grid's values, so every config is recorded). */
export const space = Space.struct({
  learningRate: Space.categorical(GRID.learningRate),
  maxDepth: Space.categorical(GRID.maxDepth),
  nEstimators: Space.categorical(GRID.nEstimators),
  subsample: Space.categorical(GRID.subsample),
  minChildWeight: Space.categorical(GRID.minChildWeight)
})

export const keys = Object.keys(GRID) as ReadonlyArray<keyof typeof GRID>

/** Every config of the grid, in the order the values are stored. */
export const configs = (): Array<Config> => {
  let out: Array<Record<string, number>> = [{}]
  for (const k of keys) out = out.flatMap((c) => GRID[k].map((v) => ({ ...c, [k]: v })))
  return out as Array<Config>
}

/** Where a config's value is stored. */
export const indexOf = (c: Config): number => keys.reduce((i, k) => i * GRID[k].length + (GRID[k] as ReadonlyArray<number>).indexOf(c[k]), 0)

export interface TableTask {
  readonly name: string
  readonly metric: string
  /** Every task here is minimized (log loss, RMSE). */
  readonly direction: "minimize"
  readonly metaFeatures: Readonly<Record<string, number>>
  /** One value per config, in `configs()` order. */
  readonly values: ReadonlyArray<number>
}

export interface Table {
  readonly format: typeof FORMAT
  readonly description: string
  readonly recorded: { readonly at: string; readonly node: string; readonly cpuSeconds: number; readonly split: string }
  readonly tasks: ReadonlyArray<TableTask>
}

export const read = (): Table => {
  if (!fs.existsSync(FILE)) throw new Error(`${FILE} is missing: record it with npm run bench -- record-transfer-table`)
  const t = JSON.parse(zlib.gunzipSync(fs.readFileSync(FILE)).toString("utf8")) as Table
  if (t.format !== FORMAT) throw new Error(`${FILE}: format ${t.format}, expected ${FORMAT}`)
  return t
}

export const write = (t: Table): void => {
  fs.mkdirSync(path.dirname(FILE), { recursive: true })
  fs.writeFileSync(FILE, zlib.gzipSync(JSON.stringify(t), { level: 9 }))
}
