/**
 * Trainers: a training run as an `Observable<Metric>`. Subscribing starts it; each epoch emits
 * `{ step: epoch, values: { train_loss, val_loss, val_accuracy | val_mse & val_mae, learning_rate } }`;
 * unsubscribing stops it after the current batch, and every tensor it made is disposed, so that a
 * pruned trial leaves nothing behind. A bad config or bad data errors the Observable with a typed
 * error (`InvalidModel`, `InvalidData`, `InvalidTraining`, `TrainingDiverged`...), which fails
 * that trial alone.
 *
 * The loop is written over `tf.variableGrads` rather than `model.fit` so that it can take
 * tunekit's optimizers (AdamW), schedules per step, gradient clipping, label smoothing, seeded
 * shuffling and dropout, checkpoints, and stop between any two batches.
 *
 * With checkpoints (`Checkpoint.forTrial(service, trial)` from @tunekit/core fits `Checkpoints`),
 * each epoch's state is saved before its metric is emitted, and a trial that continues earlier
 * training (a paused ASHA trial, a PBT exploit) starts from the saved state. The checkpoint effects
 * run on `runtime` (Effect's default one unless given) and are interrupted by unsubscribing.
 *
 * `Train.layer(config => options)` is this trainer as the `Trainer` layer of @tunekit/core: a
 * study run without an objective trains each trial with it, its checkpoints wired to the trial.
 *
 * @example
 * import { Train } from "@tunekit/tfjs"
 * import type { Data } from "@tunekit/tfjs"
 * declare const train: Data.Dataset, validation: Data.Dataset
 *
 * Train.fit({
 *   model: { type: "mlp", layers: 2, width: 64, activation: "relu", dropout: 0.1 },
 *   task: { kind: "classification", classes: 10 },
 *   train, validation,
 *   training: { optimizer: { type: "adamw", learningRate: 3e-3, weightDecay: 1e-4 }, batchSize: 32, epochs: 10 }
 * }).subscribe((m) => console.log(m.step, m.values.val_accuracy))
 *
 * @since 0.1.0
 */
import * as tf from "@tensorflow/tfjs"
import { Checkpoint, Options as Opts, Rng, Tracker, Trainer } from "@tunekit/core"
import type { Study, Trial } from "@tunekit/core"
import { Cause, Effect, Either, Exit, Layer, Option, Runtime, Schema } from "effect"
import { Observable } from "rxjs"
import * as Backend from "./Backend.js"
import * as Data from "./Data.js"
import { InvalidData, InvalidModel, InvalidTraining, TrainingDiverged } from "./Errors.js"
import { invalidTraining } from "./internal/config.js"
import type { RandomSource } from "./internal/layers.js"
import * as Loss from "./Loss.js"
import * as Model from "./Model.js"
import * as Optimizer from "./Optimizer.js"
import * as Schedule from "./Schedule.js"
import * as Snapshot from "./Snapshot.js"

/** How to train. */
export interface Training {
  readonly optimizer: Optimizer.Config
  /** Default: constant. */
  readonly schedule?: Schedule.Config
  /** Default: cross-entropy for classification, MSE for regression. */
  readonly loss?: Loss.Config
  readonly batchSize: number
  /** The epoch to train up to (a resumed run continues from its checkpoint's epoch). */
  readonly epochs: number
  /** L2 penalty coefficient: adds `l2 * w` to the gradient of each kernel (coupled, unlike AdamW's decay). */
  readonly l2?: number
  /** Rescales the gradients when their global norm exceeds this (Pascanu et al. 2013). */
  readonly clipNorm?: number
  /** Stops when the validation loss has not improved by `minDelta` for `patience` epochs. */
  readonly earlyStopping?: { readonly patience: number; readonly minDelta?: number }
  /** Seeds the initial weights, the shuffling and the dropout masks (default 0). */
  readonly seed?: number
  /**
   * Train on part of the training data (a fidelity for multi-fidelity tuning): a share in (0, 1],
   * or a share for each epoch (1-based), so that early epochs can cost less. Each epoch uses the
   * first `ceil(n * share)` rows of one seeded permutation; validation always uses all of its data.
   */
  readonly dataFraction?: number | ((epoch: number) => number)
}

