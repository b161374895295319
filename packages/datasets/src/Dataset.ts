/**
 * Dataset values: tabular classification and regression data, time series and labelled texts.
 *
 * Rows are plain arrays (`x[i][j]` is feature `j` of row `i`), which every JavaScript ML library
 * accepts (ml-random-forest, ml-cart, ml-xgboost, `tf.tensor2d`). The constructors check what
 * training would otherwise silently get wrong (NaN features, labels out of range, ragged rows) and
 * throw `InvalidDataset` naming the dataset, the row and the column.
 *
 * @example
 * import { Dataset } from "@tunekit/datasets"
 * const toy = Dataset.classification({ name: "toy", x: [[0, 1], [1, 0]], y: [0, 1], classNames: ["no", "yes"] })
 * toy.x.length // 2
 *
 * @since 0.1.0
 */
import { Options } from "@tunekit/core"
import { Schema } from "effect"
import { InvalidDataset } from "./Errors.js"
import { decoder } from "./internal/decode.js"

/** Rows of features: `x[i][j]` is feature `j` of row `i`. */
export type Matrix = ReadonlyArray<ReadonlyArray<number>>

/** A classification dataset: labels are class indices `0 .. classNames.length - 1`. */
export interface Classification {
  readonly _tag: "Classification"
  readonly name: string
  readonly x: Matrix
  /** Class indices, one a row. */
  readonly y: ReadonlyArray<number>
  readonly featureNames: ReadonlyArray<string>
  readonly classNames: ReadonlyArray<string>
}

/** A regression dataset: one finite target a row. */
export interface Regression {
  readonly _tag: "Regression"
  readonly name: string
  readonly x: Matrix
  readonly y: ReadonlyArray<number>
  readonly featureNames: ReadonlyArray<string>
  readonly targetName: string
}

/** Tabular data: classification or regression. */
export type Tabular = Classification | Regression

/** A univariate time series, in time order. Missing observations are NaN. */
export interface Series {
  readonly _tag: "Series"
  readonly name: string
  /** The time of each observation (a year, or a date as YYYYMMDD), increasing. */
  readonly time: ReadonlyArray<number>
  /** The observations; NaN where one is missing. */
  readonly values: ReadonlyArray<number>
  readonly timeName: string
  readonly valueName: string
  /** How many observations are missing (NaN). */
  readonly missing: number
}

/** Labelled texts: labels are class indices `0 .. classNames.length - 1`. */
export interface Text {
  readonly _tag: "Text"
  readonly name: string
  readonly texts: ReadonlyArray<string>
  readonly y: ReadonlyArray<number>
  readonly classNames: ReadonlyArray<string>
}

/** Any dataset whose rows can be split (everything but a series). */
export type Rows = Classification | Regression | Text

const fail = (dataset: string, reason: string): never => {
  throw new InvalidDataset({ dataset, reason })
}

const checkMatrix = (name: string, x: Matrix, rows: number, featureNames: ReadonlyArray<string> | undefined): number => {
  if (x.length === 0) fail(name, "it has no rows")
  if (x.length !== rows) fail(name, `x has ${x.length} rows but y has ${rows} labels`)
  const d = x[0].length
  if (d === 0) fail(name, "rows have no features")
  if (featureNames !== undefined && featureNames.length !== d) fail(name, `${featureNames.length} feature names for ${d} features`)
  for (let i = 0; i < x.length; i++) {
    const row = x[i]
    if (row.length !== d) fail(name, `row ${i} has ${row.length} features, row 0 has ${d}`)
    for (let j = 0; j < d; j++) {
      const v = row[j]
      if (typeof v !== "number" || !Number.isFinite(v)) {
        fail(name, `feature ${featureNames?.[j] ?? j} of row ${i} is ${String(v)}, not a finite number`)
      }
    }
  }
  return d
}

const checkLabels = (name: string, y: ReadonlyArray<number>, classes: number) => {
  if (classes < 2) fail(name, `a classification needs at least 2 classes, got ${classes}`)
  for (let i = 0; i < y.length; i++) {
    const v = y[i]
    if (!Number.isInteger(v) || v < 0 || v >= classes) {
      fail(name, `label ${String(v)} at row ${i} is outside 0..${classes - 1} (labels are class indices)`)
    }
  }
}

const defaultNames = (d: number) => Array.from({ length: d }, (_, j) => `x${j}`)

/**
 * A checked classification dataset. Throws `InvalidDataset` on NaN or infinite features, ragged
 * rows, or labels that are not class indices.
 *
 * @example
 * import { Dataset } from "@tunekit/datasets"
 * const ds = Dataset.classification({ name: "xor", x: [[0, 0], [0, 1], [1, 0], [1, 1]], y: [0, 1, 1, 0], classNames: ["off", "on"] })
 */
