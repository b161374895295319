// Reused programs (Executor.layerProcess({ reuse: true }), Ray Tune's reuse_actors): real node and
// python3 processes that take trial after trial through the reporters' trials(), the pids they
// record, and what happens to the next trial after a prune, a crash or a timeout.
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { Executor, Process, Rng, Sampler, Scheduler, Space, Storage, Study, Trainer, Trial } from "@tunekit/core"

const here = path.dirname(fileURLToPath(import.meta.url))
const fixture = (name: string) => path.join(here, "fixtures", name)
const pythonPath = path.join(here, "..", "packages", "tunekit", "python")
const modes = ["train", "crash", "slow", "hang"] as const
const space = Space.struct({ lr: Space.float(1e-4, 1, { log: true }), mode: Space.categorical(["train"] as const) })
const modeSpace = Space.struct({ lr: Space.float(1e-4, 1, { log: true }), mode: Space.categorical(modes) })
const loss = (lr: number, epoch: number) => (Math.log10(lr) + 2) ** 2 + 1 / epoch

interface Record {
  readonly pid: number
  readonly count: number
  readonly ran: number
  readonly mode: string
  readonly env: string
  readonly params: { readonly lr: number; readonly mode: string }
  readonly checkpointDir: string
  /** The pid of the child a crashing trial leaves behind. */
  readonly child?: number
}

const dirs: Array<string> = []
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true })
})

const setup = (graceMs = 2000) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-reuse-"))
  dirs.push(dir)
  const options = { env: { TUNEKIT_TEST_DIR: dir, PYTHONPATH: pythonPath }, logs: path.join(dir, "logs"), checkpoints: path.join(dir, "ckpt"), graceMs }
  const record = (trial: number): Record => JSON.parse(fs.readFileSync(path.join(dir, `trial-${trial}.json`), "utf8")) as Record
  return { dir, options, record }
}

const run = <A, E>(program: Effect.Effect<A, E, Storage.Storage>, layers: Layer.Layer<never>) =>
  Effect.runPromise(Effect.scoped(program.pipe(Effect.provide(layers), Effect.provide(Layer.merge(Storage.layerMemory, Rng.layer({ seed: 3 }))))))

const reused = (argv: ReadonlyArray<string>, options: Process.Options, slots: number) =>
  Layer.mergeAll(Process.layer(argv, options), Executor.layerProcess({ slots, reuse: true })) as Layer.Layer<never>

const pruneWhen = (when: (trial: number, step: number) => boolean) =>
  Layer.succeed(Scheduler.Scheduler, {
    name: "prune-when",
    decide: (ctx) => Effect.succeed(when(ctx.trial.number, ctx.metric.step) ? Scheduler.Decision.Prune({ reason: "test" }) : Scheduler.Continue)
  })

// Running: a killed process whose new parent has not reaped it yet (a zombie, state Z) is not.
const running = (pid: number) => {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z"
  } catch {
    return false
  }
}

// Whether a process still runs after up to a second: SIGKILL is sent, but a busy machine may take a
// moment to schedule the process that dies of it.
const alive = async (pid: number) => {
  for (let i = 0; i < 20 && running(pid); i++) await new Promise((resolve) => setTimeout(resolve, 50))
  return running(pid)
}

const programs = [["node", ["node", fixture("reused-trainer.mjs")]], ["python3", ["python3", fixture("reused_trainer.py")]]] as const

