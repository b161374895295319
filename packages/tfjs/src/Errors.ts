/**
 * The typed errors of @tunekit/tfjs. Each names what was wrong and where, so that a trial that
 * fails on one of them fails alone, with a reason a person can act on.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * A backend could not be loaded: its package is missing (the native ones are optional peer
 * dependencies) or it failed to initialize.
 *
 * @example
 * import { Errors } from "@tunekit/tfjs"
 * new Errors.BackendUnavailable({ backend: "tensorflow", install: "npm install @tensorflow/tfjs-node@4.22", reason: "not installed" })
 */
export class BackendUnavailable extends Data.TaggedError("BackendUnavailable")<{
  readonly backend: string
  readonly reason: string
  /** What to run to make it available, when installing a package would. */
  readonly install?: string | undefined
}> {
  override get message() {
    const hint = this.install === undefined ? "" : `; to use it, run: ${this.install}`
    return `the TensorFlow.js backend "${this.backend}" is unavailable: ${this.reason}${hint}`
  }
}

/**
 * A model config describes a model that cannot be built: zero units, heads that do not divide
 * the model width, a dropout outside [0, 1), a kernel larger than the image...
 *
 * @example
 * import { Errors } from "@tunekit/tfjs"
 * new Errors.InvalidModel({ model: "transformer", field: "heads", reason: "3 heads do not divide the model width 64" })
 */
export class InvalidModel extends Data.TaggedError("InvalidModel")<{
  readonly model: string
  readonly field: string
  readonly reason: string
}> {
  override get message() {
    return `invalid ${this.model} model: ${this.field}: ${this.reason}`
  }
}

/**
 * The data cannot be trained on: NaN or infinite values, labels out of range, shapes that do not
 * match.
 *
 * @example
 * import { Errors } from "@tunekit/tfjs"
 * new Errors.InvalidData({ dataset: "train", reason: "label 12 at row 4 is outside [0, 10)" })
 */
export class InvalidData extends Data.TaggedError("InvalidData")<{
  readonly dataset: string
  readonly reason: string
}> {
  override get message() {
    return `invalid ${this.dataset} data: ${this.reason}`
  }
}

/**
 * A training setting is invalid (a negative learning rate, a batch size of 0, an unknown loss)
 * or does not fit the task (cross-entropy on a regression).
 *
 * @example
 * import { Errors } from "@tunekit/tfjs"
 * new Errors.InvalidTraining({ field: "batchSize", reason: "must be a positive integer, got 0" })
 */
export class InvalidTraining extends Data.TaggedError("InvalidTraining")<{
  readonly field: string
  readonly reason: string
}> {
  override get message() {
    return `invalid training setting: ${this.field}: ${this.reason}`
  }
}

/**
 * Training diverged: the loss became NaN or infinite at an epoch and batch.
 *
 * @example
 * import { Errors } from "@tunekit/tfjs"
 * new Errors.TrainingDiverged({ epoch: 3, batch: 10, loss: NaN })
 */
export class TrainingDiverged extends Data.TaggedError("TrainingDiverged")<{
  readonly epoch: number
  readonly batch: number
  readonly loss: number
}> {
  override get message() {
    return `training diverged: the loss is ${this.loss} at epoch ${this.epoch}, batch ${this.batch}`
  }
}

/**
 * A checkpoint could not be read back into a model: different weights, shapes or optimizer.
 *
 * @example
 * import { Errors } from "@tunekit/tfjs"
 * new Errors.CheckpointMismatch({ reason: "the checkpoint holds 4 weights, the model has 6" })
 */
export class CheckpointMismatch extends Data.TaggedError("CheckpointMismatch")<{
  readonly reason: string
}> {
  override get message() {
    return `the checkpoint does not fit this model: ${this.reason}`
  }
}
