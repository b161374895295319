// Reused program processes (`Executor.layerProcess({ reuse: true })`), as Ray Tune's `reuse_actors`:
// a program is started once per slot and takes trial after trial, so a trial costs a message
// instead of a process start (about 57 ms of CPU for Node).
//
// The protocol, JSON lines both ways (the reporters' `trials()` speak it):
// - the program starts with TUNEKIT_REUSE=1 and TUNEKIT_ACK=1, says `{"tunekit":"ready"}`, and
//   reads trials from stdin: `{"tunekit":"trial","env":{"TUNEKIT_PARAMS":"…","TUNEKIT_TRIAL":"3",…}}`,
//   the same variables a program started per trial has in its environment;
// - it reports metrics as a program started per trial does, each answered `continue` or `stop`;
// - it ends each trial with `{"tunekit":"done","trial":3}`, then reads the next one.
// tunekit stops a trial (prune, timeout, interruption) by answering `stop`, or, when no answer is
// due, by writing `stop`, which the program reads at its next report (a `stop` that finds the
// program between trials is skipped). A program that has not said `done` within `graceMs` gets
// SIGTERM, then SIGKILL after `graceMs` more, and a new one takes its slot. A program that exits
// fails only the trial it was running.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { Observable } from "rxjs"
import { parseLine, type Program, ProgramFailed, trialInputs } from "../Process.js"
import * as Scheduler from "../Scheduler.js"
import * as ProgramCheckpoints from "./programCheckpoints.js"
import type { TrialContext } from "../Study.js"
import type { Metric } from "../Trial.js"
import { signalGroup } from "./processes.js"
import { keepLine, keepTails as keepTailsOf, tail, TrialLogs } from "./trialLogs.js"

/** What a worker tells the trial it runs. */
interface Run {
  readonly files: TrialLogs
  readonly outLines: Array<string>
  readonly errLines: Array<string>
  readonly metric: (metric: Metric) => void
  /** The program reported before it took a trial: it does not iterate `trials()`. */
  readonly unready: () => void
  readonly done: () => void
  readonly exited: (code: number | null, signal: string | null, ready: boolean, reason?: string) => void
}


/** Output written while no trial runs goes to the log of the next trial, up to this much. */
const MAX_BETWEEN = 64 * 1024

/** One running program and the trial it runs, if any. */
class Worker {
  readonly child: ChildProcessWithoutNullStreams
  run: Run | undefined
  ready = false
  gone = false
  /** Being killed: it no longer holds a slot. */
  doomed = false
  private between: Array<[file: "out" | "err", chunk: string]> = []
  private betweenSize = 0

  constructor(readonly program: Program, private readonly tailLines: number, onExit: (w: Worker) => void) {
    const { argv, options } = program
    this.child = spawn(argv[0], argv.slice(1), {
      cwd: options.cwd,
      env: { ...process.env as Record<string, string>, ...options.env, TUNEKIT_ACK: "1", TUNEKIT_REUSE: "1" },
      // A process group of its own, so that killing it kills its children too.
      detached: true,
      stdio: ["pipe", "pipe", "pipe"]
    })
    this.child.stdin.on("error", () => undefined)
    this.read("out", (line) => this.onLine(line))
    this.read("err")
    const exit = (code: number | null, signal: string | null, reason?: string) => {
      if (this.gone) return
      this.gone = true
      // What the program left behind goes with it.
      this.signal("SIGKILL")
      const run = this.run
      this.run = undefined
      run?.exited(code, signal, this.ready, reason)
      onExit(this)
    }
    this.child.on("error", (e) => exit(null, null, `could not be started: ${e.message}`))
    // A child it left holding its stdout would delay "close": the group goes when the program does.
    this.child.on("exit", () => this.signal("SIGKILL"))
    this.child.on("close", (code, signal) => exit(code, signal))
  }

  /** Sends a line to the program. */
  send(line: string) {
    if (!this.gone && this.child.stdin.writable) this.child.stdin.write(line + "\n")
  }

  /** Signals the program's whole group. */
  signal(signal: NodeJS.Signals) {
    signalGroup(this.child.pid, signal)
  }

