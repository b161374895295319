/**
 * Sweeps from a YAML file, as W&B Sweeps writes them: `program` and `command` (with W&B's
 * macros), `method`, `metric`, `parameters` with every W&B distribution, `early_terminate` and
 * `run_cap`, each meaning what W&B's documentation says; and tunekit's own keys (`scheduler`,
 * `storage`, `concurrency`, `executor`, `seed`, `timeout`, `trial_timeout`). See docs/sweeps.md.
 *
 * A sweep is a study: its definition is stored with it (the study's system attribute `sweep`),
 * so that more agents need only its name and storage, and its trials are its state, so that the
 * same file and storage carry on where a crash stopped it (the trials the crash cut short run
 * again, once).
 *
 * @example
 * import { Effect } from "effect"
 * import { Sweep } from "@tunekit/cli"
 * // tunekit sweep run sweep.yaml
 * const summary = await Effect.runPromise(Sweep.run("sweep.yaml", { storage: "tunekit.db" }))
 * // tunekit sweep agent my-sweep --count 10
 * await Effect.runPromise(Sweep.agent("my-sweep", { storage: "tunekit.db", count: 10 }))
 *
 * @since 0.2.0
 */
import { Data, Effect, Either, Option } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { Options, Storage, Study, type Trial } from "@tunekit/core"
import { decodeValue, type Parsed, parse as parseText, SweepFileError, type SweepInput, type SweepWarning } from "./internal/sweepFile.js"
import * as SweepPlan from "./internal/sweepPlan.js"
import * as StorageName from "./internal/storageName.js"
import { cutShort, REQUEUED } from "./internal/sweepStop.js"

export { jsonSchema, SweepFileError, type SweepInput, SweepSchema, type SweepWarning } from "./internal/sweepFile.js"
export { DISTRIBUTIONS, KINDS, METHODS } from "./internal/sweepParams.js"

/**
 * The study system attribute that holds a sweep's definition.
 *
 * @example
 * import { Sweep } from "@tunekit/cli"
 * // study.info.systemAttrs[Sweep.DEFINITION] is the Definition an agent runs
 * Sweep.DEFINITION // "sweep"
 */
export const DEFINITION = "sweep"

/** A sweep's definition as stored with its study. */
export interface Definition {
  readonly version: 1
  /** The file it was started from, and the folder its relative paths start from. */
  readonly file: string
  readonly dir: string
  /** The seed of its search: the file's, or one chosen when it began. */
  readonly seed: number
  /** The file's content, as decoded (JSON). */
  readonly config: Trial.Json
}

/**
 * A sweep that cannot run: no such sweep, another definition under the name, a file missing.
 *
 * @example
 * import { Sweep } from "@tunekit/cli"
 * new Sweep.SweepError({ reason: "no sweep named \"x\" in tunekit.db" }).message
 */
export class SweepError extends Data.TaggedError("SweepError")<{ readonly reason: string }> {
  override get message() {
    return this.reason
  }
}

/**
 * Parses and decodes a sweep file's text: the decoded sweep and its warnings, or a
 * `SweepFileError` naming the line, the column and the key.
 *
 * @example
 * import { Either } from "effect"
 * import { Sweep } from "@tunekit/cli"
 * const r = Sweep.parse("method: grid\nprogram: train.py\nmetric: {name: loss}\nparameters:\n  lr: {values: [0.1, 0.01]}\n", "sweep.yaml")
 * Either.isRight(r) // true
 */
export const parse = (text: string, file = "sweep.yaml"): Either.Either<Parsed, SweepFileError> => parseText(text, file)

/**
 * Reads and decodes a sweep file.
 *
 * @example
 * import { Sweep } from "@tunekit/cli"
 * const parsed = Sweep.load("sweep.yaml")
 */
export const load = (file: string): Effect.Effect<Parsed, SweepFileError | SweepError> =>
  Effect.suspend((): Effect.Effect<Parsed, SweepFileError | SweepError> => {
    if (!fs.existsSync(file)) return Effect.fail(new SweepError({ reason: `no sweep file at ${file} (write one with \`tunekit sweep init\`)` }))
    return parse(fs.readFileSync(file, "utf8"), file)
  })

