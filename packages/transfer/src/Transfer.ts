/**
 * The hyperparameter-transfer database: tasks (a name, tags, the meta-features of their data) and
 * the studies tuned on them (the space, every trial, hence the best configs). A new task starts
 * from the most similar ones: `similar` ranks tasks by distance on normalized meta-features or by
 * a similarity function of yours; `warmStart` is a sampler layer that first runs their best
 * configs mapped onto the new space (Feurer et al. 2015); `tpe` is TPE with their histories as a
 * prior, weighted by similarity (Watanabe et al. 2023), and `gp` GP-BO with them (the
 * ranking-weighted GPs of Feurer et al. 2018 under the study's residual GP, Golovin et al. 2017).
 *
 * @example
 * import { Effect } from "effect"
 * import { Space, Study } from "@tunekit/core"
 * import { Transfer } from "@tunekit/transfer"
 *
 * const space = Space.struct({ learningRate: Space.float(1e-4, 1e-1, { log: true }), dropout: Space.float(0, 0.5) })
 * const program = Effect.gen(function*() {
 *   yield* Transfer.saveBest({ task: "mnist_cnn", config: { learningRate: 0.001, dropout: 0.2 }, value: 0.99, direction: "maximize" })
 *   return yield* Transfer.initialConfigs({ task: "fashion_mnist_cnn", space, k: 1, similarity: () => 1 })
 * }).pipe(Effect.provide(Transfer.layerMemory))
 *
 * @since 0.2.0
 */
import { Context, Effect, Layer, Option } from "effect"
import type { Distribution, StorageError, StudyNotFound } from "@tunekit/core"
import { Rng, Sampler, Space, Storage, Tracker, Trial } from "@tunekit/core"
import type { Dataset } from "@tunekit/datasets"
import { Gp, Tpe } from "@tunekit/samplers"
import { NoMetaFeatures, TaskNotFound, TransferError } from "./Errors.js"
import { complete, mapConfig, type OutOfRange } from "./internal/mapping.js"
import * as records from "./internal/records.js"
import type { StudyRecord, StudyRow, Task, TaskRow, TrialRecord } from "./internal/records.js"
import { makeSqlite } from "./internal/sqlite.js"
import * as MetaFeatures from "./MetaFeatures.js"

export type { OutOfRange, StudyRecord, StudyRow, Task, TaskRow, TrialRecord }

/**
 * A task from a row of an SQL layer (`transfer_tasks`: JSON columns as text), decoded through the
 * Schemas; throws an Error naming the task and the corrupt field. For layers of the service kept
 * in other packages (`PostgresTransfer` of @tunekit/postgres).
 *
 * @example
 * import { Transfer } from "@tunekit/transfer"
 * Transfer.taskFromRow({ name: "iris", tags: "[]", meta_features: null, created_at: 0 }).tags // []
 */
export const taskFromRow: (row: TaskRow) => Task = records.taskFromRow

/**
 * A study record from a row of an SQL layer (`transfer_studies`), decoded through the Schemas;
 * throws an Error naming the study, its task and the corrupt field.
 *
 * @example
 * import { Transfer } from "@tunekit/transfer"
 * const rec = Transfer.studyFromRow({ task: "iris", study: "s", direction: "minimize", metric: "loss", space: "{}", trials: "[]", recorded_at: 0 })
 */
export const studyFromRow: (row: StudyRow) => StudyRecord = records.studyFromRow

/** A task to save: tags and meta-features replace the stored ones when given. */
export interface TaskInput {
  readonly name: string
  readonly tags?: ReadonlyArray<string>
  readonly metaFeatures?: Readonly<Record<string, number>>
}

/** The transfer database service. */
export interface TransferService {
  /** A short description for messages ("memory", "sqlite:tunekit.db"). */
  readonly label: string
  /** Creates a task or updates its tags and meta-features. */
  readonly saveTask: (task: TaskInput) => Effect.Effect<Task, TransferError>
  readonly getTask: (name: string) => Effect.Effect<Task, TransferError | TaskNotFound>
  /** Every task, by name. */
  readonly tasks: Effect.Effect<ReadonlyArray<Task>, TransferError>
  /** Records a study of a task (creating the task when missing); a study recorded again replaces the earlier record. */
  readonly record: (record: StudyRecord) => Effect.Effect<void, TransferError>
  /** The studies recorded for a task, oldest first. */
  readonly studies: (task: string) => Effect.Effect<ReadonlyArray<StudyRecord>, TransferError>
  readonly deleteTask: (name: string) => Effect.Effect<void, TransferError | TaskNotFound>
}

