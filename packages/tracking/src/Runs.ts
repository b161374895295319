/**
 * The built-in tracker: runs kept in the study's own storage. The study is the parent run and
 * each trial a run nested under it. A trial's params and metrics per step are what storage holds
 * already; the tracker adds the parent run's start, end and status, and each run's tags, notes and
 * artifacts (files under a directory, recorded in system attributes with their size and SHA-256).
 * `list` reads the runs back (for `tunekit runs STUDY` and the dashboard).
 *
 * @example
 * import { Effect } from "effect"
 * import { Space, Study } from "@tunekit/core"
 * import { Runs } from "@tunekit/tracking"
 *
 * const space = Space.struct({ x: Space.float(-1, 1) })
 * const program = Effect.gen(function*() {
 *   yield* Study.optimize({ study: "runs-demo", space, objective: (c) => c.x ** 2, trials: 5 })
 *   return yield* Runs.list("runs-demo")
 * }).pipe(Effect.provide(Runs.layer({ directory: "artifacts" })), Effect.provide(Study.layerDefaults({ seed: 1 })))
 *
 * @since 0.2.0
 */
import { Cause, Effect, Layer } from "effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import type { StorageError, StudyNotFound } from "@tunekit/core"
import { Storage, Tracker, Trial } from "@tunekit/core"
import { type Counter, counter, failed, report, snapshot } from "./internal/health.js"

/** A run's status, in MLflow's words. */
export type Status = "RUNNING" | "SCHEDULED" | "FINISHED" | "KILLED" | "FAILED"

/** A file a run recorded. */
export interface Artifact {
  readonly name: string
  /** Where the bytes are. */
  readonly file: string
  readonly bytes: number
  readonly sha256: string
  readonly contentType?: string
  readonly loggedAt: number
}

/** One run: the study's parent run (`trial` undefined) or a trial's. */
export interface Run {
  readonly study: string
  readonly trial: number | undefined
  /** The parent run's name (the study's), for a trial's run. */
  readonly parent: string | undefined
  readonly name: string
  readonly status: Status
  readonly startedAt: number | undefined
  readonly finishedAt: number | undefined
  /** External parameter values by name. */
  readonly params: Readonly<Record<string, unknown>>
  /** Each metric's values by step, in order of steps. */
  readonly metrics: Readonly<Record<string, ReadonlyArray<{ readonly step: number; readonly value: number }>>>
  /** The objective values, when the run completed (or was pruned with values). */
  readonly values: ReadonlyArray<number> | undefined
  readonly tags: Readonly<Record<string, string>>
  readonly notes: ReadonlyArray<string>
  readonly artifacts: ReadonlyArray<Artifact>
  /** Why it failed or was pruned. */
  readonly reason: string | undefined
}

/** A study's runs: the parent and its trials' runs in order of trial number. */
export interface StudyRuns {
  readonly parent: Run
  readonly runs: ReadonlyArray<Run>
}

/** Options of the built-in tracker. */
export interface Options {
  /** Where artifacts are written: `<directory>/<study>/trial-<n>/<name>` (default `tunekit-artifacts`). */
  readonly directory?: string
}

// System attributes (of the study for the parent run, of the trial otherwise).
const STARTED = "run:startedAt"
const FINISHED = "run:finishedAt"
const STATUS = "run:status"
const REASON = "run:reason"
const NOTES = "run:notes"
const TAG = "run:tag:"
const ARTIFACT = "run:artifact:"

const statusOf = (state: Trial.State): Status =>
  state === "Running" ? "RUNNING" : state === "Waiting" ? "SCHEDULED" : state === "Complete" ? "FINISHED" : state === "Pruned" ? "KILLED" : "FAILED"

const endStatus = (end: Tracker.StudyEnd): Status => (end.state === "Finished" ? "FINISHED" : end.state === "Failed" ? "FAILED" : "KILLED")

// Study names and artifact names become paths: a study is one encoded segment, an artifact name
// may have folders but no segment that leaves its run's folder.
const studyDir = (study: string) => (study === "." || study === ".." ? study.replace(/\./g, "%2E") : encodeURIComponent(study))

