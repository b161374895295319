/**
 * Cross-validation: k-fold, stratified k-fold, repeated, and time-series (expanding window)
 * splits, seeded; an objective that reports each fold's score as a step, so that pruners (median,
 * Wilcoxon) can stop a bad config after one or two folds, and returns the mean. The study's
 * `cv_results_` table is `Export.cvRows` in @tunekit/core (`tunekit export STUDY --format cv`).
 *
 * The splits follow scikit-learn's `KFold`, `StratifiedKFold`, `RepeatedKFold` and
 * `TimeSeriesSplit` (sklearn/model_selection/_split.py), with tunekit's seeded generator for the
 * shuffles.
 *
 * @example
 * import { Effect } from "effect"
 * import { Space, Study } from "@tunekit/core"
 * import { CrossValidation, Model, RandomForest, Wine } from "@tunekit/datasets"
 *
 * const data = Wine.load()
 * const folds = CrossValidation.stratifiedKFold(data.y, { k: 5, seed: 1 })
 * const run = Study.optimize({
 *   study: "wine-forest",
 *   space: Space.struct({ maxDepth: Space.int(2, 10) }),
 *   metric: "score",
 *   direction: "maximize",
 *   objective: CrossValidation.objective({
 *     data, folds, score: ({ train, test }, config) => Model.score(RandomForest.fit(train, { ...config, nEstimators: 20 }), test)
 *   }),
 *   trials: 10
 * })
 *
 * @since 0.1.0
 */
import type { Trial } from "@tunekit/core"
import { Options, Rng } from "@tunekit/core"
import { Context, Effect, Either, Layer, Schema } from "effect"
import { Observable } from "rxjs"
import * as Dataset from "./Dataset.js"
import { InvalidSplit } from "./Errors.js"
import { decoder } from "./internal/decode.js"
import { groupByClass } from "./Split.js"

/** One fold: which rows train and which test. */
export interface Fold {
  /** The fold's index over all repeats: the step it is reported at. */
  readonly index: number
  /** Which repeat it belongs to (0 without repeats). */
  readonly repeat: number
  readonly train: ReadonlyArray<number>
  readonly test: ReadonlyArray<number>
}

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i)

// k itself is checked by the options' Schema; here, against the rows.
const checkK = (split: string, k: number, n: number) => {
  if (k > n) throw new InvalidSplit({ split, reason: `k (${k}) must be at most the number of rows (${n})` })
}

const invalid = (split: string) => (p: Options.Problem) => new InvalidSplit({ split, reason: Options.format(p) })
const K = Options.number({ int: true, min: 2 })

/** Folds from each row's fold assignment. */
const fromAssignment = (assign: ReadonlyArray<number>, k: number, repeat: number, offset: number): Array<Fold> =>
  range(0, k).map((f) => ({
    index: offset + f,
    repeat,
    train: assign.flatMap((a, i) => (a === f ? [] : [i])),
    test: assign.flatMap((a, i) => (a === f ? [i] : []))
  }))

/** Options of k-fold splits. */
export interface KFoldOptions {
  /** The number of folds; >= 2, default 5. */
  readonly k?: number
  /** Shuffle the rows before cutting the folds (default true); otherwise folds are contiguous. */
  readonly shuffle?: boolean
  /** The shuffle's seed; default 0. */
  readonly seed?: number
}

/**
 * k-fold: the rows (shuffled, unless `shuffle: false`) cut into k folds whose sizes differ by at
 * most one; each fold tests once and trains on the rest.
 *
 * @example
 * import { CrossValidation } from "@tunekit/datasets"
 * const folds = CrossValidation.kFold(10, { k: 5, seed: 3 }) // 5 folds of 2 test rows
 */
export const kFold = (n: number, options: KFoldOptions = {}): ReadonlyArray<Fold> => kFoldAt(n, kFoldOptions(options), 0, 0)

