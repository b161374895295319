/**
 * The metric reporter for Node programs that tunekit runs as trials (`Process.trainer`): one line
 * of code per step. It writes the metric as a JSON line on stdout and, when tunekit asks for it
 * (`TUNEKIT_ACK=1`), waits for the decision on stdin, so the program stops at the step where it
 * is pruned.
 *
 * A program that iterates `trials()` can also be reused for trial after trial
 * (`Executor.layerProcess({ reuse: true })`, Ray Tune's `reuse_actors`): started once, it gets
 * each trial's params and `TUNEKIT_*` variables in a message on stdin. Started per trial, the same
 * program gets one trial, from its environment.
 *
 * @example
 * import { params, report } from "tunekit/report"
 * const { lr } = params()
 * for (let epoch = 1; epoch <= 20; epoch++) {
 *   const loss = 1 / (epoch * Number(lr))
 *   if (!report({ step: epoch, loss })) break // pruned: stop training
 * }
 *
 * @since 0.2.0
 */
import * as fs from "node:fs"

// Stdin is read in blocks; every read of it goes through here, so nothing read ahead is lost.
let pending = Buffer.alloc(0)
let closed = false
const block = Buffer.alloc(64 * 1024)
const pause = new Int32Array(new SharedArrayBuffer(4))

const readLine = (): string | undefined => {
  for (;;) {
    const i = pending.indexOf(10)
    if (i >= 0) {
      const line = pending.subarray(0, i).toString("utf8")
      pending = pending.subarray(i + 1)
      return line
    }
    if (closed) {
      const rest = pending.toString("utf8")
      pending = Buffer.alloc(0)
      return rest === "" ? undefined : rest
    }
    let n: number
    try {
      n = fs.readSync(0, block, 0, block.length, null)
    } catch (e) {
      // stdin not ready yet (non-blocking): wait a millisecond rather than spin
      if ((e as NodeJS.ErrnoException).code === "EAGAIN") {
        Atomics.wait(pause, 0, 0, 1)
        continue
      }
      n = 0
    }
    if (n === 0) closed = true
    else pending = Buffer.concat([pending, block.subarray(0, n)])
  }
}

const write = (value: unknown) => void fs.writeSync(1, JSON.stringify(value) + "\n")

// Whether the current trial was told to stop: its later reports are not sent.
let stopped = false

/**
 * Reports a step's metrics. Returns true to go on, false when the trial is pruned or stopped: then
 * end the trial (the program, with exit code 0; within `trials()`, the trial's loop).
 */
export const report = (metric: { readonly step: number } & Readonly<Record<string, number>>): boolean => {
  if (stopped) return false
  write(metric)
  if (process.env.TUNEKIT_ACK !== "1") return true
  stopped = readLine() !== "continue"
  return !stopped
}

/** The trial's params, from `TUNEKIT_PARAMS` (to a program started per trial they come as `--name=value` arguments too). */
export const params = (): Readonly<Record<string, unknown>> => JSON.parse(process.env.TUNEKIT_PARAMS ?? "{}") as Record<string, unknown>

/** One trial of `trials()`. */
export interface Trial {
  /** The trial's number in its study (`TUNEKIT_TRIAL`). */
  readonly number: number
  readonly study: string
  /** Its params (`TUNEKIT_PARAMS`). */
  readonly params: Readonly<Record<string, unknown>>
  /** A folder of its own for checkpoints (`TUNEKIT_CHECKPOINT_DIR`). */
  readonly checkpointDir: string | undefined
  /** The step its training continues from, when it resumes (`TUNEKIT_RESUME_FROM`). */
  readonly resumeFrom: number | undefined
  /** The checkpoint folder to restore from, when it continues earlier training (`TUNEKIT_RESTORE_DIR`). */
  readonly restoreDir: string | undefined
}

// The variables that describe a trial: a reused program gets them per trial, in the message.
const TRIAL_VARS = ["TUNEKIT_PARAMS", "TUNEKIT_TRIAL", "TUNEKIT_STUDY", "TUNEKIT_CHECKPOINT_DIR", "TUNEKIT_RESUME_FROM", "TUNEKIT_RESTORE_DIR"]

const current = (): Trial => {
  const env = process.env
  return {
    number: Number(env.TUNEKIT_TRIAL ?? 0),
    study: env.TUNEKIT_STUDY ?? "",
    params: params(),
    checkpointDir: env.TUNEKIT_CHECKPOINT_DIR,
    resumeFrom: env.TUNEKIT_RESUME_FROM === undefined ? undefined : Number(env.TUNEKIT_RESUME_FROM),
    restoreDir: env.TUNEKIT_RESTORE_DIR
  }
}

/**
 * The trials this program runs. Started per trial, one: the trial of its environment. Reused
 * (`Executor.layerProcess({ reuse: true })`), every trial tunekit hands it, until tunekit closes its
 * stdin. While a trial runs, `params()`, `report` and the `TUNEKIT_*` variables of `process.env`
 * are that trial's. When `report` returns false, end the trial (leave its loop, not this one): the
 * next trial comes.
 *
 * @example
 * import { report, trials } from "tunekit/report"
 * for (const trial of trials()) {
 *   const lr = Number(trial.params.lr)
 *   for (let epoch = 1; epoch <= 20; epoch++) {
 *     if (!report({ step: epoch, loss: 1 / (epoch * lr) })) break // pruned: on to the next trial
 *   }
 * }
 */
export function* trials(): Generator<Trial, void, undefined> {
  if (process.env.TUNEKIT_REUSE !== "1") {
    yield current()
    return
  }
  write({ tunekit: "ready" })
  for (;;) {
    const line = readLine()
    if (line === undefined) return
    // Anything else is a `stop` for a trial that ended before it was read.
    if (!line.startsWith("{")) continue
    const message = JSON.parse(line) as { tunekit?: string; env?: Record<string, string> }
    if (message.tunekit !== "trial" || message.env === undefined) continue
    for (const name of TRIAL_VARS) {
      const value = message.env[name]
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
    stopped = false
    const trial = current()
    yield trial
    write({ tunekit: "done", trial: trial.number })
  }
}
