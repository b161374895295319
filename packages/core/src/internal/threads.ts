// The worker-thread pool behind Executor.layerThreads: one trial per worker at a time, a queue for
// the rest, and a new worker in place of one that crashed (its trial fails, the others go on).
import { Effect, Option, Runtime } from "effect"
import { MessageChannel, type MessagePort, Worker } from "node:worker_threads"
import { Observable } from "rxjs"
import * as Checkpoint from "../Checkpoint.js"
import { InvalidOptions } from "../Errors.js"
import * as Scheduler from "../Scheduler.js"
import type { ObjectiveResult, TrialContext } from "../Study.js"
import type { TrainerService } from "../Trainer.js"
import type { Metric } from "../Trial.js"
import { type FromJob, fromData, type ToJob, toData, type ToWorker, trialData } from "./threadProtocol.js"

/** Options of the pool. */
export interface PoolOptions {
  /** Limits of each worker's heap, in MB: a trial that passes them fails, and its worker is replaced. */
  readonly maxHeapMb?: number
}

// From source (tests, tsx) the worker is TypeScript: it starts through tsx's loader, and resolves
// the workspace's packages by their "source" condition as this process does.
const fromSource = import.meta.url.endsWith(".ts")
const entry = new URL(`./threadWorker${fromSource ? ".ts" : ".js"}`, import.meta.url).href
// tsx's loader, as this module resolves it (or by name, from the working directory).
const tsxApi = (): string => {
  try {
    return (import.meta as { resolve?: (s: string) => string }).resolve?.("tsx/esm/api") ?? "tsx/esm/api"
  } catch {
    return "tsx/esm/api"
  }
}
// A worker started from code: it registers tsx when asked (a TypeScript worker or trainer module).
const BOOT = `const { workerData } = require("node:worker_threads");
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})();`

interface Job {
  readonly message: Omit<Extract<ToWorker, { t: "run" }>, "port"> & { readonly port: MessagePort }
  readonly mine: MessagePort
  readonly control: Int32Array
  readonly onMessage: (m: FromJob) => void
  readonly onCrash: (e: Error) => void
}

interface Slot {
  worker: Worker
  job: Job | undefined
}

