// Records learning curves from the project's own TensorFlow.js trainer (Train.fit of
// @tunekit/tfjs on @tunekit/datasets' bundled data), for the schedulers benchmark to replay
// (benchmarks/_recorded.ts). Each configuration is drawn at random from the family's space (the
// seed and its index fix it), trained for every epoch with no scheduler, and its per-epoch
// validation metric and training loss kept; the set is written to
// benchmarks/fixtures/curves-FAMILY.json.gz with its provenance.
//
//   npm run bench -- record-curves [--families digits-mlp,sunspots-rnn] [--configurations N]
//                                  [--epochs 50] [--seed 0] [--backend wasm] [--dry-run]
//   npm run bench -- record-curves --describe
//
// --dry-run trains and prints timings without writing a fixture (to measure an epoch first).
// --describe trains nothing: it prints what the shipped sets hold and how well an early epoch
// ranks the configurations by their final value.
// One JSON line per configuration on stdout (its final metric, epochs, seconds), a summary on stderr.
import * as tf from "@tensorflow/tfjs"
import { Rng, Sampler, Space } from "@tunekit/core"
import { Backend, Train } from "@tunekit/tfjs"
import { Effect } from "effect"
import * as os from "node:os"
import { lastValueFrom, tap } from "rxjs"
import { mlp, setupOn } from "../examples/_training.js"
import { digits, sunspots } from "../examples/tfjs-data.js"
import { available, type Curve, type CurveSet, finalValue, FORMAT, load, predictiveness, save } from "./_recorded.js"
import { emit, median, parseArgs, table } from "./_util.js"

/** A model family: a space, and how a configuration becomes a training run. */
interface Family<A> {
  readonly description: string
  readonly metric: string
  readonly direction: "minimize" | "maximize"
  /** The metrics kept for each epoch (the objective first). */
  readonly keep: ReadonlyArray<string>
  readonly configurations: number
  readonly space: Space.Space<A>
  readonly spaceText: Readonly<Record<string, string>>
  readonly options: (config: A, training: { readonly epochs: number; readonly seed: number }) => Train.Setup
}

const family = <A>(f: Family<A>): Family<unknown> => f as Family<unknown>

// The digits (1,797 8x8 images; stratified 80/20 holdout) with an MLP, SGD with momentum or AdamW.
const digitsMlp = family({
  description: "MLP on the digits (8x8 images, 10 classes; 1,437 train / 360 validation, stratified holdout, seed 0), one step an epoch",
  metric: "val_accuracy",
  direction: "maximize",
  keep: ["val_accuracy", "val_loss", "train_loss"],
  configurations: 200,
  space: Space.struct({
    layers: Space.int(1, 3),
    width: Space.int(16, 128, { log: true }),
    dropout: Space.float(0, 0.5),
    learningRate: Space.float(1e-4, 1e-1, { log: true }),
    batchSize: Space.categorical([32, 64, 128] as const),
    optimizer: Space.branch({
      sgd: Space.struct({ momentum: Space.float(0, 0.95) }),
      adamw: Space.struct({ weightDecay: Space.float(1e-6, 1e-2, { log: true }) })
    })
  }),
  spaceText: {
    layers: "int 1..3",
    width: "int 16..128, log",
    dropout: "float 0..0.5",
    learningRate: "float 1e-4..1e-1, log",
    batchSize: "one of 32, 64, 128",
    optimizer: "sgd (momentum float 0..0.95) or adamw (weightDecay float 1e-6..1e-2, log); constant learning rate"
  },
  options: (c, training) =>
    setupOn(digitsData())(mlp(c), {
      optimizer: c.optimizer._tag === "sgd"
        ? { type: "sgd", learningRate: c.learningRate, momentum: c.optimizer.momentum }
        : { type: "adamw", learningRate: c.learningRate, weightDecay: c.optimizer.weightDecay },
      batchSize: c.batchSize,
      ...training
    })
})