/** An artifact's name as a relative path inside its run's folder, or an error saying why not. */
export const artifactPath = (name: string): string | Error => {
  const parts = name.split(/[\\/]+/).filter((p) => p.length > 0)
  if (parts.length === 0) return new Error(`an artifact needs a name, got ${JSON.stringify(name)}`)
  if (parts.some((p) => p === "." || p === "..")) return new Error(`artifact name ${JSON.stringify(name)} must not contain "." or ".." segments`)
  return path.join(...parts)
}

const bytesOf = (data: Uint8Array | string): Uint8Array => (typeof data === "string" ? new TextEncoder().encode(data) : data)

/**
 * The built-in tracker on a storage: tags, notes and artifacts of runs, and the parent run's life.
 *
 * @example
 * import { Effect } from "effect"
 * import { Storage } from "@tunekit/core"
 * import { Runs } from "@tunekit/tracking"
 * const tracker = Effect.map(Storage.Storage, (s) => Runs.make(s, { directory: "artifacts" }))
 */
export const make = (storage: Storage.StorageService, options: Options = {}): Tracker.TrackerService => {
  const directory = path.resolve(options.directory ?? "tunekit-artifacts")
  const health: Counter = counter()
  const started = new Set<number>()
  // Writes never fail the study: a failure is counted and shown at the end.
  const guard = (e: Effect.Effect<void, unknown>): Effect.Effect<void> =>
    e.pipe(
      Effect.tap(() => Effect.sync(() => void health.sent++)),
      Effect.catchAllCause((cause) => Effect.sync(() => failed(health, Cause.squash(cause))))
    )

  const startStudy = (study: Storage.StudyInfo) =>
    Effect.suspend(() => {
      if (started.has(study.id)) return Effect.void
      started.add(study.id)
      return guard(Effect.all([
        storage.setStudyAttr(study.id, "system", STARTED, Date.now()),
        storage.setStudyAttr(study.id, "system", STATUS, "RUNNING")
      ], { discard: true }))
    })

  const setAttr = (study: Storage.StudyInfo, trial: Trial.FrozenTrial | undefined, key: string, value: Trial.Json) =>
    trial === undefined ? storage.setStudyAttr(study.id, "system", key, value) : storage.setTrialAttr(trial.id, "system", key, value)

  const currentNotes = (study: Storage.StudyInfo, trial: Trial.FrozenTrial | undefined) =>
    trial === undefined
      ? Effect.map(storage.getStudy(study.name), (s) => s.systemAttrs[NOTES])
      : Effect.map(storage.getTrial(trial.id), (t) => t.systemAttrs[NOTES])

  const writeArtifact = (study: Storage.StudyInfo, trial: Trial.FrozenTrial | undefined, log: Extract<Tracker.Log, { _tag: "Artifact" }>) =>
    Effect.gen(function*() {
      const rel = artifactPath(log.name)
      if (rel instanceof Error) return yield* Effect.fail(rel)
      const file = path.join(directory, studyDir(study.name), trial === undefined ? "study" : `trial-${trial.number}`, rel)
      const bytes = bytesOf(log.data)
      yield* Effect.tryPromise(async () => {
        await fs.mkdir(path.dirname(file), { recursive: true })
        // Written aside and renamed, so that a reader never sees half a file.
        const tmp = `${file}.${process.pid}.tmp`
        await fs.writeFile(tmp, bytes)
        await fs.rename(tmp, file)
      })
      const record: Artifact = {
        name: log.name,
        file,
        bytes: bytes.byteLength,
        sha256: crypto.createHash("sha256").update(bytes).digest("hex"),
        ...(log.contentType === undefined ? {} : { contentType: log.contentType }),
        loggedAt: Date.now()
      }
      yield* setAttr(study, trial, ARTIFACT + log.name, record as unknown as Trial.Json)
    })

  return {
    studyStarted: startStudy,
    trialStarted: (study) => startStudy(study),
    logged: (study, trial, log) =>
      guard(Effect.gen(function*() {
        yield* startStudy(study)
        switch (log._tag) {
          case "Tags":
            for (const [k, v] of Object.entries(log.tags)) yield* setAttr(study, trial, TAG + k, String(v))
            return
          case "Note": {
            const prev = yield* currentNotes(study, trial)
            yield* setAttr(study, trial, NOTES, [...(Array.isArray(prev) ? prev : []), log.text])
            return
          }
          case "Artifact":
            return yield* writeArtifact(study, trial, log)
        }
      })),
    studyFinished: (study, end) =>
      Effect.gen(function*() {
        yield* guard(Effect.all([
          storage.setStudyAttr(study.id, "system", FINISHED, Date.now()),
          storage.setStudyAttr(study.id, "system", STATUS, endStatus(end)),
          ...(end.reason === undefined ? [] : [storage.setStudyAttr(study.id, "system", REASON, end.reason)])
        ], { discard: true }))
        started.delete(study.id)
        yield* report(snapshot("runs", health), study.name)
      }),
    health: Effect.sync(() => [snapshot("runs", health)])
  }
}

