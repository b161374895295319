// Custom TensorFlow.js layers: a dropout whose masks come from tunekit's seeded generators, a
// learned position embedding, and multi-head self-attention (Vaswani et al. 2017, "Attention Is
// All You Need", section 3.2), written from ops because TensorFlow.js has no attention layer.
import * as tf from "@tensorflow/tfjs"
import type { Rng } from "@tunekit/core"

/** Where dropout masks get their seeds; the trainer reseeds it at each epoch so that a resumed run repeats. */
export interface RandomSource {
  gen: Rng.Generator
}

const kwargTraining = (kwargs: Record<string, unknown> | undefined): boolean => kwargs?.training === true

const single = (inputs: tf.Tensor | Array<tf.Tensor>): tf.Tensor => (Array.isArray(inputs) ? inputs[0] : inputs)

/**
 * Inverted dropout. tfjs's own dropout layer, given a seed, draws the same mask at every call, and
 * without one draws from an unseeded generator; this one asks the source for a fresh seed per call.
 */
export class SeededDropout extends tf.layers.Layer {
  static className = "TunekitSeededDropout"
  constructor(readonly rate: number, readonly source: RandomSource, name?: string) {
    super(name === undefined ? {} : { name })
    this.supportsMasking = true
  }
  override call(inputs: tf.Tensor | Array<tf.Tensor>, kwargs: Record<string, unknown>): tf.Tensor {
    const x = single(inputs)
    if (!kwargTraining(kwargs) || this.rate <= 0) return x
    return dropout(x, this.rate, this.source)
  }
  override computeOutputShape(shape: tf.Shape | Array<tf.Shape>) {
    return shape
  }
  override getConfig() {
    return { ...super.getConfig(), rate: this.rate }
  }
}

/** Inverted dropout on a tensor with a seed from the source. */
export const dropout = (x: tf.Tensor, rate: number, source: RandomSource): tf.Tensor =>
  tf.tidy(() => {
    const keep = tf.greaterEqual(tf.randomUniform(x.shape, 0, 1, "float32", source.gen.int(2 ** 31)), rate)
    return tf.mul(x, tf.div(tf.cast(keep, "float32"), 1 - rate))
  })

/** Adds a learned embedding of each position to a `[batch, length, width]` input. */
export class PositionEmbedding extends tf.layers.Layer {
  static className = "TunekitPositionEmbedding"
  private table: tf.LayerVariable | undefined
  constructor(readonly seed: number, name?: string) {
    super(name === undefined ? {} : { name })
  }
  override build(shape: tf.Shape | Array<tf.Shape>) {
    const s = shape as tf.Shape
    this.table = this.addWeight("positions", [s[1]!, s[2]!], "float32", tf.initializers.randomNormal({ stddev: 0.02, seed: this.seed }))
    this.built = true
  }
  override call(inputs: tf.Tensor | Array<tf.Tensor>): tf.Tensor {
    return tf.tidy(() => tf.add(single(inputs), this.table!.read()))
  }
  override computeOutputShape(shape: tf.Shape | Array<tf.Shape>) {
    return shape
  }
}

/**
 * Multi-head self-attention over a `[batch, length, width]` input: per head, softmax(QK^T/sqrt(d))V,
 * the heads concatenated and projected back to the width. Attention dropout drops attention
 * weights while training. Padding positions are attended to like any token (the embedding of the
 * padding id is learned), which keeps the layer a function of one input.
 */
export class MultiHeadSelfAttention extends tf.layers.Layer {
  static className = "TunekitMultiHeadSelfAttention"
  private w: Record<"q" | "k" | "v" | "o", { kernel: tf.LayerVariable; bias: tf.LayerVariable }> | undefined
  constructor(
    readonly heads: number,
    readonly attentionDropout: number,
    readonly source: RandomSource,
    readonly seed: number,
    name?: string
  ) {
    super(name === undefined ? {} : { name })
  }
  override build(shape: tf.Shape | Array<tf.Shape>) {
    const width = (shape as tf.Shape)[2]!
    const proj = (n: "q" | "k" | "v" | "o", i: number) => ({
      kernel: this.addWeight(`${n}_kernel`, [width, width], "float32", tf.initializers.glorotUniform({ seed: this.seed + i })),
      bias: this.addWeight(`${n}_bias`, [width], "float32", tf.initializers.zeros())
    })
    this.w = { q: proj("q", 0), k: proj("k", 1), v: proj("v", 2), o: proj("o", 3) }
    this.built = true
  }
  override call(inputs: tf.Tensor | Array<tf.Tensor>, kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs) as tf.Tensor3D
      const [b, t, width] = x.shape
      const h = this.heads
      const dh = width / h
      const flat = tf.reshape(x, [b * t, width]) as tf.Tensor2D
      const project = (n: "q" | "k" | "v") =>
        tf.transpose(tf.reshape(tf.add(tf.matMul(flat, this.w![n].kernel.read() as tf.Tensor2D), this.w![n].bias.read()), [b, t, h, dh]), [0, 2, 1, 3])
      const q = project("q")
      const k = project("k")
      const v = project("v")
      let weights = tf.softmax(tf.div(tf.matMul(q, k, false, true), Math.sqrt(dh)))
      if (kwargTraining(kwargs) && this.attentionDropout > 0) weights = dropout(weights, this.attentionDropout, this.source)
      const heads = tf.reshape(tf.transpose(tf.matMul(weights, v), [0, 2, 1, 3]), [b * t, width]) as tf.Tensor2D
      const out = tf.add(tf.matMul(heads, this.w!.o.kernel.read() as tf.Tensor2D), this.w!.o.bias.read())
      return tf.reshape(out, [b, t, width])
    })
  }
  override computeOutputShape(shape: tf.Shape | Array<tf.Shape>) {
    return shape
  }
  override getConfig() {
    return { ...super.getConfig(), heads: this.heads, attentionDropout: this.attentionDropout }
  }
}

/**
 * Layer normalization over the last axis (Ba, Kiros & Hinton 2016), from plain ops. tfjs-layers'
 * own layer goes through the fused batch-norm kernel, whose gradient for a `[batch, length,
 * width]` input slices every position one by one (thousands of kernels a step).
 */
export class LayerNorm extends tf.layers.Layer {
  static className = "TunekitLayerNorm"
  private gamma: tf.LayerVariable | undefined
  private beta: tf.LayerVariable | undefined
  constructor(readonly epsilon = 1e-5, name?: string) {
    super(name === undefined ? {} : { name })
  }
  override build(shape: tf.Shape | Array<tf.Shape>) {
    const s = shape as tf.Shape
    const width = s[s.length - 1]!
    this.gamma = this.addWeight("gamma", [width], "float32", tf.initializers.ones())
    this.beta = this.addWeight("beta", [width], "float32", tf.initializers.zeros())
    this.built = true
  }
  override call(inputs: tf.Tensor | Array<tf.Tensor>): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs)
      const axis = x.rank - 1
      const mean = tf.mean(x, axis, true)
      const centered = tf.sub(x, mean)
      const variance = tf.mean(tf.square(centered), axis, true)
      const normed = tf.mul(centered, tf.rsqrt(tf.add(variance, this.epsilon)))
      return tf.add(tf.mul(normed, this.gamma!.read()), this.beta!.read())
    })
  }
  override computeOutputShape(shape: tf.Shape | Array<tf.Shape>) {
    return shape
  }
  override getConfig() {
    return { ...super.getConfig(), epsilon: this.epsilon }
  }
}

for (const c of [SeededDropout, PositionEmbedding, MultiHeadSelfAttention, LayerNorm]) {
  tf.serialization.registerClass(c as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>)
}
