/**
 * A tracker writing JSON lines: one file per study (`<directory>/<study>.jsonl`), one line per
 * event, appended as the study runs, so that `tail -f` follows it and any tool reads it. `read`
 * decodes a file back through the `Event` Schema. Artifacts are recorded by name, size and SHA-256
 * (their bytes belong to the built-in tracker or MLflow). Numbers JSON cannot hold (NaN,
 * Infinity) are written as the strings "NaN", "Infinity" and "-Infinity".
 *
 * @example
 * import { Effect } from "effect"
 * import { Study, Space } from "@tunekit/core"
 * import { JsonLines } from "@tunekit/tracking"
 *
 * const space = Space.struct({ x: Space.float(-1, 1) })
 * const program = Study.optimize({ study: "jsonl-demo", space, objective: (c) => c.x ** 2, trials: 5 }).pipe(
 *   Effect.provide(JsonLines.layer({ directory: "runs" })),
 *   Effect.provide(Study.layerDefaults({ seed: 1 }))
 * )
 *
 * @since 0.2.0
 */
import { Effect, Layer, Schema } from "effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { Tracker, Trial } from "@tunekit/core"
import type { Storage } from "@tunekit/core"
import { type Counter, counter, failed, report, snapshot } from "./internal/health.js"

/** A number as written: finite numbers as themselves, the others as strings. */
const JsonNumber = Schema.transform(
  Schema.Union(Schema.Number, Schema.Literal("NaN", "Infinity", "-Infinity")),
  Schema.Number,
  { strict: true, decode: (v) => (typeof v === "number" ? v : Number(v)), encode: (v) => (Number.isFinite(v) ? v : (String(v) as "NaN")) }
)
const Values = Schema.Record({ key: Schema.String, value: JsonNumber })
const base = { time: Schema.Number, study: Schema.String }
const trialBase = { ...base, trial: Schema.Int }

/**
 * One line of a study's file.
 *
 * @example
 * import { Schema } from "effect"
 * import { JsonLines } from "@tunekit/tracking"
 * Schema.decodeUnknownSync(JsonLines.Event)({ event: "metric", time: 0, study: "s", trial: 0, step: 1, values: { loss: 0.5 } })
 */
export const Event = Schema.Union(
  Schema.Struct({ event: Schema.Literal("study_started"), ...base, directions: Schema.Array(Schema.Literal("minimize", "maximize")), metrics: Schema.Array(Schema.String) }),
  Schema.Struct({ event: Schema.Literal("trial_started"), ...trialBase, params: Schema.Record({ key: Schema.String, value: Schema.Unknown }) }),
  Schema.Struct({ event: Schema.Literal("metric"), ...trialBase, step: Schema.Number, values: Values }),
  Schema.Struct({
    event: Schema.Literal("trial_finished"),
    ...trialBase,
    state: Schema.Literal("Waiting", "Running", "Complete", "Pruned", "Failed"),
    values: Schema.NullOr(Schema.Array(JsonNumber)),
    reason: Schema.NullOr(Schema.String),
    duration_ms: Schema.NullOr(Schema.Number)
  }),
  Schema.Struct({ event: Schema.Literal("tags"), ...base, trial: Schema.NullOr(Schema.Int), tags: Schema.Record({ key: Schema.String, value: Schema.String }) }),
  Schema.Struct({ event: Schema.Literal("note"), ...base, trial: Schema.NullOr(Schema.Int), text: Schema.String }),
  Schema.Struct({
    event: Schema.Literal("artifact"),
    ...base,
    trial: Schema.NullOr(Schema.Int),
    name: Schema.String,
    bytes: Schema.Int,
    sha256: Schema.String,
    contentType: Schema.NullOr(Schema.String)
  }),
  Schema.Struct({ event: Schema.Literal("study_finished"), ...base, state: Schema.Literal("Finished", "Failed", "Interrupted"), reason: Schema.NullOr(Schema.String) })
)

/** A decoded line. */
export type Event = typeof Event.Type

/** Options of the JSON-lines tracker. */
export interface Options {
  /** The folder of the files, created when missing (default `tunekit-runs`). */
  readonly directory?: string
}

const fileName = (study: string) => `${study === "." || study === ".." ? study.replace(/\./g, "%2E") : encodeURIComponent(study)}.jsonl`

/**
 * The file a study's events go to.
 *
 * @example
 * import { JsonLines } from "@tunekit/tracking"
 * JsonLines.pathOf("runs", "mnist/cnn") // "runs/mnist%2Fcnn.jsonl"
 */
export const pathOf = (directory: string, study: string): string => path.join(directory, fileName(study))

// What the Schema's encoding does, without its cost on every event.
const nonFinite = (_key: string, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v)

