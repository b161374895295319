// What checkpoint retention costs per trial as a study's history grows (issue 15). With a retention
// policy the run loop tells the Checkpoint service after every trial that trials changed
// (`Checkpoint.settle`), and every save sweeps the study too; a sweep that read and ranked every
// trial of the study would cost more with each trial. For each store and history size, a study is
// filled with `history` complete trials (straight through the storage), then trials run through
// Study.optimize with the random sampler (which reads no history), each saving a tiny JSON
// checkpoint (the default policy: keepLast 2, keepBest 3) before it completes. The figure is the
// median time between consecutive finished trials; `baseline_ms_per_trial` is the same study
// without a Checkpoint service, measured alongside (what the run loop and storage cost alone).
//
//   npm run bench -- checkpoint-settle [--sizes 1000,10000] [--trials 300] [--rounds 5] [--stores files,memory]
//
// The storage is in memory, so that the figure is retention's (and the run loop's) own cost. The
// studies are measured in turn, `rounds` times each, so that a machine busy for a while slows
// them all alike.
import { Checkpoint, Rng, Sampler, Space, Storage, Study } from "@tunekit/core"
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { emit, median, parseArgs, table } from "./_util.js"

const space = Space.struct({ a: Space.float(-1, 1), b: Space.float(-1, 1) })
const STUDY = "checkpoint-settle"

/** Runs `trials` trials; the milliseconds between consecutive finishes. */
const timeTrials = async (storage: Storage.StorageService, checkpoints: Checkpoint.CheckpointService | undefined, trials: number): Promise<Array<number>> => {
  const finished: Array<number> = []
  const program = Study.optimize({
    study: STUDY,
    space,
    // Save the trial's state, then give its value (the save-then-report convention).
    objective: (c, trial) => {
      const loss = c.a * c.a + c.b * c.b
      return checkpoints === undefined
        ? loss
        : Effect.as(Effect.orDie(checkpoints.save({ study: STUDY, trial: trial.number }, 1, { a: c.a, b: c.b })), loss)
    },
    metric: "loss",
    direction: "minimize",
    trials,
    callbacks: [() => void finished.push(performance.now())]
  })
  const base = Layer.mergeAll(Layer.succeed(Storage.Storage, storage), Sampler.layerRandom, Rng.layer({ seed: 1 }))
  const layers = checkpoints === undefined ? base : Layer.merge(base, Layer.succeed(Checkpoint.Checkpoint, checkpoints))
  await Effect.runPromise(program.pipe(Effect.provide(layers)) as Effect.Effect<unknown, unknown>)
  return finished.slice(1).map((t, i) => t - finished[i])
}

/** A memory storage whose study holds `size` complete trials. */
const filled = async (size: number): Promise<Storage.StorageService> => {
  const storage = Effect.runSync(Effect.provide(Storage.Storage, Storage.layerMemory))
  await Effect.runPromise(Effect.gen(function*() {
    const info = yield* storage.createStudy(STUDY, { directions: ["minimize"] })
    for (let i = 0; i < size; i++) {
      const t = yield* storage.createTrial(info.id, { state: "Running", worker: "fill" })
      yield* storage.report(t.id, { step: 1, values: { loss: Math.random() } })
      yield* storage.finishTrial(t.id, { state: "Complete", values: [Math.random()] })
    }
  }))
  return storage
}

const storeOf = (name: string, dir: string): Checkpoint.CheckpointService =>
  Effect.runSync(Effect.provide(Checkpoint.Checkpoint, name === "files" ? Checkpoint.layer({ directory: dir }) : Checkpoint.layerMemoryWith()))

export const main = async (args: ReadonlyArray<string>) => {
  const opts = parseArgs(args)
  const sizes = String(opts.sizes ?? "1000,10000").split(",").map(Number)
  const trials = Number(opts.trials ?? 300)
  const rounds = Number(opts.rounds ?? 5)
  const stores = String(opts.stores ?? "files,memory").split(",")
  const rows: Array<Array<unknown>> = []
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-checkpoint-settle-"))
  try {
    // An unmeasured run first, so that the first size does not pay for the process warming up.
    await timeTrials(await filled(100), storeOf("memory", dir), 200)
    // Every store and size (and each size without checkpoints), measured in turn, `rounds` times:
    // a machine busy for a while slows them all alike.
    const setups: Array<{ name: string; size: number; storage: Storage.StorageService; store: Checkpoint.CheckpointService | undefined; gaps: Array<number> }> = []
    for (const size of sizes) {
      for (const name of ["none", ...stores]) {
        const storage = await filled(size)
        const store = name === "none" ? undefined : storeOf(name, path.join(dir, `${name}-${size}`))
        // A few untimed trials: the first settle plans over the whole history once.
        await timeTrials(storage, store, 20)
        setups.push({ name, size, storage, store, gaps: [] })
      }
    }
    for (let r = 0; r < rounds; r++) {
      for (const s of setups) s.gaps.push(...await timeTrials(s.storage, s.store, Math.ceil(trials / rounds) + 1))
    }
    for (const size of sizes) {
      const baseline = median(setups.find((s) => s.size === size && s.name === "none")!.gaps)
      for (const s of setups.filter((s) => s.size === size && s.name !== "none")) {
        const ms = median(s.gaps)
        emit({ bench: "checkpoint-settle", store: s.name, history: size, ms_per_trial: ms, baseline_ms_per_trial: baseline })
        rows.push([s.name, size, s.gaps.length, ms, baseline, ms - baseline])
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
  table("checkpoint-settle (median ms between finished trials, a tiny checkpoint each, default retention)", [
    "store",
    "history",
    "trials",
    "ms_per_trial",
    "without checkpoints",
    "retention's share"
  ], rows)
}