const kFoldAt = (n: number, options: KFoldOptions, repeat: number, offset: number): Array<Fold> => {
  const k = options.k ?? 5
  checkK("kFold", k, n)
  const order = options.shuffle === false ? range(0, n) : Rng.generator(options.seed ?? 0, "kFold", repeat).shuffle(range(0, n))
  // As scikit-learn: the first n % k folds get one row more.
  const assign = new Array<number>(n)
  let at = 0
  for (let f = 0; f < k; f++) {
    const size = Math.floor(n / k) + (f < n % k ? 1 : 0)
    for (let j = 0; j < size; j++) assign[order[at++]] = f
  }
  return fromAssignment(assign, k, repeat, offset)
}

/**
 * Stratified k-fold: each class is shuffled on its own and dealt to the folds in turn, so every
 * fold holds each class's share (within one row) and fold sizes differ by at most one.
 *
 * @example
 * import { CrossValidation, Iris } from "@tunekit/datasets"
 * const folds = CrossValidation.stratifiedKFold(Iris.load().y, { k: 5, seed: 1 }) // 10 of each class in every test fold
 */
export const stratifiedKFold = (labels: ReadonlyArray<number>, options: Omit<KFoldOptions, "shuffle"> = {}): ReadonlyArray<Fold> =>
  stratifiedAt(labels, stratifiedOptions(options), 0, 0)

const stratifiedAt = (labels: ReadonlyArray<number>, options: Omit<KFoldOptions, "shuffle">, repeat: number, offset: number): Array<Fold> => {
  const k = options.k ?? 5
  checkK("stratifiedKFold", k, labels.length)
  const rng = Rng.generator(options.seed ?? 0, "stratifiedKFold", repeat)
  const assign = new Array<number>(labels.length)
  // Dealing continues from class to class, so the folds' totals stay balanced too.
  let f = 0
  for (const members of groupByClass(labels)) {
    for (const i of rng.shuffle(members)) {
      assign[i] = f
      f = (f + 1) % k
    }
  }
  return fromAssignment(assign, k, repeat, offset)
}

/**
 * Repeats a shuffled k-fold (stratified when `labels` are given) `repeats` times, each repeat
 * with its own shuffle: k x repeats folds, indexed 0.. across repeats.
 *
 * @example
 * import { CrossValidation } from "@tunekit/datasets"
 * CrossValidation.repeated(100, { k: 5, repeats: 3, seed: 1 }).length // 15
 */
export const repeated = (n: number, input: RepeatedOptions = {}): ReadonlyArray<Fold> => {
  const options = repeatedOptions(input)
  const repeats = options.repeats ?? 2
  if (options.labels !== undefined && options.labels.length !== n) {
    throw new InvalidSplit({ split: "repeated", reason: `${options.labels.length} labels for ${n} rows` })
  }
  const k = options.k ?? 5
  const out: Array<Fold> = []
  for (let r = 0; r < repeats; r++) {
    out.push(...(options.labels ? stratifiedAt(options.labels, options, r, r * k) : kFoldAt(n, { ...options, shuffle: true }, r, r * k)))
  }
  return out
}

/** Options of time-series splits. */
export interface TimeSeriesOptions {
  /** The number of folds; >= 2, default 5. */
  readonly k?: number
  /** Rows in each test fold; default floor(n / (k + 1)). */
  readonly testSize?: number
  /** Rows left out between the training part and the test fold (against leakage); default 0. */
  readonly gap?: number
  /** Keep at most this many of the latest rows for training (a sliding window); default all. */
  readonly maxTrainSize?: number
}

const kFoldFields = { k: Schema.optional(K), shuffle: Schema.optional(Options.Boolean), seed: Schema.optional(Options.Finite) }

/**
 * The Schema of `kFold`'s options, and their JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { CrossValidation } from "@tunekit/datasets"
 * Options.jsonSchema(CrossValidation.KFoldOptionsSchema)
 */
export const KFoldOptionsSchema: Schema.Schema<KFoldOptions> = Schema.Struct(kFoldFields)

