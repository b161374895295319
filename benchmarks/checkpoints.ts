// Checkpoint retention and where checkpoints live (issue 15). PBT (a population of MLPs on the
// digits, checkpointed every epoch) and promotion ASHA (paused trials resume from their
// checkpoints), each on the files store and on the PostgreSQL store, with the default retention
// policy (keepLast 2, keepBest 3) and again without retention (same seed). Then the time to save
// and load the MLP's weights on each store, rounds alternating between them.
//
// One JSON line per store and scheduler, with retention on:
//   {"bench":"checkpoints","store":"files"|"postgres","scheduler":"pbt"|"asha","checkpoints_written":N,
//    "checkpoints_kept":N,"bytes_kept":N,"best_final":...}
// checkpoints_kept and bytes_kept are the most the store held at once during the run (sampled after
// every save); the table also gives what is left at the end, and the run without retention.
//
//   npm run bench -- checkpoints [--population 8] [--epochs 60] [--interval 4] [--configurations 27]
//                                [--asha-min 2] [--asha-epochs 54] [--stores files,postgres] [--schedulers pbt,asha]
//                                [--seed 1] [--io-rounds 200] [--url postgres://...] [--control] [--synch]
// --synch runs PBT synchronously (every member waits at each perturbation step): its lineage is then
// a function of the seed and the members' values, so retention cannot change the best final.
import { Checkpoint, Retention, Rng, Sampler, Space, Storage, Study, Tracker, Trial } from "@tunekit/core"
import { PostgresCheckpoint } from "@tunekit/postgres"
import { Server } from "@tunekit/postgres/testing"
import { Asha, Pbt } from "@tunekit/schedulers"
import { Backend, Train } from "@tunekit/tfjs"
import { Effect, Exit, Layer, Scope } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { mlp, setupOn } from "../examples/_training.js"
import { digits } from "../examples/tfjs-data.js"
import { comparisonServices } from "./_scheduling.js"
import { emit, median, parseArgs, table } from "./_util.js"

// PBT moves the optimizer's settings and the dropout; the architecture is fixed (every member's
// weights must fit every other), as in examples/pbt-mlp.ts.
const pbtSpace = Space.struct({
  learningRate: Space.float(1e-4, 1e-2, { log: true }),
  weightDecay: Space.float(1e-6, 1e-1, { log: true }),
  dropout: Space.float(0, 0.5)
})
const ashaSpace = Space.struct({
  layers: Space.int(1, 3),
  width: Space.categorical([32, 64, 128] as const),
  dropout: Space.float(0, 0.5),
  learningRate: Space.float(1e-4, 1e-1, { log: true }),
  momentum: Space.float(0.5, 0.99)
})

interface Setup {
  readonly population: number
  readonly epochs: number
  /** ASHA's maxResource: with eta 3 and minResource 2, 54 makes rungs 2, 6, 18 and 27 configurations bring one trial to the end. */
  readonly ashaEpochs: number
  readonly interval: number
  readonly configurations: number
  readonly ashaMin: number
  readonly seed: number
  /** Synchronous PBT (Ray Tune's synch=True): the lineage depends on seed and values only, not on I/O timing. */
  readonly synch: boolean
}

/** A store under a study: its raw service (listed to count what it holds), and how to close it. */
interface Store {
  readonly name: "files" | "postgres"
  readonly raw: Checkpoint.CheckpointService
  readonly close: () => Promise<void>
}

interface Counts {
  written: number
  kept: number
  bytes: number
  sample: Uint8Array | undefined
}

/** The store as the study sees it (with retention or not), counting saves and the most it holds. */
const counting = (store: Store, retention: boolean, counts: Counts): Checkpoint.CheckpointService => {
  const service = retention ? Retention.make(store.raw, Retention.defaults) : store.raw
  return {
    ...service,
    save: (key, step, data) =>
      Effect.gen(function*() {
        yield* service.save(key, step, data)
        counts.written++
        if (counts.sample === undefined && data instanceof Uint8Array) counts.sample = new Uint8Array(data)
        const held = yield* store.raw.list!(key.study)
        counts.kept = Math.max(counts.kept, held.length)
        counts.bytes = Math.max(counts.bytes, held.reduce((a, e) => a + e.bytes, 0))
      })
  }
}

const bestComplete = (trials: ReadonlyArray<Trial.FrozenTrial>, epochs: number) => {
  let best: number | undefined
  for (const t of trials) if (t.state === "Complete" && Trial.lastStep(t) === epochs && (best === undefined || t.values![0] > best)) best = t.values![0]
  return best ?? NaN
}

