// The wasm backend of TensorFlow.js 4.22 lacks two kernels that training needs (it was written for
// inference): Conv2DBackpropFilter (the filter gradient of a convolution, for CNNs) and
// UnsortedSegmentSum (the gradient of gather, for embeddings). These register them, written in
// plain JavaScript over the backend's memory. The filter gradient is dW[fy, fx, ci, co] = sum over batch and output positions of
// x[b, oy*sy + fy*dy - top, ox*sx + fx*dx - left, ci] * dy[b, oy, ox, co] (channels last).
import * as tf from "@tensorflow/tfjs"

interface WasmLike {
  readSync: (dataId: unknown) => ArrayLike<number>
  makeOutput: (shape: Array<number>, dtype: tf.DataType, memoryOffset?: number, values?: Float32Array) => tf.TensorInfo
}

interface CpuLike {
  readSync: (dataId: unknown) => ArrayLike<number>
  makeTensorInfo: (shape: Array<number>, dtype: tf.DataType, values?: Float32Array) => tf.TensorInfo
}

let registered = false

export const registerWasmKernels = (): void => {
  if (registered) return
  registered = true
  if (tf.getKernel("Conv2DBackpropFilter", "wasm") !== undefined) return
  tf.registerKernel({
    kernelName: "Conv2DBackpropFilter",
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo }
      const a = attrs as unknown as {
        strides: [number, number] | number
        pad: "valid" | "same" | number
        dataFormat: "NHWC" | "NCHW"
        dimRoundingMode?: "floor" | "round" | "ceil"
        filterShape: [number, number, number, number]
      }
      if (a.dataFormat === "NCHW") throw new Error("the wasm Conv2DBackpropFilter kernel of tunekit supports channels-last (NHWC) data only")
      const info = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        a.filterShape,
        a.strides,
        1,
        a.pad,
        a.dimRoundingMode,
        false,
        "channelsLast"
      )
      const wasm = backend as unknown as WasmLike
      const xs = wasm.readSync(x.dataId)
      const ds = wasm.readSync(dy.dataId)
      const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, strideHeight, strideWidth } = info
      const top = info.padInfo.top
      const left = info.padInfo.left
      const out = new Float32Array(filterHeight * filterWidth * inChannels * outChannels)
      for (let b = 0; b < batchSize; b++) {
        for (let oy = 0; oy < outHeight; oy++) {
          for (let ox = 0; ox < outWidth; ox++) {
            const dOff = ((b * outHeight + oy) * outWidth + ox) * outChannels
            for (let fy = 0; fy < filterHeight; fy++) {
              const iy = oy * strideHeight + fy - top
              if (iy < 0 || iy >= inHeight) continue
              for (let fx = 0; fx < filterWidth; fx++) {
                const ix = ox * strideWidth + fx - left
                if (ix < 0 || ix >= inWidth) continue
                const xOff = ((b * inHeight + iy) * inWidth + ix) * inChannels
                const wOff = (fy * filterWidth + fx) * inChannels * outChannels
                for (let ci = 0; ci < inChannels; ci++) {
                  const xv = xs[xOff + ci]
                  if (xv === 0) continue
                  const row = wOff + ci * outChannels
                  for (let co = 0; co < outChannels; co++) out[row + co] += xv * ds[dOff + co]
                }
              }
            }
          }
        }
      }
      return wasm.makeOutput([...a.filterShape], "float32", undefined, out)
    }
  })
  if (tf.getKernel("UnsortedSegmentSum", "wasm") === undefined) {
    tf.registerKernel({ kernelName: "UnsortedSegmentSum", backendName: "wasm", kernelFunc: segmentSum((b, shape, out) => (b as unknown as WasmLike).makeOutput(shape, "float32", undefined, out)) })
  }
}

// out[s, ...] = sum of x[i, ...] over the rows i whose segment id is s: one pass over x.
const segmentSum = (make: (backend: unknown, shape: Array<number>, out: Float32Array) => tf.TensorInfo): tf.KernelFunc =>
  ({ inputs, backend, attrs }) => {
    const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo }
    const numSegments = (attrs as unknown as { numSegments: number }).numSegments
    if (x.dtype !== "float32") throw new Error(`the UnsortedSegmentSum kernel of tunekit sums float32 tensors only, got ${x.dtype}`)
    const b = backend as unknown as WasmLike
    const xs = b.readSync(x.dataId)
    const ids = b.readSync(segmentIds.dataId)
    const rows = ids.length
    const inner = rows === 0 ? 0 : xs.length / rows
    const out = new Float32Array(numSegments * inner)
    for (let i = 0; i < rows; i++) {
      const seg = ids[i]
      if (seg < 0 || seg >= numSegments) continue
      const o = seg * inner
      const r = i * inner
      for (let j = 0; j < inner; j++) out[o + j] += xs[r + j]
    }
    return make(backend, [numSegments, ...x.shape.slice(segmentIds.shape.length)], out)
  }

let cpuRegistered = false

/**
 * The cpu backend has an UnsortedSegmentSum (the gradient of gather), but it builds one tensor per
 * segment: the embedding gradient of a 4,000-word vocabulary took 37 s a step. This replaces it
 * with the one-pass kernel above.
 */
export const registerCpuKernels = (): void => {
  if (cpuRegistered) return
  cpuRegistered = true
  if (tf.getKernel("UnsortedSegmentSum", "cpu") !== undefined) tf.unregisterKernel("UnsortedSegmentSum", "cpu")
  tf.registerKernel({
    kernelName: "UnsortedSegmentSum",
    backendName: "cpu",
    kernelFunc: segmentSum((b, shape, out) => (b as unknown as CpuLike).makeTensorInfo(shape, "float32", out))
  })
}
