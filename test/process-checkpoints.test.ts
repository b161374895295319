// Checkpoints of external programs through the Checkpoint service (issue 15): a real node program
// writes its state into TUNEKIT_CHECKPOINT_DIR and reports; the executor saves the folder as that
// step's checkpoint, retention deletes what no trial needs (a pruned trial's), and a paused trial
// resumes from its files, restored into TUNEKIT_RESTORE_DIR. Per trial and with reused processes.
import { Checkpoint, Executor, Process, Rng, Scheduler, Space, Storage, Study, Trial } from "@tunekit/core"
import { PostgresCheckpoint } from "@tunekit/postgres"
import { Server } from "@tunekit/postgres/testing"
import { Effect, Layer, Option } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const here = path.dirname(fileURLToPath(import.meta.url))
const program = ["node", path.join(here, "fixtures", "checkpointing-trainer.mjs")]
const space = Space.struct({ x: Space.float(0.5, 2) })

// Pauses every trial at step 2 and resumes the paused ones first (what ASHA promotion does, minus
// the choice); prunes trial 1 at step 4, after its resume.
const pauseAndPrune = Layer.succeed(Scheduler.Scheduler, {
  name: "pause-and-prune",
  decide: (ctx) =>
    Effect.succeed(
      ctx.metric.step === 2 && ctx.trial.intermediate.length === 2
        ? Scheduler.Decision.Pause()
        : ctx.trial.number === 1 && ctx.metric.step === 4
        ? Scheduler.Decision.Prune({ reason: "test" })
        : Scheduler.Continue
    ),
  resume: (ctx) => Effect.map(ctx.history, (ts) => Option.fromNullable(ts.find((t) => t.state === "Waiting" && t.intermediate.length > 0)?.id))
} satisfies Scheduler.SchedulerService)

const starts = (dir: string, trial: number) =>
  fs.readFileSync(path.join(dir, `starts-${trial}`), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>)

/** Waits for the folders' clean-up, which ends shortly after the trial. */
const settled = async (dir: string) => {
  for (let i = 0; i < 50 && fs.existsSync(dir) && fs.readdirSync(dir).length > 0; i++) await new Promise((r) => setTimeout(r, 20))
  return fs.existsSync(dir) ? fs.readdirSync(dir) : []
}

let server: Server.Server
beforeAll(async () => {
  server = await Server.start()
})
afterAll(async () => {
  await server?.stop()
})