const runPbt = (setup: Setup, study: string, checkpoints: Checkpoint.CheckpointService) =>
  Effect.gen(function*() {
    const train = setupOn(digits(), { backend: yield* Backend.Backend })
    const result = yield* Study.optimize({
      study,
      space: pbtSpace,
      metric: "val_accuracy",
      direction: "maximize",
      trials: setup.population,
      concurrency: setup.population,
      objective: (c, trial) =>
        Train.fit({
          ...train(mlp({ layers: 2, width: 64, dropout: c.dropout }), {
            optimizer: { type: "adamw", learningRate: c.learningRate, weightDecay: c.weightDecay },
            batchSize: 64,
            epochs: setup.epochs,
            // Each member starts from its own initial weights.
            seed: trial.number
          }),
          checkpoints: Checkpoint.forTrial(checkpoints, trial)
        })
    })
    return yield* result.study.trials
  }).pipe(
    Effect.provide(
      Layer.mergeAll(
        Pbt.layer({
          perturbationInterval: setup.interval,
          quantileFraction: 0.25,
          maxStep: setup.epochs,
          ...(setup.synch ? { synch: true, population: setup.population } : {})
        }),
        Sampler.layerRandom,
        Tracker.layerNone,
        Backend.layerWasm
      ).pipe(Layer.provideMerge(Layer.mergeAll(Storage.layerMemory, Rng.layer({ seed: setup.seed }), Layer.succeed(Checkpoint.Checkpoint, checkpoints))))
    )
  )

const runAsha = (setup: Setup, study: string, checkpoints: Checkpoint.CheckpointService) =>
  Effect.gen(function*() {
    const train = setupOn(digits(), { seed: setup.seed })
    const trainer = Train.layer((c: Space.Type<typeof ashaSpace>) =>
      train(mlp(c), { optimizer: { type: "sgd", learningRate: c.learningRate, momentum: c.momentum }, batchSize: 64, epochs: setup.ashaEpochs })
    )
    const result = yield* Study.optimize({ study, space: ashaSpace, metric: "val_accuracy", direction: "maximize", concurrency: setup.population }).pipe(
      Effect.provide(trainer),
      Effect.provide(comparisonServices(
        Asha.layer({ minResource: setup.ashaMin, maxResource: setup.ashaEpochs, reductionFactor: 3, mode: "promotion", limit: setup.configurations }),
        setup.configurations,
        setup.seed
      ))
    )
    return yield* result.study.trials
  }).pipe(Effect.provide(Layer.merge(Backend.layerWasm, Layer.succeed(Checkpoint.Checkpoint, checkpoints))))