/**
 * The built-in tracker as a layer, on the study's own storage.
 *
 * @example
 * import { Runs } from "@tunekit/tracking"
 * const layer = Runs.layer({ directory: "tunekit-artifacts" })
 */
export const layer = (options: Options = {}): Layer.Layer<Tracker.Tracker, never, Storage.Storage> =>
  Layer.effect(Tracker.Tracker, Effect.map(Storage.Storage, (s) => make(s, options)))

// ---------------------------------------------------------------------------------------------
// Reading runs back
// ---------------------------------------------------------------------------------------------

const num = (v: Trial.Json | undefined): number | undefined => (typeof v === "number" ? v : undefined)
const str = (v: Trial.Json | undefined): string | undefined => (typeof v === "string" ? v : undefined)

const extras = (attrs: Readonly<Record<string, Trial.Json>>) => {
  const tags: Record<string, string> = {}
  const artifacts: Array<Artifact> = []
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith(TAG) && typeof v === "string") tags[k.slice(TAG.length)] = v
    else if (k.startsWith(ARTIFACT) && v !== null && typeof v === "object" && !Array.isArray(v)) artifacts.push(v as unknown as Artifact)
  }
  const notes = attrs[NOTES]
  artifacts.sort((a, b) => a.loggedAt - b.loggedAt || (a.name < b.name ? -1 : 1))
  return { tags, artifacts, notes: Array.isArray(notes) ? notes.filter((n): n is string => typeof n === "string") : [] }
}

/** A trial as a run nested under its study's parent run. */
export const runOf = (study: string, t: Trial.FrozenTrial): Run => {
  const metrics: Record<string, Array<{ step: number; value: number }>> = {}
  for (const m of t.intermediate) for (const [k, v] of Object.entries(m.values)) (metrics[k] ??= []).push({ step: m.step, value: v })
  return {
    study,
    trial: t.number,
    parent: study,
    name: `trial-${t.number}`,
    status: statusOf(t.state),
    startedAt: t.startedAt,
    finishedAt: t.finishedAt,
    params: Trial.paramValues(t),
    metrics,
    values: t.values,
    ...extras(t.systemAttrs),
    reason: t.reason
  }
}

/**
 * A study's runs as the built-in tracker keeps them: the parent run and one run per trial.
 *
 * @example
 * import { Effect } from "effect"
 * import { Runs } from "@tunekit/tracking"
 * const program = Effect.map(Runs.list("mnist"), ({ parent, runs }) => `${parent.status}: ${runs.length} runs`)
 */