// Yearly sunspot numbers 1700-2008 as windows predicting the next year, a recurrent network, Adam.
const sunspotsRnn = family({
  description:
    "GRU/LSTM forecasting next year's sunspot number from a window of years (standardized; chronological split, the last 20% of the years validate), MSE loss, Adam, one step an epoch",
  metric: "val_loss",
  direction: "minimize",
  keep: ["val_loss", "train_loss", "val_mae"],
  configurations: 96,
  space: Space.struct({
    cell: Space.categorical(["gru", "lstm"] as const),
    units: Space.int(4, 32, { log: true }),
    layers: Space.int(1, 2),
    dropout: Space.float(0, 0.3),
    window: Space.categorical([6, 11] as const),
    learningRate: Space.float(3e-4, 3e-2, { log: true }),
    batchSize: Space.categorical([16, 32] as const)
  }),
  spaceText: {
    cell: "gru or lstm",
    units: "int 4..32, log",
    layers: "int 1..2",
    dropout: "float 0..0.3",
    window: "6 or 11 years",
    learningRate: "float 3e-4..3e-2, log (Adam, constant)",
    batchSize: "16 or 32"
  },
  options: (c, training) =>
    setupOn(sunspotsData(c.window))(
      { type: "rnn", cell: c.cell, units: c.units, layers: c.layers, dropout: c.dropout, sequenceLength: c.window },
      { optimizer: { type: "adam", learningRate: c.learningRate }, batchSize: c.batchSize, ...training }
    )
})

const families: Record<string, Family<unknown>> = { "digits-mlp": digitsMlp, "sunspots-rnn": sunspotsRnn }

// The data is built once per process (the splits are fixed: seed 0 for the digits' holdout).
let digitsCache: ReturnType<typeof digits> | undefined
const digitsData = () => (digitsCache ??= digits())
const sunspotsCache = new Map<number, ReturnType<typeof sunspots>>()
const sunspotsData = (window: number) => {
  let d = sunspotsCache.get(window)
  if (d === undefined) sunspotsCache.set(window, (d = sunspots(window)))
  return d
}

/** Configuration i of a family: a function of the seed and i only (random search). */
const configuration = (f: Family<unknown>, seed: number, i: number) => {
  const compiled = Space.compile(f.space)
  const built = compiled.build((name, d) => Sampler.sampleUniform(Rng.generator(seed, "config", i, name), d))
  return { config: built.config, params: compiled.flatten(built.config) }
}

const round = (x: number, digits: number) => Number(x.toPrecision(digits))

/** Trains one configuration to the end (or to divergence) and keeps its curve. */
const record = async (f: Family<unknown>, config: unknown, params: Record<string, unknown>, seed: number, epochs: number, backend: Backend.BackendService): Promise<Curve> => {
  const metrics: Record<string, Array<number>> = Object.fromEntries(f.keep.map((k) => [k, []]))
  const start = performance.now()
  let diverged: number | undefined
  try {
    await lastValueFrom(
      Train.fit({ ...f.options(config, { epochs, seed }), backend }).pipe(
        tap((m) => {
          for (const k of f.keep) metrics[k].push(round(m.values[k], k === "val_accuracy" ? 6 : 5))
        })
      )
    )
  } catch (e) {
    if ((e as { _tag?: string })?._tag !== "TrainingDiverged") throw e
    diverged = (e as { epoch: number }).epoch
  }
  const seconds = round((performance.now() - start) / 1000, 3)
  return { params, seed, metrics, seconds, ...(diverged === undefined ? {} : { diverged }) }
}

