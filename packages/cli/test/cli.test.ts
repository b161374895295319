import { Effect } from "effect"
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { beforeAll, describe, expect, it } from "vitest"
import { Space, Storage, Study } from "@tunekit/core"
import { Auto } from "@tunekit/samplers"
import { Cli } from "../src/index.js"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-cli-"))
const file = path.join(dir, "t.db")
const run = (...args: Array<string>) => Effect.runPromise(Cli.run([...args, "--storage", file]))
const fail = (...args: Array<string>) => Effect.runPromise(Effect.flip(Cli.run(args)))

beforeAll(async () => {
  const space = Space.struct({ lr: Space.float(1e-4, 1e-1, { log: true }), act: Space.categorical(["relu", "tanh"]) })
  const layer = Study.layerDefaults({ seed: 3, storage: file })
  await Effect.runPromise(Effect.scoped(Effect.provide(Study.optimize({
    study: "demo",
    space,
    objective: (c, t) => (t.number === 2 ? NaN : Math.log10(c.lr) ** 2 + (c.act === "relu" ? 0 : 1)),
    trials: 6
  }), layer)))
  await Effect.runPromise(Effect.scoped(Effect.provide(Study.optimize({
    study: "two",
    space: Space.struct({ x: Space.float(0, 1) }),
    directions: ["minimize", "maximize"],
    objective: (c) => [c.x, c.x * c.x],
    trials: 4
  }), layer)))
})

