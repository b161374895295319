// The trainers the executors benchmark runs, as a module: the thread pool loads them by name in
// each worker, and the inline executor in this process.
import { Layer } from "effect"
import { of } from "rxjs"
import { Trainer } from "@tunekit/core"
import { Backend, Train } from "@tunekit/tfjs"
import { type Config } from "../examples/quickstart.js"
import { mlp as mlpModel, setupOn } from "../examples/_training.js"
import { digits } from "../examples/tfjs-data.js"

/** Epochs of each MLP trial (the quickstart's model, a shorter run). */
export const EPOCHS = Number(process.env.TUNEKIT_BENCH_EPOCHS ?? 5)

const setup = setupOn(digits(), { seed: 0 })

/** The quickstart's TensorFlow.js MLP on the digits, on the wasm backend of its thread. */
export const mlp = Train.layer((c: Config) =>
  setup(mlpModel(c), {
    optimizer: { type: "adamw", learningRate: c.learningRate, weightDecay: c.weightDecay },
    schedule: { type: "cosine", warmup: { ratio: 0.05 } },
    batchSize: c.batchSize,
    epochs: EPOCHS
  })
).pipe(Layer.provide(Backend.layerWasm))

/** The least a trial can be: one value. */
export const trivial = Trainer.make((c: { readonly x: number }) => of({ step: 1, values: { value: (c.x - 0.3) ** 2 } }), { name: "trivial" })