/**
 * The Schema of `stratifiedKFold`'s options.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { CrossValidation } from "@tunekit/datasets"
 * Options.jsonSchema(CrossValidation.StratifiedOptionsSchema)
 */
export const StratifiedOptionsSchema: Schema.Schema<Omit<KFoldOptions, "shuffle">> = Schema.Struct({ k: kFoldFields.k, seed: kFoldFields.seed })

/** Options of `repeated`. */
export interface RepeatedOptions extends KFoldOptions {
  /** How many times the folds are cut, each time shuffled anew; >= 1, default 2. */
  readonly repeats?: number
  /** Class labels, one per row, for stratified folds. */
  readonly labels?: ReadonlyArray<number>
}

const repeatedFields = { ...kFoldFields, repeats: Schema.optional(Options.PositiveInt) }

/**
 * The Schema of `repeated`'s options.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { CrossValidation } from "@tunekit/datasets"
 * Options.jsonSchema(CrossValidation.RepeatedOptionsSchema)
 */
export const RepeatedOptionsSchema: Schema.Schema<RepeatedOptions> = Schema.Struct({ ...repeatedFields, labels: Schema.optional(Schema.Array(Schema.Number)) })

/**
 * The Schema of `timeSeries`'s options.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { CrossValidation } from "@tunekit/datasets"
 * Options.jsonSchema(CrossValidation.TimeSeriesOptionsSchema)
 */
export const TimeSeriesOptionsSchema: Schema.Schema<TimeSeriesOptions> = Schema.Struct({
  k: Schema.optional(Options.PositiveInt),
  testSize: Schema.optional(Options.PositiveInt),
  gap: Schema.optional(Options.NonNegativeInt),
  maxTrainSize: Schema.optional(Options.PositiveInt)
})

const kFoldOptions = decoder(KFoldOptionsSchema, invalid("kFold"))
const stratifiedOptions = decoder(StratifiedOptionsSchema, invalid("stratifiedKFold"))
const repeatedOptions = decoder(RepeatedOptionsSchema, invalid("repeated"))
const timeSeriesOptions = decoder(TimeSeriesOptionsSchema, invalid("timeSeries"))

/**
 * Time-series splits with an expanding window (scikit-learn's `TimeSeriesSplit`): the last
 * k x testSize rows are cut into k consecutive test folds, and each fold trains on every row
 * before it (minus the gap). No fold ever trains on a row after its test rows.
 *
 * @example
 * import { CrossValidation } from "@tunekit/datasets"
 * const folds = CrossValidation.timeSeries(12, { k: 3 })
 * folds[0].train // [0, 1, 2]
 * folds[0].test  // [3, 4, 5]
 */
export const timeSeries = (n: number, input: TimeSeriesOptions = {}): ReadonlyArray<Fold> => {
  const options = timeSeriesOptions(input)
  const k = options.k ?? 5
  checkK("timeSeries", k + 1, n)
  const testSize = options.testSize ?? Math.floor(n / (k + 1))
  const gap = options.gap ?? 0
  const maxTrain = options.maxTrainSize ?? Infinity
  const first = n - k * testSize
  if (first - gap < 1) {
    throw new InvalidSplit({ split: "timeSeries", reason: `${k} test folds of ${testSize} rows and a gap of ${gap} leave no training rows among ${n}` })
  }
  return range(0, k).map((f) => {
    const start = first + f * testSize
    const end = start - gap
    return { index: f, repeat: 0, train: range(Math.max(0, end - maxTrain), end), test: range(start, start + testSize) }
  })
}

/** A cross-validation scheme, as data: what the service is configured with. */
export type Scheme =
  | { readonly _tag: "KFold"; readonly options?: KFoldOptions }
  | { readonly _tag: "StratifiedKFold"; readonly options?: Omit<KFoldOptions, "shuffle"> }
  | { readonly _tag: "Repeated"; readonly stratified: boolean; readonly options?: KFoldOptions & { readonly repeats?: number } }
  | { readonly _tag: "TimeSeries"; readonly options?: TimeSeriesOptions }