describe("a program's checkpoint folder through the Checkpoint service", () => {
  for (const [reuse, where] of [[false, "files"], [true, "files"], [false, "postgres"]] as const) {
    it(`${reuse ? "reused processes" : "a process per trial"}, ${where}: saved at each report, restored when a paused trial resumes, deleted when its trial is pruned`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-program-ckpt-"))
      const folders = path.join(dir, "program")
      const store = path.join(dir, "store")
      const options = { env: { TUNEKIT_TEST_DIR: dir }, logs: path.join(dir, "logs"), checkpoints: folders, graceMs: 300 }
      const result = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
        const r = yield* Study.optimize({ study: "prog", space, metric: "loss", trials: 3, concurrency: 1 }).pipe(Effect.provide(pauseAndPrune))
        const checkpoints = yield* Checkpoint.Checkpoint
        return { r, kept: yield* checkpoints.list!("prog"), final: yield* checkpoints.load({ study: "prog", trial: 0 }, 6) }
      }).pipe(Effect.provide(Layer.mergeAll(
        Process.layer(program, options),
        Executor.layerProcess({ slots: 1, reuse }),
        Storage.layerMemory,
        Rng.layer({ seed: 5 }),
        where === "files"
          ? Checkpoint.layer({ directory: store, retention: { keepLast: 1, keepBest: 1 } })
          : PostgresCheckpoint.layer({ url: server.url, schema: `program_${process.pid}`, retention: { keepLast: 1, keepBest: 1 } })
      )))))
      const [t0, t1, t2] = result.r.trials
      expect([t0.state, t1.state, t2.state]).toEqual(["Complete", "Pruned", "Complete"])
      for (const t of [t0, t1, t2]) {
        const x = Trial.paramValues(t).x as number
        // Each run began where the last one paused: the second from its own step-2 files.
        expect(starts(dir, t.number)).toEqual([
          { resumeFrom: null, restored: null, weightsWhole: null, inFolder: [] },
          { resumeFrom: 2, restored: { epoch: 2, sum: 3 * x }, weightsWhole: true, inFolder: ["state.json", "weights"] }
        ])
        // An unbroken curve: steps 1 to 6 (to 4 when pruned), loss x * (1 + ... + step).
        const last = t.number === 1 ? 4 : 6
        expect(t.intermediate.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6].slice(0, last))
        for (const m of t.intermediate) expect(m.values.loss).toBeCloseTo((x * m.step * (m.step + 1)) / 2, 10)
      }
      // Kept: the best complete trial's final folder (keepBest 1), nothing of the pruned trial.
      const best = [t0, t2].sort((a, b) => a.values![0] - b.values![0])[0]
      expect(result.kept.map((e) => [e.trial, e.step])).toEqual([[best.number, 6]])
      if (where === "files") expect(fs.readdirSync(path.join(store, "prog"))).toEqual([`trial-${best.number}`])
      // The folder as a checkpoint: its files, checksummed by the store.
      const text = Buffer.from(result.final as Uint8Array).toString("latin1")
      expect(text.startsWith("tunekit-folder 1\n")).toBe(true)
      expect(text).toContain(JSON.stringify({ epoch: 6, sum: 21 * (Trial.paramValues(t0).x as number) }))
      // The program's folders were scratch space: none is left.
      expect(await settled(path.join(folders, "prog"))).toEqual([])
    })
  }

  it("a paused program that checkpoints less often than it reports resumes from its latest checkpoint before the pause", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-program-ckpt-"))
    // Checkpoints at epochs 1 and 4 only; paused at step 2, it resumes from epoch 1's files.
    const options = { env: { TUNEKIT_TEST_DIR: dir, TUNEKIT_TEST_EVERY: "3" }, logs: path.join(dir, "logs"), checkpoints: path.join(dir, "program"), graceMs: 300 }
    // Pauses each trial once, at step 2: its resumed run reports step 2 again (it restarts at 1).
    const paused = new Set<number>()
    const pauseOnce = Layer.succeed(Scheduler.Scheduler, {
      name: "pause-once",
      decide: (ctx) =>
        Effect.sync(() =>
          ctx.metric.step === 2 && !paused.has(ctx.trial.number) ? (paused.add(ctx.trial.number), Scheduler.Decision.Pause()) : Scheduler.Continue
        ),
      resume: (ctx) => Effect.map(ctx.history, (ts) => Option.fromNullable(ts.find((t) => t.state === "Waiting" && t.intermediate.length > 0)?.id))
    } satisfies Scheduler.SchedulerService)
    const r = await Effect.runPromise(Effect.scoped(
      Study.optimize({ study: "sparse", space, metric: "loss", trials: 3, concurrency: 1 }).pipe(
        Effect.provide(pauseOnce),
        Effect.provide(Layer.mergeAll(
          Process.layer(program, options),
          Executor.layerProcess({ slots: 1 }),
          Storage.layerMemory,
          Rng.layer({ seed: 5 }),
          Checkpoint.layer({ directory: path.join(dir, "store"), retention: { keepLast: 1, keepBest: 1 } })
        ))
      )
    ))
    expect(r.trials.map((t) => t.state)).toEqual(["Complete", "Complete", "Complete"])
    for (const t of r.trials) {
      const x = Trial.paramValues(t).x as number
      expect(starts(dir, t.number)[1]).toEqual({ resumeFrom: 1, restored: { epoch: 1, sum: x }, weightsWhole: true, inFolder: ["state.json", "weights"] })
      for (const m of t.intermediate) expect(m.values.loss).toBeCloseTo((x * m.step * (m.step + 1)) / 2, 10)
    }
  })

  it("without a Checkpoint service, a program keeps its folder as before (outside retention)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-program-ckpt-"))
    const folders = path.join(dir, "program")
    const options = { env: { TUNEKIT_TEST_DIR: dir }, logs: path.join(dir, "logs"), checkpoints: folders, graceMs: 300 }
    const r = await Effect.runPromise(Study.optimize({ study: "plain", space, metric: "loss", trials: 1 }).pipe(
      Effect.provide(Layer.mergeAll(Process.layer(program, options), Storage.layerMemory, Rng.layer({ seed: 5 })))
    ))
    expect(r.trials[0].state).toBe("Complete")
    expect(JSON.parse(fs.readFileSync(path.join(folders, "plain", "trial-0", "state.json"), "utf8")).epoch).toBe(6)
  })
})
