/**
 * Gradient-boosted trees with XGBoost (Chen & Guestrin 2016, "XGBoost: A Scalable Tree Boosting
 * System", KDD), through ml-xgboost's WebAssembly build (works on Node 20), for classification
 * (logistic, softmax probabilities) and regression (squared error).
 *
 * A model's memory lives in the WebAssembly heap, which JavaScript's garbage collector cannot
 * free. So a model is only reachable inside a scope that frees it, however the scope ends:
 * `use` (a callback; the model is freed when it returns, throws or rejects), `fit` (an Effect
 * needing a `Scope`), and `score` (train, score, free). When XGBoost itself fails, the model is
 * freed and the whole WebAssembly instance is replaced, since the failed call's own allocations
 * cannot be reached any more.
 *
 * @example
 * import { Boosting, Split, Wine } from "@tunekit/datasets"
 * const { train, test } = Split.holdout(Wine.load(), { seed: 1, stratify: true })
 * const accuracy = await Boosting.score(train, test, { nEstimators: 50, learningRate: 0.1, maxDepth: 3 })
 *
 * @since 0.1.0
 */
import { Options, type Trial } from "@tunekit/core"
import { Effect, Schema, type Scope } from "effect"
import { Observable } from "rxjs"
import type * as Dataset from "./Dataset.js"
import { InvalidModelConfig, TrainingFailed } from "./Errors.js"
import * as DecisionTree from "./DecisionTree.js"
import { decoder } from "./internal/decode.js"
import { counters, instance, type Instance, retire, type XgbModel } from "./internal/xgboost.js"
import * as Metrics from "./Metrics.js"
import * as Model from "./Model.js"

type Metric = Trial.Metric

/** Hyperparameters (scikit-learn's XGBoost wrapper's names in camelCase). */
export interface Config {
  /** n_estimators: boosting rounds (trees); >= 1, default 100. */
  readonly nEstimators?: number
  /** learning_rate (eta): shrinkage of each tree; in (0, 1], default 0.3. */
  readonly learningRate?: number
  /** max_depth: of each tree; in 1..30, default 6. */
  readonly maxDepth?: number
  /** min_child_weight: least hessian sum in a child; >= 0, default 1. */
  readonly minChildWeight?: number
  /** subsample: share of rows each tree sees; in (0, 1], default 1. */
  readonly subsample?: number
  /** colsample_bytree: share of features each tree sees; in (0, 1], default 1. */
  readonly colsampleBytree?: number
  /** reg_alpha (alpha): L1 penalty on leaf weights; >= 0, default 0. */
  readonly regAlpha?: number
  /** reg_lambda (lambda): L2 penalty on leaf weights; >= 0, default 1. */
  readonly regLambda?: number
  /** gamma (min_split_loss): least loss reduction to split; >= 0, default 0. */
  readonly gamma?: number
  /** The seed of row and column subsampling; default 0. */
  readonly seed?: number
  /**
   * Further XGBoost parameters, passed as they are and not checked (for example `tree_method`).
   * A bad one fails training with `TrainingFailed`.
   */
  readonly params?: Readonly<Record<string, string | number>>
}

/** The checked, complete hyperparameters. */
export type Params = Required<Omit<Config, "params">>

const share = Schema.optional(Options.number({ above: 0, max: 1 }))

/**
 * The Schema of the booster's hyperparameters, and their JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Boosting } from "@tunekit/datasets"
 * Options.jsonSchema(Boosting.ConfigSchema)
 */
export const ConfigSchema: Schema.Schema<Config> = Schema.Struct({
  nEstimators: Schema.optional(Options.number({ int: true, min: 1, max: 100000 })),
  learningRate: share,
  maxDepth: Schema.optional(Options.number({ int: true, min: 1, max: 30 })),
  minChildWeight: Schema.optional(Options.NonNegative),
  subsample: share,
  colsampleBytree: share,
  regAlpha: Schema.optional(Options.NonNegative),
  regLambda: Schema.optional(Options.NonNegative),
  gamma: Schema.optional(Options.NonNegative),
  seed: Schema.optional(Options.number({ int: true, min: -(2 ** 31), max: 2 ** 31 - 1 })),
  params: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Union(Schema.String, Options.Finite) }))
})

