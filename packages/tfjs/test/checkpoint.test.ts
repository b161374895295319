import { describe, expect, it } from "vitest"
import * as tf from "@tensorflow/tfjs"
import { Checkpoint } from "@tunekit/core"
import { Backend, Snapshot, Train } from "@tunekit/tfjs"
import { Effect, Option } from "effect"
import { lastValueFrom, toArray } from "rxjs"
import { digits } from "./fixtures.js"

const options = (epochs: number, extra: Partial<Train.Options> = {}): Train.Options => {
  const d = digits()
  return {
    model: { type: "mlp", layers: 1, width: 16, activation: "relu", dropout: 0.2, batchNorm: true },
    task: { kind: "classification", classes: 10 },
    train: d.train,
    validation: d.validation,
    training: {
      optimizer: { type: "adamw", learningRate: 3e-3, weightDecay: 1e-3 },
      schedule: { type: "plateau", factor: 0.5, patience: 1 },
      batchSize: 64,
      epochs,
      seed: 5
    },
    ...extra
  }
}

describe("checkpoints", () => {
  it("save and restore give identical predictions, including batch-norm statistics and optimizer state", async () => {
    await Backend.select("wasm")
    const o = options(1)
    let bytes: Uint8Array = new Uint8Array()
    let before: Float32Array = new Float32Array()
    await Train.withModel(o, async ({ model, optimizer }) => {
      // Take a few optimizer steps so that the state is not the initial one.
      await Train.run({ ...o, checkpoints: { save: (_s, data) => Effect.sync(() => void (bytes = data)), restore: Effect.succeed(Option.none()) } })
      const restored = Snapshot.decode(bytes, model, optimizer)
      expect(restored.epoch).toBe(1)
      expect(optimizer.iterations()).toBe(Math.ceil(300 / 64))
      expect(optimizer.slots().length).toBe(2 * model.trainableWeights.length)
      before = await Train.predict(model, o.validation)
    })
    const after = await Train.withModel(o, async ({ model, optimizer }) => {
      Snapshot.decode(bytes, model, optimizer)
      return Train.predict(model, o.validation)
    })
    expect(Array.from(after)).toEqual(Array.from(before))
    // A model that was not restored predicts otherwise.
    const fresh = await Train.withModel({ ...o, training: { ...o.training, seed: 6 } }, async ({ model }) => Train.predict(model, o.validation))
    expect(Array.from(fresh)).not.toEqual(Array.from(before))
  })

  it("a run paused after 2 epochs and resumed from its checkpoint equals an unbroken 4-epoch run", async () => {
    await Backend.select("wasm")
    const service = Checkpoint.makeMemory()
    const straight = await lastValueFrom(Train.fit(options(4)).pipe(toArray()))
    const first = Checkpoint.forTrial(service, { study: "s", number: 0 })
    const part1 = await lastValueFrom(Train.fit(options(2, { checkpoints: first })).pipe(toArray()))
    expect(await Effect.runPromise(service.steps(first.key))).toEqual([1, 2])
    // The same trial continues (as after an ASHA pause): restoreFrom names its own last step.
    const resumed = Checkpoint.forTrial(service, { study: "s", number: 0, restoreFrom: { trial: 0, step: 2 } })
    const part2 = await lastValueFrom(Train.fit(options(4, { checkpoints: resumed })).pipe(toArray()))
    expect(part2.map((m) => m.step)).toEqual([3, 4])
    expect([...part1, ...part2]).toEqual(straight)
  })

  it("PBT: a new trial starts from another trial's weights", async () => {
    await Backend.select("wasm")
    const service = Checkpoint.makeMemory()
    const donor = Checkpoint.forTrial(service, { study: "pbt", number: 3 })
    const donorRun = await lastValueFrom(Train.fit(options(2, { checkpoints: donor })).pipe(toArray()))
    const child = Checkpoint.forTrial(service, { study: "pbt", number: 7, restoreFrom: { trial: 3, step: 2 } })
    // The child explores another learning rate; it continues at epoch 3 from the donor's state.
    const o = options(3, { checkpoints: child })
    const childRun = await lastValueFrom(Train.fit({ ...o, training: { ...o.training, optimizer: { type: "adamw", learningRate: 1e-3, weightDecay: 1e-3 } } }).pipe(toArray()))
    expect(childRun.map((m) => m.step)).toEqual([3])
    // Starting from trained weights, the child's first epoch beats a fresh model's first epoch.
    expect(childRun[0].values.val_loss).toBeLessThan(donorRun[0].values.val_loss)
    expect(await Effect.runPromise(service.steps({ study: "pbt", trial: 7 }))).toEqual([3])
  })

  it("a checkpoint of another model is refused with CheckpointMismatch", async () => {
    await Backend.select("cpu")
    let bytes: Uint8Array = new Uint8Array()
    await Train.run({ ...options(1), checkpoints: { save: (_s, data) => Effect.sync(() => void (bytes = data)), restore: Effect.succeed(Option.none()) } })
    const other = options(1)
    await expect(
      Train.withModel({ ...other, model: { type: "mlp", layers: 2, width: 16, activation: "relu" } }, async ({ model, optimizer }) => Snapshot.decode(bytes, model, optimizer))
    ).rejects.toMatchObject({ _tag: "CheckpointMismatch" })
    expect(() => Snapshot.header(new Uint8Array([1, 2, 3]))).toThrow(/not a snapshot/)
    expect(tf.memory().numTensors).toBe(0)
  })
})

describe("continuations at the end of training", () => {
  it("a trial restored at its last epoch reports the metrics of the state it was given", async () => {
    await Backend.select("wasm")
    const service = Checkpoint.makeMemory()
    const donor = await lastValueFrom(Train.fit(options(2, { checkpoints: Checkpoint.forTrial(service, { study: "end", number: 0 }) })).pipe(toArray()))
    const child = await lastValueFrom(
      Train.fit(options(2, { checkpoints: Checkpoint.forTrial(service, { study: "end", number: 1, restoreFrom: { trial: 0, step: 2 } }) })).pipe(toArray())
    )
    expect(child).toEqual([donor[1]])
  })
})