/**
 * Where a run saves and restores its state: `Checkpoint.forTrial(service, trial)` of
 * @tunekit/core has this shape.
 */
export interface Checkpoints {
  readonly save: (step: number, data: Uint8Array) => Effect.Effect<void, unknown>
  readonly restore: Effect.Effect<Option.Option<{ readonly step: number; readonly data: unknown }>, unknown>
}

/** A training run's inputs. */
export interface Options {
  /**
   * A model config, or a function that builds any `tf.LayersModel` from the context (input shape,
   * output units, seed, and the random source for `Train`-seeded dropout). The model's last
   * layer must be linear: logits for classification, values for regression.
   */
  readonly model: Model.Config | ((ctx: Model.BuildContext) => tf.LayersModel)
  readonly task: Data.Task
  readonly train: Data.Dataset
  readonly validation: Data.Dataset
  readonly training: Training
  /** The backend to run on (from the `Backend` layer); default: the current one. */
  readonly backend?: Backend.BackendService
  readonly checkpoints?: Checkpoints
  /**
   * Runs the checkpoint effects, so that they see the services and settings of the program that
   * set the training up, and are interrupted when the run is unsubscribed. Default: Effect's
   * default runtime (enough for checkpoint services that need nothing else, and for users of
   * `fit` outside Effect). `Train.layer` passes the runtime it was built in.
   */
  readonly runtime?: Runtime.Runtime<never>
  /** Called after each batch, with its loss (for progress and tests). */
  readonly onBatch?: (info: { readonly epoch: number; readonly batch: number; readonly loss: number }) => void
  /** Where the run logs what it trains: the study's tracker, through the trial. */
  readonly tracking?: Tracking
}

/**
 * What a run logs through the tracker (`Tracker.Log`): when the model is built, its summary as a
 * note and its size as tags (`model.parameters`, `model.bytes`, `model.layers`); when training
 * ends (the last epoch, or early stopping), with `weights`, the final weights as the artifact
 * `model/weights.tfjs` (a `Snapshot`; `Snapshot.decode` loads it into a model of the same config).
 */
export interface Tracking {
  readonly log: (log: Tracker.Log) => Effect.Effect<void>
  /** Log the final weights too (default false). */
  readonly weights?: boolean
}

/**
 * The Schema of the training settings, and their JSON Schema (`Options.jsonSchema`). Whether the
 * loss fits the task is checked by `validate`.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Train } from "@tunekit/tfjs"
 * Options.jsonSchema(Train.TrainingSchema)
 */
export const TrainingSchema: Schema.Schema<Training> = Schema.Struct({
  optimizer: Optimizer.ConfigSchema,
  schedule: Schema.optional(Schedule.ConfigSchema),
  loss: Schema.optional(Loss.ConfigSchema),
  batchSize: Opts.PositiveInt,
  epochs: Opts.PositiveInt,
  l2: Schema.optional(Opts.NonNegative),
  clipNorm: Schema.optional(Opts.Positive),
  earlyStopping: Schema.optional(Schema.Struct({ patience: Opts.PositiveInt, minDelta: Schema.optional(Opts.NonNegative) })),
  seed: Schema.optional(Opts.Finite),
  dataFraction: Schema.optional(
    Schema.Union(Opts.number({ above: 0, max: 1 }), Opts.fn<(epoch: number) => number>("a function from the epoch to a share"))
      .annotations(Opts.expecting("a share in (0, 1], or a function from the epoch to one"))
  )
})

const isObject = (u: unknown): u is object => typeof u === "object" && u !== null

/**
 * The Schema of a training run's inputs: the model (a config, or a function that builds one), the
 * task, the data, the training settings, and what code gives (backend, checkpoints, runtime,
 * callbacks). Its JSON Schema describes the parts JSON can hold.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Train } from "@tunekit/tfjs"
 * Options.jsonSchema(Train.OptionsSchema)
 */
