/**
 * External programs as trainers: a trial launches a command (an argv array, never a shell string),
 * and reads its metrics from its stdout as JSON lines (`{"step": 3, "val_accuracy": 0.91}`).
 *
 * - **Inputs.** The params are passed as `--name=value` arguments and as JSON in `TUNEKIT_PARAMS`;
 *   `TUNEKIT_TRIAL` (the trial's number), `TUNEKIT_STUDY`, `TUNEKIT_CHECKPOINT_DIR` (a folder of
 *   the trial's own) and, when it continues earlier training, `TUNEKIT_RESUME_FROM` and
 *   `TUNEKIT_RESTORE_DIR` are set in its environment.
 * - **Checkpoints.** The program writes its state into `TUNEKIT_CHECKPOINT_DIR`, then reports the
 *   step. With a Checkpoint service in the study, the executor saves the folder as that step's
 *   checkpoint through it before the metric is decided on (so retention, checksums and shared
 *   stores apply), and a trial that continues earlier training gets its starting checkpoint
 *   unpacked into a fresh `TUNEKIT_RESTORE_DIR` (and copied into its checkpoint folder); see
 *   docs/executors.md. Without one, the folder is the trial's own and kept as it is.
 * - **Decisions before the next step.** `TUNEKIT_ACK=1` tells the program that each metric line is
 *   answered on its stdin (`continue` or `stop`); the reporters (`tunekit/report` for Node, the
 *   Python file `tunekit_report.py`) wait for the answer, so a program stops at the step where it
 *   is pruned. A program that does not read stdin works too: it is stopped when pruned.
 * - **Stopping.** On prune, timeout or interruption the program's whole process group gets
 *   SIGTERM, then SIGKILL after `graceMs`: no child process survives.
 * - **Failure.** A program that exits non-zero fails its trial with the exit code and the last
 *   lines of its stderr.
 * - **Logs.** Stdout and stderr are kept as files per trial under `logs` (default
 *   `.tunekit/logs/STUDY/trial-N.{out,err}`; no `.err` file when the trial wrote nothing to
 *   stderr), and their tails are stored as the trial's user attributes `stdout_tail` and
 *   `stderr_tail` (left out when empty).
 * - **Reuse.** With `Executor.layerProcess({ reuse: true })` (Ray Tune's `reuse_actors`), a
 *   program that iterates its reporter's `trials()` is started once per slot and gets trial after
 *   trial as messages on stdin; see docs/executors.md.
 *
 * The process is spawned with node's child_process rather than @effect/platform's Command, which
 * cannot start it in a process group of its own: without one, a prune could not stop the
 * program's children.
 *
 * @example
 * import { Effect } from "effect"
 * import { Process, Space, Study } from "@tunekit/core"
 * const space = Space.struct({ lr: Space.float(1e-4, 1e-1, { log: true }) })
 * const program = Study.optimize({ study: "script", space, metric: "val_loss", trials: 20 }).pipe(
 *   Effect.provide(Process.layer(["python3", "train.py"])),
 *   Effect.provide(Study.layerDefaults({ seed: 1 }))
 * )
 *
 * @since 0.2.0
 */
import { Layer } from "effect"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { Observable } from "rxjs"
import * as ProgramCheckpoints from "./internal/programCheckpoints.js"
import { signalGroup } from "./internal/processes.js"
import { keepLine, keepTails as keepTailsOf, tail, TrialLogs } from "./internal/trialLogs.js"
import type { TrialContext } from "./Study.js"
import * as Scheduler from "./Scheduler.js"
import { Trainer, type TrainerService } from "./Trainer.js"
import type { Metric } from "./Trial.js"

/** Options of a program trainer. */
export interface Options {
  /** The working folder (default: this process's). */
  readonly cwd?: string
  /** More environment variables (this process's are passed too). */
  readonly env?: Readonly<Record<string, string>>
  /** Milliseconds between SIGTERM and SIGKILL when the program is stopped (default 5000). */
  readonly graceMs?: number
  /** Where stdout and stderr are kept (default `.tunekit/logs`). */
  readonly logs?: string
  /** Where each trial's checkpoint folder is (default `.tunekit/checkpoints`). */
  readonly checkpoints?: string
  /** Lines of stdout and stderr kept in the trial's attributes (default 20). */
  readonly tailLines?: number
  /** Passes the params as `--name=value` arguments (default true). */
  readonly args?: boolean
  /** The step at which a trial has trained fully. */
  readonly maxStep?: number
}