export const classification = (input: {
  readonly name: string
  readonly x: Matrix
  readonly y: ReadonlyArray<number>
  readonly classNames: ReadonlyArray<string>
  readonly featureNames?: ReadonlyArray<string>
}): Classification => {
  const d = checkMatrix(input.name, input.x, input.y.length, input.featureNames)
  checkLabels(input.name, input.y, input.classNames.length)
  return {
    _tag: "Classification",
    name: input.name,
    x: input.x,
    y: input.y,
    featureNames: input.featureNames ?? defaultNames(d),
    classNames: input.classNames
  }
}

/**
 * A checked regression dataset. Throws `InvalidDataset` on NaN or infinite features or targets,
 * or ragged rows.
 *
 * @example
 * import { Dataset } from "@tunekit/datasets"
 * const ds = Dataset.regression({ name: "line", x: [[0], [1], [2]], y: [1, 3, 5] })
 */
export const regression = (input: {
  readonly name: string
  readonly x: Matrix
  readonly y: ReadonlyArray<number>
  readonly featureNames?: ReadonlyArray<string>
  readonly targetName?: string
}): Regression => {
  const d = checkMatrix(input.name, input.x, input.y.length, input.featureNames)
  input.y.forEach((v, i) => {
    if (typeof v !== "number" || !Number.isFinite(v)) fail(input.name, `target of row ${i} is ${String(v)}, not a finite number`)
  })
  return {
    _tag: "Regression",
    name: input.name,
    x: input.x,
    y: input.y,
    featureNames: input.featureNames ?? defaultNames(d),
    targetName: input.targetName ?? "target"
  }
}

/**
 * A checked time series: times increasing and finite, values finite or NaN (missing). Throws
 * `InvalidDataset` otherwise.
 *
 * @example
 * import { Dataset } from "@tunekit/datasets"
 * const s = Dataset.series({ name: "counts", time: [1, 2, 3], values: [5, NaN, 7] })
 * s.missing // 1
 */
export const series = (input: {
  readonly name: string
  readonly time: ReadonlyArray<number>
  readonly values: ReadonlyArray<number>
  readonly timeName?: string
  readonly valueName?: string
}): Series => {
  const { name, time, values } = input
  if (values.length === 0) fail(name, "it has no observations")
  if (time.length !== values.length) fail(name, `${time.length} times for ${values.length} values`)
  let missing = 0
  for (let i = 0; i < time.length; i++) {
    if (!Number.isFinite(time[i])) fail(name, `time ${i} is ${String(time[i])}, not a finite number`)
    if (i > 0 && !(time[i] > time[i - 1])) fail(name, `times must increase, but time ${i} (${time[i]}) follows ${time[i - 1]}`)
    const v = values[i]
    if (Number.isNaN(v)) missing++
    else if (typeof v !== "number" || !Number.isFinite(v)) fail(name, `value at time ${time[i]} is ${String(v)} (missing values are NaN)`)
  }
  return { _tag: "Series", name, time, values, timeName: input.timeName ?? "time", valueName: input.valueName ?? "value", missing }
}

/**
 * A checked text classification dataset.
 *
 * @example
 * import { Dataset } from "@tunekit/datasets"
 * const t = Dataset.text({ name: "mail", texts: ["win money now", "lunch at noon?"], y: [1, 0], classNames: ["ham", "spam"] })
 */
export const text = (input: {
  readonly name: string
  readonly texts: ReadonlyArray<string>
  readonly y: ReadonlyArray<number>
  readonly classNames: ReadonlyArray<string>
}): Text => {
  if (input.texts.length === 0) fail(input.name, "it has no texts")
  if (input.texts.length !== input.y.length) fail(input.name, `${input.texts.length} texts for ${input.y.length} labels`)
  input.texts.forEach((t, i) => {
    if (typeof t !== "string") fail(input.name, `text ${i} is ${typeof t}, not a string`)
  })
  checkLabels(input.name, input.y, input.classNames.length)
  return { _tag: "Text", name: input.name, texts: input.texts, y: input.y, classNames: input.classNames }
}

/**
 * The rows of a dataset at the given indices, in that order (no copy of the rows themselves).
 *
 * @example
 * import { Dataset, Iris } from "@tunekit/datasets"
 * const firstTen = Dataset.subset(Iris.load(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
 */
export const subset = <D extends Rows>(ds: D, indices: ReadonlyArray<number>): D => {
  const n = size(ds)
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= n) fail(ds.name, `subset index ${i} is outside 0..${n - 1}`)
  }
  const y = indices.map((i) => ds.y[i])
  if (ds._tag === "Text") return { ...ds, texts: indices.map((i) => ds.texts[i]), y }
  return { ...ds, x: indices.map((i) => ds.x[i]), y }
}

/**
 * The number of rows (or texts, or observations).
 *
 * @example
 * import { Dataset, Wine } from "@tunekit/datasets"
 * Dataset.size(Wine.load()) // 178
 */