/** What running a sweep can fail with: its file, the sweep itself, or its study and storage. */
export type RunError = SweepFileError | SweepError | Study.StudyError

/** How a sweep runs in this process. */
export interface RunOptions {
  /** The storage: an SQLite file or a postgres:// URL (default: the file's `storage`, else tunekit.db). */
  readonly storage?: string
  /** At most this many runs in this agent (W&B's `--count`). */
  readonly count?: number
  /** Runs at once in this agent (default: the file's `concurrency`). */
  readonly concurrency?: number
  /** A progress line on stderr (default false). */
  readonly progress?: boolean
  /** Where warnings go (default: stderr). */
  readonly warn?: (line: string) => void
}

/** What a sweep's agent did, and where the sweep stands. */
export interface Summary {
  readonly name: string
  readonly storage: string
  /** The trials this agent ran. */
  readonly ran: ReadonlyArray<Trial.FrozenTrial>
  /** Every trial of the sweep. */
  readonly trials: ReadonlyArray<Trial.FrozenTrial>
  readonly best: Option.Option<Trial.FrozenTrial>
  /** The summary as lines for a terminal. */
  readonly text: string
}

const canonical = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(canonical)
    : v !== null && typeof v === "object"
    ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]))
    : v

/** The path of the first key where two decoded files differ (undefined when they are the same). */
const difference = (a: unknown, b: unknown, at: ReadonlyArray<PropertyKey> = []): ReadonlyArray<PropertyKey> | undefined => {
  if (JSON.stringify(canonical(a)) === JSON.stringify(canonical(b))) return undefined
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object" || Array.isArray(a) !== Array.isArray(b)) return at
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const key = Array.isArray(a) ? Number(k) : k
    const d = difference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], [...at, key])
    if (d !== undefined) return d
  }
  return at
}

/** Runs again, once, the configs of trials that a crash or a stop cut short (W&B has no such thing). */
const requeue = (studyId: number) =>
  Effect.gen(function*() {
    const storage = yield* Storage.Storage
    for (const t of (yield* storage.getTrials(studyId, { states: ["Failed"] })).filter(cutShort)) {
      // One agent requeues it, however many reopen the sweep at once.
      if (!(yield* storage.claim(studyId, `requeue:${t.number}`))) continue
      yield* storage.createTrial(studyId, { state: "Waiting", params: t.params, distributions: t.distributions, userAttrs: { [REQUEUED]: t.number } })
    }
  })

const num = (v: number) => String(Number(v.toPrecision(6)))

const summaryText = (plan: SweepPlan.Plan, storage: string, ran: ReadonlyArray<Trial.FrozenTrial>, trials: ReadonlyArray<Trial.FrozenTrial>, best: Option.Option<Trial.FrozenTrial>) => {
  const count = (s: Trial.State) => trials.filter((t) => t.state === s).length
  const states = (["Complete", "Pruned", "Failed", "Running", "Waiting"] as const).filter((s) => count(s) > 0).map((s) => `${count(s)} ${s.toLowerCase()}`)
  return [
    `sweep "${plan.name}" in ${storage}: ${trials.length} runs (${states.join(", ") || "none yet"}); this agent ran ${ran.length}`,
    Option.match(best, {
      onNone: () => "no complete run yet",
      onSome: (t) => `best: run ${t.number}, ${plan.metric} ${num(t.values![0])} (${plan.direction}), config ${JSON.stringify(t.userAttrs.config ?? null)}`
    }),
    `more agents: tunekit sweep agent ${plan.name} --storage ${storage}`
  ].join("\n")
}

