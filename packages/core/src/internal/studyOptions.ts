// The data fields of `Study.open` and `Study.optimize` options, described once as Schemas (their
// JSON Schema is what a sweep file of study options follows) and decoded through them. Fields
// that are code (space, objective, enqueue, callbacks) are checked where they are used; here they
// pass through untouched, as do fields this module does not know.
import { Duration, Effect, Option, Schema } from "effect"
import type { InvalidOptions } from "../Errors.js"
import * as Options from "../Options.js"
import type { Direction } from "../Trial.js"

const DirectionSchema = Options.literals("minimize", "maximize")

const DurationSchema: Schema.Schema<Duration.DurationInput> = Schema.declare(
  (u: unknown): u is Duration.DurationInput => {
    // Finite: a study without a timeout leaves the option out.
    if (typeof u === "number") return u > 0 && Number.isFinite(u)
    if (typeof u === "string" && u.trim().startsWith("-")) return false
    // Milliseconds, a string or a Duration, as the JSON Schema below says (not Effect's [s, ns] pair).
    if (typeof u !== "string" && !Duration.isDuration(u)) return false
    const d = Duration.decodeUnknown(u)
    return Option.isSome(d) && Duration.isFinite(d.value) && Duration.greaterThan(d.value, Duration.zero)
  },
  {
    ...Options.expecting("a duration > 0 (milliseconds, or a string such as \"10 minutes\")"),
    jsonSchema: {
      anyOf: [
        { type: "number", exclusiveMinimum: 0, description: "milliseconds" },
        { type: "string", pattern: "^\\s*\\d+(\\.\\d+)?\\s+(nano|micro|milli)?(second|minute|hour|day|week)s?\\s*$", description: "such as \"10 minutes\"" }
      ]
    }
  }
)

const openFields = {
  /** The study's name. */
  study: Options.NonEmptyString,
  direction: Schema.optional(DirectionSchema),
  directions: Schema.optional(Schema.Array(DirectionSchema).pipe(Schema.minItems(1, { message: () => "expected at least one direction" }))),
  metric: Schema.optional(Options.NonEmptyString),
  metrics: Schema.optional(Schema.Array(Options.NonEmptyString))
}

// Rules across fields, each reported at the field to change.
const objectiveRules = (o: {
  readonly direction?: Direction | undefined
  readonly directions?: ReadonlyArray<Direction> | undefined
  readonly metric?: string | undefined
  readonly metrics?: ReadonlyArray<string> | undefined
}) => {
  if (o.direction !== undefined && o.directions !== undefined) return { path: ["directions"], message: "give either direction or directions, not both" }
  if (o.metric !== undefined && o.metrics !== undefined) return { path: ["metrics"], message: "give either metric or metrics, not both" }
  const n = o.directions?.length ?? 1
  const metrics = o.metrics ?? (o.metric === undefined ? [] : [o.metric])
  if (metrics.length > 0 && metrics.length !== n) {
    return { path: [o.metrics === undefined ? "metric" : "metrics"], message: `${metrics.length} metrics named for ${n} directions` }
  }
  const twice = metrics.find((m, i) => metrics.indexOf(m) !== i)
  if (twice !== undefined) return { path: ["metrics"], message: `the metric ${JSON.stringify(twice)} is named twice` }
  return true
}

/**
 * The data fields of `Study.open` options: study name, direction(s), metric(s).
 */
export const OpenOptionsSchema = Schema.Struct(openFields).pipe(Schema.filter(objectiveRules))

/** Default heartbeat interval (Optuna has none by default; 20 s keeps storage writes rare). */
export const HEARTBEAT_INTERVAL = Duration.seconds(20)
/** Default grace period: a trial silent this long is failed (its worker is taken to be dead). */
export const HEARTBEAT_GRACE = Duration.minutes(5)

/**
 * The data fields of `Study.optimize` options: those of `open`, and the budget.
 */