const configOf = decoder(ConfigSchema, DecisionTree.invalidConfig("boosting"))

/**
 * Checks a config and fills in XGBoost's defaults; throws `InvalidModelConfig` naming the bad one
 * (before anything reaches the WebAssembly module, where an error cannot be caught cleanly).
 *
 * @example
 * import { Boosting } from "@tunekit/datasets"
 * Boosting.validate({ learningRate: 0 }) // throws: boosting.learningRate: must be in (0, 1], got 0
 */
export const validate = (config: Config): Params => {
  const c = configOf(config)
  return {
    nEstimators: c.nEstimators ?? 100,
    learningRate: c.learningRate ?? 0.3,
    maxDepth: c.maxDepth ?? 6,
    minChildWeight: c.minChildWeight ?? 1,
    subsample: c.subsample ?? 1,
    colsampleBytree: c.colsampleBytree ?? 1,
    regAlpha: c.regAlpha ?? 0,
    regLambda: c.regLambda ?? 1,
    gamma: c.gamma ?? 0,
    seed: c.seed ?? 0
  }
}

/** A trained booster; valid only inside the scope that trained it. */
export type Booster = Model.Fitted & { readonly nEstimators: number }

const xgbOptions = (p: Params, train: Dataset.Tabular, extra: Config["params"]): Record<string, string | number> => {
  const task: Record<string, string | number> = train._tag === "Regression"
    ? { objective: "reg:linear" }
    : train.classNames.length === 2
    ? { objective: "binary:logistic" }
    : { objective: "multi:softprob", num_class: train.classNames.length }
  return {
    booster: "gbtree",
    ...task,
    iterations: p.nEstimators,
    eta: p.learningRate,
    max_depth: p.maxDepth,
    min_child_weight: p.minChildWeight,
    subsample: p.subsample,
    colsample_bytree: p.colsampleBytree,
    alpha: p.regAlpha,
    lambda: p.regLambda,
    gamma: p.gamma,
    seed: p.seed,
    // The histogram method (XGBoost's default since 2.0) trains about 3 times faster here than
    // the exact greedy one, at the same accuracy on the bundled data.
    tree_method: "hist",
    silent: 1,
    ...extra
  }
}

/** Runs a call into the module; a throw retires the instance and becomes TrainingFailed. */
const guarded = <A>(inst: Instance, what: string, f: () => A): A => {
  inst.log = []
  try {
    return f()
  } catch (e) {
    retire(inst)
    const detail = inst.log.filter((l) => l.trim() !== "").at(-1) ?? (e instanceof Error ? e.message : String(e))
    throw new TrainingFailed({ model: "boosting", reason: `XGBoost failed while ${what}: ${detail.trim()}`, cause: e })
  }
}

const freeOnce = (inst: Instance, m: XgbModel) => {
  if (m.model === undefined || m.model === 0) return
  // A retired instance is dropped whole; freeing into it is harmless and keeps the count right.
  try {
    m.free()
  } finally {
    m.model = 0
    inst.live--
    counters.freed++
  }
}

const makeBooster = (inst: Instance, m: XgbModel, train: Dataset.Tabular, p: Params): Booster => {
  let freed = false
  const alive = () => {
    if (freed) throw new TrainingFailed({ model: "boosting", reason: "the booster was used after its scope ended (its memory is freed)" })
  }
  const raw = (x: Dataset.Matrix) => {
    alive()
    return x.length === 0 ? [] : guarded(inst, "predicting", () => m.predict(x))
  }
  const release = () => {
    if (!freed) {
      freed = true
      freeOnce(inst, m)
    }
  }
  const base = { nEstimators: p.nEstimators, [releaseKey]: release, [handleKey]: () => ({ inst, model: m.model! }) }
  if (train._tag === "Regression") {
    return { _tag: "Regressor", predict: (x) => raw(x) as Array<number>, ...base }
  }
  const k = train.classNames.length
  const proba = (x: Dataset.Matrix): Array<Array<number>> =>
    raw(x).map((r) => (k === 2 ? [1 - (r as number), r as number] : (r as Array<number>)))
  return {
    _tag: "Classifier",
    classes: k,
    predictProba: proba,
    predict: (x) => proba(x).map((ps) => ps.reduce((best, v, i) => (v > ps[best] ? i : best), 0)),
    ...base
  }
}

