// Sweeps that run: the two examples (Python and Node programs, each with its real sweep file), a
// sweep killed with SIGKILL and run again, and two agents (two processes) on one SQLite file.
import { Effect, Option } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { Storage, type Trial } from "@tunekit/core"
import { Sweep } from "../src/index.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.join(here, "..", "..", "..")
const bin = path.join(root, "packages", "cli", "src", "bin.ts")
const fixture = path.join(here, "fixtures", "sweep-journal.mjs")
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-sweep-"))

/** A copy of an example's folder in a temporary one (Node finds tunekit/report through a link). */
const copyExample = (name: string) => {
  const dir = tmp()
  fs.cpSync(path.join(root, "examples", "sweeps", name), dir, { recursive: true })
  fs.mkdirSync(path.join(dir, "node_modules"))
  fs.symlinkSync(path.join(root, "packages", "tunekit"), path.join(dir, "node_modules", "tunekit"))
  return dir
}

const trialsOf = (storage: string, study: string) =>
  Effect.runPromise(Effect.scoped(Effect.provide(
    Effect.gen(function*() {
      const s = yield* Storage.Storage
      return yield* s.getTrials((yield* s.getStudy(study)).id)
    }),
    Storage.layerSqlite(storage, { readonly: true })
  )))

const configOf = (t: Trial.FrozenTrial) => t.userAttrs.config as Record<string, unknown>

/** The `tunekit` command as a process of its own. */
const tunekit = (args: ReadonlyArray<string>): { child: ChildProcess; done: Promise<{ code: number | null; stderr: string }> } => {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", bin, ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] })
  let stderr = ""
  child.stderr!.on("data", (c) => (stderr += c))
  child.stdout!.on("data", () => undefined)
  return { child, done: new Promise((resolve) => child.on("close", (code) => resolve({ code, stderr }))) }
}

const journal = (dir: string): Array<{ what: string; x: number; pid: number }> =>
  fs.existsSync(path.join(dir, "journal"))
    ? fs.readFileSync(path.join(dir, "journal"), "utf8").trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l))
    : []

const until = async (what: string, ok: () => boolean, ms = 60_000) => {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const countBy = <A>(xs: ReadonlyArray<A>) => {
  const m = new Map<A, number>()
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1)
  return m
}

describe("the sweep examples, each with its real sweep file", () => {
  it("python: a standard-library script reporting each epoch through tunekit_report.py", async () => {
    const dir = copyExample("python")
    const storage = path.join(dir, "run.db")
    const s = await Effect.runPromise(Sweep.run(path.join(dir, "sweep.yaml"), { storage, warn: () => undefined }))
    expect(s.name).toBe("logistic")
    // run_cap: 12, over the 8 epochs of each run; the hyperband rule stops some at 2, 4 or 8
    expect(s.trials.length).toBe(12)
    expect(s.trials.every((t) => t.state === "Complete" || t.state === "Pruned")).toBe(true)
    for (const t of s.trials) {
      expect(t.intermediate.map((m) => m.step)).toEqual(Array.from({ length: t.intermediate.length }, (_, i) => i + 1))
      expect(Object.keys(t.intermediate[0].values).sort()).toEqual(["val_accuracy", "val_loss"])
      const c = configOf(t)
      expect(c.epochs).toBe(8)
      expect(["sgd", "momentum"]).toContain((c.optimizer as { name: string }).name)
      expect([16, 32, 64]).toContain(c.batch_size)
    }
    const complete = s.trials.filter((t) => t.state === "Complete")
    expect(complete.every((t) => t.intermediate.length === 8)).toBe(true)
    expect(s.trials.filter((t) => t.state === "Pruned").every((t) => [2, 4].includes(t.intermediate.length))).toBe(true)
    const best = Option.getOrThrow(s.best)
    expect(best.intermediate[best.intermediate.length - 1].values.val_accuracy).toBeGreaterThan(0.9)
    // its logs, per trial, beside the sweep file
    expect(fs.readFileSync(path.join(dir, ".tunekit", "logs", "logistic", `trial-${best.number}.out`), "utf8").trim().split("\n").length).toBe(8)
  })

  it("node: a script reporting through tunekit/report; no new run once one reaches metric.target", async () => {
    const dir = copyExample("node")
    const storage = path.join(dir, "run.db")
    const s = await Effect.runPromise(Sweep.run(path.join(dir, "sweep.yaml"), { storage, warn: () => undefined }))
    expect(s.name).toBe("polyfit")
    const reached = s.trials.filter((t) => t.state === "Complete" && t.values![0] <= 0.0095)
    expect(reached.length).toBe(1)
    // the run that reached the target is the last (one at a time: concurrency 1), before run_cap
    expect(s.trials[s.trials.length - 1].number).toBe(reached[0].number)
    expect(s.trials.length).toBeLessThan(16)
    for (const t of s.trials) {
      const c = configOf(t)
      expect(c.learning_rate as number).toBeGreaterThanOrEqual(Math.exp(-4.6) - 1e-12)
      expect(c.learning_rate as number).toBeLessThanOrEqual(Math.exp(-0.5) + 1e-12)
      expect(Number.isInteger(c.degree)).toBe(true)
    }
    // run again, the sweep is over: no run starts
    const again = await Effect.runPromise(Sweep.run(path.join(dir, "sweep.yaml"), { storage, warn: () => undefined }))
    expect(again.ran.length).toBe(0)
  })
})