export const OptimizeOptionsSchema = Schema.Struct({
  ...openFields,
  /** Configurations this call runs. */
  trials: Schema.optional(Options.NonNegativeInt),
  /** The step at which a trial has trained fully. */
  maxStep: Schema.optional(Options.NonNegative),
  /** No trial starts after this long. */
  timeout: Schema.optional(DurationSchema),
  /** A trial running longer than this is stopped and failed. */
  trialTimeout: Schema.optional(DurationSchema),
  /** Trials at once. */
  concurrency: Schema.optional(Options.PositiveInt),
  /** What one trial needs of the executor's resources (`{ cpu: 1, gpu: 0.5 }`). */
  resourcesPerTrial: Schema.optional(Schema.Record({ key: Schema.String, value: Options.NonNegative })),
  progress: Schema.optional(Options.Boolean),
  /** Failed trials run again as new trials with the same config. */
  retries: Schema.optional(Schema.Struct({
    /** Runs of one config after its first, at most. */
    max: Options.NonNegativeInt,
    /**
     * Also retry trials whose objective failed (threw, returned no number, ran past its timeout).
     * Default false: only trials whose worker died or stopped sending heartbeats.
     */
    onError: Schema.optional(Options.Boolean)
  })),
  /** How often a worker marks its trials alive, and how long after its last sign a trial is failed. */
  heartbeat: Schema.optional(
    Schema.Struct({ interval: Schema.optional(DurationSchema), grace: Schema.optional(DurationSchema) }).pipe(
      Schema.filter((h) => {
        const interval = Duration.toMillis(h.interval ?? HEARTBEAT_INTERVAL)
        const grace = Duration.toMillis(h.grace ?? HEARTBEAT_GRACE)
        return grace > 2 * interval || { path: ["grace"], message: `the grace period (${grace} ms) must be more than twice the interval (${interval} ms), or live trials would be failed` }
      })
    )
  )
}).pipe(Schema.filter(objectiveRules))

/** The objectives of a study, as `open` uses them: one direction each, and their metric names (none: "value"). */
export interface Objectives {
  readonly study: string
  readonly directions: ReadonlyArray<Direction>
  /** Empty, or one name per direction. */
  readonly metrics: ReadonlyArray<string>
}

/** The decoded data fields of `optimize`, with their defaults. */
export interface OptimizeData extends Objectives {
  readonly trials: number | undefined
  readonly maxStep: number | undefined
  readonly timeout: Duration.Duration | undefined
  readonly trialTimeout: Duration.Duration | undefined
  readonly concurrency: number
  readonly progress: boolean
  readonly retries: { readonly max: number; readonly onError: boolean } | undefined
  readonly heartbeatInterval: Duration.Duration
  readonly heartbeatGrace: Duration.Duration
}

const objectivesOf = (o: Schema.Schema.Type<typeof OpenOptionsSchema>): Objectives => ({
  study: o.study,
  directions: o.directions ?? [o.direction ?? "minimize"],
  metrics: o.metrics ?? (o.metric === undefined ? [] : [o.metric])
})

const decodeOpen = Options.decode(OpenOptionsSchema, { excess: "ignore" })
const decodeOptimize = Options.decode(OptimizeOptionsSchema, { excess: "ignore" })

/**
 * Decodes the data fields of `Study.open` options: `InvalidOptions` naming the field, or the
 * study's name, directions and metric names.
 *
 * @example
 * decodeOpenOptions({ study: "s", directions: ["minimize"], metrics: ["a", "b"] })
 * // fails: InvalidOptions "metrics: 2 metrics named for 1 directions"
 */
export const decodeOpenOptions = (options: unknown): Effect.Effect<Objectives, InvalidOptions> => Effect.map(decodeOpen(options), objectivesOf)

/**
 * Decodes the data fields of `Study.optimize` options: `InvalidOptions` naming the field, or
 * the values with their defaults (concurrency 1, no progress line).
 *
 * @example
 * decodeOptimizeOptions({ study: "s", objective: () => 1, concurrency: 0 })
 * // fails: InvalidOptions "concurrency: expected a positive integer, got 0"
 */
export const decodeOptimizeOptions = (options: unknown): Effect.Effect<OptimizeData, InvalidOptions> =>
  Effect.map(decodeOptimize(options), (o) => ({
    ...objectivesOf(o),
    trials: o.trials,
    maxStep: o.maxStep,
    timeout: o.timeout === undefined ? undefined : Duration.decode(o.timeout),
    trialTimeout: o.trialTimeout === undefined ? undefined : Duration.decode(o.trialTimeout),
    concurrency: o.concurrency ?? 1,
    progress: o.progress ?? false,
    retries: o.retries === undefined ? undefined : { max: o.retries.max, onError: o.retries.onError ?? false },
    heartbeatInterval: o.heartbeat?.interval === undefined ? HEARTBEAT_INTERVAL : Duration.decode(o.heartbeat.interval),
    heartbeatGrace: o.heartbeat?.grace === undefined ? HEARTBEAT_GRACE : Duration.decode(o.heartbeat.grace)
  }))