describe.each(programs)("a reused %s program", (_label, argv) => {
  it("runs trial after trial in one process per slot, each with its own params, number and checkpoint folder", async () => {
    const { options, record } = setup()
    const r = await run(Study.optimize({ study: "reuse", space, metric: "loss", trials: 8, concurrency: 2 }), reused(argv, options, 2))
    expect(r.trials.map((t) => [t.state, t.intermediate.length])).toEqual(Array(8).fill(["Complete", 10]))
    const records = r.trials.map((t) => record(t.number))
    for (const [i, t] of r.trials.entries()) {
      expect(records[i].env).toBe(String(t.number))
      expect(records[i].params).toEqual(Trial.paramValues(t))
      expect(records[i].checkpointDir).toBe(path.join(options.checkpoints, "reuse", `trial-${t.number}`))
      expect(t.values![0]).toBeCloseTo(loss(t.params.lr as number, 10), 10)
    }
    // Two processes for two slots, and each counted its own trials 1, 2, 3, ...
    const pids = [...new Set(records.map((x) => x.pid))]
    expect(pids.length).toBe(2)
    for (const pid of pids) {
      const counts = records.filter((x) => x.pid === pid).map((x) => x.count).sort((a, b) => a - b)
      expect(counts).toEqual(counts.map((_, i) => i + 1))
    }
    // The layer's scope closed: its programs are gone.
    for (const pid of pids) expect(await alive(pid), `process ${pid}`).toBe(false)
    // Each trial has its own log.
    const log = fs.readFileSync(path.join(options.logs, "reuse", "trial-3.out"), "utf8").trim().split("\n")
    expect(log.filter((l) => l.includes("\"step\"")).length).toBe(10)
  })

  it("a prune mid-trial stops that trial at its pruning step, and the next trial runs in the same process", async () => {
    const { options, record } = setup()
    const r = await run(
      Study.optimize({ study: "prune", space, metric: "loss", trials: 3, concurrency: 1 }).pipe(Effect.provide(pruneWhen((trial, step) => trial === 1 && step >= 3))),
      reused(argv, options, 1)
    )
    expect(r.trials.map((t) => [t.state, t.intermediate.map((m) => m.step).at(-1)])).toEqual([["Complete", 10], ["Pruned", 3], ["Complete", 10]])
    const records = r.trials.map((t) => record(t.number))
    expect(records.map((x) => [x.pid, x.count, x.ran])).toEqual([[records[0].pid, 1, 10], [records[0].pid, 2, 3], [records[0].pid, 3, 10]])
  })

  it("a crash mid-trial fails only that trial (the child it left holding its stdout goes too), and the next runs in a fresh process", async () => {
    const { options, record } = setup()
    const enqueue = (["train", "crash", "train"] as const).map((mode) => ({ lr: 0.01, mode }))
    const r = await run(Study.optimize({ study: "crash", space: modeSpace, metric: "loss", trials: 3, enqueue, concurrency: 1 }), reused(argv, options, 1))
    expect(r.trials.map((t) => t.state)).toEqual(["Complete", "Failed", "Complete"])
    expect(r.trials[1].reason).toContain("exited during trial 1 with code 7")
    expect(r.trials[1].reason).toContain("out of memory (on purpose)")
    expect(r.trials[1].userAttrs.stderr_tail).toBe("out of memory (on purpose)")
    const [a, b, c] = r.trials.map((t) => record(t.number))
    expect([b.pid, b.count, b.ran]).toEqual([a.pid, 2, 2])
    expect(c.pid).not.toBe(a.pid)
    expect(c.count).toBe(1)
    expect(await alive(a.pid)).toBe(false)
    expect(await alive(b.child!)).toBe(false)
  })

  it("a trial past its timeout is stopped at its next report, and the program goes on to the next trial", async () => {
    const { options, record } = setup(3000)
    const enqueue = (["slow", "train"] as const).map((mode) => ({ lr: 0.01, mode }))
    const r = await run(
      // It sleeps 2 s at epoch 3, past its timeout of as long; the next trial waits for the slot until it wakes (less
      // than 2 s, its start-up earlier), within its own 2 s.
      Study.optimize({ study: "slow", space: modeSpace, metric: "loss", trials: 2, enqueue, concurrency: 1, trialTimeout: "2000 millis" }),
      reused(argv, options, 1)
    )
    expect(r.trials.map((t) => t.state)).toEqual(["Failed", "Complete"])
    expect(r.trials[0].reason).toMatch(/timeout/)
    const [a, b] = r.trials.map((t) => record(t.number))
    // It slept through the timeout at epoch 3, reported it, read `stop`, and ended the trial there.
    expect(a.ran).toBe(3)
    expect([b.pid, b.count]).toEqual([a.pid, 2])
  })

  it("a program that does not answer within its grace period is killed and replaced, failing only its trial", async () => {
    const { options, record } = setup(300)
    const enqueue = (["hang", "train"] as const).map((mode) => ({ lr: 0.01, mode }))
    const t0 = performance.now()
    const r = await run(
      Study.optimize({ study: "hang", space: modeSpace, metric: "loss", trials: 2, enqueue, concurrency: 1, trialTimeout: "2500 millis" }),
      reused(argv, options, 1)
    )
    expect(r.trials.map((t) => t.state)).toEqual(["Failed", "Complete"])
    const [a, b] = r.trials.map((t) => record(t.number))
    expect(b.pid).not.toBe(a.pid)
    expect(b.count).toBe(1)
    expect(await alive(a.pid)).toBe(false)
    // The timeout, then the grace period (it ignores the `stop` message) before a new program takes the slot.
    expect(performance.now() - t0).toBeGreaterThan(2800)
  })
})