  /** Hands the worker a trial. */
  begin(run: Run, vars: Record<string, string>) {
    this.run = run
    for (const [file, chunk] of this.between) run.files.write(file, chunk)
    this.between = []
    this.betweenSize = 0
    this.send(JSON.stringify({ tunekit: "trial", env: vars }))
  }

  private read(file: "out" | "err", onLine?: (line: string) => void) {
    const stream = file === "out" ? this.child.stdout : this.child.stderr
    let buffer = ""
    stream.setEncoding("utf8")
    stream.on("data", (chunk: string) => {
      const run = this.run
      if (run !== undefined) run.files.write(file, chunk)
      else if (this.betweenSize < MAX_BETWEEN) {
        this.between.push([file, chunk])
        this.betweenSize += chunk.length
      }
      buffer += chunk
      let i: number
      while ((i = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, i)
        buffer = buffer.slice(i + 1)
        if (onLine !== undefined) onLine(line)
        else if (this.run !== undefined) keepLine(this.run.errLines, line, this.tailLines)
      }
    })
  }

  private onLine(line: string) {
    if (line.startsWith("{\"tunekit\"")) {
      let message: { tunekit?: unknown }
      try {
        message = JSON.parse(line) as { tunekit?: unknown }
      } catch {
        message = {}
      }
      if (message.tunekit === "ready") this.ready = true
      else if (message.tunekit === "done") {
        const run = this.run
        this.run = undefined
        run?.done()
      }
      return
    }
    const run = this.run
    if (run === undefined) return
    keepLine(run.outLines, line, this.tailLines)
    const metric = parseLine(line)
    if (metric === undefined) return
    if (this.ready) return run.metric(metric)
    this.run = undefined
    run.unready()
    this.signal("SIGKILL")
  }
}

/** The workers of one program: at most `size`, each running one trial at a time. */
class Pool {
  private readonly workers = new Set<Worker>()
  private readonly idle: Array<Worker> = []
  private readonly waiting: Array<(w: Worker) => void> = []
  private closed = false
  /** Workers that hold a slot: neither gone nor being killed. */
  private live = 0

  constructor(readonly program: Program, private readonly size: number) {}

  private spawn(): Worker {
    const w = new Worker(this.program, this.program.options.tailLines ?? 20, (gone) => {
      this.workers.delete(gone)
      if (!gone.doomed) this.live--
      const i = this.idle.indexOf(gone)
      if (i >= 0) this.idle.splice(i, 1)
      this.fill()
    })
    this.workers.add(w)
    this.live++
    return w
  }

  /** Free slots go to trials waiting for one, each with a new program. */
  private fill() {
    while (!this.closed && this.live < this.size && this.waiting.length > 0) this.waiting.shift()!(this.spawn())
  }

  /**
   * A worker that did not end its trial within its grace period is being killed: its slot goes to
   * a new program now, as a process per trial would not wait for the old one to die either.
   */
  doom(w: Worker) {
    if (w.doomed || w.gone) return
    w.doomed = true
    this.live--
    this.fill()
  }

  /** Gives a worker now, or when one is free; returns a function that stops waiting. */
  acquire(give: (w: Worker) => void): () => void {
    const w = this.idle.pop() ?? (this.live < this.size ? this.spawn() : undefined)
    if (w !== undefined) {
      give(w)
      return () => undefined
    }
    this.waiting.push(give)
    return () => {
      const i = this.waiting.indexOf(give)
      if (i >= 0) this.waiting.splice(i, 1)
    }
  }

  release(w: Worker) {
    if (w.gone || w.doomed) return
    const next = this.waiting.shift()
    if (next !== undefined) next(w)
    else this.idle.push(w)
  }

  /** Closes every program's stdin (its `trials()` ends), and kills those still there after `graceMs`. */
  close(): Promise<void> {
    this.closed = true
    const grace = this.program.options.graceMs ?? 5000
    return Promise.all([...this.workers].map((w) =>
      new Promise<void>((resolve) => {
        if (w.gone) return resolve()
        const timer = setTimeout(() => w.signal("SIGKILL"), grace)
        w.child.once("close", () => {
          clearTimeout(timer)
          resolve()
        })
        w.child.stdin.end()
      })
    )).then(() => undefined)
  }

  /** Runs one trial on a worker: its metric stream; unsubscribing stops the trial. */
  run(trial: TrialContext<unknown>): Observable<Metric> {
    return ProgramCheckpoints.around(trial, this.program.options.checkpoints, (managed) => this.runWith(trial, managed))
  }

