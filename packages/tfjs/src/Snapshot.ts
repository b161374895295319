/**
 * A trainer's state as bytes: the model's weights (trainable and not, such as batch-norm
 * statistics), the optimizer's step count and slots, the schedule's and early stopping's
 * counters, and the epoch. These bytes are what the trainer stores through the Checkpoint
 * service, so that PBT can copy one trial's weights into another and ASHA can resume a paused
 * trial where it stopped.
 *
 * Layout: a 4-byte little-endian header length, the header as UTF-8 JSON, padding to 4 bytes, then
 * every tensor's float32 values in header order. Weights are matched by order and shape, not by
 * name: TensorFlow.js numbers layer names per process, so two builds of one config differ in names.
 *
 * @example
 * import { Snapshot } from "@tunekit/tfjs"
 * declare const bytes: Uint8Array
 * const header = Snapshot.header(bytes) // { format: "tunekit-tfjs/1", epoch: 3, ... }
 *
 * @since 0.1.0
 */
import * as tf from "@tensorflow/tfjs"
import { CheckpointMismatch } from "./Errors.js"
import type * as Optimizer from "./Optimizer.js"

/** The current format tag. */
export const FORMAT = "tunekit-tfjs/1"

interface Entry {
  readonly name: string
  readonly shape: ReadonlyArray<number>
}

/** What the header of a snapshot says. */
export interface Header {
  readonly format: string
  /** Epochs completed when it was taken. */
  readonly epoch: number
  readonly weights: ReadonlyArray<Entry>
  readonly optimizer: { readonly type: string; readonly iterations: number; readonly slots: ReadonlyArray<Entry> }
  /** Small counters (schedule, early stopping). */
  readonly counters: { readonly [k: string]: { readonly [k: string]: number } }
}

/** The parts of a trainer a snapshot holds. */
export interface State {
  readonly model: tf.LayersModel
  readonly optimizer: Optimizer.Optimizer
  readonly epoch: number
  readonly counters: { readonly [k: string]: { readonly [k: string]: number } }
}

const size = (shape: ReadonlyArray<number>) => shape.reduce((a, b) => a * b, 1)

/**
 * Encodes a trainer's state.
 *
 * @example
 * import { Snapshot } from "@tunekit/tfjs"
 * declare const state: Snapshot.State
 * const bytes = await Snapshot.encode(state)
 */
export const encode = async (state: State): Promise<Uint8Array> => {
  const weights = state.model.weights.map((w) => ({ name: w.name, tensor: w.read() as tf.Tensor }))
  const slots = state.optimizer.slots().map((s) => ({ name: s.name, tensor: s.tensor as tf.Tensor }))
  const header: Header = {
    format: FORMAT,
    epoch: state.epoch,
    weights: weights.map((w) => ({ name: w.name, shape: w.tensor.shape })),
    optimizer: { type: state.optimizer.config.type, iterations: state.optimizer.iterations(), slots: slots.map((s) => ({ name: s.name, shape: s.tensor.shape })) },
    counters: state.counters
  }
  const json = new TextEncoder().encode(JSON.stringify(header))
  const start = 4 + json.length + ((4 - ((4 + json.length) % 4)) % 4)
  const total = [...weights, ...slots].reduce((a, w) => a + w.tensor.size, 0)
  const out = new Uint8Array(start + total * 4)
  new DataView(out.buffer).setUint32(0, json.length, true)
  out.set(json, 4)
  const floats = new Float32Array(out.buffer, start, total)
  let at = 0
  for (const w of [...weights, ...slots]) {
    const values = await w.tensor.data()
    floats.set(values as Float32Array, at)
    at += values.length
  }
  return out
}

/**
 * The header of a snapshot. Throws `CheckpointMismatch` when the bytes are not a snapshot.
 *
 * @example
 * import { Snapshot } from "@tunekit/tfjs"
 * declare const bytes: Uint8Array
 * Snapshot.header(bytes).epoch
 */
export const header = (bytes: Uint8Array): Header => {
  if (bytes.byteLength < 4) throw new CheckpointMismatch({ reason: `${bytes.byteLength} bytes are not a snapshot` })
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true)
  let h: Header
  try {
    h = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + n))) as Header
  } catch {
    throw new CheckpointMismatch({ reason: "the bytes do not start with a snapshot header" })
  }
  if (h?.format !== FORMAT) throw new CheckpointMismatch({ reason: `the format is ${String(h?.format)}, expected ${FORMAT}` })
  return h
}

/**
 * Restores a snapshot into a model and optimizer built from the same configs. Throws
 * `CheckpointMismatch` when the weights or the optimizer do not match.
 *
 * @example
 * import { Snapshot } from "@tunekit/tfjs"
 * declare const bytes: Uint8Array
 * declare const state: Snapshot.State
 * const { epoch, counters } = Snapshot.decode(bytes, state.model, state.optimizer)
 */
export const decode = (
  bytes: Uint8Array,
  model: tf.LayersModel,
  optimizer: Optimizer.Optimizer
): { readonly epoch: number; readonly counters: Header["counters"] } => {
  const h = header(bytes)
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true)
  const start = 4 + n + ((4 - ((4 + n) % 4)) % 4)
  const weights = model.weights
  if (weights.length !== h.weights.length) {
    throw new CheckpointMismatch({ reason: `the checkpoint holds ${h.weights.length} weights, the model has ${weights.length}` })
  }
  weights.forEach((w, i) => {
    const a = w.shape.join("x")
    const b = h.weights[i].shape.join("x")
    if (a !== b) throw new CheckpointMismatch({ reason: `weight ${i} (${w.name}) has shape ${a} in the model and ${b} in the checkpoint` })
  })
  if (h.optimizer.type !== optimizer.config.type) {
    throw new CheckpointMismatch({ reason: `the checkpoint's optimizer is ${h.optimizer.type}, this run's is ${optimizer.config.type}` })
  }
  const total = [...h.weights, ...h.optimizer.slots].reduce((a, e) => a + size(e.shape), 0)
  if (bytes.byteLength < start + total * 4) throw new CheckpointMismatch({ reason: "the checkpoint is truncated" })
  // Copy to an aligned buffer: the bytes may sit at any offset of a Node Buffer.
  const floats = new Float32Array(bytes.slice(start, start + total * 4).buffer)
  let at = 0
  const next = (shape: ReadonlyArray<number>) => {
    const k = size(shape)
    const v = floats.subarray(at, at + k)
    at += k
    return v
  }
  tf.tidy(() => {
    weights.forEach((w, i) => w.write(tf.tensor(next(h.weights[i].shape), [...h.weights[i].shape])))
  })
  optimizer.restore(h.optimizer.iterations, h.optimizer.slots.map((s) => ({ name: s.name, shape: s.shape, values: next(s.shape) })))
  return { epoch: h.epoch, counters: h.counters }
}