describe("reused programs", () => {
  it("give the same study as a process per trial, for a seed", async () => {
    const study = (layers: Layer.Layer<never>) =>
      run(
        Study.optimize({ study: "same", space, metric: "loss", trials: 10, concurrency: 2 }).pipe(
          Effect.provide(Layer.merge(Sampler.layerRandom, pruneWhen((_, step) => step >= 4)))
        ),
        layers
      ).then((r) => r.trials.map((t) => ({ number: t.number, params: t.params, state: t.state, values: t.values, steps: t.intermediate.map((m) => [m.step, m.values.loss]) })))
    const argv = ["node", fixture("reused-trainer.mjs")]
    const perTrial = await study(Layer.mergeAll(Process.layer(argv, setup().options), Executor.layerProcess({ slots: 2 })) as Layer.Layer<never>)
    const reuse = await study(reused(argv, setup().options, 2))
    expect(reuse).toEqual(perTrial)
    expect(perTrial.map((t) => t.state)).toEqual(Array(10).fill("Pruned"))
  })

  it("an interrupted study stops its running trials, and its programs end with the executor's scope", async () => {
    const { options, record } = setup(3000)
    const enqueue = (["slow", "slow"] as const).map((mode) => ({ lr: 0.01, mode }))
    const program = Effect.gen(function*() {
      // Interrupted while both sleep at epoch 3.
      const none = yield* Study.optimize({ study: "int", space: modeSpace, metric: "loss", trials: 2, enqueue, concurrency: 2 }).pipe(Effect.timeoutOption("1200 millis"))
      const trials = yield* Effect.flatMap(Storage.Storage, (s) => Effect.flatMap(s.getStudy("int"), (st) => s.getTrials(st.id)))
      return { none, trials }
    })
    const { none, trials } = await run(program, reused(["node", fixture("reused-trainer.mjs")], options, 2))
    expect(none._tag).toBe("None")
    expect(trials.map((t) => [t.state, t.reason])).toEqual([["Failed", "interrupted while running"], ["Failed", "interrupted while running"]])
    const pids = [record(0).pid, record(1).pid]
    expect(new Set(pids).size).toBe(2)
    for (const pid of pids) expect(await alive(pid), `process ${pid}`).toBe(false)
    // Each read the stop at its next report (epoch 3, after its sleep, unless it started late): none ran on to its 10 epochs.
    for (const t of [0, 1]) expect(record(t).ran).toBeLessThanOrEqual(3)
  })

  it("a program per trial that crashes leaving a child that holds its stdout fails at once, and the child goes too", async () => {
    const { options, record } = setup()
    const r = await run(
      Study.optimize({ study: "crash1", space: modeSpace, metric: "loss", trials: 1, enqueue: [{ lr: 0.01, mode: "crash" }] }),
      Layer.mergeAll(Process.layer(["node", fixture("reused-trainer.mjs")], options), Executor.layerProcess({ slots: 1 })) as Layer.Layer<never>
    )
    expect(r.trials[0].state).toBe("Failed")
    expect(r.trials[0].reason).toContain("exited with code 7")
    expect(await alive(record(0).child!)).toBe(false)
  })

  it("a program that does not iterate trials() fails its trial with what to do", async () => {
    const { options } = setup()
    const r = await run(Study.optimize({ study: "plain", space, metric: "loss", trials: 2 }), reused(["node", fixture("node-trainer.mjs")], options, 1))
    expect(r.trials.map((t) => t.state)).toEqual(["Failed", "Failed"])
    expect(r.trials[0].reason).toContain("reported a metric before it took a trial")
  })

  it("refuses a trainer that is not made by Process.trainer or Process.layer", async () => {
    // A program trainer of its own making: the executor cannot tell what to start once.
    const own = Layer.succeed(Trainer.Trainer, { name: "own program", command: ["node", "train.mjs"], train: () => 1 })
    const e = await run(Effect.flip(Study.optimize({ study: "x", space, metric: "loss", trials: 1 })), Layer.merge(own, Executor.layerProcess({ reuse: true })) as Layer.Layer<never>)
    expect(e.message).toMatch(/reuses programs made by Process.trainer or Process.layer \(the "own program" trainer is not one\)/)
    const empty = await run(Effect.flip(Study.optimize({ study: "y", space, metric: "loss", trials: 1 })), reused([], {}, 1))
    expect(empty.message).toMatch(/needs a command/)
  })
})
