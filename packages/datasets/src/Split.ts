/**
 * Seeded holdout splits: shuffled (optionally stratified by class) for tabular data and texts,
 * chronological for time series.
 *
 * The same seed gives the same split on every machine: the shuffle draws from tunekit's seeded
 * generator (`Rng.generator` of @tunekit/core), not from `Math.random`.
 *
 * @example
 * import { BreastCancer, Split } from "@tunekit/datasets"
 * const { train, test } = Split.holdout(BreastCancer.load(), { testFraction: 0.2, seed: 42, stratify: true })
 *
 * @since 0.1.0
 */
import { Options, Rng } from "@tunekit/core"
import { Schema } from "effect"
import * as Dataset from "./Dataset.js"
import { InvalidSplit } from "./Errors.js"
import { decoder } from "./internal/decode.js"

/** Row indices of the two parts of a split. */
export interface Indices {
  readonly train: ReadonlyArray<number>
  readonly test: ReadonlyArray<number>
}

/** Options of a holdout split. */
export interface HoldoutOptions {
  /** The share of rows held out for testing, in (0, 1). Default 0.2. */
  readonly testFraction?: number
  /** The seed of the shuffle. Default 0. */
  readonly seed?: number
  /** Keep each class's share the same in both parts (classification and text only). Default false. */
  readonly stratify?: boolean
}

const testFraction = Schema.optional(Options.number({ above: 0, below: 1 }))

/**
 * The Schema of `holdout`'s options, and their JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Split } from "@tunekit/datasets"
 * Options.jsonSchema(Split.HoldoutOptionsSchema)
 */
export const HoldoutOptionsSchema: Schema.Schema<HoldoutOptions> = Schema.Struct({
  testFraction,
  seed: Schema.optional(Options.Finite),
  stratify: Schema.optional(Options.Boolean)
})

/** Options of `holdoutIndices`. */
export interface IndicesOptions {
  /** The share of rows held out for testing, in (0, 1). Default 0.2. */
  readonly testFraction?: number
  /** The seed of the shuffle. Default 0. */
  readonly seed?: number
  /** Class labels to stratify by, one per row. */
  readonly labels?: ReadonlyArray<number>
}

/**
 * The Schema of `holdoutIndices`'s options.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Split } from "@tunekit/datasets"
 * Options.jsonSchema(Split.IndicesOptionsSchema)
 */
export const IndicesOptionsSchema: Schema.Schema<IndicesOptions> = Schema.Struct({
  testFraction,
  seed: Schema.optional(Options.Finite),
  labels: Schema.optional(Schema.Array(Schema.Number))
})

/** Options of `chronological`. */
export interface ChronologicalOptions {
  /** The share of the latest values held out for testing, in (0, 1). Default 0.2. */
  readonly testFraction?: number
}

/**
 * The Schema of `chronological`'s options.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Split } from "@tunekit/datasets"
 * Options.jsonSchema(Split.ChronologicalOptionsSchema)
 */
export const ChronologicalOptionsSchema: Schema.Schema<ChronologicalOptions> = Schema.Struct({ testFraction })

const invalid = (split: string) => (p: Options.Problem) => new InvalidSplit({ split, reason: Options.format(p) })
const holdoutOptions = decoder(HoldoutOptionsSchema, invalid("holdout"))
const indicesOptions = decoder(IndicesOptionsSchema, invalid("holdout"))
const chronologicalOptions = decoder(ChronologicalOptionsSchema, invalid("chronological"))

// The fraction itself is checked by the options' Schema; here, what it leaves of n rows.
const checkFraction = (split: string, f: number, n: number) => {
  if (!Number.isInteger(n) || n < 2) throw new InvalidSplit({ split, reason: `a split needs at least 2 rows, got ${n}` })
  // As scikit-learn: the test part rounds up, and neither part may be empty.
  const nTest = Math.ceil(n * f)
  if (nTest >= n) throw new InvalidSplit({ split, reason: `testFraction ${f} of ${n} rows leaves no training rows` })
  return nTest
}

/**
 * Per-class test quotas summing to `nTest`: each class gets its share rounded down, and the rows
 * left over go to the classes with the largest remainders (ties to the larger class, then the
 * lower index), so the test part's class ratios are as close as counts allow.
 *
 * @example
 * import { Split } from "@tunekit/datasets"
 * Split.allocate([5, 3, 2], 4) // [2, 1, 1]
 */
