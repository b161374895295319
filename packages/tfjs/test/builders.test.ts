import { describe, expect, it } from "vitest"
import * as tf from "@tensorflow/tfjs"
import { Backend, Model, Train } from "@tunekit/tfjs"
import type { Data } from "@tunekit/tfjs"
import { digits, sine, tokens } from "./fixtures.js"

// Each builder trains a few epochs on a small task; its training loss must go down.
const losses = async (options: Train.Options): Promise<Array<number>> => {
  const out: Array<number> = []
  await new Promise<void>((resolve, reject) =>
    Train.fit(options).subscribe({ next: (m) => out.push(m.values.train_loss), error: reject, complete: resolve })
  )
  return out
}

const classify = (model: Model.Config, data: { train: Data.Dataset; validation: Data.Dataset }, classes: number, epochs = 4): Train.Options => ({
  model,
  task: { kind: "classification", classes },
  ...data,
  training: { optimizer: { type: "adam", learningRate: 3e-3 }, batchSize: 32, epochs, seed: 3 }
})

describe("model builders", () => {
  it("MLP (with dropout and batch norm) learns the digits", async () => {
    await Backend.select("wasm")
    const d = digits()
    const l = await losses(classify({ type: "mlp", layers: 2, width: 32, activation: "relu", dropout: 0.1, batchNorm: true }, d, 10))
    expect(l[l.length - 1]).toBeLessThan(l[0] * 0.8)
  })

  it("CNN learns the digits as 8x8 images (the wasm backend trains convolutions)", async () => {
    await Backend.select("wasm")
    const d = digits()
    const l = await losses(classify({ type: "cnn", blocks: 2, filters: 8, kernel: 3, pooling: "max", dense: 32 }, d, 10))
    expect(l[l.length - 1]).toBeLessThan(l[0] * 0.9)
  })

  for (const cell of ["lstm", "gru"] as const) {
    it(`${cell.toUpperCase()} (stacked, bidirectional) learns to continue a sine`, async () => {
      await Backend.select("wasm")
      const l = await losses({
        model: { type: "rnn", cell, units: 8, layers: 2, bidirectional: true, dropout: 0.05, sequenceLength: 8 },
        task: { kind: "regression" },
        train: sine(96, 8),
        validation: sine(32, 8, 9),
        training: { optimizer: { type: "adam", learningRate: 1e-2 }, batchSize: 32, epochs: 3, seed: 1, loss: { type: "mae" } }
      })
      expect(l[l.length - 1]).toBeLessThan(l[0] * 0.8)
    })
  }

  it("transformer encoder learns whether a token occurs", async () => {
    await Backend.select("wasm")
    const l = await losses({
      model: { type: "transformer", vocabSize: 16, layers: 1, heads: 2, modelWidth: 16, ffWidth: 32, dropout: 0.1, attentionDropout: 0.1 },
      task: { kind: "classification", classes: 2 },
      train: tokens(128, 8, 16),
      validation: tokens(32, 8, 16, 7),
      training: { optimizer: { type: "adamw", learningRate: 3e-3, weightDecay: 0.01 }, batchSize: 32, epochs: 5, seed: 2 }
    })
    expect(l[l.length - 1]).toBeLessThan(l[0] * 0.8)
  })

  it("the same seed builds the same weights and trains to the same metrics", async () => {
    await Backend.select("wasm")
    const d = digits()
    const o = classify({ type: "mlp", layers: 1, width: 16, activation: "tanh", dropout: 0.2 }, d, 10, 2)
    const a = await Train.run(o)
    const b = await Train.run(o)
    expect(b).toEqual(a)
    const c = await Train.run({ ...o, training: { ...o.training, seed: 99 } })
    expect(c.values.train_loss).not.toEqual(a.values.train_loss)
  })

  it("the multi-head attention layer splits the width into heads (output shape and parameter count)", async () => {
    await Backend.select("cpu")
    const d = tokens(4, 6, 10)
    const n = await Train.withModel(
      {
        model: { type: "transformer", vocabSize: 10, layers: 1, heads: 4, modelWidth: 8, ffWidth: 12 },
        task: { kind: "classification", classes: 2 },
        train: d,
        validation: d,
        training: { optimizer: { type: "adam", learningRate: 1e-3 }, batchSize: 4, epochs: 1 }
      },
      async ({ model }) => {
        const out = tf.tidy(() => model.predict(tf.tensor(d.x, [4, 6])) as tf.Tensor)
        expect(out.shape).toEqual([4, 2])
        out.dispose()
        return model.countParams()
      }
    )
    // embeddings 10*8, positions 6*8, attention 4*(8*8+8), 2 layer norms 2*2*8, ff 8*12+12 + 12*8+8, output 8*2+2
    expect(n).toBe(80 + 48 + 4 * 72 + 32 + 108 + 104 + 18)
  })
})

describe("custom models", () => {
  it("a function building any LayersModel trains like a config", async () => {
    await Backend.select("wasm")
    const d = digits()
    const l = await losses({
      ...classify({ type: "mlp", layers: 0, width: 1, activation: "relu" }, d, 10),
      model: ({ inputShape, outputs }) =>
        tf.sequential({ layers: [tf.layers.dense({ units: 24, activation: "tanh", inputShape: [...inputShape] }), tf.layers.dense({ units: outputs })] })
    })
    expect(l[l.length - 1]).toBeLessThan(l[0] * 0.8)
    expect(tf.memory().numTensors).toBe(0)
  })
})
