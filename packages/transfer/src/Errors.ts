/**
 * The transfer database's errors.
 *
 * @since 0.2.0
 */
import { Data, Schema } from "effect"

/** Reading or writing the transfer database failed (it crosses storage, hence a Schema error). */
export class TransferError extends Schema.TaggedError<TransferError>()("TransferError", {
  operation: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `transfer database, ${this.operation}: ${this.reason}`
  }
}

/** No task of that name is in the transfer database. */
export class TaskNotFound extends Data.TaggedError("TaskNotFound")<{ readonly task: string }> {
  override get message() {
    return `no task named "${this.task}" in the transfer database`
  }
}

/** Similarity by meta-features needs them on the task (or a similarity function instead). */
export class NoMetaFeatures extends Data.TaggedError("NoMetaFeatures")<{ readonly task: string }> {
  override get message() {
    return `task "${this.task}" has no meta-features: save them (Transfer.describe(dataset)) or give a similarity function`
  }
}