export const main = async (args: ReadonlyArray<string>) => {
  const opts = parseArgs(args)
  if (opts.describe === true) return describe()
  const names = String(opts.families ?? Object.keys(families).join(",")).split(",")
  for (const n of names) if (!(n in families)) throw new Error(`unknown family ${n}; known: ${Object.keys(families).join(", ")}`)
  const epochs = Number(opts.epochs ?? 50)
  const seed = Number(opts.seed ?? 0)
  const backendName = String(opts.backend ?? "wasm") as Backend.Name
  const dryRun = opts["dry-run"] === true
  const backend = await Effect.runPromise(Effect.scoped(Effect.provide(Backend.Backend, Backend.layer(backendName))))
  const rows: Array<Array<unknown>> = []
  for (const name of names) {
    const f = families[name]
    const n = Number(opts.configurations ?? f.configurations)
    const started = new Date()
    const cpu = process.cpuUsage()
    const curves: Array<Curve> = []
    for (let i = 0; i < n; i++) {
      const { config, params } = configuration(f, seed, i)
      // The training seed differs by configuration, so that no two runs share initial weights by design.
      const curve = await record(f, config, params, seed * 100_000 + i, epochs, backend)
      curves.push(curve)
      const values = curve.metrics[f.metric]
      emit({ bench: "record-curves", family: name, configuration: i, epochs: values.length, final: values[values.length - 1], seconds: curve.seconds, ...(curve.diverged ? { diverged: curve.diverged } : {}), params })
    }
    const seconds = curves.reduce((a, c) => a + c.seconds, 0)
    const used = process.cpuUsage(cpu)
    const cpuSeconds = (used.user + used.system) / 1e6
    const epochsRun = curves.reduce((a, c) => a + c.metrics[f.metric].length, 0)
    const finals = curves.filter((c) => c.diverged === undefined).map((c) => c.metrics[f.metric][epochs - 1])
    const set: CurveSet = {
      format: FORMAT,
      name,
      description: f.description,
      metric: f.metric,
      direction: f.direction,
      epochs,
      space: f.spaceText,
      provenance: {
        recorded: started.toISOString(),
        command: `nice -n 10 npm run bench -- record-curves --families ${name} --configurations ${n} --epochs ${epochs} --seed ${seed} --backend ${backendName}`,
        how: "random search: configuration i is drawn from the space by Rng.generator(seed, 'config', i, param); trained with Train.fit of @tunekit/tfjs, no scheduler, training seed seed * 100000 + i",
        seed,
        backend: backendName,
        tfjs: tf.version.tfjs,
        node: process.version,
        machine: `${os.cpus()[0]?.model ?? "unknown cpu"}, ${os.cpus().length} cores shared, ${os.platform()} ${os.arch()}`,
        seconds: Math.round(seconds),
        cpu_seconds: Math.round(cpuSeconds)
      },
      curves
    }
    const written = dryRun ? undefined : save(set)
    const best = f.direction === "maximize" ? Math.max(...finals) : Math.min(...finals)
    rows.push([name, n, epochsRun, Math.round(seconds), Math.round(cpuSeconds), (seconds / epochsRun).toFixed(4), median(finals), best, curves.filter((c) => c.diverged).length, written ? `${written.file} (${written.bytes} bytes)` : "(dry run)"])
  }
  table(`record-curves: ${epochs} epochs, seed ${seed}, backend ${backendName}`, ["family", "configurations", "epochs", "seconds", "cpu seconds", "s/epoch", "median final", "best final", "diverged", "fixture"], rows)
}

const describe = () => {
  const epochs = [1, 2, 3, 5, 9, 15, 27, 45]
  for (const name of available()) {
    const set = load(name)
    const finals = set.curves.map((c) => finalValue(set, c)).filter((v): v is number => v !== undefined)
    const sorted = [...finals].sort((a, b) => (set.direction === "maximize" ? b - a : a - b))
    const p = predictiveness(set, epochs)
    for (const row of p) emit({ bench: "record-curves", curves: name, epoch: row.epoch, spearman: row.spearman, winner_rank: row.winnerRank })
    table(
      `${name}: ${set.curves.length} configurations (${set.curves.length - finals.length} diverged), ${set.epochs} epochs, ${set.metric} (${set.direction}); final: best ${sorted[0]}, 10th ${sorted[9]}, median ${median(finals)}; recorded ${set.provenance.recorded} (${set.provenance.backend}, ${set.provenance.cpu_seconds} cpu s)`,
      ["epoch", "Spearman with final", "rank of the best final"],
      p.map((r) => [r.epoch, r.spearman, `${r.winnerRank} of ${finals.length}`])
    )
  }
}