export const makePool = (size: number, options: PoolOptions) => {
  const queue: Array<Job> = []
  const slots: Array<Slot> = []
  let closed = false
  let jobs = 0

  const start = (ts: boolean): Worker => {
    const tsx = fromSource || ts ? tsxApi() : undefined
    const worker = new Worker(BOOT, {
      eval: true,
      workerData: { entry, tsx },
      execArgv: fromSource ? ["--conditions=source"] : [],
      ...(options.maxHeapMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb } })
    })
    worker.unref()
    return worker
  }

  const attach = (slot: Slot) => {
    const crash = (e: Error) => {
      const job = slot.job
      slot.job = undefined
      const i = slots.indexOf(slot)
      if (i >= 0) slots.splice(i, 1)
      job?.onCrash(e)
      void slot.worker.terminate()
      pump()
    }
    slot.worker.on("error", crash)
    slot.worker.on("exit", (code) => {
      if (!closed) crash(new Error(`the worker thread exited with code ${code}`))
    })
  }

  const pump = () => {
    while (!closed && queue.length > 0) {
      let slot = slots.find((s) => s.job === undefined)
      if (slot === undefined && slots.length < size) {
        slot = { worker: start(queue[0].message.module.url.endsWith(".ts")), job: undefined }
        slots.push(slot)
        attach(slot)
      }
      if (slot === undefined) return
      const job = queue.shift()!
      slot.job = job
      slot.worker.ref()
      job.mine.on("message", (m: FromJob) => {
        if (m.t === "done" || m.t === "error") {
          slot!.job = undefined
          slot!.worker.unref()
          job.mine.close()
          pump()
        }
        job.onMessage(m)
      })
      slot.worker.postMessage(job.message, [job.message.port])
    }
  }

  const check = (trainer: TrainerService<any>): Effect.Effect<void, InvalidOptions> =>
    trainer.module === undefined
      ? Effect.fail(
        new InvalidOptions({
          reason: `the threads executor loads the trainer in each worker from its module: provide it with Trainer.layerModule(url, name) (the "${trainer.name}" trainer has no module)`
        })
      )
      : Effect.void

  const run = <A>(trainer: TrainerService<A>, config: A, trial: TrialContext<A>): Effect.Effect<ObjectiveResult> =>
    Effect.gen(function*() {
      const checkpoints = Option.getOrUndefined(yield* Effect.serviceOption(Checkpoint.Checkpoint))
      const runtime = yield* Effect.runtime<never>()
      return yield* Effect.async<ObjectiveResult>((resume) => {
        const { port1: mine, port2: theirs } = new MessageChannel()
        const shared = new SharedArrayBuffer(4)
        const control = new Int32Array(shared)
        /** Answers the worker; it may be blocked waiting for exactly this. */
        const send = (m: ToJob) => {
          mine.postMessage(m)
          Atomics.add(control, 0, 1)
          Atomics.notify(control, 0)
        }
        let subscriber: import("rxjs").Subscriber<Metric> | undefined
        let settle: { resolve: (v: unknown) => void; reject: (e: unknown) => void } | undefined
        let finished = false
        const fail = (e: unknown) => {
          finished = true
          if (subscriber) subscriber.error(e)
          else if (settle) settle.reject(e)
          else resume(Effect.succeed(Promise.reject(e)))
        }
        const checkpoint = (m: Extract<FromJob, { t: "checkpoint" }>) => {
          const answer = (ok: boolean, value?: unknown) =>
            send(ok ? { t: "checkpoint", request: m.request, ok, value } : { t: "checkpoint", request: m.request, ok, error: toData(value) })
          if (checkpoints === undefined) return answer(false, new Error("no Checkpoint service is provided to the study"))
          const [a, b, c] = m.args as [Checkpoint.Key, never, never]
          const op = m.op === "save"
            ? checkpoints.save(a, b, c)
            : m.op === "load"
            ? checkpoints.load(a, b)
            : m.op === "steps"
            ? checkpoints.steps(a)
            : checkpoints.remove(a, b)
          Runtime.runFork(runtime)(Effect.match(op as Effect.Effect<unknown, unknown>, { onFailure: (e) => answer(false, e), onSuccess: (v) => answer(true, v) }))
        }
        const onMessage = (m: FromJob) => {
          switch (m.t) {
            case "kind":
              if (m.stream) {
                resume(Effect.succeed(
                  new Observable<Metric>((s) => {
                    subscriber = s
                    send({ t: "go" })
                    return () => {
                      if (!finished) send({ t: "stop" })
                    }
                  })
                ))
              } else {
                resume(Effect.succeed(new Promise<number>((resolve, reject) => void (settle = { resolve: resolve as (v: unknown) => void, reject }))))
              }
              return
            case "metric":
              if (subscriber) {
                // The worker waits for the decision, also one that comes after `next` returns (a
                // decision that waits); a stop ends the subscription, whose teardown answers it.
                const current = subscriber
                Scheduler.decisionOn(m.metric).then((d) => {
                  if (!current.closed && (d === undefined || !Scheduler.stops(d))) send({ t: "continue" })
                })
                current.next(m.metric)
              } else {
                // A Promise trainer's report: decided through the trial's own report.
                trial.report(m.metric).then(
                  () => send({ t: "continue" }),
                  (e) => send({ t: "stop", error: toData(e) })
                )
              }
              return
            case "attr":
              void trial.setUserAttr(m.key, m.value as never)
              return
            case "log":
              Runtime.runFork(runtime)(trial.log(m.log as never))
              return
            case "checkpoint":
              return checkpoint(m)
            case "done":
              finished = true
              if (subscriber) subscriber.complete()
              else settle?.resolve(m.value)
              return
            case "error":
              return fail(fromData(m.error))
          }
        }
        const job: Job = {
          message: { t: "run", job: jobs++, module: trainer.module!, config, trial: trialData(trial as never), control: shared, port: theirs },
          mine,
          control,
          onMessage,
          onCrash: (e) => fail(new Error(`the worker thread running trial ${trial.number} crashed: ${e.message}`))
        }
        queue.push(job)
        pump()
        // Interrupted before the trial started or while it runs: stop it in its worker.
        return Effect.sync(() => {
          const i = queue.indexOf(job)
          if (i >= 0) queue.splice(i, 1)
          else if (!finished) send({ t: "stop" })
        })
      })
    })

  const close = async () => {
    closed = true
    await Promise.all(slots.map((s) => s.worker.terminate()))
  }

  return { run, check, close }
}