export const OptionsSchema: Schema.Schema<Options> = Schema.Struct({
  model: Schema.Union(Model.ConfigSchema, Opts.fn<(ctx: Model.BuildContext) => tf.LayersModel>("a function that builds a tf.LayersModel")),
  task: Data.TaskSchema,
  train: Data.DatasetSchema,
  validation: Data.DatasetSchema,
  training: TrainingSchema,
  backend: Schema.optional(Opts.instance((u): u is Backend.BackendService => isObject(u) && "activatePromise" in u, "a Backend service")),
  // A service of that shape (`Checkpoint.forTrial`'s carries more): only its two members are described.
  checkpoints: Schema.optional(Schema.Struct({
    save: Opts.fn<Checkpoints["save"]>("a function that saves a step's bytes"),
    restore: Opts.instance((u): u is Checkpoints["restore"] => Effect.isEffect(u), "an Effect that restores the latest checkpoint")
  }).annotations({ parseOptions: { onExcessProperty: "ignore" } })),
  runtime: Schema.optional(Opts.instance((u): u is Runtime.Runtime<never> => isObject(u) && "context" in u && "runtimeFlags" in u, "an Effect Runtime")),
  onBatch: Schema.optional(Opts.fn<NonNullable<Options["onBatch"]>>("a function called after each batch")),
  tracking: Schema.optional(Schema.Struct({
    log: Opts.fn<Tracking["log"]>("a function that logs to the tracker"),
    weights: Schema.optional(Opts.Boolean)
  }))
})

const decodeTraining = Opts.decodeEither(TrainingSchema)
const decodeOptions = Opts.decodeEither(OptionsSchema)

const active = new Set<Promise<void>>()

/**
 * Resolves when no training run is active, including runs that were unsubscribed and are
 * finishing their batch and disposing their tensors.
 *
 * @example
 * import { Train } from "@tunekit/tfjs"
 * await Train.settled()
 */
export const settled = async (): Promise<void> => {
  while (active.size > 0) await Promise.allSettled([...active])
}

/**
 * Why the training settings are invalid for the task (`InvalidTraining` naming the field, such
 * as `optimizer.learningRate`), or undefined.
 *
 * @example
 * import { Train } from "@tunekit/tfjs"
 * Train.validate({ optimizer: { type: "adam", learningRate: 1e-3 }, batchSize: 0, epochs: 1 }, { kind: "regression" }) // InvalidTraining: batchSize: expected a positive integer, got 0
 */
export const validate = (t: Training, task: Data.Task): InvalidTraining | undefined => {
  const decoded = decodeTraining(t)
  if (Either.isLeft(decoded)) return invalidTraining(decoded.left)
  const loss = t.loss ?? defaultLoss(task)
  if (Loss.isClassification(loss) !== (task.kind === "classification")) {
    return new InvalidTraining({ field: "loss", reason: `${loss.type} does not fit a ${task.kind} task` })
  }
  return undefined
}

const defaultLoss = (task: Data.Task): Loss.Config => (task.kind === "classification" ? { type: "crossEntropy" } : { type: "mse" })

