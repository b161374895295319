// Many workers on one PostgreSQL, as users run them: `tunekit worker` processes on a throwaway
// server. Grid search runs each point once with 8 workers; under faults (kill -9 of workers
// mid-trial, a worker stopped past the grace period then continued, a server restart) no trial
// is lost, none runs twice unless retried, none completes twice, and each retry names its trial.
import { type ChildProcess, spawn } from "node:child_process"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Storage, Study, type Trial } from "@tunekit/core"
import { Pbt } from "@tunekit/schedulers"
import { Postgres } from "@tunekit/postgres"
import { Server } from "@tunekit/postgres/testing"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const bin = path.join(root, "packages/cli/bin/tunekit.js")
const fixture = path.join(root, "test/fixtures/chaos-study.mjs")
const scheduled = path.join(root, "test/fixtures/scheduled-study.mjs")

interface Run {
  readonly trial: number
  readonly pid: number
  readonly i: number
  readonly j: number
}

const startWorker = (url: string, study: string, env: Record<string, string>, out: Array<string>, args: ReadonlyArray<string> = [], module = fixture): ChildProcess => {
  const child = spawn(process.execPath, [bin, "worker", "--study", study, "--storage", url, "--module", module, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  child.stdout!.on("data", (d) => out.push(String(d)))
  child.stderr!.on("data", (d) => out.push(String(d)))
  return child
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.once("exit", (code) => resolve(code))))

const trialsOf = (url: string, study: string) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function*() {
        const storage = yield* Storage.Storage
        return yield* storage.getTrials((yield* storage.getStudy(study)).id)
      }).pipe(Effect.provide(Postgres.layer(url)))
    )
  )

const runsOf = (file: string): Array<Run> =>
  fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Run) : []

const pointOf = (t: Trial.FrozenTrial) => `${t.params.i},${t.params.j}`