/** One agent of a sweep on open storage: carry on its trials, then run up to the budget. */
const agentOn = (definition: Definition, input: SweepInput, storagePath: string, options: RunOptions, fresh: boolean) =>
  Effect.gen(function*() {
    const plan = SweepPlan.make(input, { file: definition.file, dir: definition.dir }, definition.seed)
    const storage = yield* Storage.Storage
    const info = yield* storage.createStudy(plan.name, { directions: [plan.direction], metrics: [plan.metric] })
    const stored = info.systemAttrs[DEFINITION] as unknown as Definition | undefined
    if (stored === undefined) {
      if (!fresh) return yield* new SweepError({ reason: `study "${plan.name}" in ${storagePath} is not a sweep` })
      yield* storage.setStudyAttr(info.id, "system", DEFINITION, definition as unknown as Trial.Json)
      for (const k of ["description", "entity", "project"] as const) {
        if (input[k] !== undefined) yield* storage.setStudyAttr(info.id, "user", k, input[k]!)
      }
    } else {
      const at = difference(stored.config, definition.config)
      if (at !== undefined) {
        return yield* new SweepError({
          reason: `study "${plan.name}" in ${storagePath} holds a sweep with another definition (${at.length === 0 ? "the file" : Options.formatPath(at)} differs): give this one another \`name\`, or run it on another storage`
        })
      }
    }
    yield* Storage.failStaleTrials(info.id)
    yield* requeue(info.id)
    const before = yield* storage.getTrials(info.id)
    // Runs started so far (a config run again after a crash replaces the run it cut short).
    const started = before.filter((t) => !cutShort(t) && !(t.state === "Waiting" && t.userAttrs[REQUEUED] !== undefined)).length
    const left = input.run_cap === undefined ? Infinity : Math.max(0, input.run_cap - started)
    const budget = Math.min(left, options.count ?? Infinity)
    const ran = budget === 0 ? [] : (yield* Study.optimize({
      study: plan.name,
      space: plan.searched.space,
      metric: plan.metric,
      direction: plan.direction,
      concurrency: options.concurrency ?? plan.concurrency,
      ...(budget === Infinity ? {} : { trials: budget }),
      ...(plan.timeout === undefined ? {} : { timeout: plan.timeout }),
      ...(plan.trialTimeout === undefined ? {} : { trialTimeout: plan.trialTimeout }),
      progress: options.progress ?? false
    }).pipe(Effect.provide([plan.sampler, plan.scheduler, plan.trainer, plan.executor, plan.rng]))).trials
    const trials = yield* storage.getTrials(info.id)
    const best = Study.bestOf(trials, plan.direction)
    return { name: plan.name, storage: storagePath, ran, trials, best, text: summaryText(plan, storagePath, ran, trials, best) } satisfies Summary
  })

const warnAll = (warnings: ReadonlyArray<SweepWarning>, file: string, options: RunOptions) =>
  Effect.sync(() => {
    const warn = options.warn ?? ((line: string) => void process.stderr.write(line + "\n"))
    for (const w of warnings) warn(`${file}:${w.line}:${w.column}: warning: ${w.message}`)
  })

const withoutPassword = (raw: unknown): unknown =>
  raw !== null && typeof raw === "object" && typeof (raw as { storage?: unknown }).storage === "string"
    ? { ...raw, storage: StorageName.show((raw as { storage: string }).storage) }
    : raw

const withStorage = <A, E, R>(file: string, program: Effect.Effect<A, E, R>) =>
  Effect.scoped(Effect.provide(program, StorageName.layer(file)))

/**
 * Runs a sweep from its file: starts it (its definition stored with its study), or carries it on
 * where it stopped when the storage holds it already.
 *
 * @example
 * import { Effect } from "effect"
 * import { Sweep } from "@tunekit/cli"
 * const summary = await Effect.runPromise(Sweep.run("sweep.yaml", { count: 20 }))
 * console.log(summary.text)
 */