/**
 * The JSON-lines tracker. Files stay open while their study runs and are closed when it finishes
 * (or when the layer's scope closes). A write that fails (a full disk) is counted, never raised.
 *
 * @example
 * import { JsonLines } from "@tunekit/tracking"
 * const { tracker, close } = JsonLines.make({ directory: "runs" })
 */
export const make = (options: Options = {}): { readonly tracker: Tracker.TrackerService; readonly close: Effect.Effect<void> } => {
  const directory = options.directory ?? "tunekit-runs"
  const health: Counter = counter()
  const files = new Map<number, number>()

  const fdOf = (study: Storage.StudyInfo): number => {
    let fd = files.get(study.id)
    if (fd === undefined) {
      fs.mkdirSync(directory, { recursive: true })
      fd = fs.openSync(pathOf(directory, study.name), "a")
      files.set(study.id, fd)
    }
    return fd
  }
  const write = (study: Storage.StudyInfo, event: Event): Effect.Effect<void> =>
    Effect.sync(() => {
      try {
        fs.writeSync(fdOf(study), JSON.stringify(event, nonFinite) + "\n")
        health.sent++
      } catch (e) {
        failed(health, e)
      }
    })
  const closeStudy = (id: number) => {
    const fd = files.get(id)
    files.delete(id)
    if (fd !== undefined) {
      try {
        fs.closeSync(fd)
      } catch (e) {
        failed(health, e)
      }
    }
  }
  const trialOf = (t: Trial.FrozenTrial | undefined) => (t === undefined ? null : t.number)

  const tracker: Tracker.TrackerService = {
    studyStarted: (study) =>
      write(study, { event: "study_started", time: Date.now(), study: study.name, directions: study.directions, metrics: study.metrics }),
    trialStarted: (study, t) =>
      write(study, { event: "trial_started", time: Date.now(), study: study.name, trial: t.number, params: Trial.paramValues(t) }),
    metricReported: (study, t, m) =>
      write(study, { event: "metric", time: Date.now(), study: study.name, trial: t.number, step: m.step, values: m.values }),
    trialFinished: (study, t) =>
      write(study, {
        event: "trial_finished",
        time: Date.now(),
        study: study.name,
        trial: t.number,
        state: t.state,
        values: t.values ?? null,
        reason: t.reason ?? null,
        duration_ms: Trial.duration(t) ?? null
      }),
    logged: (study, t, log) => {
      const common = { time: Date.now(), study: study.name, trial: trialOf(t) }
      switch (log._tag) {
        case "Tags":
          return write(study, { event: "tags", ...common, tags: log.tags })
        case "Note":
          return write(study, { event: "note", ...common, text: log.text })
        case "Artifact": {
          const bytes = typeof log.data === "string" ? Buffer.from(log.data, "utf8") : log.data
          return write(study, {
            event: "artifact",
            ...common,
            name: log.name,
            bytes: bytes.byteLength,
            sha256: crypto.createHash("sha256").update(bytes).digest("hex"),
            contentType: log.contentType ?? null
          })
        }
      }
    },
    studyFinished: (study, end) =>
      Effect.zipRight(
        write(study, { event: "study_finished", time: Date.now(), study: study.name, state: end.state, reason: end.reason ?? null }),
        Effect.suspend(() => {
          closeStudy(study.id)
          return report(snapshot("jsonl", health), study.name)
        })
      ),
    health: Effect.sync(() => [snapshot("jsonl", health)])
  }
  return { tracker, close: Effect.sync(() => [...files.keys()].forEach(closeStudy)) }
}

/**
 * The JSON-lines tracker as a layer; its files are closed with the layer's scope.
 *
 * @example
 * import { JsonLines } from "@tunekit/tracking"
 * const layer = JsonLines.layer({ directory: "runs" })
 */
export const layer = (options: Options = {}): Layer.Layer<Tracker.Tracker> =>
  Layer.scoped(Tracker.Tracker, Effect.map(Effect.acquireRelease(Effect.sync(() => make(options)), (m) => m.close), (m) => m.tracker))

/**
 * Reads a study's file back, each line decoded through `Event`. A line that is not an event fails
 * with its line number.
 *
 * @example
 * import { JsonLines } from "@tunekit/tracking"
 * const events = JsonLines.read("runs/mnist.jsonl")
 */
export const read = (file: string): Effect.Effect<ReadonlyArray<Event>, Error> =>
  Effect.try({
    try: () => {
      const lines = fs.readFileSync(file, "utf8").split("\n")
      const out: Array<Event> = []
      const decode = Schema.decodeUnknownSync(Event)
      lines.forEach((line, i) => {
        if (line.trim() === "") return
        try {
          out.push(decode(JSON.parse(line)))
        } catch (e) {
          throw new Error(`${file}:${i + 1}: ${e instanceof Error ? e.message : String(e)}`)
        }
      })
      return out
    },
    catch: (e) => (e instanceof Error ? e : new Error(String(e)))
  })
