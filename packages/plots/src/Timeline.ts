/**
 * The timeline: each trial as a bar from its start to its end, on the lane of the worker that ran
 * it, coloured by state (Optuna's `plot_timeline`). It shows how busy the workers were, and where
 * time went to trials that failed or were pruned. Trials that never started, and paused trials
 * (stored as Waiting until resumed), have no bar.
 *
 * @since 0.1.0
 */
import type { Trial } from "@tunekit/core"
import type { Source } from "./Source.js"

/** One trial's bar. Times are milliseconds since the epoch. */
export interface Bar {
  readonly trial: number
  readonly worker: string
  readonly state: Trial.State
  readonly start: number
  readonly end: number
  /** Still running: the bar ends at `Data.now`. */
  readonly running: boolean
}

/** The data of a timeline plot. */
export interface Data {
  readonly _tag: "Timeline"
  /** The first start, the origin of the time axis (undefined without bars). */
  readonly start: number | undefined
  /** Where the bars of running trials end. */
  readonly now: number
  /** The workers, in order of their first trial. */
  readonly workers: ReadonlyArray<string>
  readonly bars: ReadonlyArray<Bar>
}

/** Options of `make`. */
export interface Options {
  /** The end of running trials' bars (default: the latest time the trials record). */
  readonly now?: number
}

/**
 * The timeline of a study.
 *
 * @example
 * import { Timeline, Source } from "@tunekit/plots"
 * declare const study: Source.Source
 * const data = Timeline.make(study, { now: Date.now() })
 */
export const make = (source: Source, options: Options = {}): Data => {
  const started = [...source.trials]
    .filter((t) => t.startedAt !== undefined && (t.state !== "Waiting"))
    .sort((a, b) => a.startedAt! - b.startedAt! || a.number - b.number)
  const latest = started.reduce((m, t) => Math.max(m, t.finishedAt ?? t.startedAt!), -Infinity)
  const now = options.now ?? (Number.isFinite(latest) ? latest : 0)
  const workers: Array<string> = []
  const bars = started.map((t): Bar => {
    const worker = t.worker ?? "unknown"
    if (!workers.includes(worker)) workers.push(worker)
    const running = t.finishedAt === undefined
    return { trial: t.number, worker, state: t.state, start: t.startedAt!, end: running ? Math.max(now, t.startedAt!) : t.finishedAt!, running }
  })
  return { _tag: "Timeline", start: bars[0]?.start, now, workers, bars }
}
