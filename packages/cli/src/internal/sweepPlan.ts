// A decoded sweep as the parts of a tunekit study: its Space, sampler, scheduler, program trainer,
// executor and options.
import { Duration, Layer } from "effect"
import { createRequire } from "node:module"
import * as fs from "node:fs"
import * as path from "node:path"
import { concatMap, defer, from, type Observable } from "rxjs"
import { Executor, Process, Rng, Sampler, Scheduler, type Storage, Trainer, type Trial } from "@tunekit/core"
import { Auto, CmaEs, Gp, Qmc, Tpe } from "@tunekit/samplers"
import { Pruner } from "@tunekit/schedulers"
import { DEFAULT_COMMAND, expand } from "./sweepCommand.js"
import { SCHEDULERS, type SweepInput, toDuration } from "./sweepFile.js"
import { type Method, searched, type Searched } from "./sweepParams.js"
import { capped, hyperband } from "./sweepStop.js"

/** Where a sweep's relative paths start: the folder of its file. */
export interface Where {
  readonly file: string
  readonly dir: string
}

/** The parts of a sweep's study. */
export interface Plan {
  readonly name: string
  readonly input: SweepInput
  readonly searched: Searched
  readonly metric: string
  readonly direction: Trial.Direction
  readonly sampler: Layer.Layer<Sampler.Sampler>
  readonly scheduler: Layer.Layer<Scheduler.Scheduler, never, Storage.Storage>
  readonly trainer: Layer.Layer<Trainer.Trainer>
  readonly executor: Layer.Layer<Executor.Executor>
  readonly rng: Layer.Layer<Rng.Rng>
  readonly concurrency: number
  readonly timeout: Duration.Duration | undefined
  readonly trialTimeout: Duration.Duration | undefined
}

/** The study's name: the file's `name`, else the file's name without its extension. */
export const nameOf = (input: SweepInput, file: string): string => input.name ?? path.basename(file).replace(/\.[^.]*$/, "")

const samplerOf = (method: Method): Sampler.SamplerService => {
  switch (method) {
    case "grid":
      // W&B walks the grid in the order of the file.
      return Sampler.grid({ shuffle: false })
    case "random":
      return Sampler.random
    // W&B's Bayesian search is a Gaussian process.
    case "bayes":
    case "gp":
      return Gp.make()
    case "tpe":
      return Tpe.make()
    case "cmaes":
      return CmaEs.make()
    case "qmc":
      return Qmc.make()
    case "auto":
      return Auto.make()
  }
}

const schedulerOf = (input: SweepInput): Layer.Layer<Scheduler.Scheduler, never, Storage.Storage> => {
  if (input.early_terminate !== undefined) return Pruner.layer(hyperband(input.early_terminate))
  if (input.scheduler !== undefined) {
    const { type, ...options } = input.scheduler
    return (SCHEDULERS[type].layer as (o: unknown) => Layer.Layer<Scheduler.Scheduler, never, Storage.Storage>)(options)
  }
  return Layer.succeed(Scheduler.Scheduler, Scheduler.none)
}

// Trials of a sweep find the Python reporter on PYTHONPATH (`from tunekit_report import report`).
const reporterDir = (): string | undefined => {
  try {
    return path.dirname(createRequire(import.meta.url).resolve("tunekit/tunekit_report.py"))
  } catch {
    return undefined
  }
}

/** The program of a sweep as a trainer: one process per trial, its argv expanded from the command. */
const trainerOf = (input: SweepInput, s: Searched, where: Where): Trainer.TrainerService<Record<string, unknown>> => {
  const command = input.command ?? DEFAULT_COMMAND
  const executor = typeof input.executor === "object" ? input.executor : {}
  const logs = path.resolve(where.dir, executor.logs ?? ".tunekit/logs")
  const python = reporterDir()
  const options: Process.Options = {
    cwd: where.dir,
    logs,
    checkpoints: path.resolve(where.dir, executor.checkpoints ?? ".tunekit/checkpoints"),
    graceMs: executor.grace === undefined ? 5000 : Duration.toMillis(toDuration(executor.grace)),
    args: false,
    env: python === undefined ? {} : { PYTHONPATH: [python, process.env.PYTHONPATH].filter((p) => p !== undefined && p !== "").join(path.delimiter) }
  }
  return {
    name: `sweep program ${input.program ?? command[0]}`,
    command,
    train: (sampled, trial) => {
      const config = s.config(sampled)
      const study = trial.study ?? "study"
      const argv = expand(command, {
        program: input.program,
        config,
        jsonFile: () => {
          const file = path.join(logs, encodeURIComponent(study), `trial-${trial.number}.params.json`)
          fs.mkdirSync(path.dirname(file), { recursive: true })
          fs.writeFileSync(file, JSON.stringify(config))
          return file
        }
      })
      // The program's params (TUNEKIT_PARAMS) are the values it uses, nested as in the file; the
      // trial's stored params are the Space's internal ones, so the values are kept beside them.
      const forProgram = Object.create(trial, { params: { value: config } }) as typeof trial
      return defer(() => from(trial.setUserAttr("config", config as Trial.Json))).pipe(
        concatMap(() => Process.trainer(argv, options).train(config, forProgram) as Observable<Trial.Metric>)
      )
    }
  }
}

/** A decoded sweep's study parts; `seed` is the file's, or the one chosen when the sweep began. */
export const make = (input: SweepInput, where: Where, seed: number): Plan => {
  const s = searched(input.parameters, input.method)
  const direction = input.metric.goal ?? "minimize"
  const concurrency = input.concurrency ?? 1
  const slots = (typeof input.executor === "object" ? input.executor.slots : undefined) ?? concurrency
  const sampler = capped(samplerOf(input.method), { runCap: input.run_cap, target: input.metric.target, direction })
  return {
    name: nameOf(input, where.file),
    input,
    searched: s,
    metric: input.metric.name,
    direction,
    sampler: Layer.succeed(Sampler.Sampler, sampler),
    scheduler: schedulerOf(input),
    trainer: Layer.succeed(Trainer.Trainer, trainerOf(input, s, where)),
    executor: Executor.layerProcess({ slots }),
    rng: Rng.layer({ seed }),
    concurrency,
    timeout: input.timeout === undefined ? undefined : toDuration(input.timeout),
    trialTimeout: input.trial_timeout === undefined ? undefined : toDuration(input.trial_timeout)
  }
}
