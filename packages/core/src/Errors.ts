/**
 * The typed errors of tunekit's core. Each names what was wrong and where.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * A search space or a distribution is invalid: bad bounds, a step that does not divide the range,
 * an empty categorical, a name reused with another distribution.
 *
 * @example
 * import { Space } from "@tunekit/core"
 * Space.float(1, 0) // throws InvalidSpace where it is written: "Space.float(1, 0): low (1) must be below high (0)"
 */
export class InvalidSpace extends Data.TaggedError("InvalidSpace")<{
  readonly param: string
  readonly reason: string
}> {
  override get message() {
    return `${this.param}: ${this.reason}`
  }
}

/** The storage failed: the database could not be opened, read or written. */
export class StorageError extends Data.TaggedError("StorageError")<{
  readonly operation: string
  readonly reason: string
  readonly cause?: unknown
}> {
  override get message() {
    return `storage ${this.operation} failed: ${this.reason}`
  }
}

/** No study by that name exists in the storage. */
export class StudyNotFound extends Data.TaggedError("StudyNotFound")<{
  readonly study: string
}> {
  override get message() {
    return `no study named "${this.study}" in this storage`
  }
}

/** The study exists with other directions or metric names than the ones asked for. */
export class StudyMismatch extends Data.TaggedError("StudyMismatch")<{
  readonly study: string
  readonly reason: string
}> {
  override get message() {
    return `study "${this.study}": ${this.reason}`
  }
}

/** A trial was asked to change after it finished, or does not exist. */
export class TrialStateError extends Data.TaggedError("TrialStateError")<{
  readonly trial: number
  readonly reason: string
}> {
  override get message() {
    return `trial ${this.trial}: ${this.reason}`
  }
}

/** Another worker took the same claim first (a grid point, a waiting trial). */
export class ClaimTaken extends Data.TaggedError("ClaimTaken")<{
  readonly claim: string
}> {}

/** A sampler cannot handle the search space it was given; raised when the study starts. */
export class SamplerUnsupported extends Data.TaggedError("SamplerUnsupported")<{
  readonly sampler: string
  readonly reason: string
}> {
  override get message() {
    return `${this.sampler} sampler: ${this.reason}`
  }
}

/** A scheduler was configured with invalid options; raised when the study starts. */
export class InvalidScheduler extends Data.TaggedError("InvalidScheduler")<{
  readonly scheduler: string
  readonly reason: string
}> {
  override get message() {
    return `${this.scheduler} scheduler: ${this.reason}`
  }
}

/**
 * Options given to `Study.optimize`, the facade or another tunekit function are invalid. `path`
 * names the field (`training.optimizer.learningRate`) when the problem is in one.
 *
 * @example
 * import { InvalidOptions } from "@tunekit/core"
 * new InvalidOptions({ path: "trials", reason: "expected an integer >= 0, got -1" }).message // "trials: expected an integer >= 0, got -1"
 */
export class InvalidOptions extends Data.TaggedError("InvalidOptions")<{
  readonly reason: string
  readonly path?: string | undefined
}> {
  override get message() {
    return this.path === undefined || this.path === "" ? this.reason : `${this.path}: ${this.reason}`
  }
}

/** A sampler failed while suggesting a trial's parameters (it threw: a bug, or an input it cannot handle). */
export class SamplerFailed extends Data.TaggedError("SamplerFailed")<{
  readonly sampler: string
  readonly trial: number | undefined
  readonly reason: string
  readonly cause?: unknown
}> {
  override get message() {
    return `${this.sampler} sampler failed${this.trial === undefined ? "" : ` on trial ${this.trial}`}: ${this.reason}`
  }
}

/** A metric stream's first report lacks an objective metric: the trial fails at once, naming what it has. */
export class MissingMetric extends Data.TaggedError("MissingMetric")<{
  readonly missing: ReadonlyArray<string>
  readonly reported: ReadonlyArray<string>
}> {
  override get message() {
    const has = this.reported.length === 0 ? "no metric" : this.reported.join(", ")
    return `the metric stream reports ${has} but not the objective's ${this.missing.join(", ")}`
  }
}