/**
 * The Schema of a scheme, and its JSON Schema (`Options.jsonSchema`): a sweep file can name one.
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { CrossValidation } from "@tunekit/datasets"
 * Options.decodeEither(CrossValidation.SchemeSchema)({ _tag: "KFold", options: { k: 1 } }) // Left: options.k: expected an integer >= 2, got 1
 */
export const SchemeSchema: Schema.Schema<Scheme> = Schema.Union(
  Schema.Struct({ _tag: Schema.Literal("KFold"), options: Schema.optional(KFoldOptionsSchema) }),
  Schema.Struct({ _tag: Schema.Literal("StratifiedKFold"), options: Schema.optional(StratifiedOptionsSchema) }),
  Schema.Struct({ _tag: Schema.Literal("Repeated"), stratified: Options.Boolean, options: Schema.optional(Schema.Struct(repeatedFields)) }),
  Schema.Struct({ _tag: Schema.Literal("TimeSeries"), options: Schema.optional(TimeSeriesOptionsSchema) })
)

/**
 * The folds of a scheme for a dataset (or a number of rows). Stratified schemes need class labels.
 *
 * @example
 * import { CrossValidation, Wine } from "@tunekit/datasets"
 * const folds = CrossValidation.folds({ _tag: "StratifiedKFold", options: { k: 3 } }, Wine.load())
 */
export const folds = (input: Scheme, data: Dataset.Rows | Dataset.Series | number): ReadonlyArray<Fold> => {
  const scheme = decoder(SchemeSchema, invalid(typeof input?._tag === "string" ? input._tag : "scheme"))(input)
  const n = typeof data === "number" ? data : Dataset.size(data)
  const labels = () => {
    if (typeof data === "number" || data._tag === "Series" || data._tag === "Regression") {
      throw new InvalidSplit({ split: scheme._tag, reason: "stratified folds need class labels (a classification or text dataset)" })
    }
    return data.y
  }
  switch (scheme._tag) {
    case "KFold":
      return kFold(n, scheme.options)
    case "StratifiedKFold":
      return stratifiedKFold(labels(), scheme.options)
    case "Repeated":
      return repeated(n, { ...scheme.options, ...(scheme.stratified ? { labels: labels() } : {}) })
    case "TimeSeries":
      return timeSeries(n, scheme.options)
  }
}

/** What a scorer receives for one fold: the two parts of the data, and the fold. */
export interface FoldData<D> {
  readonly train: D
  readonly test: D
  readonly fold: Fold
}

/** Scores one fold (higher or lower is better as the study's direction says). */
export type Scorer<D, C> = (fold: FoldData<D>, config: C) => number | PromiseLike<number>

/** Options of `evaluate` and `objective`. */
export interface EvaluateOptions<D, C> {
  readonly data: D
  readonly folds: ReadonlyArray<Fold>
  readonly score: Scorer<D, C>
  /** The name the fold score is reported under; the study's `metric` should be the same. Default "score". */
  readonly metric?: string
}

const isObject = (u: unknown): u is object => typeof u === "object" && u !== null
const rows = Options.instance((u): u is ReadonlyArray<number> => Array.isArray(u), "a list of row indices")

/**
 * The Schema of `evaluate`'s and `objective`'s options (its JSON Schema describes `metric`; the
 * rest is given in code).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { CrossValidation } from "@tunekit/datasets"
 * Options.jsonSchema(CrossValidation.EvaluateOptionsSchema)
 */
export const EvaluateOptionsSchema: Schema.Schema<EvaluateOptions<any, any>> = Schema.Struct({
  data: Options.instance((u): u is Dataset.Rows | Dataset.Series => isObject(u) && "_tag" in u, "a dataset or a series"),
  folds: Schema.Array(
    Schema.Struct({ index: Options.NonNegativeInt, repeat: Options.NonNegativeInt, train: rows, test: rows })
      .annotations({ parseOptions: { onExcessProperty: "ignore" } })
  ).pipe(Schema.minItems(1, { message: () => "no folds to evaluate" })),
  score: Options.fn<Scorer<any, any>>("a function that scores a fold"),
  metric: Schema.optional(Options.NonEmptyString)
})

