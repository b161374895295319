/**
 * A progress line for long studies: trials done, running, pruned and failed, the best value so
 * far and the elapsed time. On a terminal it updates in place; elsewhere it prints plain lines,
 * at most one every few seconds.
 *
 * @since 0.1.0
 */
import { Effect, Layer } from "effect"
import type { StudyInfo } from "./Storage.js"
import { Tracker, type TrackerService } from "./Tracker.js"
import type { Direction, FrozenTrial } from "./Trial.js"

export interface Progress {
  readonly started: () => void
  readonly finished: (trial: FrozenTrial) => void
  readonly close: () => void
}

export interface ProgressOptions {
  readonly stream?: NodeJS.WriteStream
  /** Milliseconds between plain lines when not on a terminal (default 5000). */
  readonly plainEveryMs?: number
}

const fmt = (v: number | undefined) =>
  v === undefined ? "-" : Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(4) : v.toFixed(5)

const elapsed = (ms: number) => {
  const s = Math.floor(ms / 1000)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  return `${h > 0 ? `${h}h` : ""}${String(m).padStart(h > 0 ? 2 : 1, "0")}m${String(s % 60).padStart(2, "0")}s`
}

/**
 * A progress reporter writing to stderr.
 *
 * @example
 * import { Progress } from "@tunekit/core"
 * const p = Progress.make("maximize")
 */
export const make = (direction: Direction, options: ProgressOptions = {}): Progress => {
  const out = options.stream ?? process.stderr
  const tty = out.isTTY === true
  const every = tty ? 100 : options.plainEveryMs ?? 5000
  const t0 = Date.now()
  let running = 0
  let complete = 0
  let pruned = 0
  let failed = 0
  let best: number | undefined
  let bestTrial: number | undefined
  let lastWrite = 0
  let dirty = false
  // What proposed the finished trials, when the sampler recorded it (Auto's "auto.sampler").
  const proposers = new Map<string, number>()

  const line = () =>
    `trials ${complete + pruned + failed} done (${complete} complete, ${pruned} pruned, ${failed} failed), ${running} running | best ${fmt(best)}${
      bestTrial === undefined ? "" : ` (trial ${bestTrial})`
    }${proposers.size === 0 ? "" : ` | auto: ${[...proposers].map(([k, n]) => `${k} ${n}`).join(", ")}`} | ${elapsed(Date.now() - t0)}`

  const write = (force: boolean) => {
    const now = Date.now()
    if (!force && now - lastWrite < every) {
      dirty = true
      return
    }
    lastWrite = now
    dirty = false
    if (tty) out.write(`\r\x1b[2K${line()}`)
    else out.write(`${line()}\n`)
  }

  return {
    started: () => {
      running++
      write(false)
    },
    finished: (t) => {
      running = Math.max(0, running - 1)
      const by = t.systemAttrs["auto.sampler"]
      if (typeof by === "string") proposers.set(by, (proposers.get(by) ?? 0) + 1)
      if (t.state === "Complete") {
        complete++
        const v = t.values?.[0]
        if (v !== undefined && (best === undefined || (direction === "minimize" ? v < best : v > best))) {
          best = v
          bestTrial = t.number
        }
      } else if (t.state === "Pruned") pruned++
      else if (t.state === "Failed") failed++
      write(false)
    },
    close: () => {
      if (dirty || lastWrite === 0 || tty) write(true)
      if (tty) out.write("\n")
    }
  }
}

/**
 * The progress line as a tracker: a line per study, from its first trial (or `studyStarted`) to
 * `studyFinished`. Provide it as the Tracker (or in `Tracker.all`) to see a study's progress.
 *
 * @example
 * import { Progress, Tracker } from "@tunekit/core"
 * const service = Progress.tracker({ plainEveryMs: 10_000 })
 */
export const tracker = (options: ProgressOptions = {}): TrackerService => {
  const lines = new Map<number, Progress>()
  const lineOf = (study: StudyInfo) => {
    let p = lines.get(study.id)
    if (p === undefined) lines.set(study.id, (p = make(study.directions[0] ?? "minimize", options)))
    return p
  }
  return {
    studyStarted: (study) => Effect.sync(() => void lineOf(study)),
    trialStarted: (study) => Effect.sync(() => lineOf(study).started()),
    trialFinished: (study, trial) => Effect.sync(() => lineOf(study).finished(trial)),
    studyFinished: (study) =>
      Effect.sync(() => {
        lines.get(study.id)?.close()
        lines.delete(study.id)
      })
  }
}

/**
 * `tracker` as a layer.
 *
 * @example
 * import { Effect } from "effect"
 * import { Progress, Study } from "@tunekit/core"
 * declare const run: Effect.Effect<unknown, never, import("@tunekit/core").Tracker.Tracker>
 * run.pipe(Effect.provide(Progress.layer()))
 */
export const layer = (options: ProgressOptions = {}): Layer.Layer<Tracker> => Layer.sync(Tracker, () => tracker(options))
