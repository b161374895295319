// External programs as trials (Process.trainer): real node and python3 processes, their process
// groups, their exit codes, and arguments that a shell would have run.
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { Executor, Process, Rng, Scheduler, Space, Storage, Study, Trial } from "@tunekit/core"

const here = path.dirname(fileURLToPath(import.meta.url))
const fixture = (name: string) => path.join(here, "fixtures", name)
const pythonPath = path.join(here, "..", "packages", "tunekit", "python")
const space = Space.struct({ lr: Space.float(1e-4, 1, { log: true }) })

const pruneFrom = (step: number) =>
  Layer.succeed(Scheduler.Scheduler, {
    name: `prune-from-${step}`,
    decide: (ctx) => Effect.succeed(ctx.metric.step >= step ? Scheduler.Decision.Prune({ reason: `step ${step}` }) : Scheduler.Continue)
  })

// The same, decided only after a wait, as on PostgreSQL storage (each report a round trip): the
// decision comes after the metric's `next` has returned.
const pruneFromLater = (step: number) =>
  Layer.succeed(Scheduler.Scheduler, {
    name: `prune-from-${step}-later`,
    decide: (ctx) =>
      Effect.as(Effect.sleep("15 millis"), ctx.metric.step >= step ? Scheduler.Decision.Prune({ reason: `step ${step}` }) : Scheduler.Continue)
  })

const setup = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-process-"))
  const options = { env: { TUNEKIT_TEST_DIR: dir, PYTHONPATH: pythonPath }, logs: path.join(dir, "logs"), checkpoints: path.join(dir, "ckpt"), graceMs: 300 }
  return { dir, options }
}