/** The Transfer service tag. */
export class Transfer extends Context.Tag("@tunekit/transfer/Transfer")<Transfer, TransferService>() {}

/**
 * A transfer database in memory (tests, one-off programs).
 *
 * @example
 * import { Transfer } from "@tunekit/transfer"
 * const db = Transfer.makeMemory()
 */
export const makeMemory = (): TransferService => {
  const tasks = new Map<string, Task>()
  const studies = new Map<string, Map<string, StudyRecord>>()
  const ensure = (name: string) => {
    let t = tasks.get(name)
    if (t === undefined) tasks.set(name, (t = { name, tags: [], metaFeatures: undefined, createdAt: Date.now() }))
    return t
  }
  return {
    label: "memory",
    saveTask: (input) =>
      Effect.sync(() => {
        const t = ensure(input.name)
        const next: Task = {
          ...t,
          tags: input.tags === undefined ? t.tags : [...input.tags],
          metaFeatures: input.metaFeatures === undefined ? t.metaFeatures : { ...input.metaFeatures }
        }
        tasks.set(t.name, next)
        return next
      }),
    getTask: (name) => Effect.suspend(() => Option.match(Option.fromNullable(tasks.get(name)), { onNone: () => Effect.fail(new TaskNotFound({ task: name })), onSome: Effect.succeed })),
    tasks: Effect.sync(() => [...tasks.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))),
    record: (rec) =>
      Effect.sync(() => {
        ensure(rec.task)
        let m = studies.get(rec.task)
        if (m === undefined) studies.set(rec.task, (m = new Map()))
        m.delete(rec.study)
        m.set(rec.study, structuredClone(rec))
      }),
    studies: (task) => Effect.sync(() => [...(studies.get(task)?.values() ?? [])].sort((a, b) => a.recordedAt - b.recordedAt)),
    deleteTask: (name) =>
      Effect.suspend(() => {
        if (!tasks.delete(name)) return Effect.fail(new TaskNotFound({ task: name }))
        studies.delete(name)
        return Effect.void
      })
  }
}

/**
 * The in-memory transfer database as a layer.
 *
 * @example
 * import { Transfer } from "@tunekit/transfer"
 * const layer = Transfer.layerMemory
 */
export const layerMemory: Layer.Layer<Transfer> = Layer.sync(Transfer, makeMemory)

/**
 * The transfer database in an SQLite file (tables `transfer_tasks` and `transfer_studies`; the
 * file may be a study storage's too).
 *
 * @example
 * import { Transfer } from "@tunekit/transfer"
 * const layer = Transfer.layerSqlite("tunekit.db")
 */
export const layerSqlite = (file: string): Layer.Layer<Transfer, TransferError> =>
  Layer.scoped(Transfer, Effect.acquireRelease(makeSqlite(file), (s) => Effect.sync(() => s.close())))

// ---------------------------------------------------------------------------------------------
// Tasks and records
// ---------------------------------------------------------------------------------------------

/**
 * The meta-features of a dataset (see `MetaFeatures.describe`).
 *
 * @example
 * import { Iris } from "@tunekit/datasets"
 * import { Transfer } from "@tunekit/transfer"
 * Transfer.describe(Iris.load()).nearestNeighbourAccuracy // 0.96
 */
export const describe = (data: Dataset.Tabular, options?: MetaFeatures.Options): MetaFeatures.MetaFeatures => MetaFeatures.describe(data, options)

/**
 * Saves a task (creates it, or updates its tags and meta-features).
 *
 * @example
 * import { Iris } from "@tunekit/datasets"
 * import { Transfer } from "@tunekit/transfer"
 * const program = Transfer.saveTask({ name: "iris_forest", tags: ["tabular"], metaFeatures: { ...Transfer.describe(Iris.load()) } })
 */