const releaseKey = Symbol.for("@tunekit/datasets/Boosting/release")
const handleKey = Symbol.for("@tunekit/datasets/Boosting/handle")
const release = (b: Booster) => (b as unknown as Record<symbol, () => void>)[releaseKey]()
const handleOf = (b: Booster) => (b as unknown as Record<symbol, () => { inst: Instance; model: number }>)[handleKey]()

/** Trains a booster; the caller must release it. */
const train = async (data: Dataset.Tabular, config: Config): Promise<Booster> => {
  const p = validate(config)
  if (data.x.length === 0) throw new InvalidModelConfig({ model: "boosting", param: "data", reason: `${data.name} has no rows` })
  const inst = await instance()
  const m = new inst.XGBoost(xgbOptions(p, data, config.params))
  try {
    guarded(inst, "training", () => m.train(data.x, data.y))
  } catch (e) {
    // ml-xgboost sets `model` as soon as the data is copied in: a failure after that point
    // leaves a model to free (into the retired instance, whose whole memory goes with it).
    if (m.model !== undefined && m.model !== 0) {
      inst.live++
      counters.created++
      try {
        freeOnce(inst, m)
      } catch {
        // the instance is retired: its memory is released with it
      }
    }
    throw e
  }
  inst.live++
  counters.created++
  return makeBooster(inst, m, data, p)
}

/**
 * Trains a booster, hands it to `f`, and frees it when `f` returns, throws or rejects (and when
 * training itself fails). Throws `InvalidModelConfig` for an impossible config and
 * `TrainingFailed` when XGBoost fails.
 *
 * @example
 * import { Boosting, BreastCancer, Model, Split } from "@tunekit/datasets"
 * const { train, test } = Split.holdout(BreastCancer.load(), { seed: 1, stratify: true })
 * const acc = await Boosting.use(train, { nEstimators: 50, maxDepth: 3 }, (b) => Model.score(b, test))
 */
export const use = async <A>(data: Dataset.Tabular, config: Config, f: (booster: Booster) => A | PromiseLike<A>): Promise<A> => {
  const booster = await train(data, config)
  try {
    return await f(booster)
  } finally {
    release(booster)
  }
}

/**
 * Trains on `train` and scores on `test` (accuracy, or R² for regression), freeing the model.
 *
 * @example
 * import { Boosting, Diabetes, Split } from "@tunekit/datasets"
 * const { train, test } = Split.holdout(Diabetes.load(), { seed: 1 })
 * const r2 = await Boosting.score(train, test, { nEstimators: 100, learningRate: 0.05, maxDepth: 2 })
 */
export const score = (trainData: Dataset.Tabular, test: Dataset.Tabular, config: Config): Promise<number> =>
  use(trainData, config, (b) => Model.score(b, test))

/**
 * Trains a booster as a scoped resource: it is freed when the scope closes.
 *
 * @example
 * import { Effect } from "effect"
 * import { Boosting, Iris, Model } from "@tunekit/datasets"
 * const acc = Effect.scoped(Effect.map(Boosting.fit(Iris.load(), { nEstimators: 20 }), (b) => Model.score(b, Iris.load())))
 */
export const fit = (
  data: Dataset.Tabular,
  config: Config
): Effect.Effect<Booster, InvalidModelConfig | TrainingFailed, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: () => train(data, config),
      catch: (e) =>
        e instanceof InvalidModelConfig || e instanceof TrainingFailed
          ? e
          : new TrainingFailed({ model: "boosting", reason: e instanceof Error ? e.message : String(e), cause: e })
    }),
    (b) => Effect.sync(() => release(b))
  )

/** Options of `stream`. */
export interface StreamOptions {
  /** Rounds between two reports; default 10. */
  readonly every?: number
}

/**
 * The Schema of `stream`'s options.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Boosting } from "@tunekit/datasets"
 * Options.jsonSchema(Boosting.StreamOptionsSchema)
 */
export const StreamOptionsSchema: Schema.Schema<StreamOptions> = Schema.Struct({ every: Schema.optional(Options.PositiveInt) })