/** A program's failure: its exit code or signal, and the last lines of its stderr. */
export class ProgramFailed extends Error {
  readonly _tag = "ProgramFailed"
  constructor(
    readonly argv: ReadonlyArray<string>,
    readonly exit: number | null,
    readonly signal: string | null,
    readonly stderr: string,
    /** What the program was doing, for a reused program (`during trial 3`). */
    readonly during?: string
  ) {
    super(`${argv.join(" ")} exited${during === undefined ? "" : ` ${during}`} with ${exit === null ? `signal ${signal}` : `code ${exit}`}${stderr === "" ? "" : `; its stderr ended with:\n${stderr}`}`)
  }
}

/** `--name=value` for each param: W&B's `${args}`. Values go as one argv entry each, never through a shell. */
export const argsOf = (params: Readonly<Record<string, unknown>>): Array<string> =>
  Object.entries(params).map(([k, v]) => `--${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)


/** A metric from one stdout line, or undefined when the line is not a metric. */
export const parseLine = (line: string): Metric | undefined => {
  const t = line.trim()
  if (!t.startsWith("{")) return undefined
  try {
    const o = JSON.parse(t) as Record<string, unknown>
    if (typeof o.step !== "number" || !Number.isFinite(o.step)) return undefined
    const values: Record<string, number> = {}
    for (const [k, v] of Object.entries(o)) if (k !== "step" && typeof v === "number") values[k] = v
    return { step: o.step, values }
  } catch {
    return undefined
  }
}

/**
 * A trainer that runs a program per trial.
 *
 * @example
 * import { Process } from "@tunekit/core"
 * const trainer = Process.trainer(["node", "train.mjs"], { graceMs: 2000 })
 */
export const trainer = (argv: ReadonlyArray<string>, options: Options = {}): TrainerService<unknown> & { readonly [TypeId]: Program } => ({
  name: `program ${argv[0] ?? "?"}`,
  command: argv,
  ...(options.maxStep === undefined ? {} : { maxStep: options.maxStep }),
  train: (_config: unknown, trial: TrialContext<unknown>) => run(argv, options, trial),
  // A symbol key survives the spreads that wrap a trainer (`{ ...trainer, module }`).
  [TypeId]: { argv, options }
})

/** The key under which a program trainer keeps its program. */
export const TypeId: unique symbol = Symbol.for("@tunekit/core/Process")

/** A program trainer's program: what an executor that reuses processes starts (`Executor.layerProcess({ reuse: true })`). */
export interface Program {
  readonly argv: ReadonlyArray<string>
  readonly options: Options
}

/**
 * The program of a trainer made by `Process.trainer` or `Process.layer`, if it is one.
 *
 * @example
 * import { Process } from "@tunekit/core"
 * Process.programOf(Process.trainer(["python3", "train.py"]))?.argv // ["python3", "train.py"]
 */
export const programOf = (trainer: TrainerService<any>): Program | undefined => (trainer as { readonly [TypeId]?: Program })[TypeId]

/**
 * A trial's inputs for its program: the `TUNEKIT_*` variables (params, number, study, checkpoint
 * folders) and its logs folder, both folders created. A program started per trial gets the
 * variables in its environment; a reused one, in the message that hands it the trial. `folders`,
 * the checkpoint folders the study's Checkpoint service made for this run, replace the default ones
 * (which are then not made).
 *
 * @example
 * import { Trainer, Process } from "@tunekit/core"
 * // a trainer that only prints what a program would get
 * const dryRun = Trainer.make((_c, trial) => {
 *   console.log(Process.trialInputs({ logs: "logs" }, trial).vars.TUNEKIT_PARAMS)
 *   return 0
 * })
 */
export const trialInputs = (
  options: Options,
  trial: TrialContext<unknown>,
  folders?: Readonly<Record<string, string>>
): { readonly logs: string; readonly vars: Record<string, string> } => {
  const study = trial.study ?? "study"
  const safe = encodeURIComponent(study)
  const logs = path.resolve(options.logs ?? ".tunekit/logs", safe)
  fs.mkdirSync(logs, { recursive: true })
  const vars: Record<string, string> = { TUNEKIT_PARAMS: JSON.stringify(trial.params), TUNEKIT_TRIAL: String(trial.number), TUNEKIT_STUDY: study }
  if (trial.resumeFrom !== undefined) vars.TUNEKIT_RESUME_FROM = String(trial.resumeFrom)
  if (folders !== undefined) return { logs, vars: { ...vars, ...folders } }
  const checkpoints = path.resolve(options.checkpoints ?? ".tunekit/checkpoints", safe)
  vars.TUNEKIT_CHECKPOINT_DIR = path.join(checkpoints, `trial-${trial.number}`)
  fs.mkdirSync(vars.TUNEKIT_CHECKPOINT_DIR, { recursive: true })
  if (trial.restoreFrom !== undefined) vars.TUNEKIT_RESTORE_DIR = path.join(checkpoints, `trial-${trial.restoreFrom.trial}`)
  return { logs, vars }
}

/**
 * A program as the Trainer layer.
 *
 * @example
 * import { Process } from "@tunekit/core"
 * const layer = Process.layer(["python3", "train.py"])
 */
export const layer = (argv: ReadonlyArray<string>, options: Options = {}): Layer.Layer<Trainer> => Layer.succeed(Trainer, trainer(argv, options))

// With the study's Checkpoint service handed over by the executor, the checkpoint folder is saved
// at each report and restored for a continuation through it (internal/programCheckpoints.ts).
const run = (argv: ReadonlyArray<string>, options: Options, trial: TrialContext<unknown>) =>
  ProgramCheckpoints.around(trial, options.checkpoints, (managed) => spawned(argv, options, trial, managed))

const spawned = (argv: ReadonlyArray<string>, options: Options, trial: TrialContext<unknown>, managed: ProgramCheckpoints.Managed | undefined) =>
  new Observable<Metric>((subscriber) => {
    if (argv.length === 0) {
      subscriber.error(new Error("a program trainer needs a command: an argv array such as [\"python3\", \"train.py\"]"))
      return
    }
    const { logs, vars } = trialInputs(options, trial, managed?.vars)
    const files = new TrialLogs(logs, trial.number)
    const env: Record<string, string> = { ...process.env as Record<string, string>, ...options.env, ...vars, TUNEKIT_ACK: "1" }
    const child = spawn(argv[0], [...argv.slice(1), ...(options.args === false ? [] : argsOf(trial.params))], {
      cwd: options.cwd,
      env,
      // A process group of its own, so that stopping it stops its children too.
      detached: true,
      stdio: ["pipe", "pipe", "pipe"]
    })
    const n = options.tailLines ?? 20
    const outLines: Array<string> = []
    const errLines: Array<string> = []
    let stopping = false
    let killer: NodeJS.Timeout | undefined
    let saving: Promise<void> = Promise.resolve()
    const group = (signal: NodeJS.Signals) => signalGroup(child.pid, signal)
    const keepTails = () => keepTailsOf(trial, outLines, errLines, n)
    const stop = () => {
      if (stopping || child.exitCode !== null || child.signalCode !== null) return
      stopping = true
      // Best effort: the trial may end before these are written.
      void keepTails()
      group("SIGTERM")
      killer = setTimeout(() => group("SIGKILL"), options.graceMs ?? 5000)
    }
    const answer = (word: "continue" | "stop") => {
      if (child.stdin.writable) child.stdin.write(`${word}\n`, () => undefined)
    }
    child.stdin.on("error", () => undefined)
    const lines = (stream: NodeJS.ReadableStream, keep: Array<string>, file: "out" | "err", onLine?: (l: string) => void) => {
      let buffer = ""
      stream.setEncoding("utf8")
      stream.on("data", (chunk: string) => {
        files.write(file, chunk)
        buffer += chunk
        let i: number
        while ((i = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, i)
          buffer = buffer.slice(i + 1)
          keepLine(keep, line, n)
          onLine?.(line)
        }
      })
      stream.on("end", () => {
        if (buffer !== "") {
          keepLine(keep, buffer, n)
          onLine?.(buffer)
        }
      })
    }
    lines(child.stdout, outLines, "out", (line) => {
      const metric = parseLine(line)
      if (metric === undefined || stopping) return
      const decide = () => {
        if (stopping || subscriber.closed) return
        // The program waits for the decision, also one that comes after `next` returns.
        Scheduler.decisionOn(metric).then((d) => answer(d !== undefined && Scheduler.stops(d) ? "stop" : "continue"))
        subscriber.next(metric)
      }
      // The step's checkpoint is saved before its metric goes on (the program waits for the answer).
      if (managed === undefined) decide()
      else saving = saving.then(() => managed.reported(metric.step)).then(decide, (e) => subscriber.error(e))
    })
    lines(child.stderr, errLines, "err")
    child.on("error", (e) => subscriber.error(new Error(`${argv[0]} could not be started: ${e.message}`)))
    // A child it left holding its stdout would delay "close" (and the trial's end) for as long as it lives.
    child.on("exit", () => group("SIGKILL"))
    child.on("close", (code, signal) => {
      if (killer) clearTimeout(killer)
      files.close()
      // The whole group: a child the program left behind goes with it.
      group("SIGKILL")
      if (stopping) return
      // The tails are stored before the trial ends.
      void saving.then(keepTails).then(() => {
        if (code === 0) subscriber.complete()
        else subscriber.error(new ProgramFailed(argv, code, signal, tail(errLines, n)))
      })
    })
    return stop
  })