const gridFile = (dir: string, name: string, points: number, extra: string) => {
  const file = path.join(dir, "sweep.yaml")
  fs.writeFileSync(file, [
    `name: ${name}`,
    `program: ${fixture}`,
    "method: grid",
    "metric: {name: loss}",
    "parameters:",
    `  x: {values: [${Array.from({ length: points }, (_, i) => i + 1).join(", ")}]}`,
    extra
  ].join("\n") + "\n")
  return file
}

describe("sweeps that stop and sweeps that share", () => {
  it("a sweep killed with SIGKILL and run again finishes with nothing lost and nothing run twice", async () => {
    const dir = tmp()
    const storage = path.join(dir, "s.db")
    const file = gridFile(dir, "crash", 6, "  epochs: {value: 4}\n  ms: {value: 120}")
    const first = tunekit(["sweep", "run", file, "--storage", storage])
    // killed while a run is under way, after two have finished
    await until("two runs, then a third under way", () => {
      const j = journal(dir)
      const ends = j.filter((e) => e.what === "end").length
      return ends >= 2 && j.filter((e) => e.what === "start").length > ends
    })
    first.child.kill("SIGKILL")
    await first.done
    const before = journal(dir)
    const doneBefore = before.filter((e) => e.what === "end").map((e) => e.x)
    const cut = before.filter((e) => e.what === "start" && !doneBefore.includes(e.x)).map((e) => e.x)
    expect(cut.length).toBe(1)
    // the killed agent's program notices that its sweep is gone (its stdin closes) and stops
    await new Promise((resolve) => setTimeout(resolve, 500))

    const second = await tunekit(["sweep", "run", file, "--storage", storage]).done
    expect(second.code, second.stderr).toBe(0)
    const trials = await trialsOf(storage, "crash")
    const complete = trials.filter((t) => t.state === "Complete")
    // every grid point complete exactly once
    expect(complete.map((t) => configOf(t).x).sort()).toEqual([1, 2, 3, 4, 5, 6])
    // the run the crash cut short failed, and its config ran again, once
    const failed = trials.filter((t) => t.state === "Failed")
    expect(failed.length).toBe(1)
    expect(failed[0].reason).toMatch(/died while the trial was running/)
    const rerun = trials.filter((t) => t.userAttrs.requeued_from === failed[0].number)
    expect(rerun.map((t) => [t.state, configOf(t).x])).toEqual([["Complete", cut[0]]])
    expect(trials.length).toBe(7)
    // by the programs' own account: each config ran to its end once, and only the cut one started twice
    const j = journal(dir)
    expect([...countBy(j.filter((e) => e.what === "end").map((e) => e.x)).values()]).toEqual([1, 1, 1, 1, 1, 1])
    const starts = countBy(j.filter((e) => e.what === "start").map((e) => e.x))
    for (let x = 1; x <= 6; x++) expect(starts.get(x), `starts of x=${x}`).toBe(x === cut[0] ? 2 : 1)
    // and no program outlived its sweep
    for (const { pid } of j) expect(alive(pid), `process ${pid}`).toBe(false)
  })

  it("two agents (two processes) on one SQLite file run a grid exactly once", async () => {
    const dir = tmp()
    const storage = path.join(dir, "s.db")
    const file = gridFile(dir, "pair", 10, "  epochs: {value: 2}\n  ms: {value: 40}\n  gate: {value: true}")
    const a = tunekit(["sweep", "run", file, "--storage", storage])
    await until("the first agent's first run", () => journal(dir).length >= 1)
    // the second agent needs only the sweep's name and storage
    const b = tunekit(["sweep", "agent", "pair", "--storage", storage])
    // both agents' first runs are held until both have started one
    await until("the second agent's first run", () => journal(dir).length >= 2)
    fs.writeFileSync(path.join(dir, "go"), "")
    const [ra, rb] = await Promise.all([a.done, b.done])
    expect(ra.code, ra.stderr).toBe(0)
    expect(rb.code, rb.stderr).toBe(0)
    const trials = await trialsOf(storage, "pair")
    expect(trials.length).toBe(10)
    expect(trials.every((t) => t.state === "Complete")).toBe(true)
    expect(trials.map((t) => configOf(t).x).sort((p, q) => (p as number) - (q as number))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(new Set(trials.map((t) => t.worker)).size).toBe(2)
    const j = journal(dir)
    expect(j.length).toBe(20)
    expect([...countBy(j.filter((e) => e.what === "start").map((e) => e.x)).values()].every((n) => n === 1)).toBe(true)
    expect([...countBy(j.filter((e) => e.what === "end").map((e) => e.x)).values()].every((n) => n === 1)).toBe(true)
  })

  it("another file under a sweep's name is refused, naming the key that differs; an agent needs a sweep", async () => {
    const dir = tmp()
    const storage = path.join(dir, "s.db")
    const file = gridFile(dir, "named", 2, "  epochs: {value: 1}\n  ms: {value: 1}")
    await Effect.runPromise(Sweep.run(file, { storage }))
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("values: [1, 2]", "values: [1, 2, 3]"))
    const e = await Effect.runPromise(Effect.flip(Sweep.run(file, { storage })))
    expect(e.message).toBe(`study "named" in ${storage} holds a sweep with another definition (parameters.x.values[2] differs): give this one another \`name\`, or run it on another storage`)
    const missing = await Effect.runPromise(Effect.flip(Sweep.agent("nope", { storage })))
    expect(missing.message).toMatch(/^no sweep named "nope" in /)
  })
})