const streamOptions = decoder(StreamOptionsSchema, DecisionTree.invalidConfig("boosting"))

/**
 * Trains round by round as a cold stream of validation metrics: every `every` rounds (and after
 * the last) `{ step: rounds, values }` where values are `accuracy`, `log_loss` (classification)
 * or `r2`, `rmse` (regression), and `score` (accuracy or R²). Each chunk of rounds runs in its own
 * macrotask, so unsubscribing (a pruner's decision, a timeout) stops training before the next
 * chunk; the model is freed when the stream completes, fails or is unsubscribed. Rounds added in
 * chunks give the same model as all at once.
 *
 * @example
 * import { Boosting, Split, Wine } from "@tunekit/datasets"
 * const { train, test } = Split.holdout(Wine.load(), { seed: 1, stratify: true })
 * // Study.optimize({ ..., metric: "log_loss", direction: "minimize",
 * //   objective: (c) => Boosting.stream(train, test, c, { every: 20 }) })
 * Boosting.stream(train, test, { nEstimators: 100 }).subscribe((m) => console.log(m.step, m.values.accuracy))
 */
export const stream = (
  trainData: Dataset.Tabular,
  validation: Dataset.Tabular,
  config: Config,
  options: StreamOptions = {}
): Observable<Metric> =>
  new Observable<Metric>((subscriber) => {
    let booster: Booster | undefined
    let stopped = false
    let timer: ReturnType<typeof setImmediate> | undefined
    const finish = () => {
      if (booster !== undefined) release(booster)
      booster = undefined
    }
    const fail = (e: unknown) => {
      finish()
      subscriber.error(e)
    }
    const report = (b: Booster, rounds: number) => {
      const values: Record<string, number> = {}
      if (b._tag === "Classifier") {
        const proba = b.predictProba(validation.x)
        values.accuracy = Metrics.accuracy(validation.y, proba.map((p) => p.indexOf(Math.max(...p))))
        values.log_loss = Metrics.logLoss(validation.y, proba)
        values.score = values.accuracy
      } else {
        const pred = b.predict(validation.x)
        values.r2 = Metrics.r2(validation.y, pred)
        values.rmse = Metrics.rmse(validation.y, pred)
        values.score = values.r2
      }
      subscriber.next({ step: rounds, values })
    }
    const start = async () => {
      const every = streamOptions(options).every ?? 10
      const p = validate(config)
      const first = Math.min(every, p.nEstimators)
      const b = await train(trainData, { ...config, nEstimators: first })
      if (stopped) return release(b)
      booster = b
      let rounds = first
      const step = () => {
        if (stopped || booster === undefined) return
        try {
          report(booster, rounds)
          if (rounds >= p.nEstimators) {
            finish()
            return subscriber.complete()
          }
          const more = Math.min(every, p.nEstimators - rounds)
          const { inst, model } = handleOf(booster)
          guarded(inst, "training", () => inst.trainMore(model, more))
          rounds += more
          timer = setImmediate(step)
        } catch (e) {
          fail(e)
        }
      }
      step()
    }
    start().catch(fail)
    return () => {
      stopped = true
      if (timer !== undefined) clearImmediate(timer)
      finish()
    }
  })

/** What the WebAssembly side holds, for leak checks. */
export interface MemoryInfo {
  /** Models trained and not yet freed, over all instances. */
  readonly liveModels: number
  /** Models created and freed over the process's life. */
  readonly created: number
  readonly freed: number
  /** The current instance's heap size and its allocator's break (bytes in use, high-water). */
  readonly heapBytes: number
  readonly breakBytes: number
  /** Instances loaded so far (a failure inside XGBoost replaces the instance). */
  readonly instances: number
}

/**
 * The WebAssembly memory in use, loading the module if needed.
 *
 * @example
 * import { Boosting } from "@tunekit/datasets"
 * const { liveModels, breakBytes } = await Boosting.memory()
 */
export const memory = async (): Promise<MemoryInfo> => {
  const inst = await instance()
  return {
    liveModels: counters.created - counters.freed,
    created: counters.created,
    freed: counters.freed,
    heapBytes: inst.wasm.HEAPU8.length,
    breakBytes: inst.wasm._sbrk(0),
    instances: counters.instances
  }
}
