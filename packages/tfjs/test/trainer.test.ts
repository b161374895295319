// The TensorFlow.js trainer as a Trainer layer: trials through Study.optimize, checkpoints that
// resume paused trials, maxStep, and interruption reaching the training and its checkpoint effects.
import { describe, expect, it } from "vitest"
import * as tf from "@tensorflow/tfjs"
import { Checkpoint, Scheduler, Space, Storage, Study, Trainer, Trial } from "@tunekit/core"
import { Backend, Data, Train } from "@tunekit/tfjs"
import { Deferred, Effect, Fiber, FiberRef, Layer, Option } from "effect"
import { digits } from "./fixtures.js"

const d = digits()
const small = { train: Data.take(d.train, Array.from({ length: 96 }, (_, i) => i)), validation: d.validation }

const space = Space.struct({ lr: Space.float(3e-3, 3e-2, { log: true }), width: Space.categorical([8, 16] as const) })
type Config = Space.Type<typeof space>

const setup = (epochs: number, extra: Partial<Train.Setup> & { readonly batchSize?: number } = {}) => (c: Config): Train.Setup => ({
  model: { type: "mlp", layers: 1, width: c.width, activation: "relu" },
  task: { kind: "classification", classes: 10 },
  ...small,
  training: { optimizer: { type: "adam", learningRate: c.lr }, batchSize: extra.batchSize ?? 16, epochs, seed: 3 },
  ...(extra.onBatch ? { onBatch: extra.onBatch } : {})
})

// The trainer layer's own requirements, with a checkpoint store the test can read.
const services = (store: Checkpoint.CheckpointService) => Layer.merge(Backend.layerWasm, Layer.succeed(Checkpoint.Checkpoint, store))

// Pauses every trial at its second epoch, once, and resumes the paused ones before new trials.
let pauses = 0
const pauseAtTwo = Layer.succeed(Scheduler.Scheduler, {
  name: "pause-at-2",
  decide: ({ metric }) => Effect.sync(() => metric.step === 2 ? (pauses++, Scheduler.Decision.Pause()) : Scheduler.Continue),
  resume: ({ history }) => Effect.map(history, (ts) => Option.fromNullable(ts.find((t) => t.state === "Waiting" && t.intermediate.length > 0)?.id))
})

describe("Train.layer", () => {
  it("trains an MLP on the digits for each trial of a study, saving each epoch under its trial; maxStep is the epochs", async () => {
    const store = Checkpoint.makeMemory()
    const program = Effect.gen(function*() {
      const trainer = yield* Trainer.Trainer
      const result = yield* Study.optimize({ study: "layer", space, metric: "val_accuracy", direction: "maximize", trials: 3 })
      return { trainer, result }
    })
    const { trainer, result } = await Effect.runPromise(
      program.pipe(Effect.provide(Train.layer(setup(3))), Effect.provide(Layer.merge(Study.layerDefaults({ seed: 2 }), services(store))))
    )
    expect(trainer.name).toBe("tfjs")
    expect(Trainer.maxStepOf(trainer, { lr: 0.01, width: 8 })).toBe(3)
    expect(result.trials.map((t) => t.state)).toEqual(["Complete", "Complete", "Complete"])
    for (const t of result.trials) {
      expect(t.intermediate.map((m) => m.step)).toEqual([1, 2, 3])
      expect(await Effect.runPromise(store.steps({ study: "layer", trial: t.number }))).toEqual([1, 2, 3])
    }
    // Better than a guess among 10 classes after 3 epochs on 96 digits.
    expect(Option.getOrThrow(result.best).values![0]).toBeGreaterThan(0.3)
    expect(tf.memory().numTensors).toBe(0)
  })

  it("maxStep follows the epochs a config trains for: a trial that reports its last epoch completes, whatever the scheduler says", async () => {
    const byWidth = (c: Config) => setup(c.width === 8 ? 1 : 3)(c)
    const pruneAll = Layer.succeed(Scheduler.Scheduler, { name: "prune-all", decide: () => Effect.succeed(Scheduler.Decision.Prune({ reason: "test" })) })
    const { trainer, result } = await Effect.runPromise(
      Effect.all({
        trainer: Trainer.Trainer,
        result: Study.optimize({ study: "max-step", space, metric: "val_loss", direction: "minimize", trials: 6 })
      }).pipe(
        Effect.provide(Train.layer(byWidth)),
        Effect.provide(pruneAll),
        Effect.provide(Layer.merge(Study.layerDefaults({ seed: 4 }), services(Checkpoint.makeMemory())))
      )
    )
    expect(Trainer.maxStepOf(trainer, { lr: 0.01, width: 8 })).toBe(1)
    expect(Trainer.maxStepOf(trainer, { lr: 0.01, width: 16 })).toBe(3)
    const outcome = result.trials.map((t) => [Trial.paramValues(t).width, t.state, t.intermediate.length])
    expect(new Set(outcome.map((o) => o[0]))).toEqual(new Set([8, 16]))
    for (const o of outcome) expect(o).toEqual(o[0] === 8 ? [8, "Complete", 1] : [16, "Pruned", 1])
  })

  it("as an objective: Train.make's trainer.train", async () => {
    const result = await Effect.runPromise(
      Effect.flatMap(Train.make(setup(2)), (trainer) => Study.optimize({ study: "objective", space, metric: "val_loss", direction: "minimize", trials: 2, objective: trainer.train })).pipe(
        Effect.provide(Layer.merge(Study.layerDefaults({ seed: 5 }), services(Checkpoint.makeMemory())))
      )
    )
    expect(result.trials.map((t) => [t.state, t.intermediate.length])).toEqual([["Complete", 2], ["Complete", 2]])
  })

  it("a paused trial resumes from its checkpoint and ends as an unbroken run would", async () => {
    const store = Checkpoint.makeMemory()
    const epochsStarted: Array<number> = []
    const result = await Effect.runPromise(
      Study.optimize({ study: "resume", space, metric: "val_loss", direction: "minimize", trials: 2 }).pipe(
        Effect.provide(Train.layer(setup(4, { onBatch: ({ epoch, batch }) => void (batch === 0 && epochsStarted.push(epoch)) }))),
        Effect.provide(pauseAtTwo),
        Effect.provide(Layer.merge(Study.layerDefaults({ seed: 8 }), services(store)))
      )
    )
    const all = await Effect.runPromise(result.study.trials)
    const complete = all.filter((t) => t.state === "Complete")
    expect(complete.length).toBeGreaterThan(0)
    // Each trial was paused once, and trained each epoch once: 1 and 2, then (resumed) 3 and 4.
    expect(pauses).toBe(complete.length)
    expect(epochsStarted).toEqual(complete.flatMap(() => [1, 2, 3, 4]))
    expect(all.every((t) => t.state === "Complete")).toBe(true)
    for (const t of complete) {
      // Steps 1-2 before the pause, 3-4 after it: the resumed run started at epoch 3, not over.
      expect(t.intermediate.map((m) => m.step)).toEqual([1, 2, 3, 4])
      const straight = await Train.run({ ...setup(4)(Trial.paramValues(t) as Config), backend: Backend.make("wasm") })
      expect(t.intermediate[3].values).toEqual(straight.values)
    }
  })

  it("runs the checkpoint effects on the runtime it was built in", async () => {
    const tag = FiberRef.unsafeMake("default runtime")
    const seen: Array<string> = []
    const memory = Checkpoint.makeMemory()
    const store: Checkpoint.CheckpointService = {
      ...memory,
      save: (key, step, data) => FiberRef.get(tag).pipe(Effect.tap((v) => void seen.push(v)), Effect.zipRight(memory.save(key, step, data)))
    }
    await Effect.runPromise(
      Study.optimize({ study: "runtime", space, metric: "val_loss", direction: "minimize", trials: 1 }).pipe(
        Effect.provide(Train.layer(setup(2))),
        Effect.provide(Layer.merge(Study.layerDefaults({ seed: 1 }), services(store))),
        Effect.locally(tag, "the study's")
      )
    )
    expect(seen).toEqual(["the study's", "the study's"])
  })
})