export const saveTask = (task: TaskInput): Effect.Effect<Task, TransferError, Transfer> => Effect.flatMap(Transfer, (t) => t.saveTask(task))

/** Flattens a nested config to dotted parameter names (as a space names them). */
const flatten = (config: Readonly<Record<string, unknown>>, prefix = ""): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(config)) {
    const name = prefix === "" ? k : `${prefix}.${k}`
    if (v !== null && typeof v === "object" && !Array.isArray(v)) Object.assign(out, flatten(v as Record<string, unknown>, name))
    else out[name] = v
  }
  return out
}

/**
 * Saves the best config of a task found elsewhere (by hand, in another tool): recorded as a study
 * of one trial (named `study`, default "best").
 *
 * @example
 * import { Transfer } from "@tunekit/transfer"
 * const program = Transfer.saveBest({ task: "mnist_cnn", config: { learningRate: 0.001, dropout: 0.2, batchSize: 64 }, value: 0.99, direction: "maximize" })
 */
export const saveBest = <A>(input: {
  readonly task: string
  readonly config: A
  readonly value: number
  readonly direction?: "minimize" | "maximize"
  readonly metric?: string
  /** The space the config is of: its distributions are recorded, and a branch's config flattened as the space names it. */
  readonly space?: Space.Space<A>
  readonly study?: string
}): Effect.Effect<void, TransferError, Transfer> =>
  Effect.gen(function*() {
    const compiled = input.space === undefined ? undefined : Space.compile(input.space)
    const params = compiled === undefined ? flatten(input.config as Record<string, unknown>) : compiled.flatten(input.config)
    const t = yield* Transfer
    yield* t.record({
      task: input.task,
      study: input.study ?? "best",
      direction: input.direction ?? "minimize",
      metric: input.metric ?? "value",
      space: compiled === undefined ? {} : Object.fromEntries(compiled.params),
      trials: [{ params, value: input.value, state: "Complete" }],
      recordedAt: Date.now()
    })
  })

/**
 * Records a study of the study storage under a task: its space and every trial with a value
 * (complete ones, and pruned ones that kept a value). The task is created when missing.
 *
 * @example
 * import { Transfer } from "@tunekit/transfer"
 * const program = Transfer.recordStudy("digits-mlp", { task: "digits_mlp" })
 */
export const recordStudy = (
  study: string,
  options: { readonly task: string }
): Effect.Effect<StudyRecord, TransferError | StorageError | StudyNotFound, Transfer | Storage.Storage> =>
  Effect.gen(function*() {
    const storage = yield* Storage.Storage
    const info = yield* storage.getStudy(study)
    const trials = yield* storage.getTrials(info.id)
    const space: Record<string, Distribution.Distribution> = {}
    const kept: Array<TrialRecord> = []
    for (const t of trials) {
      for (const [k, d] of Object.entries(t.distributions)) space[k] ??= d
      const v = t.values?.[0]
      if ((t.state === "Complete" || t.state === "Pruned") && v !== undefined && Number.isFinite(v)) {
        kept.push({ params: Trial.paramValues(t), value: v, state: t.state })
      }
    }
    const record: StudyRecord = {
      task: options.task,
      study: info.name,
      direction: info.directions[0] ?? "minimize",
      metric: info.metrics[0] ?? "value",
      space,
      trials: kept,
      recordedAt: Date.now()
    }
    yield* (yield* Transfer).record(record)
    return record
  })

/** The study user attribute that names a study's task, for `recorder`. */
export const TASK_ATTR = "task"

/**
 * A tracker that records each finished study in the transfer database under its task: the one
 * given, or the one the study names in its user attribute `task`. A study that names none is
 * left alone; a failure to record is logged, never raised.
 *
 * @example
 * import { Tracker } from "@tunekit/core"
 * import { Transfer } from "@tunekit/transfer"
 * const tracker = Transfer.recorder({ task: "digits_mlp" })
 */