export const allocate = (counts: ReadonlyArray<number>, total: number): Array<number> => {
  const n = counts.reduce((a, b) => a + b, 0)
  const exact = counts.map((c) => (c * total) / n)
  const quota = exact.map(Math.floor)
  let left = total - quota.reduce((a, b) => a + b, 0)
  const order = counts.map((_, k) => k).sort((a, b) => (exact[b] - quota[b]) - (exact[a] - quota[a]) || counts[b] - counts[a] || a - b)
  for (const k of order) {
    if (left === 0) break
    if (quota[k] < counts[k]) {
      quota[k]++
      left--
    }
  }
  return quota
}

/**
 * Holdout indices for `n` rows. With `labels`, the split is stratified: every class is shuffled
 * on its own and contributes its share of test rows.
 *
 * @example
 * import { Split } from "@tunekit/datasets"
 * const { train, test } = Split.holdoutIndices(10, { testFraction: 0.3, seed: 1 }) // 7 and 3 indices
 */
export const holdoutIndices = (n: number, input: IndicesOptions = {}): Indices => {
  const options = indicesOptions(input)
  const nTest = checkFraction("holdout", options.testFraction ?? 0.2, n)
  const rng = Rng.generator(options.seed ?? 0, "holdout")
  const labels = options.labels
  if (labels === undefined) {
    const order = rng.shuffle(Array.from({ length: n }, (_, i) => i))
    return { train: order.slice(nTest), test: order.slice(0, nTest) }
  }
  if (labels.length !== n) throw new InvalidSplit({ split: "holdout", reason: `${labels.length} labels for ${n} rows` })
  const byClass = groupByClass(labels)
  const quota = allocate(byClass.map((g) => g.length), nTest)
  const train: Array<number> = []
  const test: Array<number> = []
  byClass.forEach((members, k) => {
    const shuffled = rng.shuffle(members)
    test.push(...shuffled.slice(0, quota[k]))
    train.push(...shuffled.slice(quota[k]))
  })
  // Mix the classes again, so that the parts are not sorted by class.
  return { train: rng.shuffle(train), test: rng.shuffle(test) }
}

/**
 * The row indices of each class, by class index (classes with no rows are empty).
 *
 * @example
 * import { Split } from "@tunekit/datasets"
 * Split.groupByClass([1, 0, 1]) // [[1], [0, 2]]
 */
export const groupByClass = (labels: ReadonlyArray<number>): Array<Array<number>> => {
  const groups: Array<Array<number>> = []
  labels.forEach((c, i) => {
    if (!Number.isInteger(c) || c < 0) throw new InvalidSplit({ split: "stratify", reason: `label ${c} at row ${i} is not a class index` })
    while (groups.length <= c) groups.push([])
    groups[c].push(i)
  })
  return groups
}

/**
 * A seeded holdout split of a dataset into training and test parts.
 *
 * @example
 * import { Iris, Split } from "@tunekit/datasets"
 * const { train, test } = Split.holdout(Iris.load(), { testFraction: 0.2, seed: 7, stratify: true })
 * test.y.length // 30, 10 of each species
 */
export const holdout = <D extends Dataset.Rows>(
  ds: D,
  input: HoldoutOptions = {}
): { readonly train: D; readonly test: D; readonly indices: Indices } => {
  const options = holdoutOptions(input)
  if (options.stratify && ds._tag === "Regression") {
    throw new InvalidSplit({ split: "holdout", reason: `${ds.name} is a regression dataset; stratify needs class labels` })
  }
  const indices = holdoutIndices(Dataset.size(ds), {
    testFraction: options.testFraction,
    seed: options.seed,
    labels: options.stratify ? ds.y : undefined
  })
  return { train: Dataset.subset(ds, indices.train), test: Dataset.subset(ds, indices.test), indices }
}

/**
 * A chronological split of a series: the first part trains, the last `testFraction` tests (no
 * shuffling: a forecaster must not see the future).
 *
 * @example
 * import { Split, Sunspots } from "@tunekit/datasets"
 * const { train, test } = Split.chronological(Sunspots.load(), { testFraction: 0.2 })
 */
export const chronological = (
  s: Dataset.Series,
  input: ChronologicalOptions = {}
): { readonly train: Dataset.Series; readonly test: Dataset.Series } => {
  const options = chronologicalOptions(input)
  const n = s.values.length
  const nTest = checkFraction("chronological", options.testFraction ?? 0.2, n)
  const part = (from: number, to: number): Dataset.Series => {
    const values = s.values.slice(from, to)
    return { ...s, time: s.time.slice(from, to), values, missing: values.filter(Number.isNaN).length }
  }
  return { train: part(0, n - nTest), test: part(n - nTest, n) }
}
