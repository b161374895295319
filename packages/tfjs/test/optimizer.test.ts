import { describe, expect, it } from "vitest"
import * as tf from "@tensorflow/tfjs"
import { Backend, Loss, Optimizer, Train } from "@tunekit/tfjs"

const values = (t: tf.Tensor) => Array.from(t.dataSync())

describe("optimizers", () => {
  it("AdamW matches a hand-computed update over two steps (Loshchilov & Hutter 2019)", async () => {
    await Backend.select("cpu")
    const w = tf.variable(tf.tensor2d([[1, -2]]))
    const opt = Optimizer.make({ type: "adamw", learningRate: 0.1, weightDecay: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 })
    const g1 = [0.5, 0.1]
    const g2 = [-0.2, 0.3]
    opt.step([w], [tf.tensor2d([g1])], 0.1, [true])
    // Step 1: m^ = g, v^ = g^2, so the Adam direction is g/(|g| + eps); decay adds 0.01 w.
    const w1 = [1, -2].map((x, i) => x - 0.1 * (g1[i] / (Math.abs(g1[i]) + 1e-8) + 0.01 * x))
    expect(values(w)).toEqual(w1.map((x) => expect.closeTo(x, 5)))
    opt.step([w], [tf.tensor2d([g2])], 0.05, [true])
    const w2 = w1.map((x, i) => {
      const m = 0.9 * (0.1 * g1[i]) + 0.1 * g2[i]
      const v = 0.999 * (0.001 * g1[i] ** 2) + 0.001 * g2[i] ** 2
      const mHat = m / (1 - 0.9 ** 2)
      const vHat = v / (1 - 0.999 ** 2)
      return x - 0.05 * (mHat / (Math.sqrt(vHat) + 1e-8) + 0.01 * x)
    })
    expect(values(w)).toEqual(w2.map((x) => expect.closeTo(x, 5)))
    expect(opt.iterations()).toBe(2)
    opt.dispose()
    w.dispose()
  })

  it("AdamW does not decay weights the mask leaves out, and Adam never decays", async () => {
    await Backend.select("cpu")
    const a = tf.variable(tf.tensor1d([3]))
    const b = tf.variable(tf.tensor1d([3]))
    const adamw = Optimizer.make({ type: "adamw", learningRate: 0.1, weightDecay: 0.5 })
    const adam = Optimizer.make({ type: "adam", learningRate: 0.1 })
    adamw.step([a], [tf.tensor1d([1])], 0.1, [false])
    adam.step([b], [tf.tensor1d([1])], 0.1, [true])
    expect(values(a)[0]).toBeCloseTo(2.9, 5)
    expect(values(b)[0]).toBeCloseTo(2.9, 5)
    for (const x of [a, b, adamw, adam]) x.dispose()
  })

  it("SGD with momentum and Nesterov follow their update rules", async () => {
    await Backend.select("cpu")
    const w = tf.variable(tf.scalar(1))
    const n = tf.variable(tf.scalar(1))
    const sgd = Optimizer.make({ type: "sgd", learningRate: 0.1, momentum: 0.9 })
    const nag = Optimizer.make({ type: "sgd", learningRate: 0.1, momentum: 0.9, nesterov: true })
    for (const g of [1, 1]) {
      sgd.step([w], [tf.scalar(g)], 0.1, [false])
      nag.step([n], [tf.scalar(g)], 0.1, [false])
    }
    // v1 = 1, w = 0.9; v2 = 1.9, w = 0.71. Nesterov: 1 - 0.1(1 + 0.9) = 0.81; v2 = 1.9: 0.81 - 0.1(1 + 1.71) = 0.539
    expect(values(w)[0]).toBeCloseTo(0.71, 5)
    expect(values(n)[0]).toBeCloseTo(0.539, 5)
    for (const x of [w, n, sgd, nag]) x.dispose()
  })

  it("clipping by global norm rescales all gradients together, and leaves small ones alone", async () => {
    await Backend.select("cpu")
    const [a, b] = Train.clipByGlobalNorm([tf.tensor1d([3]), tf.tensor1d([4])], 1)
    expect(values(a)[0]).toBeCloseTo(0.6, 5)
    expect(values(b)[0]).toBeCloseTo(0.8, 5)
    const [c] = Train.clipByGlobalNorm([tf.tensor1d([0.3, 0.4])], 1)
    expect(values(c)).toEqual([expect.closeTo(0.3, 6), expect.closeTo(0.4, 6)])
  })

  it("rejects impossible settings with a typed error naming the field", () => {
    expect(Optimizer.validate({ type: "sgd", learningRate: 0 })?.field).toBe("optimizer.learningRate")
    expect(Optimizer.validate({ type: "adam", learningRate: 1e-3, beta1: 1 })?.field).toBe("optimizer.beta1")
    expect(Optimizer.validate({ type: "adamw", learningRate: 1e-3, weightDecay: -1 })?._tag).toBe("InvalidTraining")
    expect(Optimizer.validate({ type: "adamw", learningRate: 1e-3, weightDecay: 0.1 })).toBeUndefined()
  })
})

describe("losses", () => {
  it("give known values", async () => {
    await Backend.select("cpu")
    const scalar = (t: tf.Tensor) => t.dataSync()[0]
    const y = tf.tensor2d([[1], [-1]])
    const p = tf.tensor2d([[3], [-1.5]])
    expect(scalar(Loss.compute({ type: "mse" }, y, p, undefined))).toBeCloseTo((4 + 0.25) / 2, 6)
    expect(scalar(Loss.compute({ type: "mae" }, y, p, undefined))).toBeCloseTo((2 + 0.5) / 2, 6)
    // Huber, delta 1: 1 * (2 - 0.5) = 1.5 and 0.5 * 0.25 = 0.125
    expect(scalar(Loss.compute({ type: "huber", delta: 1 }, y, p, undefined))).toBeCloseTo((1.5 + 0.125) / 2, 6)
    const logits = tf.tensor2d([[2, 0, 0]])
    const label = tf.tensor1d([0])
    const z = Math.exp(2) + 2
    const logp = [2 - Math.log(z), -Math.log(z), -Math.log(z)]
    expect(scalar(Loss.compute({ type: "crossEntropy" }, label, logits, 3))).toBeCloseTo(-logp[0], 5)
    // Smoothing 0.3 over 3 classes: targets 0.8, 0.1, 0.1.
    const smoothed = -(0.8 * logp[0] + 0.1 * logp[1] + 0.1 * logp[2])
    expect(scalar(Loss.compute({ type: "crossEntropy", labelSmoothing: 0.3 }, label, logits, 3))).toBeCloseTo(smoothed, 5)
  })
})
