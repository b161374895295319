import { describe, expect, it } from "vitest"
import * as tf from "@tensorflow/tfjs"
import { Rng } from "@tunekit/core"
import { Backend } from "@tunekit/tfjs"

// The kernels tunekit registers for training (the wasm backend's missing convolution filter
// gradient and segment sum, and a one-pass segment sum for cpu) agree with known values and
// with the cpu backend's own convolution gradient.
const values = (n: number, seed: number) => {
  const g = Rng.generator(seed)
  return Array.from({ length: n }, () => g.normal())
}

const filterGrad = async (backend: Backend.Name, pad: "same" | "valid", strides: number) => {
  await Backend.select(backend)
  const x = tf.tensor4d(values(2 * 7 * 6 * 3, 1), [2, 7, 6, 3])
  const w = tf.variable(tf.tensor4d(values(3 * 2 * 3 * 4, 2), [3, 2, 3, 4]))
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(tf.conv2d(x, w as tf.Tensor4D, strides, pad), 1.5)), [w])
  const out = Array.from(grads[w.name].dataSync())
  tf.dispose([x, w, grads[w.name]])
  return out
}

describe("kernels registered for training", () => {
  for (const [pad, strides] of [["same", 1], ["valid", 2]] as const) {
    it(`wasm's convolution filter gradient matches the cpu backend's (padding ${pad}, stride ${strides})`, async () => {
      const wasm = await filterGrad("wasm", pad, strides)
      const cpu = await filterGrad("cpu", pad, strides)
      expect(wasm.length).toBe(3 * 2 * 3 * 4)
      wasm.forEach((v, i) => expect(v).toBeCloseTo(cpu[i], 3))
    })
  }

  for (const backend of ["wasm", "cpu"] as const) {
    it(`segment sums on ${backend}: known values, ids out of range dropped, and the gather gradient`, async () => {
      await Backend.select(backend)
      const x = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]])
      const s = tf.unsortedSegmentSum(x, tf.tensor1d([2, 0, 2, 5], "int32"), 3)
      expect(s.shape).toEqual([3, 2])
      expect(Array.from(s.dataSync())).toEqual([3, 4, 0, 0, 6, 8])
      const table = tf.variable(tf.zeros([4, 2]))
      const { grads } = tf.variableGrads(() => tf.sum(tf.gather(table, tf.tensor1d([1, 3, 1], "int32"))), [table])
      expect(Array.from(grads[table.name].dataSync())).toEqual([0, 0, 2, 2, 0, 0, 1, 1])
      tf.dispose([x, s, table, grads[table.name]])
    })
  }
})
