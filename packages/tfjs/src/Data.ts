/**
 * Data for trainers: plain typed arrays with shapes, validated before any tensor exists, so that a
 * dataset with NaN or a label out of range fails its trial with a clear error instead of a NaN loss.
 *
 * @example
 * import { Data } from "@tunekit/tfjs"
 *
 * const xor = Data.make({ x: [[0, 0], [0, 1], [1, 0], [1, 1]], y: [0, 1, 1, 0] })
 * const task: Data.Task = { kind: "classification", classes: 2 }
 * Data.validate(xor, task, "train") // undefined: fine
 *
 * @since 0.1.0
 */
import { Options } from "@tunekit/core"
import { Either, Schema } from "effect"
import { InvalidData } from "./Errors.js"

/** Samples with their targets. `x` holds `n * prod(inputShape)` values, `y` holds `n * targets`. */
export interface Dataset {
  readonly x: Float32Array
  readonly y: Float32Array
  /** The shape of one sample: `[64]` for flat digits, `[8, 8, 1]` for images, `[steps, 1]` for series, `[tokens]` for text. */
  readonly inputShape: ReadonlyArray<number>
  /** Values per target: 1 for class labels and single-output regression. */
  readonly targets: number
  readonly n: number
}

/** What is learned: classes (labels 0..classes-1 in `y`) or real targets. */
export type Task =
  | { readonly kind: "classification"; readonly classes: number }
  | { readonly kind: "regression" }

/**
 * The Schema of a task, and its JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Data } from "@tunekit/tfjs"
 * Options.decodeEither(Data.TaskSchema)({ kind: "classification", classes: 1 }) // Left: classes: expected an integer >= 2, got 1
 */
export const TaskSchema: Schema.Schema<Task> = Schema.Union(
  Schema.Struct({ kind: Schema.Literal("classification"), classes: Options.number({ int: true, min: 2 }) }),
  Schema.Struct({ kind: Schema.Literal("regression") })
)

/**
 * The Schema of a dataset's form (its arrays, shape and counts; `validate` checks the values
 * against each other and the task). Other keys a dataset object carries are left alone.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Data } from "@tunekit/tfjs"
 * Options.decodeEither(Data.DatasetSchema)({ x: new Float32Array(4), y: new Float32Array(2), inputShape: [2, 0], targets: 1, n: 2 }) // Left: inputShape[1]: ...
 */
export const DatasetSchema: Schema.Schema<Dataset> = Schema.Struct({
  x: Options.instance((u): u is Float32Array => u instanceof Float32Array, "a Float32Array of features"),
  y: Options.instance((u): u is Float32Array => u instanceof Float32Array, "a Float32Array of targets"),
  inputShape: Schema.Array(Options.PositiveInt),
  targets: Options.PositiveInt,
  n: Options.number({ int: true, above: 0 }, "at least one sample")
}).annotations({ parseOptions: { onExcessProperty: "ignore" } })

const decodeDataset = Options.decodeEither(DatasetSchema)

/**
 * A dataset from nested arrays (rows of features, and labels or target rows).
 *
 * @example
 * import { Data } from "@tunekit/tfjs"
 * const d = Data.make({ x: [[1, 2], [3, 4]], y: [0, 1] })
 * d.n // 2
 */
export const make = (rows: {
  readonly x: ReadonlyArray<ReadonlyArray<number>>
  readonly y: ReadonlyArray<number> | ReadonlyArray<ReadonlyArray<number>>
  readonly inputShape?: ReadonlyArray<number>
}): Dataset => {
  const n = rows.x.length
  const width = n === 0 ? 0 : rows.x[0].length
  const x = new Float32Array(n * width)
  rows.x.forEach((r, i) => x.set(r, i * width))
  const targets = n === 0 ? 1 : Array.isArray(rows.y[0]) ? (rows.y[0] as ReadonlyArray<number>).length : 1
  const y = new Float32Array(n * targets)
  rows.y.forEach((v, i) => (Array.isArray(v) ? y.set(v, i * targets) : (y[i] = v as number)))
  return { x, y, inputShape: rows.inputShape ?? [width], targets, n }
}

