/**
 * Standardization (zero mean, unit variance per feature), fitted on the training part only: the
 * test part is transformed with the training part's statistics, so nothing about it leaks into
 * training.
 *
 * @example
 * import { BreastCancer, Scaler, Split } from "@tunekit/datasets"
 * const { train, test } = Scaler.standardize(Split.holdout(BreastCancer.load(), { seed: 1 }))
 *
 * @since 0.1.0
 */
import type * as Dataset from "./Dataset.js"
import { InvalidDataset } from "./Errors.js"

/** A fitted standardizer. */
export interface Scaler {
  /** Per-feature means of the data it was fitted on. */
  readonly mean: ReadonlyArray<number>
  /** Per-feature standard deviations (population), 1 where a feature is constant. */
  readonly scale: ReadonlyArray<number>
  readonly transform: (x: Dataset.Matrix) => Array<Array<number>>
  readonly inverse: (x: Dataset.Matrix) => Array<Array<number>>
}

/**
 * Fits a standardizer on rows. A constant feature gets scale 1 (as scikit-learn), so it maps to 0
 * rather than NaN.
 *
 * @example
 * import { Scaler } from "@tunekit/datasets"
 * const s = Scaler.fit([[1, 10], [3, 10]])
 * s.transform([[2, 10]]) // [[0, 0]]
 */
export const fit = (x: Dataset.Matrix): Scaler => {
  if (x.length === 0) throw new InvalidDataset({ dataset: "scaler", reason: "cannot fit on zero rows" })
  const d = x[0].length
  const mean = new Array<number>(d).fill(0)
  const scale = new Array<number>(d).fill(0)
  for (const row of x) for (let j = 0; j < d; j++) mean[j] += row[j] / x.length
  for (const row of x) for (let j = 0; j < d; j++) scale[j] += (row[j] - mean[j]) ** 2 / x.length
  for (let j = 0; j < d; j++) {
    const s = Math.sqrt(scale[j])
    scale[j] = s > 1e-12 * Math.max(1, Math.abs(mean[j])) ? s : 1
  }
  const check = (m: Dataset.Matrix) => {
    m.forEach((row, i) => {
      if (row.length !== d) throw new InvalidDataset({ dataset: "scaler", reason: `row ${i} has ${row.length} features, the scaler was fitted on ${d}` })
    })
  }
  return {
    mean,
    scale,
    transform: (m) => {
      check(m)
      return m.map((row) => row.map((v, j) => (v - mean[j]) / scale[j]))
    },
    inverse: (m) => {
      check(m)
      return m.map((row) => row.map((v, j) => v * scale[j] + mean[j]))
    }
  }
}

/**
 * Standardizes both parts of a split with a scaler fitted on the training part only.
 *
 * @example
 * import { Scaler, Split, Wine } from "@tunekit/datasets"
 * const { train, test, scaler } = Scaler.standardize(Split.holdout(Wine.load(), { seed: 2, stratify: true }))
 */
export const standardize = <D extends Dataset.Tabular>(split: { readonly train: D; readonly test: D }): {
  readonly train: D
  readonly test: D
  readonly scaler: Scaler
} => {
  const scaler = fit(split.train.x)
  return {
    train: { ...split.train, x: scaler.transform(split.train.x) },
    test: { ...split.test, x: scaler.transform(split.test.x) },
    scaler
  }
}

/** A fitted standardizer of one series of values (a target, a time series). */
export interface ValueScaler {
  readonly mean: number
  readonly scale: number
  readonly transform: (values: ReadonlyArray<number>) => Array<number>
  readonly inverse: (values: ReadonlyArray<number>) => Array<number>
}

/**
 * Fits a standardizer of single values (a regression target, a series' training part); NaN
 * values (missing) are skipped when fitting and stay NaN.
 *
 * @example
 * import { Scaler, Split, Sunspots } from "@tunekit/datasets"
 * const { train } = Split.chronological(Sunspots.load())
 * const s = Scaler.fitValues(train.values)
 */
export const fitValues = (values: ReadonlyArray<number>): ValueScaler => {
  const seen = values.filter((v) => !Number.isNaN(v))
  if (seen.length === 0) throw new InvalidDataset({ dataset: "scaler", reason: "cannot fit on no (non-missing) values" })
  const s = fit(seen.map((v) => [v]))
  const mean = s.mean[0]
  const scale = s.scale[0]
  return {
    mean,
    scale,
    transform: (vs) => vs.map((v) => (v - mean) / scale),
    inverse: (vs) => vs.map((v) => v * scale + mean)
  }
}