const run = <A, E>(program: Effect.Effect<A, E, Storage.Storage>, layers: Layer.Layer<never> = Layer.empty) =>
  Effect.runPromise(Effect.scoped(program.pipe(Effect.provide(layers), Effect.provide(Layer.merge(Storage.layerMemory, Rng.layer({ seed: 3 }))))))

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe("a program as the trainer", () => {
  for (const [label, argv] of [["node, reporting through tunekit/report", ["node", fixture("node-trainer.mjs")]], ["python3, through tunekit_report.py", ["python3", fixture("py_trainer.py")]]] as const) {
    it(`${label}: metrics from stdout, and a pruned program stops at the step where it is pruned`, async () => {
      const { options } = setup()
      const r = await run(
        Study.optimize({ study: "prog", space, metric: "loss", trials: 3, concurrency: 2 }).pipe(Effect.provide(pruneFrom(4))),
        Layer.mergeAll(Process.layer(argv, options), Executor.layerProcess({ slots: 2 })) as Layer.Layer<never>
      )
      for (const t of r.trials) {
        expect([t.state, t.intermediate.map((m) => m.step)]).toEqual(["Pruned", [1, 2, 3, 4]])
        const lr = t.params.lr as number
        expect(t.intermediate[0].values.loss).toBeCloseTo((Math.log10(lr) + 2) ** 2 + 1, 10)
        // The program waited for each decision: it wrote 4 epochs of its 50, not more, before it was stopped.
        expect(fs.readFileSync(path.join(options.logs, "prog", `trial-${t.number}.out`), "utf8").trim().split("\n").length).toBe(4)
      }
    })
  }

  for (const reuse of [false, true]) {
    it(`a decision that waits is waited for: the program stops at its pruning step (${reuse ? "reused" : "a process per trial"})`, async () => {
      const { dir, options } = setup()
      const r = await run(
        Study.optimize({ study: "later", space, metric: "loss", trials: 3, concurrency: 2 }).pipe(Effect.provide(pruneFromLater(4))),
        Layer.mergeAll(Process.layer(["node", fixture(reuse ? "reused-trainer.mjs" : "node-trainer.mjs")], options), Executor.layerProcess({ slots: 2, reuse })) as Layer.Layer<never>
      )
      for (const t of r.trials) {
        expect([t.state, t.intermediate.map((m) => m.step)]).toEqual(["Pruned", [1, 2, 3, 4]])
        // Without waiting, the program read "continue" at step 4 and wrote a fifth epoch.
        if (reuse) expect(JSON.parse(fs.readFileSync(path.join(dir, `trial-${t.number}.json`), "utf8")).ran).toBe(4)
        else expect(fs.readFileSync(path.join(options.logs, "later", `trial-${t.number}.out`), "utf8").trim().split("\n").length).toBe(4)
      }
    })
  }

  it("a program that runs to its end completes with its last value, and keeps its output's tail", async () => {
    const { options } = setup()
    const r = await run(Study.optimize({ study: "full", space, metric: "loss", trials: 1 }), Process.layer(["node", fixture("node-trainer.mjs")], options) as Layer.Layer<never>)
    const t = r.trials[0]
    expect(t.state).toBe("Complete")
    expect(t.intermediate.length).toBe(50)
    expect(t.values![0]).toBeCloseTo((Math.log10(t.params.lr as number) + 2) ** 2 + 1 / 50, 10)
    expect(String(t.userAttrs.stdout_tail).split("\n").length).toBe(20)
  })

  it("on prune and on timeout, no process of its group remains (it ignores SIGTERM: SIGKILL follows)", async () => {
    const { dir, options } = setup()
    const pruned = await run(
      Study.optimize({ study: "fork", space, metric: "loss", trials: 2, concurrency: 2 }).pipe(Effect.provide(pruneFrom(3))),
      Process.layer(["node", fixture("forking.mjs")], options) as Layer.Layer<never>
    )
    const timedOut = await run(
      Study.optimize({ study: "fork2", space, metric: "loss", trials: 1, trialTimeout: "400 millis" }),
      Process.layer(["node", fixture("forking.mjs")], options) as Layer.Layer<never>
    )
    expect(pruned.trials.map((t) => t.state)).toEqual(["Pruned", "Pruned"])
    expect(timedOut.trials[0].state).toBe("Failed")
    expect(timedOut.trials[0].reason).toMatch(/timeout/)
    const pids = fs.readdirSync(dir).filter((f) => f.startsWith("pids-")).flatMap((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as Array<number>)
    expect(pids.length).toBe(4) // trials 0 and 1 of the first study; trial 0 of the second overwrote its file
    // SIGKILL follows SIGTERM after the 300 ms grace period.
    await new Promise((resolve) => setTimeout(resolve, 800))
    for (const pid of pids) expect(alive(pid), `process ${pid}`).toBe(false)
  })

  it("a non-zero exit fails its trial with the exit code and the end of stderr", async () => {
    const { options } = setup()
    const r = await run(Study.optimize({ study: "fail", space, metric: "loss", trials: 1 }), Process.layer(["node", fixture("failing.mjs")], options) as Layer.Layer<never>)
    const t = r.trials[0]
    expect(t.state).toBe("Failed")
    expect(t.reason).toContain("exited with code 3")
    expect(t.reason).toContain("ValueError: the data folder is empty")
    expect(t.userAttrs.stderr_tail).toBe("loading data\nValueError: the data folder is empty")
  })

  it("a parameter value with shell metacharacters reaches the program verbatim and runs nothing", async () => {
    const { dir, options } = setup()
    const evil = ["; rm -rf x", `$(touch ${path.join(dir, "pwned")})`, "`touch pwned2` && echo 'q' \"d\" | cat"] as const
    const r = await run(
      Study.optimize({ study: "args", space: Space.struct({ cmd: Space.categorical(evil) }), metric: "loss", enqueue: evil.map((cmd) => ({ cmd })), trials: 3 }),
      Process.layer(["node", fixture("echo-args.mjs")], { ...options, cwd: dir }) as Layer.Layer<never>
    )
    const cmds = r.trials.map((t) => Trial.paramValues(t).cmd as string)
    for (const [i, t] of r.trials.entries()) {
      const got = JSON.parse(fs.readFileSync(path.join(dir, `args-${t.number}`), "utf8")) as { argv: Array<string>; params: string }
      expect(got.argv).toEqual([`--cmd=${cmds[i]}`])
      expect(JSON.parse(got.params)).toEqual({ cmd: cmds[i] })
    }
    expect([...cmds].sort()).toEqual([...evil].sort())
    expect(fs.existsSync(path.join(dir, "pwned"))).toBe(false)
    expect(fs.existsSync(path.join(dir, "pwned2"))).toBe(false)
  })

  it("the process executor refuses a trainer that is not a program", async () => {
    const e = await run(Effect.flip(Study.optimize({ study: "x", space, objective: () => 1, trials: 1 })), Executor.layerProcess() as Layer.Layer<never>)
    expect(e.message).toMatch(/the process executor runs programs/)
  })
})
