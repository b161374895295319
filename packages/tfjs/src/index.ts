/**
 * @tunekit/tfjs: TensorFlow.js backends, model builders (MLP, CNN, LSTM/GRU, transformer),
 * optimizers (SGD, Adam, AdamW), learning-rate schedules, losses, trainers that stream their
 * metrics as Observables, and checkpoints.
 *
 * @since 0.1.0
 */
export * as Backend from "./Backend.js"
export * as Cnn from "./Cnn.js"
export * as Data from "./Data.js"
export * as Errors from "./Errors.js"
export * as Loss from "./Loss.js"
export * as Mlp from "./Mlp.js"
export * as Model from "./Model.js"
export * as Optimizer from "./Optimizer.js"
export * as Rnn from "./Rnn.js"
export * as Schedule from "./Schedule.js"
export * as Snapshot from "./Snapshot.js"
export * as Train from "./Train.js"
export * as Transformer from "./Transformer.js"
