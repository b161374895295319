// What trackers cost a study: the same study (CPU-bound trials reporting a metric per step) with
// no tracker, JSON lines, the built-in runs, and MLflow against a server that is down, one that
// answers every request after --delay ms, and (with --mlflow) a real server. The study's time runs
// from opening the study to the end of Study.optimize, whose run loop calls studyStarted and
// studyFinished (the bench called them once more itself until 2026-11-30); the tracker's close
// (sending what is left, at most closeTimeoutMs) is timed apart. Repetitions are interleaved, each
// in its own order, and the overhead is the median of the ratios to the run without a tracker of
// the same repetition.
//
// Beside the study's time: the process's CPU outside the trials' work (every thread), and the
// study's thread's alone (Linux), each beyond the run without a tracker as a share of its time; the
// latter is what a tracker costs the study even when other cores are free.
//
// With --io each step lets the event loop turn (setImmediate), as training with I/O or timers does:
// the tracker then sends while the study runs. Without it the study runs in microtasks alone and
// the requests go out when it ends.
//
//   nice -n 10 npm run bench -- tracking [--reps 5] [--trials 200] [--steps 5] [--work-ms 1] [--delay 300] [--mlflow] [--io]
//                                        [--only slow,down] (the run without a tracker and those whose names contain a word)
import { Context, Effect, Layer, Logger, LogLevel, Option } from "effect"
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { Space, type Storage, Study, Tracker } from "@tunekit/core"
import { JsonLines, Mlflow, Runs } from "@tunekit/tracking"
import { freePort, startMlflow } from "../packages/tracking/test/_mlflow.js"
import { emit, median, medianInterval, parseArgs, table } from "./_util.js"

const space = Space.struct({ lr: Space.float(1e-4, 1e-1, { log: true }), width: Space.int(8, 256, { log: true }), act: Space.categorical(["relu", "tanh"] as const) })

/** The process's CPU time (all its threads), in microseconds. */
const cpuNow = () => {
  const c = process.cpuUsage()
  return c.user + c.system
}

// The study's thread's own CPU time, in microseconds: Linux's per-thread schedstat (its first field,
// ns on the CPU), read in place; where there is none, the process's. A tracker that works on
// another thread (MLflow's HTTP) shows in the process's CPU and not here.
const schedstat = (() => {
  try {
    return fs.openSync(`/proc/self/task/${process.pid}/schedstat`, "r")
  } catch {
    return undefined
  }
})()
const statBuf = Buffer.alloc(64)
const threadCpuNow = (): number => {
  if (schedstat === undefined) return cpuNow()
  const n = fs.readSync(schedstat, statBuf, 0, statBuf.length, 0)
  return Number(statBuf.toString("latin1", 0, n).split(" ")[0]) / 1000
}

/** The study's thread's CPU time in the trials' busy work, in microseconds. */
let workCpu = 0

/** Busy work of about `ms` milliseconds (CPU, as a training step is). */
const work = (ms: number) => {
  const c0 = threadCpuNow()
  const until = performance.now() + ms
  let x = 0
  while (performance.now() < until) x += Math.sqrt(x + 1)
  workCpu += threadCpuNow() - c0
  return x
}

interface Run {
  readonly studyMs: number
  /**
   * The process's CPU time during the study outside the trials' work: the run loop's, and a
   * tracker's on any thread. Unlike the study's time it does not grow while other processes
   * hold the cores (nor with a local server's CPU), so it shows a tracker's own cost under load.
   */
  readonly otherCpuMs: number
  /** The study's thread's CPU time outside the trials' work (a tracker's other threads left out). */
  readonly threadCpuMs: number
  readonly closeMs: number
  /** Time in the tracker's studyFinished (its wait for the queue), within the study's time. */
  readonly endMs: number
  readonly health: ReadonlyArray<Tracker.Health>
}

type TrackerLayer = Layer.Layer<Tracker.Tracker, unknown, Storage.Storage>