// A problem in a run's options as the typed error of the part it is in, its path from the options
// (`training.optimizer.learningRate`, `model.width`).
const problemAsError = (o: Options, p: Opts.Problem): InvalidTraining | InvalidData | InvalidModel => {
  const head = p.path.split(/[.[]/)[0]
  if (head === "model") {
    const type = (o.model as { type?: unknown } | undefined)?.type
    return new InvalidModel({ model: typeof type === "string" ? type : "model", field: p.path, reason: p.message })
  }
  if (head === "train" || head === "validation") return new InvalidData({ dataset: head, reason: Opts.format(p) })
  return invalidTraining(p)
}

/**
 * Checks everything that can be checked before a tensor exists, through `OptionsSchema` and then
 * against the data: the model against the data's shape, both datasets, token ids against the
 * vocabulary, the training settings. A field is named by its path from the options
 * (`training.optimizer.learningRate`).
 *
 * @example
 * import { Train } from "@tunekit/tfjs"
 * declare const options: Train.Options
 * const problem = Train.check(options) // undefined, or a typed error
 */
export const check = (o: Options): InvalidTraining | InvalidData | InvalidModel | undefined => {
  const decoded = decodeOptions(o)
  if (Either.isLeft(decoded)) return problemAsError(o, decoded.left)
  if (typeof o.model !== "function") {
    const model = Model.validate(o.model, o.train.inputShape)
    if (model) return new InvalidModel({ model: model.model, field: `model.${model.field}`, reason: model.reason })
  }
  const train = Data.validate(o.train, o.task, "train")
  if (train) return train
  const validation = Data.validate(o.validation, o.task, "validation")
  if (validation) return validation
  if (o.validation.inputShape.join("x") !== o.train.inputShape.join("x")) {
    return new InvalidData({ dataset: "validation", reason: `samples have shape [${o.validation.inputShape}], the training samples [${o.train.inputShape}]` })
  }
  if (typeof o.model !== "function" && o.model.type === "transformer") {
    const v = o.model.vocabSize
    for (const [name, d] of [["train", o.train], ["validation", o.validation]] as const) {
      const bad = d.x.findIndex((t) => !Number.isInteger(t) || t < 0 || t >= v)
      if (bad >= 0) return new InvalidData({ dataset: name, reason: `token ${d.x[bad]} at row ${Math.floor(bad / Data.sampleSize(d))} is not an id in [0, ${v})` })
    }
  }
  const training = validate(o.training, o.task)
  return training && new InvalidTraining({ field: `training.${training.field}`, reason: training.reason })
}

/**
 * A training run as a stream of per-epoch metrics. See the module's description.
 *
 * @example
 * import { Train } from "@tunekit/tfjs"
 * declare const options: Train.Options
 * const sub = Train.fit(options).subscribe({ next: (m) => console.log(m) })
 * sub.unsubscribe() // stops after the current batch
 */
export const fit = (options: Options): Observable<Trial.Metric> =>
  new Observable<Trial.Metric>((subscriber) => {
    const stop = new AbortController()
    const run = train(options, stop.signal, (m) => subscriber.next(m)).then(
      () => subscriber.complete(),
      (e) => subscriber.error(e)
    )
    active.add(run)
    void run.finally(() => active.delete(run))
    // Stops the loop between batches and interrupts a checkpoint effect in flight.
    return () => stop.abort()
  })

/**
 * Trains to the end and returns the last epoch's metrics: for Promise code and for tests.
 *
 * @example
 * import { Train } from "@tunekit/tfjs"
 * declare const options: Train.Options
 * const last = await Train.run(options)
 */
export const run = async (options: Options): Promise<Trial.Metric> => {
  let last: Trial.Metric | undefined
  await train(options, new AbortController().signal, (m) => (last = m))
  if (last === undefined) throw new InvalidTraining({ field: "training.epochs", reason: "the run ended before its first epoch (its checkpoint was already at the last epoch)" })
  return last
}

/**
 * What a trainer makes of a config: `fit`'s options without the checkpoints and the runtime, which
 * the trainer wires for each trial (and without the backend, unless a config needs its own).
 */
export type Setup = Omit<Options, "checkpoints" | "runtime">

/**
 * The TensorFlow.js trainer as a `Trainer` service of @tunekit/core, from a function of the typed
 * config to the run's options. Each trial's run saves its checkpoints under the trial
 * (`Checkpoint.forTrial`) and starts from the one its `restoreFrom` names, so that paused ASHA
 * trials and PBT exploits continue where their state was saved. The run is on the `Backend`
 * service (unless the options name one), and its checkpoint effects run on the runtime this
 * effect runs in. `maxStep` is the training's `epochs`: a trial that reports its last epoch has
 * trained fully. The function is called again for `maxStep`, so it should only build options
 * (load the data once, outside it).
 *
 * `trainer.train` is also an objective for `Study.optimize`.
 *
 * @example
 * import { Effect } from "effect"
 * import { Space, Study } from "@tunekit/core"
 * import { Train } from "@tunekit/tfjs"
 * import type { Data } from "@tunekit/tfjs"
 * declare const train: Data.Dataset, validation: Data.Dataset
 *
 * const space = Space.struct({ lr: Space.float(1e-4, 1e-1, { log: true }) })
 * const program = Effect.gen(function*() {
 *   const trainer = yield* Train.make((c: Space.Type<typeof space>) => ({
 *     model: { type: "mlp", layers: 2, width: 64, activation: "relu" },
 *     task: { kind: "classification", classes: 10 },
 *     train, validation,
 *     training: { optimizer: { type: "adam", learningRate: c.lr }, batchSize: 32, epochs: 10 }
 *   }))
 *   return yield* Study.optimize({ study: "mlp", space, metric: "val_accuracy", direction: "maximize", objective: trainer.train })
 * })
 */
export const make = <A>(
  setup: (config: A) => Setup,
  options: { readonly name?: string; readonly trackWeights?: boolean } = {}
): Effect.Effect<Trainer.TrainerService<A>, never, Checkpoint.Checkpoint | Backend.Backend> =>
  Effect.gen(function*() {
    const checkpoints = yield* Checkpoint.Checkpoint
    const backend = yield* Backend.Backend
    const runtime = yield* Effect.runtime<never>()
    return Trainer.make(
      (config: A, trial: Study.TrialContext<A>) => {
        // The trial's log to the study's tracker, where the run loop gives one.
        const log = (trial as { readonly log?: Tracking["log"] }).log
        const tracking = log === undefined ? {} : { tracking: { log, weights: options.trackWeights ?? false } }
        return fit({ backend, ...setup(config), checkpoints: Checkpoint.forTrial(checkpoints, trial), runtime, ...tracking })
      },
      { name: options.name ?? "tfjs", maxStep: (config: A) => setup(config).training.epochs }
    )
  })

/**
 * The TensorFlow.js trainer as the `Trainer` layer: `Study.optimize` without an `objective` runs
 * it. See `make`.
 *
 * @example
 * import { Effect, Layer } from "effect"
 * import { Checkpoint, Space, Study } from "@tunekit/core"
 * import { Backend, Train } from "@tunekit/tfjs"
 * import type { Data } from "@tunekit/tfjs"
 * declare const train: Data.Dataset, validation: Data.Dataset
 *
 * const space = Space.struct({ lr: Space.float(1e-4, 1e-1, { log: true }), width: Space.int(16, 128) })
 * const mlp = Train.layer((c: Space.Type<typeof space>) => ({
 *   model: { type: "mlp", layers: 2, width: c.width, activation: "relu" },
 *   task: { kind: "classification", classes: 10 },
 *   train, validation,
 *   training: { optimizer: { type: "adam", learningRate: c.lr }, batchSize: 32, epochs: 10 }
 * }))
 * const program = Study.optimize({ study: "mlp", space, metric: "val_accuracy", direction: "maximize", trials: 20 }).pipe(
 *   Effect.provide(mlp),
 *   Effect.provide(Layer.merge(Backend.layerWasm, Checkpoint.layerMemory)),
 *   Effect.provide(Study.layerDefaults({ seed: 1 }))
 * )
 */
export const layer = <A>(
  setup: (config: A) => Setup,
  options: { readonly name?: string; readonly trackWeights?: boolean } = {}
): Layer.Layer<Trainer.Trainer, never, Checkpoint.Checkpoint | Backend.Backend> => Layer.effect(Trainer.Trainer, make(setup, options))

/**
 * Predictions of a model on samples, in batches, as a Float32Array (logits or values).
 *
 * @example
 * import { Train } from "@tunekit/tfjs"
 * import type * as tf from "@tensorflow/tfjs"
 * declare const model: tf.LayersModel
 * declare const data: import("@tunekit/tfjs").Data.Dataset
 * const out = await Train.predict(model, data)
 */
export const predict = async (model: tf.LayersModel, data: Data.Dataset, batchSize = 256): Promise<Float32Array> => {
  const chunks: Array<Float32Array> = []
  const s = Data.sampleSize(data)
  for (let i = 0; i < data.n; i += batchSize) {
    const k = Math.min(batchSize, data.n - i)
    const out = tf.tidy(() => model.apply(tf.tensor(data.x.subarray(i * s, (i + k) * s), [k, ...data.inputShape]), { training: false }) as tf.Tensor)
    chunks.push((await out.data()) as Float32Array)
    out.dispose()
  }
  const total = chunks.reduce((a, c) => a + c.length, 0)
  const all = new Float32Array(total)
  let at = 0
  for (const c of chunks) {
    all.set(c, at)
    at += c.length
  }
  return all
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

/** What the loop needs besides the options, exposed for checkpoint tests. */
export interface Live {
  readonly model: tf.LayersModel
  readonly optimizer: Optimizer.Optimizer
}

/**
 * Builds a model and optimizer for options, runs `f` on them, and disposes them. For tests and
 * tools that need the live objects (the trainer itself goes through `fit`).
 *
 * @example
 * import { Train } from "@tunekit/tfjs"
 * declare const options: Train.Options
 * const n = await Train.withModel(options, async ({ model }) => model.countParams())
 */
export const withModel = async <A>(o: Options, f: (live: Live) => Promise<A>): Promise<A> => {
  const bad = typeof o.model === "function" ? undefined : Model.validate(o.model, o.train.inputShape)
  if (bad) throw bad
  if (o.backend) await o.backend.activatePromise()
  const random: RandomSource = { gen: Rng.generator(o.training.seed ?? 0, "dropout") }
  const model = buildModel(o, o.training.seed ?? 0, random)
  const optimizer = Optimizer.make(o.training.optimizer)
  try {
    return await f({ model, optimizer })
  } finally {
    optimizer.dispose()
    model.dispose()
  }
}

const buildModel = (o: Options, seed: number, random: RandomSource): tf.LayersModel => {
  const ctx: Model.BuildContext = { inputShape: o.train.inputShape, outputs: outputsOf(o), seed, random }
  return typeof o.model === "function" ? o.model(ctx) : Model.build(o.model, ctx)
}

const outputsOf = (o: Options) => (o.task.kind === "classification" ? o.task.classes : o.train.targets)

/** A model's summary as text (tfjs prints it a line at a time). */
const summaryOf = (model: tf.LayersModel): string => {
  const lines: Array<string> = []
  model.summary(undefined, undefined, (line?: unknown) => void lines.push(String(line ?? "")))
  return lines.join("\n")
}

/**
 * Runs an effect of the run (a checkpoint's save or restore) on the run's runtime, interrupted when
 * the run is stopped; a failure rejects with the error itself (a `CheckpointError`, say), not a
 * wrapper, so that the trial stores its message.
 */
const runOn = (runtime: Runtime.Runtime<never>, stop: AbortSignal) => <A, E>(effect: Effect.Effect<A, E>): Promise<A> =>
  Runtime.runPromiseExit(runtime, effect, { signal: stop }).then((exit) => {
    if (Exit.isSuccess(exit)) return exit.value
    throw Cause.squash(exit.cause)
  })

const train = async (o: Options, stop: AbortSignal, emit: (m: Trial.Metric) => void): Promise<void> => {
  const bad = check(o)
  if (bad) throw bad
  if (o.backend) await o.backend.activatePromise()
  const runEffect = runOn(o.runtime ?? Runtime.defaultRuntime, stop)
  const t = o.training
  const seed = t.seed ?? 0
  const loss = t.loss ?? defaultLoss(o.task)
  const classes = o.task.kind === "classification" ? o.task.classes : undefined
  const stepsPerEpoch = Math.ceil(o.train.n / t.batchSize)
  const schedule = Schedule.make(t.schedule ?? { type: "constant" }, { base: t.optimizer.learningRate, stepsPerEpoch, epochs: t.epochs })
  const random: RandomSource = { gen: Rng.generator(seed, "dropout") }

  // Every tensor of the run is made below and disposed in the `finally`.
  const model = buildModel(o, seed, random)
  const optimizer = Optimizer.make(t.optimizer)
  if (o.tracking) {
    const parameters = model.countParams()
    await runEffect(o.tracking.log(Tracker.note(summaryOf(model))))
    await runEffect(o.tracking.log(Tracker.tags({ "model.parameters": String(parameters), "model.bytes": String(4 * parameters), "model.layers": String(model.layers.length) })))
  }
  const tensors: Array<tf.Tensor> = []
  const keep = <T extends tf.Tensor>(x: T): T => (tensors.push(x), x)
  // The running sum of this epoch's batch losses (disposed here if the run stops mid-epoch).
  const live: { sum?: tf.Tensor } = {}
  try {
    const xTrain = keep(tf.tensor(o.train.x, [o.train.n, ...o.train.inputShape]))
    const yTrain = keep(tf.tensor(o.train.y, [o.train.n, o.train.targets]))
    const xVal = keep(tf.tensor(o.validation.x, [o.validation.n, ...o.validation.inputShape]))
    const yVal = keep(tf.tensor(o.validation.y, [o.validation.n, o.validation.targets]))
    const weights = model.trainableWeights.map((w) => w.read() as tf.Variable)
    // Kernels and embeddings decay; biases and normalization parameters do not.
    const decay = weights.map((w) => w.rank >= 2)

    let epoch = 0
    let best = Infinity
    let wait = 0
    if (o.checkpoints) {
      const start = await runEffect(o.checkpoints.restore)
      if (Option.isSome(start)) {
        const data = start.value.data
        if (!(data instanceof Uint8Array)) throw new InvalidTraining({ field: "checkpoints", reason: "the checkpoint to restore is not a tfjs snapshot (not bytes)" })
        const restored = Snapshot.decode(data, model, optimizer)
        epoch = restored.epoch
        schedule.restore(restored.counters.schedule ?? {})
        best = restored.counters.early?.best ?? Infinity
        wait = restored.counters.early?.wait ?? 0
        // A continuation that starts where training ends (a PBT exploit at the last step) has
        // nothing to train: it reports the metrics of the state it was given.
        const last = restored.counters.metrics
        if (epoch >= t.epochs && last !== undefined && Object.keys(last).length > 0) emit({ step: epoch, values: { ...last } })
      }
    }

    const permutation = Rng.generator(seed, "subset").shuffle(Array.from({ length: o.train.n }, (_, i) => i))
    while (epoch < t.epochs && !stop.aborted) {
      const share = typeof t.dataFraction === "function" ? t.dataFraction(epoch + 1) : t.dataFraction ?? 1
      if (!(share > 0 && share <= 1)) throw new InvalidTraining({ field: "training.dataFraction", reason: `expected a share in (0, 1], got ${share} for epoch ${epoch + 1}` })
      const rows = share === 1 ? o.train.n : Math.max(1, Math.ceil(o.train.n * share))
      const batches = Math.ceil(rows / t.batchSize)
      // Per-epoch generators: a run resumed at epoch k shuffles and drops out as an unbroken one.
      const subset = rows === o.train.n ? Array.from({ length: rows }, (_, i) => i) : permutation.slice(0, rows)
      const order = Int32Array.from(Rng.generator(seed, "shuffle", epoch).shuffle(subset))
      random.gen = Rng.generator(seed, "dropout", epoch)
      let sum: tf.Tensor = (live.sum = tf.scalar(0))
      let seen = 0
      for (let b = 0; b < batches; b++) {
        if (stop.aborted) return
        const idx = order.subarray(b * t.batchSize, Math.min(rows, (b + 1) * t.batchSize))
        // On part of the data, the schedule still spans the epoch: it counts in full epochs.
        const lr = schedule.at(epoch * stepsPerEpoch + Math.floor((b * stepsPerEpoch) / batches))
        const value = tf.tidy(() => {
          const ids = tf.tensor1d(idx, "int32")
          const xb = tf.gather(xTrain, ids)
          const yb = tf.gather(yTrain, ids)
          const { value, grads } = tf.variableGrads(() => Loss.compute(loss, yb, model.apply(xb, { training: true }) as tf.Tensor, classes), weights)
          let gs = weights.map((w) => grads[w.name])
          if ((t.l2 ?? 0) > 0) gs = gs.map((g, i) => (decay[i] ? tf.add(g, tf.mul(weights[i], t.l2!)) : g))
          if (t.clipNorm !== undefined) gs = clipByGlobalNorm(gs, t.clipNorm)
          optimizer.step(weights, gs, lr, decay)
          return value
        })
        seen += idx.length
        const l = o.onBatch ? (await value.data())[0] : undefined
        // The batch losses add up on the backend and are read once an epoch: a read per batch
        // would wait for the backend at every step.
        const next = tf.tidy(() => tf.add(sum, tf.mul(value, idx.length)))
        sum.dispose()
        value.dispose()
        sum = live.sum = next
        if (l !== undefined) {
          if (!Number.isFinite(l)) throw new TrainingDiverged({ epoch: epoch + 1, batch: b, loss: l })
          o.onBatch!({ epoch: epoch + 1, batch: b, loss: l })
        }
        await yieldToEventLoop()
      }
      const total = (await sum.data())[0]
      sum.dispose()
      if (!Number.isFinite(total)) throw new TrainingDiverged({ epoch: epoch + 1, batch: batches - 1, loss: total })
      if (stop.aborted) return
      epoch++
      const val = await evaluate(model, xVal, yVal, loss, classes, t.batchSize)
      schedule.endEpoch(epoch, val.loss)
      const improved = val.loss < best - (t.earlyStopping?.minDelta ?? 0)
      if (improved) {
        best = val.loss
        wait = 0
      } else wait++
      const values: Record<string, number> = { train_loss: total / seen, val_loss: val.loss, learning_rate: schedule.at(epoch * stepsPerEpoch - 1) }
      if (val.accuracy !== undefined) values.val_accuracy = val.accuracy
      if (val.mse !== undefined) values.val_mse = val.mse
      if (val.mae !== undefined) values.val_mae = val.mae
      if (o.checkpoints) {
        const bytes = await Snapshot.encode({
          model,
          optimizer,
          epoch,
          counters: { schedule: schedule.state(), early: { best: Number.isFinite(best) ? best : 1e308, wait }, metrics: values }
        })
        await runEffect(o.checkpoints.save(epoch, bytes))
      }
      if (stop.aborted) return
      emit({ step: epoch, values })
      if (t.earlyStopping !== undefined && wait >= t.earlyStopping.patience) break
      await yieldToEventLoop()
    }
    if (o.tracking?.weights === true && !stop.aborted) {
      const bytes = await Snapshot.encode({ model, optimizer, epoch, counters: { schedule: schedule.state() } })
      await runEffect(o.tracking.log(Tracker.artifact("model/weights.tfjs", bytes, "application/octet-stream")))
    }
  } finally {
    live.sum?.dispose()
    optimizer.dispose()
    model.dispose()
    for (const x of tensors) x.dispose()
  }
}

/**
 * Gradients rescaled so that their global L2 norm is at most `clip` (Pascanu et al. 2013).
 *
 * @example
 * import * as tf from "@tensorflow/tfjs"
 * import { Train } from "@tunekit/tfjs"
 * Train.clipByGlobalNorm([tf.tensor1d([3]), tf.tensor1d([4])], 1) // [0.6], [0.8]
 */
export const clipByGlobalNorm = (grads: ReadonlyArray<tf.Tensor>, clip: number): Array<tf.Tensor> =>
  tf.tidy(() => {
    const norm = tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g)))))
    const scale = tf.minimum(1, tf.div(clip, tf.maximum(norm, 1e-12)))
    return grads.map((g) => tf.mul(g, scale))
  })

