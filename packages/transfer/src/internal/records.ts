// The transfer database's values and their Schemas: what the SQLite layer keeps as JSON text is
// decoded through these, so that a corrupt row is an error naming the task and the field.
import { Either, Schema } from "effect"
import { Distribution, Options } from "@tunekit/core"

export const Tags = Schema.Array(Schema.String)
export const MetaFeaturesSchema = Schema.Record({ key: Schema.String, value: Schema.Number })
export const SpaceSchema = Schema.Record({ key: Schema.String, value: Distribution.DistributionSchema })
export const TrialRecordSchema = Schema.Struct({
  params: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  value: Schema.Number,
  state: Schema.Literal("Complete", "Pruned")
})
export const TrialsSchema = Schema.Array(TrialRecordSchema)

/** A task as stored. */
export interface Task {
  readonly name: string
  readonly tags: ReadonlyArray<string>
  /** The meta-features of its dataset (`MetaFeatures.describe`), when known. */
  readonly metaFeatures: Readonly<Record<string, number>> | undefined
  readonly createdAt: number
}

/** One trial of a recorded study: its external parameter values and its objective value. */
export type TrialRecord = typeof TrialRecordSchema.Type

/** A study tuned on a task, as the transfer database keeps it. */
export interface StudyRecord {
  readonly task: string
  /** The study's name ("manual" and the like for configs saved by hand). */
  readonly study: string
  readonly direction: "minimize" | "maximize"
  readonly metric: string
  /** The distributions of its parameters, by name. */
  readonly space: Readonly<Record<string, Distribution.Distribution>>
  /** Its complete (and pruned-with-a-value) trials, in order. */
  readonly trials: ReadonlyArray<TrialRecord>
  readonly recordedAt: number
}

/** A task's row as the SQL layers keep it (JSON columns as text). */
export interface TaskRow {
  readonly name: string
  readonly tags: string
  readonly meta_features: string | null
  readonly created_at: number | string
}

/** A study's row as the SQL layers keep it. */
export interface StudyRow {
  readonly task: string
  readonly study: string
  readonly direction: string
  readonly metric: string
  readonly space: string
  readonly trials: string
  readonly recorded_at: number | string
}

/** Parses and decodes a JSON column; throws naming where and which field. */
export const reader = <A, I>(column: string, schema: Schema.Schema<A, I, never>) => {
  const decode = Options.decodeEither(Schema.parseJson(schema))
  return (text: string, where: string): A =>
    Either.getOrThrowWith(decode(text), (p) => new Error(`${where} is corrupt: ${Options.format(Options.within(column, p))}`))
}

const readTags = reader("tags", Tags)
const readMeta = reader("metaFeatures", MetaFeaturesSchema)
const readSpace = reader("space", SpaceSchema)
const readTrials = reader("trials", TrialsSchema)

/** A task from its row, its JSON decoded through the Schemas; throws naming the task and field. */
export const taskFromRow = (r: TaskRow): Task => ({
  name: r.name,
  tags: readTags(r.tags, `task ${r.name}`),
  metaFeatures: r.meta_features === null ? undefined : readMeta(r.meta_features, `task ${r.name}`),
  createdAt: Number(r.created_at)
})

/** A study record from its row; throws naming the study, its task and the field. */
export const studyFromRow = (r: StudyRow): StudyRecord => ({
  task: r.task,
  study: r.study,
  direction: r.direction === "maximize" ? "maximize" : "minimize",
  metric: r.metric,
  space: readSpace(r.space, `study ${r.study} of task ${r.task}`) as Readonly<Record<string, Distribution.Distribution>>,
  trials: readTrials(r.trials, `study ${r.study} of task ${r.task}`),
  recordedAt: Number(r.recorded_at)
})