const runOnce = (tracker: TrackerLayer | undefined, o: { trials: number; steps: number; workMs: number; io: boolean }, name: string): Promise<Run> => {
  let closeFrom = 0
  let endMs = 0
  const timedEnd = (t: Tracker.TrackerService): Tracker.TrackerService =>
    t.studyFinished === undefined ? t : {
      ...t,
      studyFinished: (s, e) =>
        Effect.suspend(() => {
          const t0 = performance.now()
          return Effect.ensuring(t.studyFinished!(s, e), Effect.sync(() => void (endMs += performance.now() - t0)))
        })
    }
  let service: Tracker.TrackerService = Tracker.none
  const program = Effect.gen(function*() {
    service = Option.getOrElse(yield* Effect.serviceOption(Tracker.Tracker), () => Tracker.none)
    const t0 = performance.now()
    const cpu0 = cpuNow()
    const thread0 = threadCpuNow()
    workCpu = 0
    yield* Study.open({ study: name, space, metric: "loss" })
    yield* Study.optimize({
      study: name,
      space,
      metric: "loss",
      trials: o.trials,
      objective: async (c, trial) => {
        let loss = 1
        for (let step = 1; step <= o.steps; step++) {
          work(o.workMs)
          // As training does between steps (I/O, timers): without it the study runs in microtasks
          // only, and a tracker's requests wait for its end.
          if (o.io) await new Promise((r) => setImmediate(r))
          loss = loss * 0.8 + c.lr
          await trial.report({ step, values: { loss, width: c.width } })
        }
        return loss
      }
    })
    const studyMs = performance.now() - t0
    const otherCpuMs = (cpuNow() - cpu0 - workCpu) / 1000
    const threadCpuMs = (threadCpuNow() - thread0 - workCpu) / 1000
    closeFrom = performance.now()
    return { studyMs, otherCpuMs, threadCpuMs }
  })
  const provided = tracker === undefined
    ? program
    : program.pipe(Effect.provide(Layer.map(tracker, (ctx) => Context.add(ctx, Tracker.Tracker, timedEnd(Context.get(ctx, Tracker.Tracker))))))
  return Effect.runPromise(provided.pipe(
    Effect.provide(Study.layerDefaults({ seed: 1 })),
    Logger.withMinimumLogLevel(LogLevel.Error)
  )).then((r) => ({
    ...r,
    closeMs: performance.now() - closeFrom,
    endMs,
    // read after the tracker closed: what it sent, and what it lost, in the end
    health: service.health === undefined ? [] : Effect.runSync(service.health)
  }))
}