/**
 * A dataset from flat arrays.
 *
 * @example
 * import { Data } from "@tunekit/tfjs"
 * const d = Data.fromArrays(new Float32Array([1, 2, 3, 4]), new Float32Array([0, 1]), [2])
 */
export const fromArrays = (
  x: Float32Array | ReadonlyArray<number>,
  y: Float32Array | ReadonlyArray<number>,
  inputShape: ReadonlyArray<number>,
  targets = 1
): Dataset => {
  const xs = x instanceof Float32Array ? x : Float32Array.from(x)
  const ys = y instanceof Float32Array ? y : Float32Array.from(y)
  return { x: xs, y: ys, inputShape, targets, n: Math.floor(ys.length / targets) }
}

/**
 * The number of values in one sample.
 *
 * @example
 * import { Data } from "@tunekit/tfjs"
 * declare const images: Data.Dataset // inputShape [8, 8, 1]
 * Data.sampleSize(images) // 64
 */
export const sampleSize = (d: Dataset): number => d.inputShape.reduce((a, b) => a * b, 1)

/**
 * The rows at the given indices, as a new dataset (for subsets, folds and data fractions).
 *
 * @example
 * import { Data } from "@tunekit/tfjs"
 * declare const d: Data.Dataset
 * const firstHalf = Data.take(d, Array.from({ length: d.n >> 1 }, (_, i) => i))
 */
export const take = (d: Dataset, indices: ReadonlyArray<number>): Dataset => {
  const s = sampleSize(d)
  const x = new Float32Array(indices.length * s)
  const y = new Float32Array(indices.length * d.targets)
  indices.forEach((r, i) => {
    x.set(d.x.subarray(r * s, (r + 1) * s), i * s)
    y.set(d.y.subarray(r * d.targets, (r + 1) * d.targets), i * d.targets)
  })
  return { x, y, inputShape: d.inputShape, targets: d.targets, n: indices.length }
}

/**
 * Why a dataset cannot be trained on for a task, or undefined when it can: shapes, NaN or
 * infinite values, labels that are not integers in range.
 *
 * @example
 * import { Data } from "@tunekit/tfjs"
 * const bad = Data.make({ x: [[NaN, 1]], y: [0] })
 * Data.validate(bad, { kind: "classification", classes: 2 }, "train") // InvalidData: "feature 0 of row 0 is NaN"
 */
export const validate = (d: Dataset, task: Task, name: string): InvalidData | undefined => {
  const fail = (reason: string) => new InvalidData({ dataset: name, reason })
  const form = decodeDataset(d)
  if (Either.isLeft(form)) return fail(Options.format(form.left))
  const s = sampleSize(d)
  if (d.x.length !== d.n * s) return fail(`x holds ${d.x.length} values, expected ${d.n} samples of ${s}`)
  if (d.y.length !== d.n * d.targets) return fail(`y holds ${d.y.length} values, expected ${d.n} samples of ${d.targets}`)
  for (let i = 0; i < d.x.length; i++) {
    if (!Number.isFinite(d.x[i])) return fail(`feature ${i % s} of row ${Math.floor(i / s)} is ${d.x[i]}`)
  }
  if (task.kind === "classification") {
    if (!Number.isInteger(task.classes) || task.classes < 2) return fail(`a classification needs at least 2 classes, got ${task.classes}`)
    if (d.targets !== 1) return fail(`a classification takes one label a sample, got ${d.targets}`)
    for (let i = 0; i < d.n; i++) {
      const v = d.y[i]
      if (!Number.isInteger(v) || v < 0 || v >= task.classes) return fail(`label ${v} at row ${i} is not an integer in [0, ${task.classes})`)
    }
  } else {
    for (let i = 0; i < d.y.length; i++) {
      if (!Number.isFinite(d.y[i])) return fail(`target ${i % d.targets} of row ${Math.floor(i / d.targets)} is ${d.y[i]}`)
    }
  }
  return undefined
}