export const run = (file: string, options: RunOptions = {}): Effect.Effect<Summary, RunError> =>
  Effect.gen(function*() {
    const parsed = yield* load(file)
    yield* warnAll(parsed.warnings, file, options)
    const input = parsed.input
    const dir = path.dirname(path.resolve(file))
    const storage = options.storage ?? (input.storage === undefined ? "tunekit.db" : StorageName.resolveFrom(dir, input.storage))
    const definition: Definition = {
      version: 1,
      file: path.resolve(file),
      dir,
      seed: input.seed ?? Math.floor(Math.random() * 2 ** 31),
      // Stored with the sweep for its agents to read: without a database URL's password.
      config: withoutPassword(parsed.raw) as Trial.Json
    }
    return yield* withStorage(storage, Effect.gen(function*() {
      // A sweep carried on keeps the seed it began with.
      const existing = yield* Effect.either((yield* Storage.Storage).getStudy(SweepPlan.nameOf(input, file)))
      const stored = Either.isRight(existing) ? (existing.right.systemAttrs[DEFINITION] as unknown as Definition | undefined) : undefined
      return yield* agentOn(stored === undefined ? definition : { ...definition, seed: stored.seed }, input, StorageName.show(storage), options, true)
    }))
  })

/**
 * Another agent of a sweep that storage holds: only its name is needed (W&B's `wandb agent`).
 *
 * @example
 * import { Effect } from "effect"
 * import { Sweep } from "@tunekit/cli"
 * await Effect.runPromise(Sweep.agent("my-sweep", { storage: "tunekit.db", count: 5 }))
 */
export const agent = (name: string, options: RunOptions = {}): Effect.Effect<Summary, RunError> =>
  Effect.gen(function*() {
    const storage = options.storage ?? "tunekit.db"
    if (!StorageName.exists(storage)) return yield* new SweepError({ reason: `no tunekit storage at ${storage} (start the sweep with \`tunekit sweep run FILE\`, or pass --storage FILE)` })
    return yield* withStorage(storage, agentIn(name, StorageName.show(storage), options))
  })

/**
 * An agent of a sweep in the storage provided (`storage` names it in messages): what
 * `tunekit worker` runs for a study that is a sweep.
 */
export const agentIn = (name: string, storage: string, options: RunOptions = {}): Effect.Effect<Summary, RunError, Storage.Storage> =>
  Effect.gen(function*() {
    const found = yield* Effect.either((yield* Storage.Storage).getStudy(name))
    if (Either.isLeft(found)) {
      return yield* new SweepError({ reason: `no sweep named "${name}" in ${storage} (\`tunekit studies --storage ${storage}\` lists its studies)` })
    }
    const definition = found.right.systemAttrs[DEFINITION] as unknown as Definition | undefined
    if (definition === undefined) return yield* new SweepError({ reason: `study "${name}" in ${storage} is not a sweep` })
    const input = decodeValue(definition.config)
    if (Either.isLeft(input)) {
      return yield* new SweepError({ reason: `the stored definition of sweep "${name}" does not decode: ${input.left.key === "" ? "" : `${input.left.key}: `}${input.left.reason}` })
    }
    return yield* agentOn(definition, { ...input.right, name }, storage, options, false)
  })

/**
 * The annotated sweep file `tunekit sweep init` writes.
 *
 * @example
 * import { Sweep } from "@tunekit/cli"
 * Sweep.parse(Sweep.example, "sweep.yaml") // Right: it decodes without warnings
 */