export const size = (ds: Rows | Series): number => ds._tag === "Text" ? ds.texts.length : ds._tag === "Series" ? ds.values.length : ds.x.length

/**
 * How many rows each class has, indexed by class.
 *
 * @example
 * import { Dataset, Iris } from "@tunekit/datasets"
 * Dataset.classCounts(Iris.load()) // [50, 50, 50]
 */
export const classCounts = (ds: Classification | Text): ReadonlyArray<number> => {
  const counts = new Array<number>(ds.classNames.length).fill(0)
  for (const c of ds.y) counts[c]++
  return counts
}

/**
 * Fills the missing (NaN) values of a series: `"linear"` interpolates between the neighbours
 * (the ends take the nearest observed value), `"previous"` carries the last observation forward
 * (no look-ahead; a leading gap takes the first observed value). Interpolation is by position:
 * a series is expected to keep a row, with NaN, for each missing observation.
 *
 * @example
 * import { Co2, Dataset } from "@tunekit/datasets"
 * const filled = Dataset.fillMissing(Co2.load(), "linear")
 * filled.missing // 0
 */
export const fillMissing = (s: Series, method: "linear" | "previous" = "linear"): Series => {
  const v = [...s.values]
  const observed = v.map((x, i) => (Number.isNaN(x) ? -1 : i)).filter((i) => i >= 0)
  if (observed.length === 0) fail(s.name, "every value is missing; nothing to fill from")
  let k = 0
  for (let i = 0; i < v.length; i++) {
    if (!Number.isNaN(v[i])) continue
    while (k < observed.length && observed[k] < i) k++
    const before = k > 0 ? observed[k - 1] : undefined
    const after = k < observed.length ? observed[k] : undefined
    if (method === "previous" || after === undefined) v[i] = v[before ?? after!]
    else if (before === undefined) v[i] = v[after]
    else {
      // By position: a missing observation keeps its row, so rows are evenly spaced in time
      // (and dates as YYYYMMDD are not linear in time).
      const w = (i - before) / (after - before)
      v[i] = v[before] + w * (v[after] - v[before])
    }
  }
  return { ...s, values: v, missing: 0 }
}

/** Options of `windows`. */
export interface WindowOptions {
  /** Values in each window (the row's features); >= 1. */
  readonly length: number
  /** How many steps after the window's last value the target is; >= 1, default 1. */
  readonly horizon?: number
}

/**
 * The Schema of `windows`'s options, and their JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Dataset } from "@tunekit/datasets"
 * Options.jsonSchema(Dataset.WindowOptionsSchema)
 */
export const WindowOptionsSchema: Schema.Schema<WindowOptions> = Schema.Struct({
  length: Options.PositiveInt,
  horizon: Schema.optional(Options.PositiveInt)
})

/**
 * Sliding windows over a series, for sequence models: each row holds `length` consecutive values
 * and its target is the value `horizon` steps after the window's last one (default 1). Throws
 * `InvalidDataset` when a window touches a missing value (fill them first) or the series is too
 * short.
 *
 * @example
 * import { Dataset, Sunspots } from "@tunekit/datasets"
 * const w = Dataset.windows(Sunspots.load(), { length: 12 })
 * w.x[0].length // 12
 */
export const windows = (s: Series, input: WindowOptions): Regression => {
  const { horizon = 1, length } = decoder(WindowOptionsSchema, (p) => new InvalidDataset({ dataset: s.name, reason: Options.format(p) }))(input)
  const count = s.values.length - length - horizon + 1
  if (count < 1) fail(s.name, `${s.values.length} values are too few for windows of ${length} and a horizon of ${horizon}`)
  if (s.missing > 0) fail(s.name, `${s.missing} values are missing; fill them first (Dataset.fillMissing)`)
  const x: Array<ReadonlyArray<number>> = []
  const y: Array<number> = []
  for (let i = 0; i < count; i++) {
    x.push(s.values.slice(i, i + length))
    y.push(s.values[i + length + horizon - 1])
  }
  return {
    _tag: "Regression",
    name: `${s.name}-windows`,
    x,
    y,
    featureNames: Array.from({ length }, (_, j) => `t-${length - j}`),
    targetName: `t+${horizon - 1}`
  }
}

/**
 * The rows as one row-major `Float32Array`, for `tf.tensor2d(flat, [rows, cols])`.
 *
 * @example
 * import { Dataset, Iris } from "@tunekit/datasets"
 * const flat = Dataset.toFloat32(Iris.load().x) // length 600
 */
export const toFloat32 = (x: Matrix): Float32Array => {
  const d = x.length === 0 ? 0 : x[0].length
  const out = new Float32Array(x.length * d)
  for (let i = 0; i < x.length; i++) out.set(x[i], i * d)
  return out
}