export const list = (study: string): Effect.Effect<StudyRuns, StorageError | StudyNotFound, Storage.Storage> =>
  Effect.gen(function*() {
    const storage = yield* Storage.Storage
    const info = yield* storage.getStudy(study)
    const trials = yield* storage.getTrials(info.id)
    const runs = trials.map((t) => runOf(info.name, t))
    const attrs = info.systemAttrs
    const running = trials.some((t) => t.state === "Running")
    const ends = trials.flatMap((t) => (t.finishedAt === undefined ? [] : [t.finishedAt]))
    const starts = trials.flatMap((t) => (t.startedAt === undefined ? [] : [t.startedAt]))
    // A study run without the tracker's start and end has its trials' times and states.
    const status = (str(attrs[STATUS]) as Status | undefined) ?? (running ? "RUNNING" : "FINISHED")
    const parent: Run = {
      study: info.name,
      trial: undefined,
      parent: undefined,
      name: info.name,
      status,
      startedAt: num(attrs[STARTED]) ?? (starts.length > 0 ? Math.min(...starts) : info.createdAt),
      finishedAt: num(attrs[FINISHED]) ?? (running || ends.length === 0 ? undefined : Math.max(...ends)),
      params: {},
      metrics: {},
      values: undefined,
      ...extras(attrs),
      reason: str(attrs[REASON])
    }
    return { parent, runs }
  })

/**
 * The bytes of an artifact, as recorded.
 *
 * @example
 * import { Effect } from "effect"
 * import { Runs } from "@tunekit/tracking"
 * const program = Effect.flatMap(Runs.list("mnist"), ({ runs }) => Runs.readArtifact(runs[0].artifacts[0]))
 */
export const readArtifact = (artifact: Artifact): Effect.Effect<Uint8Array, Error> =>
  Effect.tryPromise({ try: () => fs.readFile(artifact.file).then((b) => new Uint8Array(b)), catch: (e) => e as Error })

const fmt = (v: number | undefined) =>
  v === undefined ? "-" : Number.isInteger(v) ? String(v) : Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(3) : v.toPrecision(5)

const seconds = (r: Run) => (r.startedAt === undefined || r.finishedAt === undefined ? "-" : `${((r.finishedAt - r.startedAt) / 1000).toFixed(1)}s`)

/**
 * The runs of a study as a table (what `tunekit runs STUDY` prints): the parent run, then a line
 * per trial with its status, duration, last metrics, tags and artifact count.
 *
 * @example
 * import { Effect } from "effect"
 * import { Runs } from "@tunekit/tracking"
 * const text = Effect.map(Runs.list("mnist"), Runs.format)
 */
export const format = ({ parent, runs }: StudyRuns): string => {
  const last = (r: Run) =>
    Object.entries(r.metrics).map(([k, vs]) => `${k}=${fmt(vs[vs.length - 1]?.value)}@${vs[vs.length - 1]?.step}`).join(" ")
  const tagText = (r: Run) => Object.entries(r.tags).map(([k, v]) => `${k}=${v}`).join(" ")
  const rows = runs.map((r) => [
    r.name,
    r.status,
    seconds(r),
    r.values === undefined ? "-" : r.values.map(fmt).join(","),
    last(r) || "-",
    tagText(r) || "-",
    String(r.artifacts.length)
  ])
  const header = ["run", "status", "time", "values", "last metrics", "tags", "artifacts"]
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd()
  const head = `study ${parent.name}: ${parent.status}, ${runs.length} runs, ${seconds(parent)}${
    Object.keys(parent.tags).length > 0 ? `, tags ${tagText(parent)}` : ""
  }${parent.artifacts.length > 0 ? `, ${parent.artifacts.length} artifacts` : ""}`
  return [head, ...parent.notes.map((n) => `  note: ${n}`), line(header), ...rows.map(line)].join("\n")
}

/**
 * The `tunekit runs STUDY` command's work: the table, or the runs as JSON.
 *
 * @example
 * import { Runs } from "@tunekit/tracking"
 * const text = Runs.command("mnist", { json: true })
 */
export const command = (
  study: string,
  options: { readonly json?: boolean } = {}
): Effect.Effect<string, StorageError | StudyNotFound, Storage.Storage> =>
  Effect.map(list(study), (runs) => (options.json === true ? JSON.stringify(runs, null, 2) : format(runs)))
