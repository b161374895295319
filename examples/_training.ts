// What the TensorFlow.js examples (and the schedulers-mlp benchmark) train, said once: a model on
// one of the splits of tfjs-data.ts, with its task, a seed and a backend. Each example writes only
// the model and the training it tunes.
import type { Backend, Data, Mlp, Model, Train } from "@tunekit/tfjs"

/** A split to train on, and its task (what the loaders of tfjs-data.ts return). */
export interface Problem {
  readonly train: Data.Dataset
  readonly validation: Data.Dataset
  readonly task: Data.Task
}

/**
 * A run's options from a model and its training, on a problem: `Train.fit` takes them, and so
 * does `Train.layer` from a config. The seed applies unless the training gives its own; the
 * backend is for objectives that call `Train.fit` themselves (the Trainer layer brings its own).
 */
export const setupOn = (problem: Problem, defaults: { readonly seed?: number; readonly backend?: Backend.BackendService } = {}) =>
(model: Model.Config, training: Train.Training): Train.Setup => ({
  ...(defaults.backend ? { backend: defaults.backend } : {}),
  model,
  task: problem.task,
  train: problem.train,
  validation: problem.validation,
  training: { seed: defaults.seed ?? 0, ...training }
})

/** The MLP the digits examples tune: hidden layers of one width, with dropout; relu unless said. */
export const mlp = (c: {
  readonly layers: number
  readonly width: number
  readonly dropout?: number
  readonly activation?: Mlp.Activation
  readonly batchNorm?: boolean
}): Model.Config => ({
  type: "mlp",
  layers: c.layers,
  width: c.width,
  activation: c.activation ?? "relu",
  ...(c.dropout === undefined ? {} : { dropout: c.dropout }),
  ...(c.batchNorm === undefined ? {} : { batchNorm: c.batchNorm })
})
