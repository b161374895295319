import { describe, expect, it } from "vitest"
import * as tf from "@tensorflow/tfjs"
import { Scheduler, Space, Study } from "@tunekit/core"
import { Backend, Data, Train } from "@tunekit/tfjs"
import { Effect, Layer } from "effect"
import { digits } from "./fixtures.js"

// A scheduler that prunes every third trial at its second epoch: deterministic pruning.
const pruneEveryThird = Layer.succeed(Scheduler.Scheduler, {
  name: "every-third",
  decide: ({ trial, metric }) =>
    Effect.succeed(trial.number % 3 === 1 && metric.step >= 2 ? Scheduler.Decision.Prune({ reason: "test" }) : Scheduler.Continue)
})

const d = digits()
const small = { train: Data.take(d.train, Array.from({ length: 96 }, (_, i) => i)), validation: Data.take(d.validation, Array.from({ length: 40 }, (_, i) => i)) }

describe("trainers in a study", () => {
  it("leak no tensors over 20 trials, including pruned and failing ones", async () => {
    const space = Space.struct({
      width: Space.categorical([8, 16] as const),
      lr: Space.float(1e-3, 1e-2, { log: true }),
      model: Space.categorical(["mlp", "cnn", "bad"] as const)
    })
    const program = Effect.gen(function*() {
      const backend = yield* Backend.Backend
      // A first trial warms up TensorFlow.js's own caches; count from after it.
      yield* Effect.promise(() => Train.run({ model: { type: "mlp", layers: 1, width: 8, activation: "relu" }, task: { kind: "classification", classes: 10 }, ...small, training: { optimizer: { type: "adam", learningRate: 1e-3 }, batchSize: 32, epochs: 1 } }))
      const baseline = tf.memory().numTensors
      const counts: Array<number> = []
      const result = yield* Study.optimize({
        study: "leaks",
        space,
        metric: "val_accuracy",
        direction: "maximize",
        trials: 20,
        objective: (c) =>
          Train.fit({
            backend,
            model: c.model === "mlp"
              ? { type: "mlp", layers: 2, width: c.width, activation: "relu", dropout: 0.1, batchNorm: true }
              : c.model === "cnn"
              ? { type: "cnn", blocks: 1, filters: c.width, kernel: 3, pooling: "max" }
              : { type: "mlp", layers: 1, width: 0, activation: "relu" }, // an impossible model: fails alone
            task: { kind: "classification", classes: 10 },
            ...small,
            training: { optimizer: { type: "adamw", learningRate: c.lr, weightDecay: 1e-4 }, clipNorm: 1, batchSize: 16, epochs: 3, seed: 1 }
          }),
        callbacks: [() => Effect.promise(async () => {
          await Train.settled()
          counts.push(tf.memory().numTensors)
        })]
      })
      return { result, counts, baseline }
    })
    const { result, counts, baseline } = await Effect.runPromise(
      program.pipe(Effect.provide(pruneEveryThird), Effect.provide(Layer.merge(Study.layerDefaults({ seed: 4 }), Backend.layerWasm)))
    )
    const states = result.trials.map((t) => t.state)
    expect(states.length).toBe(20)
    expect(states).toContain("Pruned")
    expect(states).toContain("Complete")
    expect(states).toContain("Failed")
    expect(result.trials.filter((t) => t.state === "Failed").every((t) => /invalid mlp model: model\.width: expected a positive integer, got 0/.test(t.reason ?? ""))).toBe(true)
    expect(counts).toEqual(Array.from({ length: 20 }, () => baseline))
  })

  it("unsubscribing stops the run after the current batch", async () => {
    await Backend.select("wasm")
    const batches: Array<string> = []
    let epochs = 0
    const sub = Train.fit({
      model: { type: "mlp", layers: 1, width: 8, activation: "relu" },
      task: { kind: "classification", classes: 10 },
      ...small,
      training: { optimizer: { type: "adam", learningRate: 1e-3 }, batchSize: 8, epochs: 50 },
      onBatch: ({ epoch, batch }) => {
        batches.push(`${epoch}:${batch}`)
        if (epoch === 2 && batch === 3) sub.unsubscribe()
      }
    }).subscribe(() => epochs++)
    await Train.settled()
    expect(epochs).toBe(1)
    expect(batches.at(-1)).toBe("2:3")
    expect(tf.memory().numTensors).toBe(0)
  })

  it("bad data and impossible models fail with typed errors naming what and where", async () => {
    await Backend.select("cpu")
    const base: Train.Options = {
      model: { type: "mlp", layers: 1, width: 8, activation: "relu" },
      task: { kind: "classification", classes: 10 },
      ...small,
      training: { optimizer: { type: "adam", learningRate: 1e-3 }, batchSize: 8, epochs: 1 }
    }
    const nan = { ...small.train, x: Float32Array.from(small.train.x, (v, i) => (i === 70 ? NaN : v)) }
    await expect(Train.run({ ...base, train: nan })).rejects.toMatchObject({ _tag: "InvalidData", dataset: "train", message: expect.stringMatching(/feature 6 of row 1 is NaN/) })
    const outOfRange = { ...small.validation, y: Float32Array.from(small.validation.y, (v, i) => (i === 5 ? 12 : v)) }
    await expect(Train.run({ ...base, validation: outOfRange })).rejects.toMatchObject({ _tag: "InvalidData", message: expect.stringMatching(/label 12 at row 5/) })
    await expect(Train.run({ ...base, model: { type: "transformer", vocabSize: 20, layers: 1, heads: 3, modelWidth: 16, ffWidth: 8 } })).rejects.toMatchObject({
      _tag: "InvalidModel",
      field: "model.heads",
      message: expect.stringMatching(/3 heads do not divide the model width 16/)
    })
    await expect(Train.run({ ...base, model: { type: "rnn", cell: "lstm", units: 0, layers: 1 } })).rejects.toMatchObject({ _tag: "InvalidModel", field: "model.units" })
    await expect(Train.run({ ...base, model: { type: "cnn", blocks: 4, filters: 4, kernel: 3, pooling: "max" } })).rejects.toMatchObject({ _tag: "InvalidModel", field: "model.blocks" })
    await expect(Train.run({ ...base, training: { ...base.training, loss: { type: "mse" } } })).rejects.toMatchObject({ _tag: "InvalidTraining", field: "training.loss" })
    await expect(Train.run({ ...base, training: { ...base.training, optimizer: { type: "sgd", learningRate: 1e20 }, epochs: 3 } })).rejects.toMatchObject({ _tag: "TrainingDiverged" })
    expect(tf.memory().numTensors).toBe(0)
  })
})