describe("interrupting a study", () => {
  it("stops its trial's training within the current epoch, and the trial is stored as failed", async () => {
    const store = Checkpoint.makeMemory()
    const batches: Array<number> = []
    let atInterrupt = 0
    const program = Effect.gen(function*() {
      const inSecondEpoch = yield* Deferred.make<void>()
      // 24 batches an epoch: the interrupt lands well inside the second one.
      const training = setup(50, {
        batchSize: 4,
        onBatch: ({ epoch }) => {
          batches.push(epoch)
          if (epoch === 2) Deferred.unsafeDone(inSecondEpoch, Effect.void)
        }
      })
      const fiber = yield* Study.optimize({ study: "interrupt", space, metric: "val_loss", direction: "minimize", trials: 1 }).pipe(
        Effect.provide(Train.layer(training)),
        Effect.fork
      )
      yield* Deferred.await(inSecondEpoch)
      atInterrupt = batches.length
      yield* Fiber.interrupt(fiber)
      yield* Effect.promise(() => Train.settled())
      const storage = yield* Storage.Storage
      return yield* storage.getTrials((yield* storage.getStudy("interrupt")).id)
    })
    const trials = await Effect.runPromise(program.pipe(Effect.provide(Layer.merge(Study.layerDefaults({ seed: 1 }), services(store)))))
    const after = batches.slice(atInterrupt)
    // At most a few batches more of the epoch in flight, none of a later epoch, no epoch reported after the first.
    expect(after.every((e) => e === 2)).toBe(true)
    expect(batches.filter((e) => e === 2).length).toBeLessThan(24)
    expect(trials.map((t) => [t.state, t.intermediate.length])).toEqual([["Failed", 1]])
    expect(tf.memory().numTensors).toBe(0)
  })

  it("interrupts a checkpoint save in flight, and the run ends", async () => {
    let saving = false
    let interrupted = false
    const memory = Checkpoint.makeMemory()
    const stuck: Checkpoint.CheckpointService = {
      ...memory,
      save: () => Effect.sync(() => void (saving = true)).pipe(Effect.zipRight(Effect.never), Effect.onInterrupt(() => Effect.sync(() => void (interrupted = true))))
    }
    const program = Effect.gen(function*() {
      const fiber = yield* Study.optimize({ study: "stuck", space, metric: "val_loss", direction: "minimize", trials: 1 }).pipe(
        Effect.provide(Train.layer(setup(3))),
        Effect.fork
      )
      while (!saving) yield* Effect.sleep("5 millis")
      yield* Fiber.interrupt(fiber)
      // Resolves only when the run has ended: a save run with Effect.runPromise would hang here.
      yield* Effect.promise(() => Train.settled())
    })
    await Effect.runPromise(program.pipe(Effect.provide(Layer.merge(Study.layerDefaults({ seed: 1 }), services(stuck)))))
    expect(interrupted).toBe(true)
    expect(tf.memory().numTensors).toBe(0)
  })
})