/** The items in a random order, the same for a seed (Fisher-Yates). */
const shuffled = <T>(xs: ReadonlyArray<T>, seed: number): Array<T> => {
  let state = seed * 7919 + 17
  const next = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  const out = [...xs]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

export const main = async (args: ReadonlyArray<string>): Promise<void> => {
  const a = parseArgs(args)
  const reps = Number(a.reps ?? 5)
  const o = { trials: Number(a.trials ?? 200), steps: Number(a.steps ?? 5), workMs: Number(a["work-ms"] ?? 1), io: a.io === true }
  const delay = Number(a.delay ?? 300)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-bench-tracking-"))
  const downPort = await freePort()
  // A slow server that answers as MLflow does (an experiment, runs), so that the tracker keeps
  // sending to it, rather than failing on the first answer it cannot read.
  let slowRuns = 0
  const slow = http.createServer((req, res) => {
    req.resume()
    const body = req.url?.endsWith("/experiments/create")
      ? { experiment_id: "1" }
      : req.url?.endsWith("/runs/create")
      ? { run: { info: { run_id: `run-${++slowRuns}`, artifact_uri: `mlflow-artifacts:/1/run-${slowRuns}/artifacts` } } }
      : {}
    setTimeout(() => res.end(JSON.stringify(body)), delay)
  })
  const slowPort = await freePort()
  await new Promise<void>((r) => slow.listen(slowPort, "127.0.0.1", r))
  const server = a.mlflow === true ? await startMlflow() : undefined
  try {
    const all: ReadonlyArray<readonly [string, () => TrackerLayer | undefined]> = [
      ["none", () => undefined],
      ["jsonl", () => JsonLines.layer({ directory: path.join(dir, "jsonl") })],
      ["runs", () => Runs.layer({ directory: path.join(dir, "artifacts") })],
      ["mlflow down", () => Mlflow.layer({ url: `http://127.0.0.1:${downPort}` })],
      [`mlflow slow (${delay} ms a request)`, () => Mlflow.layer({ url: `http://127.0.0.1:${slowPort}`, closeTimeoutMs: 2000 })],
      ...(server === undefined ? [] : [["mlflow (real server)", () => Mlflow.layer({ url: server.url })] as const])
    ]
    const only = typeof a.only === "string" ? a.only.split(",") : undefined
    const trackers = only === undefined ? all : all.filter(([n]) => n === "none" || only.some((w) => n.includes(w)))
    const results = new Map<string, Array<Run>>(trackers.map(([n]) => [n, []]))
    for (let rep = 0; rep < reps; rep++) {
      // Each repetition in its own order, so that no tracker always follows another (a real server
      // still busy with the last run's requests slows the next run). Rotating the order did not:
      // it keeps the cycle, and the run without a tracker always came right after the real server.
      for (const [name, make] of shuffled(trackers, rep)) {
        const r = await runOnce(make(), o, `bench-${rep}-${name.split(" ").join("-")}`)
        results.get(name)!.push(r)
        const h = r.health.reduce((acc, x) => ({ failed: acc.failed + x.failed, dropped: acc.dropped + x.dropped, retried: acc.retried + x.retried, sent: acc.sent + x.sent }), { failed: 0, dropped: 0, retried: 0, sent: 0 })
        emit({ bench: "tracking", tracker: name, rep, trials: o.trials, steps: o.steps, io: o.io, study_ms: Math.round(r.studyMs * 10) / 10, other_cpu_ms: Math.round(r.otherCpuMs * 10) / 10, thread_cpu_ms: Math.round(r.threadCpuMs * 10) / 10, end_ms: Math.round(r.endMs * 10) / 10, close_ms: Math.round(r.closeMs * 10) / 10, ...h })
      }
    }
    const none = results.get("none")!.map((r) => r.studyMs)
    const noneCpu = results.get("none")!.map((r) => r.otherCpuMs)
    const noneThread = results.get("none")!.map((r) => r.threadCpuMs)
    const percent = (x: number) => `${(x * 100).toFixed(1)}%`
    table(
      `trackers' cost: ${o.trials} trials x ${o.steps} steps of ${o.workMs} ms${o.io ? " (the event loop turning each step)" : ""}, ${reps} interleaved runs; overhead: median of the runs' ratios to the run without a tracker of the same repetition, with a 90% bootstrap interval`,
      ["tracker", "study ms", "overhead", "90% interval", "other CPU ms", "CPU overhead", "90% interval", "thread CPU", "90% interval", "end ms", "close ms", "sent", "failed", "dropped"],
      trackers.map(([name]) => {
        const rs = results.get(name)!
        const m = median(rs.map((r) => r.studyMs))
        const last = rs[rs.length - 1].health
        // Paired by repetition: both runs of a pair ran within seconds of each other, so a busy
        // spell of the machine slows both, which the ratio of overall medians would not cancel.
        const ratios = rs.map((r, i) => r.studyMs / none[i] - 1)
        const [lo, hi] = medianInterval(ratios, 0.9)
        // The tracker's own CPU (beyond the run without one) as a share of that run's time.
        const cpuShares = rs.map((r, i) => (r.otherCpuMs - noneCpu[i]) / none[i])
        const [clo, chi] = medianInterval(cpuShares, 0.9)
        // The same on the study's thread alone: what the study waits for, even on idle cores.
        const threadShares = rs.map((r, i) => (r.threadCpuMs - noneThread[i]) / none[i])
        const [tlo, thi] = medianInterval(threadShares, 0.9)
        if (name !== "none") {
          emit({
            bench: "tracking-overhead",
            tracker: name,
            reps,
            io: o.io,
            overhead: median(ratios),
            low: lo,
            high: hi,
            cpu_overhead: median(cpuShares),
            cpu_low: clo,
            cpu_high: chi,
            thread_cpu_overhead: median(threadShares),
            thread_cpu_low: tlo,
            thread_cpu_high: thi
          })
        }
        return [
          name,
          m,
          name === "none" ? "-" : percent(median(ratios)),
          name === "none" ? "-" : `${percent(lo)} to ${percent(hi)}`,
          median(rs.map((r) => r.otherCpuMs)),
          name === "none" ? "-" : percent(median(cpuShares)),
          name === "none" ? "-" : `${percent(clo)} to ${percent(chi)}`,
          name === "none" ? "-" : percent(median(threadShares)),
          name === "none" ? "-" : `${percent(tlo)} to ${percent(thi)}`,
          median(rs.map((r) => r.endMs)),
          median(rs.map((r) => r.closeMs)),
          last.reduce((x, h) => x + h.sent, 0),
          last.reduce((x, h) => x + h.failed, 0),
          last.reduce((x, h) => x + h.dropped, 0)
        ]
      })
    )
  } finally {
    slow.closeAllConnections()
    slow.close()
    await server?.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