describe("backends", () => {
  it("a layer selects its backend; the native ones say what to install", async () => {
    const name = await Effect.runPromise(Effect.map(Backend.Backend, (b) => b.name).pipe(Effect.provide(Backend.layerCpu)))
    expect(name).toBe("cpu")
    expect(tf.getBackend()).toBe("cpu")
    await Effect.runPromise(Effect.provide(Effect.void, Backend.layerWasm))
    expect(tf.getBackend()).toBe("wasm")
    for (const native of ["tensorflow", "tensorflow-gpu"] as const) {
      const err = await Effect.runPromise(Effect.flip(Effect.provide(Backend.Backend, Backend.layer(native))))
      expect(err._tag).toBe("BackendUnavailable")
      expect(err.message).toMatch(native === "tensorflow" ? /npm install @tensorflow\/tfjs-node@/ : /npm install @tensorflow\/tfjs-node-gpu@/)
    }
    expect(tf.getBackend()).toBe("wasm")
    await expect(Backend.select("webgpu" as Backend.Name)).rejects.toMatchObject({ _tag: "BackendUnavailable", message: expect.stringMatching(/unknown backend/) })
  })

  it("a trainer given a backend runs on it even when another one is current", async () => {
    await Backend.select("wasm")
    const seen: Array<string> = []
    await Train.run({
      backend: Backend.make("cpu"),
      model: { type: "mlp", layers: 1, width: 4, activation: "relu" },
      task: { kind: "classification", classes: 10 },
      ...small,
      training: { optimizer: { type: "adam", learningRate: 1e-3 }, batchSize: 32, epochs: 1 },
      onBatch: () => void seen.push(tf.getBackend())
    })
    expect(new Set(seen)).toEqual(new Set(["cpu"]))
  })
})

describe("data fraction", () => {
  it("an epoch trains on the given share of the rows, which may grow with the epochs", async () => {
    await Backend.select("wasm")
    const perEpoch = new Map<number, number>()
    await Train.run({
      model: { type: "mlp", layers: 1, width: 4, activation: "relu" },
      task: { kind: "classification", classes: 10 },
      ...small,
      training: { optimizer: { type: "adam", learningRate: 1e-3 }, batchSize: 8, epochs: 3, dataFraction: (e) => Math.min(1, e / 3) },
      onBatch: ({ epoch }) => void perEpoch.set(epoch, (perEpoch.get(epoch) ?? 0) + 1)
    })
    // 96 rows: 32, 64 and 96 rows in batches of 8.
    expect([...perEpoch.values()]).toEqual([4, 8, 12])
    await expect(Train.run({
      model: { type: "mlp", layers: 1, width: 4, activation: "relu" },
      task: { kind: "classification", classes: 10 },
      ...small,
      training: { optimizer: { type: "adam", learningRate: 1e-3 }, batchSize: 8, epochs: 1, dataFraction: 0 }
    })).rejects.toMatchObject({ _tag: "InvalidTraining", field: "training.dataFraction" })
  })
})