export const recorder = (options: { readonly task?: string } = {}): Layer.Layer<Tracker.Tracker, never, Transfer | Storage.Storage> =>
  Layer.effect(
    Tracker.Tracker,
    Effect.gen(function*() {
      const context = yield* Effect.context<Transfer | Storage.Storage>()
      const service: Tracker.TrackerService = {
        studyFinished: (study) =>
          Effect.gen(function*() {
            // The attribute may have been set after the study was opened: read it as stored.
            const stored = yield* (yield* Storage.Storage).getStudy(study.name)
            const named = stored.userAttrs[TASK_ATTR]
            const task = options.task ?? (typeof named === "string" ? named : undefined)
            if (task === undefined) return
            yield* Effect.catchAll(recordStudy(study.name, { task }), (e) =>
              Effect.logWarning(`could not record study "${study.name}" under task "${task}": ${e.message}`))
          }).pipe(
            Effect.provide(context),
            Effect.catchAll((e) => Effect.logWarning(`could not record study "${study.name}": ${e.message}`))
          )
      }
      return service
    })
  )

// ---------------------------------------------------------------------------------------------
// Similarity
// ---------------------------------------------------------------------------------------------

/** A task and how similar it is to another, in [0, 1] (1: the same). */
export interface Similar {
  readonly task: Task
  readonly similarity: number
}

/** Options of `similar`. */
export interface SimilarOptions {
  /**
   * Your similarity of two tasks, in [0, 1]; by default one minus the normalized L1 distance of
   * their meta-features (`MetaFeatures.distance`).
   */
  readonly similarity?: (a: Task, b: Task) => number
  /** The meta-features compared (default `MetaFeatures.compared`). */
  readonly features?: ReadonlyArray<string>
  /** Only tasks with recorded studies (default false). */
  readonly withStudies?: boolean
}

const asTask = (t: string | TaskInput | Task): Task =>
  typeof t === "string"
    ? { name: t, tags: [], metaFeatures: undefined, createdAt: 0 }
    : { name: t.name, tags: t.tags ?? [], metaFeatures: t.metaFeatures, createdAt: "createdAt" in t ? t.createdAt : 0 }

/**
 * The k tasks most similar to a task, most similar first (ties by name). The task is a name (of a
 * stored task, or of a new one when a similarity function is given) or a task with meta-features.
 *
 * @example
 * import { Transfer } from "@tunekit/transfer"
 * const program = Transfer.similar("fashion_mnist_cnn", 2, {
 *   similarity: (a, b) => (a.name.includes("cnn") && b.name.includes("cnn") ? 0.8 : 0.1)
 * })
 */
export const similar = (
  task: string | TaskInput,
  k: number,
  options: SimilarOptions = {}
): Effect.Effect<ReadonlyArray<Similar>, TransferError | NoMetaFeatures, Transfer> =>
  Effect.gen(function*() {
    const db = yield* Transfer
    const all = yield* db.tasks
    let target = asTask(task)
    if (typeof task === "string") {
      const stored = all.find((t) => t.name === task)
      if (stored !== undefined) target = stored
    }
    let others = all.filter((t) => t.name !== target.name)
    if (options.withStudies === true) {
      const has = yield* Effect.forEach(others, (t) => Effect.map(db.studies(t.name), (s) => s.length > 0))
      others = others.filter((_, i) => has[i])
    }
    let scored: Array<Similar>
    if (options.similarity !== undefined) {
      const f = options.similarity
      scored = others.map((t) => ({ task: t, similarity: f(target, t) }))
    } else {
      const meta = target.metaFeatures
      if (meta === undefined) return yield* new NoMetaFeatures({ task: target.name })
      const population = [meta, ...others.flatMap((t) => (t.metaFeatures === undefined ? [] : [t.metaFeatures]))]
      scored = others.flatMap((t) => {
        if (t.metaFeatures === undefined) return []
        const d = MetaFeatures.distance(meta, t.metaFeatures, population, options.features)
        return d === undefined ? [] : [{ task: t, similarity: 1 - d }]
      })
    }
    return scored
      .filter((s) => Number.isFinite(s.similarity))
      .sort((a, b) => b.similarity - a.similarity || (a.task.name < b.task.name ? -1 : 1))
      .slice(0, Math.max(0, k))
  })

// ---------------------------------------------------------------------------------------------
// Warm start
// ---------------------------------------------------------------------------------------------