const evaluate = async (
  model: tf.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor,
  loss: Loss.Config,
  classes: number | undefined,
  batchSize: number
): Promise<{ loss: number; accuracy?: number; mse?: number; mae?: number }> => {
  const n = x.shape[0]
  const chunk = Math.max(batchSize, 256)
  // Sums accumulate as tensors and are read once, so that evaluation costs one sync.
  const sums = tf.tidy(() => {
    let acc: tf.Tensor = tf.zeros([4])
    for (let i = 0; i < n; i += chunk) {
      const k = Math.min(chunk, n - i)
      const xb = tf.slice(x, i, k)
      const yb = tf.slice(y, i, k)
      const out = model.apply(xb, { training: false }) as tf.Tensor
      const l = tf.mul(Loss.compute(loss, yb, out, classes), k)
      if (classes !== undefined) {
        const correct = tf.sum(tf.cast(tf.equal(tf.argMax(out, -1), tf.cast(tf.reshape(yb, [-1]), "int32")), "float32"))
        acc = tf.add(acc, tf.stack([l, correct, tf.scalar(0), tf.scalar(0)]))
      } else {
        const e = tf.sub(out, yb)
        const width = out.shape[1] ?? 1
        acc = tf.add(acc, tf.stack([l, tf.scalar(0), tf.div(tf.sum(tf.square(e)), width), tf.div(tf.sum(tf.abs(e)), width)]))
      }
    }
    return acc
  })
  const [l, correct, se, ae] = await sums.data()
  sums.dispose()
  return classes !== undefined ? { loss: l / n, accuracy: correct / n } : { loss: l / n, mse: se / n, mae: ae / n }
}