const decodeEvaluate = Options.decodeEither(EvaluateOptionsSchema)
const evaluateProblem = (split: string, options: unknown): InvalidSplit | undefined =>
  Either.match(decodeEvaluate(options), { onLeft: (p) => invalid(split)(p), onRight: () => undefined })

const partsOf = <D extends Dataset.Rows | Dataset.Series>(data: D, fold: Fold): FoldData<D> => {
  if (data._tag === "Series") {
    const part = (idx: ReadonlyArray<number>) => {
      const values = idx.map((i) => data.values[i])
      return { ...data, time: idx.map((i) => data.time[i]), values, missing: values.filter(Number.isNaN).length }
    }
    return { train: part(fold.train) as D, test: part(fold.test) as D, fold }
  }
  return { train: Dataset.subset(data as Dataset.Rows, fold.train) as D, test: Dataset.subset(data as Dataset.Rows, fold.test) as D, fold }
}

/**
 * Scores a config fold by fold as a cold stream of metrics
 * `{ step: fold, values: { score, mean_score } }`: the fold's score and the mean so far (so that a
 * study of this stream with `metric: "mean_score"` ends with the mean over all folds; for the
 * Wilcoxon pruner, which compares fold by fold, use `objective` with `metric: "score"`).
 * Folds run one at a time, each in its own macrotask: unsubscribing stops before the next fold.
 * A fold whose score is not a finite number, or whose scorer throws, errors the stream.
 *
 * @example
 * import { CrossValidation, Iris, Model, DecisionTree } from "@tunekit/datasets"
 * const data = Iris.load()
 * CrossValidation.evaluate({ data, folds: CrossValidation.kFold(150, { k: 3 }), score: ({ train, test }, c: { maxDepth: number }) => Model.score(DecisionTree.fit(train, c), test) }, { maxDepth: 3 })
 *   .subscribe((m) => console.log(m.step, m.values.score))
 */
export const evaluate = <D extends Dataset.Rows | Dataset.Series, C>(
  options: EvaluateOptions<D, C>,
  config: C
): Observable<Trial.Metric> =>
  new Observable<Trial.Metric>((subscriber) => {
    const metric = options.metric ?? "score"
    let sum = 0
    let count = 0
    let stopped = false
    let timer: ReturnType<typeof setImmediate> | undefined
    const run = (i: number) => {
      if (stopped) return
      if (i >= options.folds.length) return subscriber.complete()
      const fold = options.folds[i]
      let result: number | PromiseLike<number>
      try {
        result = options.score(partsOf(options.data, fold), config)
      } catch (e) {
        return subscriber.error(e)
      }
      const next = (s: number) => {
        if (stopped) return
        if (typeof s !== "number" || !Number.isFinite(s)) {
          return subscriber.error(new Error(`fold ${fold.index}: the score is ${String(s)}, not a finite number`))
        }
        sum += s
        count++
        subscriber.next({ step: fold.index, values: { [metric]: s, [`mean_${metric}`]: sum / count } })
        timer = setImmediate(() => run(i + 1))
      }
      if (typeof result === "number") next(result)
      else Promise.resolve(result).then(next, (e) => subscriber.error(e))
    }
    const problem = evaluateProblem("evaluate", options)
    if (problem !== undefined) subscriber.error(problem)
    else timer = setImmediate(() => run(0))
    return () => {
      stopped = true
      if (timer !== undefined) clearImmediate(timer)
    }
  })

/** The part of a study trial a CV objective uses: it reports and it can be stopped. */
export interface Reporter {
  readonly report: (metric: Trial.Metric) => Promise<void>
  readonly signal?: AbortSignal
}