describe("workers on one PostgreSQL", () => {
  let server: Server.Server
  let dir: string
  beforeAll(async () => {
    server = await Server.start()
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-workers-"))
  })
  afterAll(async () => {
    await server?.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("grid search with 8 workers runs every point exactly once", async () => {
    const url = await server.createDatabase("grid")
    const log = path.join(dir, "grid.jsonl")
    const out: Array<string> = []
    const env = { CHAOS_LOG: log, CHAOS_MS: "5", CHAOS_GRID: "20x15" }
    const workers = Array.from({ length: 8 }, () => startWorker(url, "grid", env, out))
    const codes = await Promise.all(workers.map(exited))
    expect(codes, out.join("")).toEqual(Array(8).fill(0))
    const trials = await trialsOf(url, "grid")
    const complete = trials.filter((t) => t.state === "Complete")
    expect(complete.length).toBe(300)
    expect(new Set(complete.map(pointOf)).size).toBe(300)
    // A worker that lost the race for the last points records a trial it did not run.
    for (const t of trials.filter((t) => t.state !== "Complete")) expect(t.reason).toMatch(/^not run: the grid sampler ran out/)
    const runs = runsOf(log)
    expect(runs.length).toBe(300)
    expect(new Set(runs.map((r) => `${r.i},${r.j}`)).size).toBe(300)
    // The work was shared: more than one worker ran trials.
    expect(new Set(runs.map((r) => r.pid)).size).toBeGreaterThan(1)
  }, 180_000)

  it("2,000 trials by 8 workers survive kill -9, a stopped worker and a server restart", async () => {
    const url = await server.createDatabase("chaos")
    const log = path.join(dir, "chaos.jsonl")
    const out: Array<string> = []
    const env = { CHAOS_LOG: log, CHAOS_MS: "80" }
    const live = new Set<ChildProcess>()
    const all: Array<ChildProcess> = []
    const launch = () => {
      const child = startWorker(url, "chaos", env, out)
      live.add(child)
      all.push(child)
      child.once("exit", () => live.delete(child))
    }
    for (let k = 0; k < 8; k++) launch()
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
    // A worker that has started running trials (not one still loading).
    const pick = (besides?: ChildProcess) => {
      const working = new Set(runsOf(log).map((r) => r.pid))
      const candidates = [...live].filter((c) => c !== besides && working.has(c.pid!))
      return candidates[Math.floor(Math.random() * candidates.length)]
    }
    const killed = new Set<ChildProcess>()
    const faults = { kills: 0, stopped: false, restarted: false }

    // Faults start once the workers run trials: one worker stopped past the grace period (10 s),
    // then continued; meanwhile six kill -9 of other workers, each replaced as a supervisor would,
    // and a server restart.
    while (runsOf(log).length < 50) await sleep(100)
    let stopped: ChildProcess | undefined
    const stop = (async () => {
      stopped = pick()
      stopped.kill("SIGSTOP")
      faults.stopped = true
      await sleep(13_000)
      stopped.kill("SIGCONT")
    })()
    const kills = (async () => {
      for (let round = 0; round < 6; round++) {
        await sleep(1500)
        if (round === 2) {
          await server.restart()
          faults.restarted = true
        }
        const victim = pick(stopped)
        killed.add(victim)
        victim.kill("SIGKILL")
        faults.kills++
        await sleep(100)
        launch()
      }
    })()
    const chaos = Promise.all([stop, kills])
    await chaos
    while (live.size > 0) await Promise.all([...live].map(exited))
    for (const child of all) {
      if (!killed.has(child)) expect(child.exitCode, out.join("").slice(-3000)).toBe(0)
    }
    expect(faults).toEqual({ kills: 6, stopped: true, restarted: true })

    const trials = await trialsOf(url, "chaos")
    const runs = runsOf(log)
    // Nothing left behind: every trial ended.
    expect(trials.filter((t) => t.state === "Running" || t.state === "Waiting")).toEqual([])
    // No trial lost: each of the 2,000 points completed, and only once.
    const complete = trials.filter((t) => t.state === "Complete")
    const done = new Set(complete.map(pointOf))
    const missing = trials.filter((t) => !done.has(pointOf(t))).map((t) => ({ n: t.number, p: pointOf(t), s: t.state, r: t.reason, a: t.systemAttrs }))
    expect(complete.length, JSON.stringify(missing)).toBe(2000)
    expect(new Set(complete.map(pointOf)).size).toBe(2000)
    // No trial ran twice: each trial number was run by one process, once.
    const runsByTrial = new Map<number, number>()
    for (const r of runs) runsByTrial.set(r.trial, (runsByTrial.get(r.trial) ?? 0) + 1)
    expect([...runsByTrial.values()].filter((n) => n > 1)).toEqual([])
    // Each failed trial was retried once, and each retry names a failed trial of the same point.
    const byNumber = new Map(trials.map((t) => [t.number, t]))
    const failed = trials.filter((t) => t.state === "Failed")
    // Trials failed before they held a config (their worker died while sampling) have nothing to retry.
    const unrun = failed.filter((t) => Object.keys(t.params).length === 0)
    const retries = trials.filter((t) => Study.retryOf(t) !== undefined)
    expect(failed.length - unrun.length).toBeGreaterThan(0)
    expect(retries.length, JSON.stringify(failed.map((t) => [t.number, t.reason]))).toBe(failed.length - unrun.length)
    for (const r of retries) {
      const original = byNumber.get(Study.retryOf(r)!)!
      expect(original.state).toBe("Failed")
      expect(pointOf(original)).toBe(pointOf(r))
    }
    expect(new Set(retries.map((r) => Study.retryOf(r))).size).toBe(retries.length)
    // A config ran more than once only through retries: runs of a point = 1 + its retries.
    const runsByPoint = new Map<string, number>()
    for (const r of runs) runsByPoint.set(`${r.i},${r.j}`, (runsByPoint.get(`${r.i},${r.j}`) ?? 0) + 1)
    const trialsByPoint = new Map<string, number>()
    for (const t of trials) trialsByPoint.set(pointOf(t), (trialsByPoint.get(pointOf(t)) ?? 0) + 1)
    for (const [point, n] of runsByPoint) expect(n, point).toBeLessThanOrEqual(trialsByPoint.get(point)!)
  }, 420_000)
  // Four workers, each with its own scheduler layer, agree through storage: the laws that hold in
  // one process hold across processes.
  const fourWorkers = async (study: string, sched: "asha" | "pbt" | "pbt-synch", args: ReadonlyArray<string>) => {
    const url = await server.createDatabase(study)
    const out: Array<string> = []
    const env = { SCHED: sched, TUNEKIT_PG_URL: url }
    const codes = await Promise.all(Array.from({ length: 4 }, () => startWorker(url, study, env, out, args, scheduled)).map(exited))
    expect(codes, out.join("").slice(-3000)).toEqual([0, 0, 0, 0])
    return trialsOf(url, study)
  }

  it("promotion ASHA across 4 workers never promotes more than floor(n/eta) of the n trials at a rung", async () => {
    const trials = await fourWorkers("asha", "asha", ["--count", "10", "--slots", "2"])
    expect(trials.filter((t) => t.state === "Running" || t.state === "Waiting")).toEqual([])
    // The rungs below the top one (9 = maxResource, where trials complete).
    let promoted = 0
    for (const r of [1, 3]) {
      const reached = trials.filter((t) => t.intermediate.some((m) => m.step >= r))
      const past = reached.filter((t) => t.intermediate.some((m) => m.step > r))
      promoted += past.length
      expect(past.length, `rung ${r}`).toBeLessThanOrEqual(Math.floor(reached.length / 3))
    }
    expect(promoted).toBeGreaterThan(0)
  }, 180_000)

  it("PBT across 4 workers, checkpoints in PostgreSQL: a constant population, each exploit from a step its donor reached", async () => {
    const trials = await fourWorkers("pbt", "pbt", ["--count", "2", "--slots", "2"])
    expect(trials.filter((t) => t.state === "Running" || t.state === "Waiting")).toEqual([])
    expect(new Set(trials.map(Pbt.memberOf)).size).toBe(8)
    const continuations = trials.filter((t) => Pbt.lineageOf(t) !== undefined)
    expect(continuations.length).toBeGreaterThan(0)
    for (const t of continuations) {
      const l = Pbt.lineageOf(t)!
      const donor = trials.find((x) => x.number === l.donor)!
      expect(donor.intermediate.some((m) => m.step === l.step)).toBe(true)
      // It started from the donor's checkpoint: its first report is past that step.
      expect(t.intermediate[0]?.step ?? l.step + 1).toBeGreaterThan(l.step)
    }
    // A complete trial trained to the last step, or is a continuation whose chosen checkpoint the
    // donor's process had swept meanwhile: it started from the donor's latest, which may be its
    // final one, and then had nothing left to train (Checkpoint.loadRestorePoint, docs/checkpoints.md).
    for (const t of trials.filter((t) => t.state === "Complete")) {
      if (t.intermediate.length === 0) expect(Pbt.lineageOf(t), `trial ${t.number}`).toBeDefined()
      else expect(t.intermediate.at(-1)!.step).toBe(12)
    }
  }, 180_000)

  it("synch PBT by 4 workers, checkpoints in PostgreSQL, gives the lineage and values of one worker for the same seed", async () => {
    const four = await fourWorkers("pbt-synch", "pbt-synch", ["--count", "2", "--slots", "2"])
    // The same study (name, seed, population of 8) run by one process, in a database of its own.
    const url = await server.createDatabase("pbt-synch-one")
    const out: Array<string> = []
    const code = await exited(startWorker(url, "pbt-synch", { SCHED: "pbt-synch", TUNEKIT_PG_URL: url }, out, ["--count", "8", "--slots", "3"], scheduled))
    expect(code, out.join("").slice(-3000)).toBe(0)
    const one = await trialsOf(url, "pbt-synch")
    const outcome = (ts: ReadonlyArray<Trial.FrozenTrial>) =>
      ts.map((t) => ({
        number: t.number,
        state: t.state,
        params: t.params,
        lineage: Pbt.lineageOf(t) ?? null,
        next: t.systemAttrs[Pbt.NEXT] ?? null,
        reason: t.reason ?? null,
        values: t.values ?? null,
        intermediate: t.intermediate
      }))
    expect(outcome(four)).toEqual(outcome(one))
    // Not vacuous: members were exploited at the boundaries 3, 6 and 9 (two of 8 at each), and
    // every member trained to the end.
    expect(four.filter((t) => Pbt.lineageOf(t) !== undefined).map((t) => Pbt.lineageOf(t)!.exploitedAt)).toEqual([3, 3, 6, 6, 9, 9])
    expect(four.filter((t) => t.state === "Complete").map((t) => t.intermediate.at(-1)!.step)).toEqual(Array(8).fill(12))
    expect(four.filter((t) => t.state === "Running" || t.state === "Waiting")).toEqual([])
  }, 180_000)
})
