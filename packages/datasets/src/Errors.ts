/**
 * The typed errors of @tunekit/datasets. Each names what was wrong and where.
 *
 * They are `Data.TaggedError`s, so they are also `Error`s: the synchronous loaders and models
 * throw them, and inside a study an objective that throws one fails its own trial only.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * A dataset is unusable: a NaN or infinite feature, a label out of range, rows of different
 * lengths, a file that does not parse.
 *
 * @example
 * import { Dataset } from "@tunekit/datasets"
 * Dataset.classification({ name: "toy", x: [[0], [1]], y: [0, 2], classNames: ["a", "b"] })
 * // throws InvalidDataset: "toy: label 2 at row 1 is outside 0..1"
 */
export class InvalidDataset extends Data.TaggedError("InvalidDataset")<{
  readonly dataset: string
  readonly reason: string
}> {
  override get message() {
    return `${this.dataset}: ${this.reason}`
  }
}

/**
 * A split or cross-validation scheme cannot be made: more folds than rows, a test fraction
 * outside (0, 1), fewer than two folds.
 *
 * @example
 * import { CrossValidation } from "@tunekit/datasets"
 * CrossValidation.kFold(3, { k: 5 }) // throws InvalidSplit: "kFold: k (5) must be at most the number of rows (3)"
 */
export class InvalidSplit extends Data.TaggedError("InvalidSplit")<{
  readonly split: string
  readonly reason: string
}> {
  override get message() {
    return `${this.split}: ${this.reason}`
  }
}

/**
 * A model config is impossible: zero trees, a depth below one, a learning rate outside (0, 1].
 *
 * @example
 * import { RandomForest } from "@tunekit/datasets"
 * RandomForest.validate({ nEstimators: 0 }) // throws InvalidModelConfig: "randomForest.nEstimators: must be an integer >= 1, got 0"
 */
export class InvalidModelConfig extends Data.TaggedError("InvalidModelConfig")<{
  readonly model: string
  readonly param: string
  readonly reason: string
}> {
  override get message() {
    return `${this.model}.${this.param}: ${this.reason}`
  }
}

/**
 * Training a model failed inside its library (for gradient boosting: inside the XGBoost
 * WebAssembly module). The model's memory has been released.
 *
 * @example
 * import { Boosting, Iris } from "@tunekit/datasets"
 * await Boosting.score(Iris.load(), Iris.load(), { params: { objective: "no:such" } })
 * // rejects with TrainingFailed: "boosting: training failed: XGBoost failed while training: ... Unknown objective function no:such"
 */
export class TrainingFailed extends Data.TaggedError("TrainingFailed")<{
  readonly model: string
  readonly reason: string
  readonly cause?: unknown
}> {
  override get message() {
    return `${this.model}: training failed: ${this.reason}`
  }
}