/** Opens a store: files in a fresh folder, or PostgreSQL in a fresh schema of the server. */
const openStore = async (name: Store["name"], url: string | undefined, tag: string): Promise<Store> => {
  if (name === "files") {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-bench-ckpt-"))
    return { name, raw: Checkpoint.makeFiles(dir), close: async () => fs.rmSync(dir, { recursive: true, force: true }) }
  }
  const schema = `bench_${tag}_${process.pid}`
  const scope = await Effect.runPromise(Scope.make())
  const raw = await Effect.runPromise(Scope.extend(PostgresCheckpoint.make({ url: url!, schema }), scope))
  return { name, raw, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

interface Outcome {
  readonly written: number
  readonly kept: number
  readonly bytes: number
  readonly keptAtEnd: number
  readonly bestFinal: number
  readonly trials: number
  /** Trials that failed: none should (a continuation that cannot load its restore point fails). */
  readonly failed: number
  readonly sample: Uint8Array | undefined
}

const once = async (setup: Setup, store: Store, scheduler: "pbt" | "asha", retention: boolean): Promise<Outcome> => {
  const counts: Counts = { written: 0, kept: 0, bytes: 0, sample: undefined }
  // One name with retention and without: the seeded choices derive from the study's name.
  const study = `checkpoints-${scheduler}`
  const service = counting(store, retention, counts)
  const trials = await Effect.runPromise(Effect.scoped(scheduler === "pbt" ? runPbt(setup, study, service) : runAsha(setup, study, service)) as Effect.Effect<ReadonlyArray<Trial.FrozenTrial>>)
  const left = await Effect.runPromise(store.raw.list!(study))
  const epochs = scheduler === "pbt" ? setup.epochs : setup.ashaEpochs
  return { written: counts.written, kept: counts.kept, bytes: counts.bytes, keptAtEnd: left.length, bestFinal: bestComplete(trials, epochs), trials: trials.length, failed: trials.filter((t) => t.state === "Failed").length, sample: counts.sample }
}

/** Median ms of a save and of a load of the same bytes on each store, rounds alternating. */
const io = async (stores: ReadonlyArray<Store>, bytes: Uint8Array, rounds: number) => {
  const times = new Map(stores.map((s) => [s.name, { save: [] as Array<number>, load: [] as Array<number> }]))
  for (let i = 0; i < rounds; i++) {
    for (const s of i % 2 === 0 ? stores : [...stores].reverse()) {
      const key = { study: "io", trial: i % 8 }
      let t = performance.now()
      await Effect.runPromise(s.raw.save(key, i, bytes))
      times.get(s.name)!.save.push(performance.now() - t)
      t = performance.now()
      const back = await Effect.runPromise(s.raw.load(key, i))
      times.get(s.name)!.load.push(performance.now() - t)
      if (!(back instanceof Uint8Array) || back.length !== bytes.length) throw new Error(`${s.name} loaded something else`)
      await Effect.runPromise(s.raw.remove(key, { steps: [i] }))
    }
  }
  return new Map([...times].map(([name, t]) => [name, { save: median(t.save), load: median(t.load) }]))
}

export const main = async (args: ReadonlyArray<string>) => {
  const o = parseArgs(args)
  const setup: Setup = {
    population: Number(o.population ?? 8),
    epochs: Number(o.epochs ?? 60),
    ashaEpochs: Number(o["asha-epochs"] ?? 54),
    interval: Number(o.interval ?? 4),
    synch: o.synch === true,
    configurations: Number(o.configurations ?? 27),
    ashaMin: Number(o["asha-min"] ?? 2),
    seed: Number(o.seed ?? 1)
  }
  const storeNames = String(o.stores ?? "files,postgres").split(",") as Array<Store["name"]>
  const schedulers = String(o.schedulers ?? "pbt,asha").split(",") as Array<"pbt" | "asha">
  const rounds = Number(o["io-rounds"] ?? 200)
  const control = o.control === true
  const server = storeNames.includes("postgres") && o.url === undefined ? await Server.start() : undefined
  const url = typeof o.url === "string" ? o.url : server?.url
  const rows: Array<ReadonlyArray<unknown>> = []
  let sample: Uint8Array | undefined
  try {
    for (const scheduler of schedulers) {
      for (const name of storeNames) {
        const results: Array<Outcome> = []
        // --control runs the study a second time without retention: how much two runs differ anyway
        // (asynchronous PBT and ASHA decide from whatever steps the trials have reached, which
        // the timing of the stores' I/O changes).
        for (const retention of control ? [true, false, false] : [true, false]) {
          const store = await openStore(name, url, `${scheduler}_${retention ? "r" : "a"}`)
          try {
            results.push(await once(setup, store, scheduler, retention))
          } finally {
            await store.close()
          }
        }
        const [on, off, again] = results
        sample ??= on.sample
        emit({ bench: "checkpoints", store: name, scheduler, checkpoints_written: on.written, checkpoints_kept: on.kept, bytes_kept: on.bytes, best_final: on.bestFinal })
        const bound = setup.population * (Retention.defaults.keepLast + 1) + Retention.defaults.keepBest
        rows.push([
          name,
          scheduler,
          `${on.trials} (${on.failed} failed)`,
          on.written,
          `${on.kept}${scheduler === "pbt" ? ` (<= ${bound})` : ""}`,
          `${(on.bytes / 2 ** 20).toFixed(1)} MiB`,
          on.keptAtEnd,
          on.bestFinal,
          `${off.kept} / ${(off.bytes / 2 ** 20).toFixed(1)} MiB`,
          `${off.bestFinal.toFixed(4)}, ${off.trials} trials (${off.failed} failed)`,
          on.bestFinal === off.bestFinal ? "same" : `differs by ${(on.bestFinal - off.bestFinal).toFixed(4)}`,
          ...(control ? [again.bestFinal, `${again.trials} (${again.failed} failed)`] : [])
        ])
      }
    }
    table(
      `checkpoints: PBT population ${setup.population} (interval ${setup.interval}, ${setup.epochs} epochs) and promotion ASHA (${setup.configurations} configurations, epochs ${setup.ashaMin} to ${setup.ashaEpochs}, eta 3, concurrency ${setup.population}), a checkpoint every epoch, seed ${setup.seed}; retention keepLast ${Retention.defaults.keepLast}, keepBest ${Retention.defaults.keepBest}`,
      [
        "store",
        "scheduler",
        "trials",
        "written",
        "kept (most)",
        "bytes (most)",
        "kept at end",
        "best_final",
        "no retention: kept / bytes",
        "best_final, trials",
        "best_final vs no retention",
        ...(control ? ["no retention again: best_final", "trials"] : [])
      ],
      rows
    )
    if (sample !== undefined && storeNames.length > 1) {
      const stores = await Promise.all(storeNames.map((n) => openStore(n, url, "io")))
      try {
        const t = await io(stores, sample, rounds)
        const files = t.get("files")!
        const pg = t.get("postgres")!
        const ratio = (pg.save + pg.load) / (files.save + files.load)
        emit({
          bench: "checkpoints",
          io: "mlp-weights",
          bytes: sample.length,
          rounds,
          files_save_ms: files.save,
          files_load_ms: files.load,
          postgres_save_ms: pg.save,
          postgres_load_ms: pg.load,
          ratio_postgres_files: ratio
        })
        table(
          `save and load of the MLP's weights (${(sample.length / 1024).toFixed(0)} KiB), medians of ${rounds} rounds alternating between the stores`,
          ["store", "save ms", "load ms", "save + load ms", "vs files"],
          [
            ["files", files.save, files.load, files.save + files.load, 1],
            ["postgres", pg.save, pg.load, pg.save + pg.load, ratio]
          ]
        )
      } finally {
        for (const s of stores) await s.close()
      }
    }
  } finally {
    await server?.stop()
  }
}