/** Options of `initialConfigs` and `warmStart`. */
export interface StartOptions<A> {
  /** The new task. */
  readonly task: string | TaskInput
  /** The new study's space. */
  readonly space: Space.Space<A>
  /** How many similar tasks to start from (default 3). */
  readonly k?: number
  /** How many of each task's best configs (default 1). */
  readonly perTask?: number
  readonly similarity?: SimilarOptions["similarity"]
  readonly features?: ReadonlyArray<string>
  /** A number outside the new range: clipped to the bound (default) or dropped (then sampled). */
  readonly outOfRange?: OutOfRange
  /** The seed of the parameters the old configs lack (default 0). */
  readonly seed?: number
}

/** A config to start from, and where it came from. */
export interface InitialConfig<A> {
  readonly config: A
  readonly task: string
  readonly study: string
  readonly similarity: number
  /** Its value on its own task. */
  readonly value: number
  /** What changed on the way: clipped or dropped values. */
  readonly notes: ReadonlyArray<string>
  /** The parameters it lacked, sampled. */
  readonly sampled: ReadonlyArray<string>
}

/** A task's best trials over its studies, best first (by each study's direction). */
const bestOf = (studies: ReadonlyArray<StudyRecord>, n: number) =>
  studies
    .flatMap((s) => s.trials.filter((t) => t.state === "Complete").map((t) => ({ study: s, trial: t, score: s.direction === "maximize" ? -t.value : t.value })))
    .sort((a, b) => a.score - b.score)
    .slice(0, n)

/**
 * The best configs of the k most similar tasks (with studies), mapped onto the new space: most
 * similar task first, each task's best first; a config that maps onto one already taken is left
 * out. Reproducible: the sampled parameters come from the seed.
 *
 * @example
 * import { Space } from "@tunekit/core"
 * import { Transfer } from "@tunekit/transfer"
 * const space = Space.struct({ learningRate: Space.float(1e-4, 1e-1, { log: true }) })
 * const program = Transfer.initialConfigs({ task: "fashion_mnist_cnn", space, k: 2 })
 */
export const initialConfigs = <A>(options: StartOptions<A>): Effect.Effect<ReadonlyArray<InitialConfig<A>>, TransferError | NoMetaFeatures, Transfer> =>
  Effect.gen(function*() {
    const db = yield* Transfer
    const space = Space.compile(options.space)
    const near = yield* similar(options.task, options.k ?? 3, { ...pick(options), withStudies: true })
    const out: Array<InitialConfig<A>> = []
    const seen = new Set<string>()
    for (const s of near) {
      for (const best of bestOf(yield* db.studies(s.task.name), options.perTask ?? 1)) {
        const mapped = mapConfig(space as Space.Compiled<unknown>, best.trial.params, options.outOfRange ?? "clip")
        const rng = Rng.generator(options.seed ?? 0, "transfer", s.task.name, best.study.study, out.length)
        const full = complete(space, mapped, (_, d) => Sampler.sampleUniform(rng, d))
        const key = JSON.stringify(full.params)
        if (seen.has(key)) continue
        seen.add(key)
        out.push({
          config: full.config,
          task: s.task.name,
          study: best.study.study,
          similarity: s.similarity,
          value: best.trial.value,
          notes: mapped.notes,
          sampled: full.sampled
        })
      }
    }
    return out
  })

const pick = (o: { readonly similarity?: SimilarOptions["similarity"]; readonly features?: ReadonlyArray<string> }): SimilarOptions => ({
  ...(o.similarity === undefined ? {} : { similarity: o.similarity }),
  ...(o.features === undefined ? {} : { features: o.features })
})

/**
 * A sampler layer that first runs the best configs of the most similar tasks (`initialConfigs`),
 * then hands over to `sampler` (Feurer et al. 2015's meta-learned initialization). Notes on
 * clipped or dropped values are logged.
 *
 * @example
 * import { Space } from "@tunekit/core"
 * import { Gp, Tpe } from "@tunekit/samplers"
 * import { Transfer } from "@tunekit/transfer"
 * const space = Space.struct({ learningRate: Space.float(1e-4, 1e-1, { log: true }) })
 * const layer = Transfer.warmStart({ task: "fashion_mnist_cnn", space, k: 2 }, Tpe.layer())
 */
