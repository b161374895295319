// The trainer's and the builders' option Schemas: any one invalid field is refused with the
// typed error the trainer errors its Observable with (InvalidModel, InvalidTraining,
// InvalidData), naming the field's path; and each gives a JSON Schema. No tensor is made.
import { OptionsConformance } from "@tunekit/core/testing"
import { FastCheck as fc } from "effect"
import { describe, expect, it } from "vitest"
import { Cnn, Data, Loss, Mlp, Model, Optimizer, Rnn, Schedule, Train, Transformer } from "../src/index.js"

const { Invalid } = OptionsConformance

const rate = Invalid.number({ min: 0, below: 1 })
const positiveInt = Invalid.number({ int: true, above: 0 })

const mlp = { layers: 2, width: 32, activation: "relu", dropout: 0.1, batchNorm: false }
const mlpFields = {
  layers: fc.oneof(Invalid.number({ int: true, min: 0 }), Invalid.missing),
  width: positiveInt,
  activation: Invalid.oneOf(["relu", "elu", "selu", "tanh", "sigmoid", "swish"]),
  dropout: rate,
  batchNorm: Invalid.boolean
}

OptionsConformance.suite({ name: "Mlp", valid: mlp, fields: mlpFields, schema: Mlp.ConfigSchema, problem: (c) => Mlp.validate(c as Mlp.Config)?.message })

OptionsConformance.suite({
  name: "Cnn",
  valid: { blocks: 2, filters: 8, kernel: 3, pooling: "max", dropout: 0.2, dense: 16 },
  fields: {
    blocks: positiveInt,
    filters: positiveInt,
    kernel: positiveInt,
    pooling: Invalid.oneOf(["max", "avg", "none"]),
    dropout: rate,
    dense: Invalid.number({ int: true, min: 0 })
  },
  schema: Cnn.ConfigSchema,
  problem: (c) => Cnn.validate(c as Cnn.Config, [64])?.message
})

OptionsConformance.suite({
  name: "Rnn",
  valid: { cell: "gru", units: 16, layers: 2, bidirectional: true, dropout: 0.1, sequenceLength: 12 },
  fields: {
    cell: Invalid.oneOf(["lstm", "gru"]),
    units: positiveInt,
    layers: positiveInt,
    bidirectional: Invalid.boolean,
    dropout: rate,
    sequenceLength: fc.oneof(positiveInt, fc.integer({ min: 13, max: 100 }))
  },
  schema: Rnn.ConfigSchema,
  problem: (c) => Rnn.validate(c as Rnn.Config, [12, 1])?.message
})

OptionsConformance.suite({
  name: "Transformer",
  valid: { vocabSize: 100, layers: 2, heads: 4, modelWidth: 32, ffWidth: 64, dropout: 0.1, attentionDropout: 0 },
  fields: {
    vocabSize: positiveInt,
    layers: positiveInt,
    heads: fc.oneof(positiveInt, fc.constantFrom(3, 5, 6, 7, 64)),
    modelWidth: positiveInt,
    ffWidth: positiveInt,
    dropout: rate,
    attentionDropout: rate
  },
  schema: Transformer.ConfigSchema,
  problem: (c) => Transformer.validate(c as Transformer.Config, [16])?.message
})

OptionsConformance.suite({
  name: "Model",
  valid: { type: "mlp", ...mlp },
  fields: { ...mlpFields, type: Invalid.oneOf(["mlp", "cnn", "rnn", "transformer"]), extra: fc.constantFrom(1, "x", true) },
  schema: Model.ConfigSchema,
  problem: (c) => Model.validate(c as Model.Config, [64])?.message
})

const adamw = { type: "adamw", learningRate: 1e-3, weightDecay: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }
const adamwFields = {
  type: Invalid.oneOf(["sgd", "adam", "adamw"]),
  learningRate: fc.oneof(Invalid.number({ above: 0 }), Invalid.missing),
  weightDecay: fc.oneof(Invalid.number({ min: 0 }), Invalid.missing),
  beta1: rate,
  beta2: rate,
  epsilon: Invalid.number({ above: 0 })
}

OptionsConformance.suite({
  name: "Optimizer",
  valid: adamw,
  fields: adamwFields,
  schema: Optimizer.ConfigSchema,
  prefix: "optimizer",
  problem: (c) => Optimizer.validate(c as Optimizer.Config)?.message
})

const plateau = { type: "plateau", factor: 0.5, patience: 2, minLearningRate: 1e-5, threshold: 1e-3, warmup: { steps: 10 } }

OptionsConformance.suite({
  name: "Schedule",
  valid: plateau,
  fields: {
    type: Invalid.oneOf(["constant", "cosine", "step", "plateau"]),
    factor: Invalid.number({ above: 0, below: 1 }),
    patience: Invalid.number({ int: true, min: 0 }),
    minLearningRate: Invalid.number({ min: 0 }),
    threshold: Invalid.number({ min: 0 }),
    "warmup.steps": Invalid.number({ int: true, min: 0 })
  },
  schema: Schedule.ConfigSchema,
  prefix: "schedule",
  problem: (c) => Schedule.validate(c as Schedule.Config)?.message
})

