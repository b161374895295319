// A worker thread of the thread pool: loads trainers from their modules and runs one trial at a
// time. Each metric goes to the study's process, and the worker blocks (Atomics.wait) until the
// decision comes back, so a trainer never produces a metric past the one it is stopped at, even a
// synchronous one. Checkpoints are asked of the study's process.
import { Effect, Exit, Layer, ManagedRuntime, Option } from "effect"
import { type MessagePort, parentPort, receiveMessageOnPort } from "node:worker_threads"
import { isObservable, type Observable, takeWhile, tap } from "rxjs"
import * as Checkpoint from "../Checkpoint.js"
import type { TrialContext } from "../Study.js"
import { isTrainerService, Trainer, type TrainerService } from "../Trainer.js"
import type { Metric } from "../Trial.js"
import { type FromJob, fromData, type ModuleRef, type ToJob, toData, type ToWorker } from "./threadProtocol.js"

const port = parentPort!

/** The job's port, where requests of the running trial's checkpoint proxy are answered. */
let current: { readonly port: MessagePort; readonly pending: Map<number, (m: Extract<ToJob, { t: "checkpoint" }>) => void> } | undefined
let nextRequest = 0

const ask = (op: "save" | "load" | "steps" | "remove", args: ReadonlyArray<unknown>) =>
  Effect.async<unknown, unknown>((resume) => {
    const job = current
    if (job === undefined) return resume(Effect.die(new Error("a checkpoint was asked for outside a trial")))
    const request = nextRequest++
    job.pending.set(request, (m) => resume(m.ok ? Effect.succeed(m.value) : Effect.fail(fromData(m.error!))))
    job.port.postMessage({ t: "checkpoint", request, op, args } satisfies FromJob)
  })

/** The study's Checkpoint service, seen from this thread. */
const checkpoints: Checkpoint.CheckpointService = {
  label: "study's process",
  save: (key, step, data) => ask("save", [key, step, data]) as Effect.Effect<void, Checkpoint.CheckpointError>,
  load: (key, step) => ask("load", [key, step]) as Effect.Effect<Checkpoint.Data, Checkpoint.CheckpointError>,
  steps: (key) => ask("steps", [key]) as Effect.Effect<ReadonlyArray<number>, Checkpoint.CheckpointError>,
  remove: (key, options) => ask("remove", [key, options]) as Effect.Effect<void, Checkpoint.CheckpointError>
}

// A Trainer layer is built once per thread, with the proxy as its Checkpoint service.
const runtime = ManagedRuntime.make(Layer.succeed(Checkpoint.Checkpoint, checkpoints))
const trainers = new Map<string, Promise<TrainerService>>()

const load = (ref: ModuleRef): Promise<TrainerService> => {
  const key = `${ref.url}#${ref.export}`
  let t = trainers.get(key)
  if (t === undefined) {
    t = import(ref.url).then((mod: Record<string, unknown>) => {
      const exported = mod[ref.export]
      if (Layer.isLayer(exported)) {
        return runtime.runPromise(Effect.provide(Trainer, exported as Layer.Layer<Trainer, unknown, Checkpoint.Checkpoint>))
      }
      if (isTrainerService(exported)) return exported
      throw new Error(`${ref.url} has no export "${ref.export}" that is a Trainer service or layer`)
    })
    trainers.set(key, t)
  }
  return t
}

const run = async (msg: Extract<ToWorker, { t: "run" }>) => {
  const job = msg.port
  const control = new Int32Array(msg.control)
  const post = (m: FromJob) => job.postMessage(m)
  const controller = new AbortController()
  const pending = new Map<number, (m: Extract<ToJob, { t: "checkpoint" }>) => void>()
  current = { port: job, pending }
  // The study's process adds 1 to control[0] for each message it posts on the job's port, so
  // this thread can block until one comes.
  const handle = (m: ToJob): ToJob | undefined => {
    Atomics.sub(control, 0, 1)
    if (m.t !== "checkpoint") return m
    pending.get(m.request)?.(m)
    pending.delete(m.request)
    return undefined
  }
  /** Blocks until the study's process answers with one of `kinds`; a stop always answers. */
  const reply = (...kinds: ReadonlyArray<ToJob["t"]>): ToJob => {
    for (;;) {
      const got = receiveMessageOnPort(job)
      if (got === undefined) {
        Atomics.wait(control, 0, 0)
        continue
      }
      const m = handle(got.message as ToJob)
      if (m !== undefined && (m.t === "stop" || kinds.includes(m.t))) return m
    }
  }
  /** Sends a metric and blocks until it is decided on. */
  const decide = (metric: Metric): ToJob => {
    post({ t: "metric", metric: { step: metric.step, values: metric.values } })
    return reply("continue")
  }
  const stopped = (m: Extract<ToJob, { t: "stop" }>) => m.error === undefined ? new Error("the trial was stopped") : fromData(m.error)
  job.on("message", (message: ToJob) => {
    const m = handle(message)
    if (m?.t === "stop") controller.abort(stopped(m))
  })
  try {
    const trainer = await load(msg.module)
    const ctx: TrialContext<unknown> = {
      ...msg.trial,
      config: msg.config,
      signal: controller.signal,
      report: async (metric) => {
        const r = decide(metric)
        if (r.t === "stop") {
          const e = stopped(r)
          controller.abort(e)
          throw e
        }
      },
      setUserAttr: async (key, value) => post({ t: "attr", key, value }),
      log: (log) => Effect.sync(() => post({ t: "log", log })),
      suggestFloat: () => {
        throw new Error("define-by-run suggestions are not available in worker threads: declare the space")
      },
      suggestInt: () => {
        throw new Error("define-by-run suggestions are not available in worker threads: declare the space")
      },
      suggestCategorical: () => {
        throw new Error("define-by-run suggestions are not available in worker threads: declare the space")
      }
    }
    const result = trainer.train(msg.config, ctx)
    if (isObservable(result)) {
      post({ t: "kind", stream: true })
      // Subscribe once the study's process listens (unless it stopped the trial first).
      if (reply("go").t === "stop") return post({ t: "done" })
      await new Promise<void>((resolve, reject) => {
        let go = true
        const sub = (result as Observable<Metric>).pipe(
          tap((m) => void (go = decide(m).t === "continue")),
          takeWhile(() => go)
        ).subscribe({ error: reject, complete: resolve })
        controller.signal.addEventListener("abort", () => {
          sub.unsubscribe()
          resolve()
        })
      })
      post({ t: "done" })
    } else {
      post({ t: "kind", stream: false })
      const value = Effect.isEffect(result)
        ? await runtime.runPromiseExit(result as Effect.Effect<unknown, unknown>).then((exit) =>
          Exit.isSuccess(exit) ? exit.value : Promise.reject(Option.getOrElse(Exit.causeOption(exit), () => exit))
        )
        : await result
      post({ t: "done", value })
    }
  } catch (e) {
    post({ t: "error", error: toData(e) })
  } finally {
    job.removeAllListeners("message")
    job.close()
    current = undefined
  }
}

port.on("message", (msg: ToWorker) => {
  if (msg.t === "run") void run(msg)
})