export const warmStart = <A>(
  options: StartOptions<A>,
  sampler: Sampler.SamplerLike = Sampler.random
): Layer.Layer<Sampler.Sampler, TransferError | NoMetaFeatures, Transfer> =>
  Layer.unwrapEffect(
    Effect.gen(function*() {
      const configs = yield* initialConfigs(options)
      for (const c of configs) {
        const from = `warm start from ${c.task} (similarity ${c.similarity.toFixed(3)}, value ${c.value})`
        for (const note of c.notes) yield* Effect.logInfo(`${from}: ${note}`)
      }
      return Sampler.warmStart(configs.map((c) => c.config), sampler)
    })
  )

// ---------------------------------------------------------------------------------------------
// Prior transfer
// ---------------------------------------------------------------------------------------------

/**
 * The histories of the k most similar tasks, mapped onto the new space, as TPE's prior tasks
 * (`Tpe.Options.prior`), each weighted by its similarity. Values outside the new ranges are
 * dropped (not clipped: a clipped value would pile observations on the bound).
 *
 * @example
 * import { Space } from "@tunekit/core"
 * import { Transfer } from "@tunekit/transfer"
 * const space = Space.struct({ learningRate: Space.float(1e-4, 1e-1, { log: true }) })
 * const program = Transfer.priorTasks({ task: "fashion_mnist_cnn", space, k: 2 })
 */
export const priorTasks = <A>(
  options: Omit<StartOptions<A>, "perTask" | "seed">
): Effect.Effect<ReadonlyArray<Tpe.PriorTask>, TransferError | NoMetaFeatures, Transfer> =>
  Effect.gen(function*() {
    const db = yield* Transfer
    const space = Space.compile(options.space)
    const distributions = Object.fromEntries(space.params)
    const near = yield* similar(options.task, options.k ?? 3, { ...pick(options), withStudies: true })
    const out: Array<Tpe.PriorTask> = []
    for (const s of near) {
      for (const study of yield* db.studies(s.task.name)) {
        const trials = study.trials.map((t, i): Trial.FrozenTrial => {
          const { params } = mapConfig(space as Space.Compiled<unknown>, t.params, options.outOfRange ?? "drop")
          return Trial.make({ id: -(i + 1), number: i, state: t.state, params, distributions, values: [t.value] })
        })
        if (trials.length > 0) out.push({ name: `${s.task.name}/${study.study}`, trials, direction: study.direction, similarity: Math.max(0, Math.min(1, s.similarity)) })
      }
    }
    return out
  })

/**
 * TPE with prior transfer from the most similar tasks' histories (`Tpe.Options.prior`).
 *
 * @example
 * import { Space } from "@tunekit/core"
 * import { Transfer } from "@tunekit/transfer"
 * const space = Space.struct({ learningRate: Space.float(1e-4, 1e-1, { log: true }) })
 * const layer = Transfer.tpe({ task: "fashion_mnist_cnn", space, k: 2 })
 */
export const tpe = <A>(
  options: Omit<StartOptions<A>, "perTask" | "seed"> & { readonly tpe?: Tpe.Options }
): Layer.Layer<Sampler.Sampler, TransferError | NoMetaFeatures, Transfer> =>
  Layer.unwrapEffect(Effect.map(priorTasks(options), (prior) => Tpe.layer({ ...options.tpe, prior })))

/**
 * GP-BO with prior transfer from the most similar tasks' histories (`Gp.Options.prior`): the
 * ranking-weighted ensemble of a GP per earlier task and the study's own (Feurer et al. 2018).
 *
 * @example
 * import { Space } from "@tunekit/core"
 * import { Transfer } from "@tunekit/transfer"
 * const space = Space.struct({ learningRate: Space.float(1e-4, 1e-1, { log: true }) })
 * const layer = Transfer.gp({ task: "fashion_mnist_cnn", space, k: 2 })
 */
export const gp = <A>(
  options: Omit<StartOptions<A>, "perTask" | "seed"> & { readonly gp?: Gp.Options }
): Layer.Layer<Sampler.Sampler, TransferError | NoMetaFeatures, Transfer> =>
  Layer.unwrapEffect(Effect.map(priorTasks(options), (prior) => Gp.layer({ ...options.gp, prior })))