describe("tunekit CLI", () => {
  it("shows what proposed each trial when Auto recorded it", async () => {
    const auto = path.join(dir, "auto.db")
    await Effect.runPromise(Effect.scoped(Effect.provide(Study.optimize({
      study: "auto",
      space: Space.struct({ x: Space.float(0, 1), y: Space.float(0, 1) }),
      objective: (c) => (c.x - 0.3) ** 2 + c.y,
      trials: 14
    }).pipe(Effect.provide(Auto.layer({ trials: 14 }))), Study.layerDefaults({ seed: 1, storage: auto }))))
    const text = await Effect.runPromise(Cli.run(["trials", "auto", "--storage", auto]))
    expect(text.split("\n")[0]).toMatch(/^#\s+state\s+values\s+rank\s+duration_s\s+sampler\s+params/)
    expect(text).toMatch(/\bdesign\b/)
    expect(await run("trials", "demo")).not.toMatch(/sampler/)
  })

  it("lists a study's runs: the parent run and a run per trial", async () => {
    const text = await run("runs", "demo")
    expect(text).toMatch(/demo/)
    const runs = JSON.parse(await run("runs", "demo", "--json"))
    expect(runs.parent.name).toBe("demo")
    expect(runs.runs.map((r: { trial: number }) => r.trial)).toEqual([0, 1, 2, 3, 4, 5])
    expect(runs.runs.every((r: { parent: string }) => r.parent === "demo")).toBe(true)
  })

  it("records a study under a task (its complete trials) and lists the tasks", async () => {
    expect(await run("tasks")).toBe("no tasks")
    expect(await Effect.runPromise(Cli.run(["tasks", "record", "demo", "--task", "toy", "--storage", file]))).toMatch(/recorded study "demo" under task "toy": 5 trials, 2 parameters/)
    expect(await run("tasks")).toMatch(/^task\s+tags\s+studies\s+trials/)
    expect(await run("tasks")).toMatch(/toy\s+-\s+1\s+5/)
  })

  it("lists studies as a table and as JSON", async () => {
    const text = await run("studies")
    expect(text.split("\n")[0]).toMatch(/^study\s+directions\s+trials\s+complete\s+best\s+created$/)
    expect(text).toMatch(/demo\s+minimize\s+6\s+5/)
    const json = JSON.parse(await run("studies", "--json"))
    expect(json.map((s: { name: string }) => s.name)).toEqual(["demo", "two"])
    expect(json[1].directions).toEqual(["minimize", "maximize"])
  })

  it("lists trials with state, rank, params and the failure reason", async () => {
    const text = await run("trials", "demo")
    const lines = text.split("\n")
    expect(lines.length).toBe(2 + 6)
    expect(lines[2 + 2]).toMatch(/^2\s+Failed\s+-\s+-/)
    expect(lines[2 + 2]).toContain("the objective returned NaN")
    const json = JSON.parse(await run("trials", "demo", "--json"))
    expect(json.filter((r: { rank: number | null }) => r.rank === 1).length).toBe(1)
    expect(Object.keys(json[0].params).sort()).toEqual(["act", "lr"])
  })

  it("shows the best trial, or the Pareto front for several objectives", async () => {
    const rows = JSON.parse(await run("trials", "demo", "--json"))
    const best = rows.find((r: { rank: number | null }) => r.rank === 1)
    const shown = JSON.parse(await run("best", "demo", "--json"))
    expect(shown[0].number).toBe(best.number)
    expect(await run("best", "demo")).toContain(`best trial of "demo" (minimize)`)
    expect(await run("best", "two")).toContain(`Pareto front of "two"`)
  })

  it("exports CSV and JSON", async () => {
    const csv = await run("export", "demo", "--format", "csv")
    const [header, ...lines] = csv.split("\n")
    expect(header).toBe("number,state,params_lr,params_act,value,rank,duration_s,reason")
    expect(lines.length).toBe(6)
    const json = JSON.parse(await run("export", "demo", "--format", "json"))
    expect(json.length).toBe(6)
    const out = path.join(dir, "out.csv")
    expect(await run("export", "demo", "--format", "csv", "--output", out)).toBe(`wrote 6 trials to ${out}`)
    expect(fs.readFileSync(out, "utf8").trimEnd()).toBe(csv)
  })

  it("exports the cross-validation table of a study that reports folds as steps", async () => {
    const layer = Study.layerDefaults({ seed: 1, storage: file })
    await Effect.runPromise(Effect.scoped(Effect.provide(Study.optimize({
      study: "cv",
      space: Space.struct({ depth: Space.int(1, 3) }),
      metric: "score",
      direction: "maximize",
      objective: async (c, t) => {
        const folds = [0.5, 0.6, 0.7].map((s) => s + c.depth / 10)
        for (const [i, s] of folds.entries()) await t.report({ step: i, values: { score: s } })
        return folds.reduce((a, b) => a + b) / 3
      },
      trials: 2
    }), layer)))
    const [header, first] = (await run("export", "cv", "--format", "cv")).split("\n")
    expect(header).toBe("number,state,param_depth,split0_test_score,split1_test_score,split2_test_score,mean_test_score,std_test_score,rank_test_score")
    const cells = first.split(",")
    const depth = Number(cells[2])
    expect(Number(cells[6])).toBeCloseTo(0.6 + depth / 10, 12)
    expect(Number(cells[7])).toBeCloseTo(Math.sqrt(2 / 300), 12)
  })

  it("says clearly what is missing", async () => {
    expect((await Effect.runPromise(Effect.flip(Cli.run(["trials", "nope", "--storage", file])))).message).toBe('no study named "nope" in this storage')
    const missing = await fail("studies", "--storage", path.join(dir, "absent.db"))
    expect(missing._tag).toBe("MissingStorage")
    expect(missing.message).toContain("absent.db")
    expect(fs.existsSync(path.join(dir, "absent.db"))).toBe(false)
    expect((await fail("trials", "--storage", file))._tag).toBe("UsageError")
    expect((await fail("export", "demo", "--storage", file, "--format", "xml")).message).toContain('--format: expected one of "csv", "json", "cv", got "xml"')
    expect((await fail("frobnicate", "--storage", file)).message).toContain("unknown command frobnicate")
  })

  it("shows one trial in full, with the failure details kept in the system attribute \"failure\"", async () => {
    const ok = await run("trial", "cv", "1")
    expect(ok.split("\n")[0]).toBe('trial 1 of "cv"')
    expect(ok).toMatch(/^  state\s+Complete$/m)
    expect(ok).toMatch(/^  values\s+[\d.]+\s+score \(maximize\)$/m)
    expect(ok).toMatch(/^  params\s+depth=[123]$/m)
    expect(ok).toMatch(/^  started\s+\d{4}-\d\d-\d\dT/m)
    expect(ok).toMatch(/^  duration_s\s+[\d.]+$/m)
    expect(ok).toContain("intermediate values (3 steps):")
    expect(ok).toMatch(/^  step\s+score$/m)
    expect(ok).toMatch(/^  2\s+0\.[6-9]/m)
    expect(await run("trial", "demo", "2")).toMatch(/^  reason\s+the objective returned NaN/m)

    // A failure as the run loop stores it: the reason, and details in a system attribute.
    const stack = "Oops: no data\n    at load (data.ts:3:9)\n    at objective (study.ts:12:5)"
    await Effect.runPromise(Effect.scoped(Effect.provide(
      Effect.gen(function*() {
        const storage = yield* Storage.Storage
        const info = yield* storage.createStudy("failing", { directions: ["minimize"], metrics: ["loss"] })
        const t = yield* storage.createTrial(info.id, { state: "Running" })
        yield* storage.report(t.id, { step: 0, values: { loss: 1.5, accuracy: 0.25 } })
        yield* storage.setTrialAttr(t.id, "user", "note", "first try")
        yield* storage.setTrialAttr(t.id, "system", "failure", { message: "no data", tag: "Oops", fields: { why: "no data" }, stack })
        yield* storage.finishTrial(t.id, { state: "Failed", reason: "Oops: no data" })
      }),
      Storage.layerSqlite(file)
    )))
    const failed = await run("trial", "failing", "0")
    expect(failed).toMatch(/^  state\s+Failed$/m)
    expect(failed).toMatch(/^  reason\s+Oops: no data$/m)
    expect(failed).toMatch(/^  values\s+-$/m)
    const lines = failed.split("\n")
    const at = lines.indexOf("failure:")
    expect(at).toBeGreaterThan(0)
    expect(lines.slice(at + 1, at + 7).map((l) => l.trim().replace(/\s+/g, " "))).toEqual([
      "message no data",
      "tag Oops",
      'fields {"why":"no data"}',
      "stack Oops: no data",
      "at load (data.ts:3:9)",
      "at objective (study.ts:12:5)"
    ])
    expect(failed).toMatch(/^  0\s+0\.25\s+1\.5$|^  0\s+1\.5\s+0\.25$/m)
    expect(failed).toMatch(/^  note\s+first try$/m)
    expect(failed).toContain("system attributes: none") // the failure is shown once, above
    const json = JSON.parse(await run("trial", "failing", "0", "--json"))
    expect(json.failure.tag).toBe("Oops")
    expect(json.reason).toBe("Oops: no data")
    expect(json.intermediate).toEqual([{ step: 0, values: { loss: 1.5, accuracy: 0.25 } }])

    expect((await fail("trial", "demo", "17", "--storage", file)).message).toBe('study "demo" has no trial 17 (its trials are numbered 0 to 5)')
    expect((await fail("trial", "demo", "two", "--storage", file)).message).toContain('NUMBER: expected an integer >= 0, got "two"')
  })

  it("refuses an unknown or misspelled flag, listing the known ones; gives help", async () => {
    const e = await fail("studies", "--trails", "2", "--storage", file)
    expect(e._tag).toBe("UsageError")
    expect(e.message).toBe("unknown option --trails; the options of tunekit studies are --storage FILE, --json")
    expect((await fail("trials", "demo", "--jsn", "--storage", file)).message).toMatch(/^unknown option --jsn \(did you mean --json\?\)/)
    expect((await fail("export", "demo", "--storage", file, "--outptu", "x")).message).toContain("the options of tunekit export are --storage FILE, --json, --format csv|json|cv, --output FILE")
    expect((await fail("trials", "demo", "--storage")).message).toBe("--storage needs a value")
    expect((await fail("studies", "--storage", "")).message).toContain('--storage: expected a file path, got ""')
    const help = await Effect.runPromise(Cli.run(["--help"]))
    for (const c of ["studies", "trials", "trial", "best", "export"]) expect(help).toMatch(new RegExp(`^  - ${c} `, "m"))
    expect(await Effect.runPromise(Cli.run([]))).toBe(help)
    expect(await Effect.runPromise(Cli.run(["trial", "--help"]))).toContain("$ tunekit trial [--storage FILE] [--json] <STUDY> <NUMBER>")
  })

  it("export --format cv refuses a study whose steps are not folds; --output to a missing folder is one clear error", async () => {
    const layer = Study.layerDefaults({ seed: 1, storage: file })
    await Effect.runPromise(Effect.scoped(Effect.provide(Study.optimize({
      study: "epochs",
      space: Space.struct({ lr: Space.float(0.1, 1) }),
      metric: "accuracy",
      direction: "maximize",
      objective: async (c, t) => {
        // a learning curve: the value is the last epoch's accuracy, not the mean over epochs
        const curve = [0.5, 0.7, 0.8].map((a) => a * c.lr)
        for (const [i, a] of curve.entries()) await t.report({ step: i, values: { accuracy: a } })
        return curve[2]
      },
      trials: 2
    }), layer)))
    const e = await fail("export", "epochs", "--format", "cv", "--storage", file)
    expect(e._tag).toBe("NotCrossValidated")
    expect(e.message).toMatch(/^study "epochs" has no cross-validation folds: .*export it with --format csv or json$/)
    expect((await run("export", "epochs", "--format", "csv")).split("\n")).toHaveLength(3)
    const missing = path.join(dir, "no-such-folder", "out.csv")
    const w = await fail("export", "demo", "--format", "csv", "--output", missing, "--storage", file)
    expect(w._tag).toBe("WriteError")
    expect(w.message).toBe(`cannot write ${missing}: the folder ${path.dirname(missing)} does not exist`)
  })

  it("reads a storage file it cannot write, in a folder it cannot write, and changes nothing there", () => {
    // Root ignores file modes: the check runs the CLI as the user nobody then.
    const asRoot = process.getuid?.() === 0
    const ro = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-cli-ro-"))
    const copy = path.join(ro, "ro.db")
    fs.copyFileSync(file, copy)
    fs.chmodSync(copy, 0o444)
    fs.chmodSync(ro, 0o555)
    try {
      const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), "../src/bin.ts")
      const run = (...args: Array<string>) =>
        spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", bin, ...args, "--storage", copy], {
          encoding: "utf8",
          ...(asRoot ? { uid: 65534, gid: 65534 } : {})
        })
      const listed = run("trials", "demo")
      expect(listed.stderr).toBe("")
      expect(listed.stdout.split("\n")[0]).toMatch(/^#\s+state/)
      expect(listed.stdout.trimEnd().split("\n")).toHaveLength(2 + 6)
      expect(run("trial", "failing", "0").stdout).toContain("reason      Oops: no data")
      expect(fs.readdirSync(ro)).toEqual(["ro.db"])
      expect(fs.readFileSync(copy)).toEqual(fs.readFileSync(file))
    } finally {
      fs.chmodSync(ro, 0o755)
      fs.rmSync(ro, { recursive: true, force: true })
    }
  })

  it("runs as an executable with exit codes", () => {
    const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), "../src/bin.ts")
    const args = ["--conditions=source", "--import", "tsx", bin]
    expect(execFileSync(process.execPath, [...args, "best", "demo", "--storage", file], { encoding: "utf8" })).toContain("best trial")
    const bad = spawnSync(process.execPath, [...args, "trials", "nope", "--storage", file], { encoding: "utf8" })
    expect(bad.status).toBe(1)
    expect(bad.stderr).toBe('tunekit: no study named "nope" in this storage\n')
    const what = spawnSync(process.execPath, [...args, "what"], { encoding: "utf8" })
    expect(what.status).toBe(2)
    expect(what.stderr).toBe("tunekit: unknown command what; the commands are best, checkpoints, dashboard, export, plot, report, runs, studies, sweep, tasks, trial, trials, worker\n")
    // an error is its message on one line, never a stack
    const write = spawnSync(process.execPath, [...args, "export", "demo", "--format", "csv", "--output", "/no/such/dir/x.csv", "--storage", file], { encoding: "utf8" })
    expect(write.status).toBe(1)
    expect(write.stderr).toBe("tunekit: cannot write /no/such/dir/x.csv: the folder /no/such/dir does not exist\n")
  })

  it("the installed launcher runs the compiled CLI (npm test builds it first)", () => {
    const launcher = path.join(path.dirname(fileURLToPath(import.meta.url)), "../bin/tunekit.js")
    expect(execFileSync(process.execPath, [launcher, "studies", "--storage", file], { encoding: "utf8" })).toMatch(/^study\s+directions/)
  })
})