export const example = `# A tunekit sweep: W&B's sweep keys, each with W&B's meaning, and tunekit's own.
# Run it:        tunekit sweep run sweep.yaml
# More workers:  tunekit sweep agent example --count 10     (same storage, any number of processes)
# Reference:     docs/sweeps.md; JSON Schema for editors: docs/sweep.schema.json
# yaml-language-server: $schema=https://tunekit.dev/sweep.schema.json

name: example                 # the sweep's (and its study's) name; default: this file's name
program: train.py             # run as: \${env} \${interpreter} \${program} \${args}
# command: [\${env}, \${interpreter}, \${program}, \${args}]   # the default; macros: \${args_no_hyphens},
#                             # \${args_json}, \${args_json_file}, \${args_no_boolean_flags}, \${envvar:NAME}
method: tpe                   # grid | random | bayes (a Gaussian process) | tpe | gp | cmaes | qmc | auto
metric:
  name: val_loss              # what the program reports: {"step": 3, "val_loss": 0.42} on stdout
  goal: minimize              # or maximize
  # target: 0.05              # no new run starts once a run reaches it
run_cap: 20                   # the most runs, over all agents

parameters:
  learning_rate:
    distribution: log_uniform_values   # ln X uniform between ln(min) and ln(max)
    min: 0.0001
    max: 0.1
  # (log_uniform takes natural-log exponents instead: min -9.21, max -2.3 for the same range)
  batch_size:
    values: [16, 32, 64]      # categorical; add probabilities: [0.5, 0.3, 0.2] for random search
  dropout:
    distribution: q_uniform   # round(X / q) * q, X uniform in [min, max]
    min: 0.0
    max: 0.5
    q: 0.05
  optimizer:                  # nested: the program gets {"name": ..., "momentum": ...} as one value
    parameters:
      name:
        value: sgd            # a constant
      momentum:
        distribution: beta    # Beta(a, b) on [0, 1]
        a: 8
        b: 2
  epochs:
    value: 9

early_terminate:              # W&B's hyperband: at iterations 1, 3, 9, ... a run whose best value
  type: hyperband             # is worse than the top 1/eta of the runs at that iteration stops
  min_iter: 1
  eta: 3

# tunekit's keys
storage: tunekit.db           # an SQLite file (relative to this file), or a postgres:// URL
concurrency: 2                # runs at once in each agent
seed: 42
# timeout: 2 hours            # no run starts after this long
# trial_timeout: 10 minutes   # a run past this is stopped and failed
# executor: { type: process, slots: 2, grace: 5 seconds, logs: .tunekit/logs }
# scheduler: { type: asha, minResource: 1, maxResource: 9, reductionFactor: 3 }   # instead of early_terminate
`

/**
 * The training script `tunekit sweep init` writes beside the example (standard library only).
 *
 * @example
 * import * as fs from "node:fs"
 * import { Sweep } from "@tunekit/cli"
 * fs.writeFileSync("train.py", Sweep.exampleProgram)
 */
export const exampleProgram = `"""An example training script for a tunekit sweep: it reads its parameters and reports one
metric per epoch through tunekit_report (on PYTHONPATH in a sweep's trials)."""
import math

from tunekit_report import params, report

p = params()
lr, batch, dropout = p["learning_rate"], p["batch_size"], p["dropout"]
momentum = p["optimizer"]["momentum"]
for epoch in range(1, p["epochs"] + 1):
    # a made-up validation loss: best near lr 0.01, batch 32, dropout 0.2, momentum 0.9
    val_loss = (math.log10(lr) + 2) ** 2 + (batch - 32) ** 2 / 1e4 + (dropout - 0.2) ** 2 + (momentum - 0.9) ** 2 + 1 / epoch
    if not report(step=epoch, val_loss=val_loss):
        break  # stopped early by the sweep
`

/**
 * Writes the annotated example (and its training script, when there is none) into a folder.
 *
 * @example
 * import { Effect } from "effect"
 * import { Sweep } from "@tunekit/cli"
 * await Effect.runPromise(Sweep.init("sweep.yaml"))
 */
export const init = (file = "sweep.yaml", options: { readonly force?: boolean } = {}): Effect.Effect<string, SweepError> =>
  Effect.gen(function*() {
    if (fs.existsSync(file) && options.force !== true) return yield* new SweepError({ reason: `${file} exists already (pass --force to overwrite it)` })
    const dir = path.dirname(path.resolve(file))
    if (!fs.existsSync(dir)) return yield* new SweepError({ reason: `the folder ${dir} does not exist` })
    yield* Effect.sync(() => fs.writeFileSync(file, example))
    const program = path.join(dir, "train.py")
    const wrote = !fs.existsSync(program)
    if (wrote) yield* Effect.sync(() => fs.writeFileSync(program, exampleProgram))
    return `wrote ${file}${wrote ? ` and ${program}` : ""}; run it with: tunekit sweep run ${file}`
  })