  private runWith(trial: TrialContext<unknown>, managed: ProgramCheckpoints.Managed | undefined): Observable<Metric> {
    const { argv, options } = this.program
    const grace = options.graceMs ?? 5000
    return new Observable<Metric>((subscriber) => {
      let worker: Worker | undefined
      let state: "waiting" | "running" | "stopping" | "ended" = "waiting"
      let deciding = false
      let killer: NodeJS.Timeout | undefined
      let run: Run | undefined
      let saving: Promise<void> = Promise.resolve()
      const end = () => {
        if (killer !== undefined) clearTimeout(killer)
        run?.files.close()
        state = "ended"
      }
      const keepTails = () => run === undefined ? Promise.resolve() : keepTailsOf(trial, run.outLines, run.errLines, options.tailLines ?? 20)
      const start = (w: Worker) => {
        worker = w
        state = "running"
        let inputs: ReturnType<typeof trialInputs>
        try {
          inputs = trialInputs(options, trial, managed?.vars)
        } catch (e) {
          this.release(w)
          state = "ended"
          subscriber.error(e)
          return
        }
        run = {
          files: new TrialLogs(inputs.logs, trial.number),
          outLines: [],
          errLines: [],
          metric: (metric) => {
            const decide = () => {
              if (state !== "running") return
              // A Continue is answered when it is decided, also after `next` returns (a decision
              // that waits); a stop ends the subscription, and is answered below or by the teardown.
              Scheduler.decisionOn(metric).then((d) => {
                if (state === "running" && (d === undefined || !Scheduler.stops(d))) w.send("continue")
              })
              deciding = true
              subscriber.next(metric)
              deciding = false
              if (state !== "running") w.send("stop")
            }
            // The step's checkpoint is saved before its metric goes on (the program waits for the answer).
            if (managed === undefined) decide()
            else saving = saving.then(() => managed.reported(metric.step)).then(decide, (e) => subscriber.error(e))
          },
          unready: () => {
            end()
            subscriber.error(
              new Error(`${argv.join(" ")} reported a metric before it took a trial: a reused program iterates the reporter's trials() (tunekit/report in Node, tunekit_report in Python)`)
            )
          },
          done: () => {
            const was = state
            end()
            this.release(w)
            if (was === "running") void saving.then(keepTails).then(() => subscriber.complete())
          },
          exited: (code, signal, ready, reason) => {
            const was = state
            end()
            if (was !== "running") return
            if (reason !== undefined) return subscriber.error(new Error(`${argv[0]} ${reason}`))
            const n = options.tailLines ?? 20
            const during = ready
              ? `during trial ${trial.number}`
              : `before it took a trial (a reused program iterates the reporter's trials(): tunekit/report in Node, tunekit_report in Python)`
            void keepTails().then(() => subscriber.error(new ProgramFailed(argv, code, signal, tail(run!.errLines, n), during)))
          }
        }
        w.begin(run, inputs.vars)
      }
      const cancel = this.acquire(start)
      return () => {
        if (state === "waiting") return cancel()
        if (state !== "running" || worker === undefined) return
        state = "stopping"
        // Best effort: the trial may end before these are written.
        void keepTails()
        // Within `next`, the answer to the metric says stop; otherwise the program reads it at its next report.
        if (!deciding) worker.send("stop")
        const w = worker
        killer = setTimeout(() => {
          this.doom(w)
          w.signal("SIGTERM")
          killer = setTimeout(() => w.signal("SIGKILL"), grace)
        }, grace)
      }
    })
  }
}

/** The pools of one executor, one per program, each of at most `slots` processes. */
export interface Pools {
  readonly run: (program: Program, trial: TrialContext<unknown>) => Observable<Metric>
  readonly close: () => Promise<void>
}

export const makePools = (slots: number): Pools => {
  const pools = new Map<Program, Pool>()
  return {
    run: (program, trial) => {
      let pool = pools.get(program)
      if (pool === undefined) pools.set(program, pool = new Pool(program, slots))
      return pool.run(trial)
    },
    close: () => Promise.all([...pools.values()].map((p) => p.close())).then(() => undefined)
  }
}