const training = {
  optimizer: adamw,
  schedule: { type: "cosine", minLearningRate: 0, warmup: { ratio: 0.1 } },
  loss: { type: "crossEntropy", labelSmoothing: 0.1 },
  batchSize: 32,
  epochs: 10,
  l2: 1e-4,
  clipNorm: 5,
  earlyStopping: { patience: 3, minDelta: 0.001 },
  seed: 7,
  dataFraction: 0.5
}
const trainingFields = {
  ...Object.fromEntries(Object.entries(adamwFields).map(([k, v]) => [`optimizer.${k}`, v])),
  "schedule.minLearningRate": Invalid.number({ min: 0 }),
  "schedule.warmup.ratio": rate,
  "loss.labelSmoothing": rate,
  "loss.type": Invalid.oneOf(["crossEntropy", "mse", "mae", "huber"]),
  batchSize: positiveInt,
  epochs: fc.oneof(positiveInt, Invalid.missing),
  l2: Invalid.number({ min: 0 }),
  clipNorm: Invalid.number({ above: 0 }),
  "earlyStopping.patience": positiveInt,
  "earlyStopping.minDelta": Invalid.number({ min: 0 }),
  seed: Invalid.notNumber,
  dataFraction: fc.oneof(Invalid.number({ above: 0, max: 1 }).filter((v) => typeof v !== "function"), fc.constant(2))
}

OptionsConformance.suite({
  name: "Train.Training",
  valid: training,
  fields: trainingFields,
  schema: Train.TrainingSchema,
  problem: (t) => Train.validate(t as Train.Training, { kind: "classification", classes: 3 })?.message
})

OptionsConformance.suite({
  name: "Loss",
  valid: { type: "huber", delta: 1 },
  fields: { delta: Invalid.number({ above: 0 }), type: Invalid.oneOf(["crossEntropy", "mse", "mae", "huber"]) },
  schema: Loss.ConfigSchema,
  prefix: "loss",
  problem: (c) => Train.validate({ ...training, loss: c } as Train.Training, { kind: "regression" })?.message
})

const dataset = (n: number) => Data.fromArrays(Float32Array.from({ length: n * 64 }, (_, i) => (i % 7) / 7), Float32Array.from({ length: n }, (_, i) => i % 3), [64])

const options = {
  model: { type: "mlp", ...mlp },
  task: { kind: "classification", classes: 3 },
  train: dataset(12),
  validation: dataset(6),
  training,
  onBatch: () => {}
}

OptionsConformance.suite({
  name: "Train.Options",
  valid: options,
  fields: {
    ...Object.fromEntries(Object.entries(mlpFields).map(([k, v]) => [`model.${k}`, v])),
    ...Object.fromEntries(Object.entries(trainingFields).map(([k, v]) => [`training.${k}`, v])),
    "task.classes": Invalid.number({ int: true, min: 2 }),
    "train.inputShape[0]": positiveInt,
    "validation.targets": positiveInt,
    "validation.x": Invalid.notObject,
    onBatch: Invalid.fn,
    backend: Invalid.notObject
  },
  schema: Train.OptionsSchema,
  numRuns: 100,
  problem: (o) => Train.check(o as Train.Options)?.message
})

OptionsConformance.suite({
  name: "Data.Task",
  valid: { kind: "classification", classes: 3 },
  fields: { kind: Invalid.oneOf(["classification", "regression"]), classes: fc.oneof(Invalid.number({ int: true, min: 2 }), Invalid.missing) },
  schema: Data.TaskSchema,
  prefix: "task",
  problem: (t) => Train.check({ ...options, task: t } as Train.Options)?.message
})

describe("the trainer's options", () => {
  it("name the field from the run's options, as the issue's example", () => {
    const o = {
      model: { type: "mlp", ...mlp },
      task: { kind: "classification", classes: 3 },
      train: dataset(12),
      validation: dataset(6),
      training: { ...training, optimizer: { type: "sgd", learningRate: -1 } }
    } as Train.Options
    const e = Train.check(o)
    expect(e?._tag).toBe("InvalidTraining")
    expect(e?.message).toBe("invalid training setting: training.optimizer.learningRate: expected a positive number, got -1")
  })

  it("keep what depends on the data in the builders' checks", () => {
    expect(Cnn.validate({ blocks: 1, filters: 4, kernel: 9, pooling: "max" }, [64])?.message).toBe("invalid cnn model: kernel: a 9x9 kernel is larger than the 8x8 image")
    expect(Model.validate({ type: "rnn", cell: "lstm", units: 0, layers: 1 }, [8, 1])?.message).toBe("invalid lstm model: units: expected a positive integer, got 0")
  })
})