/**
 * A study objective for cross-validation: runs `evaluate`, reports each fold's score as a step
 * (so the scheduler can prune after any fold: its rejection stops the remaining folds) and
 * resolves to the mean score over the folds.
 *
 * @example
 * import { CrossValidation, Model, RandomForest, BreastCancer } from "@tunekit/datasets"
 * const data = BreastCancer.load()
 * const objective = CrossValidation.objective({
 *   data,
 *   folds: CrossValidation.stratifiedKFold(data.y, { k: 5, seed: 0 }),
 *   score: ({ train, test }, c: RandomForest.Config) => Model.score(RandomForest.fit(train, c), test)
 * })
 * // Study.optimize({ ..., metric: "score", direction: "maximize", objective })
 */
export const objective = <D extends Dataset.Rows | Dataset.Series, C>(options: EvaluateOptions<D, C>) =>
async (config: C, trial: Reporter): Promise<number> => {
  const metric = options.metric ?? "score"
  const problem = evaluateProblem("objective", options)
  if (problem !== undefined) throw problem
  const scores: Array<number> = []
  for (const fold of options.folds) {
    trial.signal?.throwIfAborted()
    // Let timers and other fibers run between folds: fold training is synchronous work.
    await new Promise<void>((resolve) => setImmediate(resolve))
    const s = await options.score(partsOf(options.data, fold), config)
    if (typeof s !== "number" || !Number.isFinite(s)) throw new Error(`fold ${fold.index}: the score is ${String(s)}, not a finite number`)
    scores.push(s)
    // Rejects when the scheduler prunes the trial: the remaining folds never run.
    await trial.report({ step: fold.index, values: { [metric]: s } })
  }
  return mean(scores)
}

const mean = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0) / xs.length

/** The cross-validation service: a scheme, and what it does with data. */
export interface Service {
  readonly scheme: Scheme
  /** The scheme's folds for a dataset; fails with `InvalidSplit` when they cannot be made. */
  readonly folds: (data: Dataset.Rows | Dataset.Series | number) => Effect.Effect<ReadonlyArray<Fold>, InvalidSplit>
  /** A study objective over the scheme's folds of `data` (see `objective`). */
  readonly objective: <D extends Dataset.Rows | Dataset.Series, C>(
    data: D,
    score: Scorer<D, C>,
    options?: { readonly metric?: string }
  ) => Effect.Effect<(config: C, trial: Reporter) => Promise<number>, InvalidSplit>
}

/**
 * The CrossValidation service tag.
 *
 * @example
 * import { Effect } from "effect"
 * import { CrossValidation } from "@tunekit/datasets"
 * const folds = Effect.flatMap(CrossValidation.CrossValidation, (cv) => cv.folds(100))
 */
export class CrossValidation extends Context.Tag("@tunekit/datasets/CrossValidation")<CrossValidation, Service>() {}

/**
 * A cross-validation service for a scheme.
 *
 * @example
 * import { CrossValidation } from "@tunekit/datasets"
 * const cv = CrossValidation.make({ _tag: "KFold", options: { k: 5, seed: 1 } })
 */
export const make = (scheme: Scheme): Service => {
  const foldsOf = (data: Dataset.Rows | Dataset.Series | number) =>
    Effect.try({
      try: () => folds(scheme, data),
      catch: (e) => (e instanceof InvalidSplit ? e : new InvalidSplit({ split: scheme._tag, reason: String(e) }))
    })
  return {
    scheme,
    folds: foldsOf,
    objective: (data, score, o = {}) => Effect.map(foldsOf(data), (fs) => objective({ data, folds: fs, score, ...o }))
  }
}

/**
 * The CrossValidation layer.
 *
 * @example
 * import { Effect } from "effect"
 * import { CrossValidation, Wine } from "@tunekit/datasets"
 * const program = Effect.gen(function*() {
 *   const cv = yield* CrossValidation.CrossValidation
 *   return yield* cv.folds(Wine.load())
 * }).pipe(Effect.provide(CrossValidation.layer({ _tag: "StratifiedKFold", options: { k: 5 } })))
 */
export const layer = (scheme: Scheme): Layer.Layer<CrossValidation> => Layer.succeed(CrossValidation, make(scheme))
