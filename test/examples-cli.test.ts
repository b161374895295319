// The examples and the `tunekit` command as a user runs them: bad command lines and failures are
// one line and a non-zero exit code, and a signal interrupts a study cleanly.
import { Effect } from "effect"
import { spawn, spawnSync } from "node:child_process"
import { once } from "node:events"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { Storage } from "@tunekit/core"
import * as quickstart from "../examples/quickstart.js"

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..")
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-examples-cli-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const tsx = (script: string, ...args: Array<string>) => [
  "--conditions=source",
  "--import",
  "tsx",
  path.join(root, script),
  ...args
]
// From the repository (where `--import tsx` resolves); each run names a storage in the temp folder.
const runScript = (script: string, ...args: Array<string>) =>
  spawnSync(process.execPath, tsx(script, ...args), { cwd: root, encoding: "utf8" })

const storedTrials = (file: string) =>
  Effect.runPromise(Effect.scoped(Effect.provide(
    Effect.gen(function*() {
      const storage = yield* Storage.Storage
      return yield* storage.getTrials((yield* storage.getStudy("sleepy")).id)
    }),
    Storage.layerSqlite(file, { readonly: true })
  )))

describe("examples on the command line", () => {
  it("an unknown flag is an error that lists the known ones", () => {
    const r = runScript("examples/random-forest.ts", "--trails", "2", "--storage", path.join(dir, "rf.db"))
    expect(r.status).toBe(2)
    expect(r.stdout).toBe("")
    expect(r.stderr).toBe("random-forest: unknown option --trails (did you mean --trials?); the options of random-forest are --trials N, --storage FILE\n")
  })

  it("npm start: a bad value and a storage in a missing folder are one line each, exit codes 2 and 1", () => {
    const bad = runScript("examples/quickstart.ts", "--trials", "abc", "--storage", path.join(dir, "q.db"))
    expect(bad.status).toBe(2)
    expect(bad.stderr).toBe('quickstart: --trials: expected a positive integer, got "abc" (see quickstart --help)\n')
    // this one fails after the wasm backend has loaded (it used to print its minified source)
    const missing = runScript("examples/quickstart.ts", "--storage", "/missing/q.db", "--trials", "1", "--epochs", "1")
    expect(missing.status).toBe(1)
    expect(missing.stderr).toBe("quickstart: storage open failed: cannot open SQLite database /missing/q.db: the folder /missing does not exist\n")
  })

  it("quickstart's summary of a second run counts over the whole study, as its best is picked", async () => {
    const storage = path.join(dir, "again.db")
    const first = await Effect.runPromise(quickstart.main({ trials: 2, epochs: 1, progress: false, storage }))
    const second = await Effect.runPromise(quickstart.main({ trials: 1, epochs: 1, progress: false, storage }))
    expect(second.trials).toHaveLength(1)
    const m = /over the whole study: (\d+) trials \((\d+) complete, (\d+) pruned, (\d+) failed\), (\d+) of them in this run/.exec(second.text)
    expect(m).not.toBeNull()
    const [all, complete, pruned, failed, thisRun] = m!.slice(1).map(Number)
    expect([all, complete + pruned + failed, thisRun]).toEqual([3, 3, 1])
    const values = [...first.trials, ...second.trials].filter((t) => t.state === "Complete").map((t) => t.values![0])
    expect(second.best.values![0]).toBe(Math.max(...values))
  })

  it.each(["SIGINT", "SIGTERM"] as const)("%s mid-study: the running trials end as Failed (interrupted), none is left Running", async (signal) => {
    const file = path.join(dir, `${signal}.db`)
    const child = spawn(process.execPath, tsx("test/fixtures/interrupt-study.ts", file), { cwd: root, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    const running = () => [...stdout.matchAll(/^running (\d+)$/gm)].map((m) => Number(m[1]))
    const deadline = Date.now() + 50_000
    while (running().length < 2 && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100))
    expect(running()).toHaveLength(2)
    const exited = once(child, "exit")
    child.kill(signal)
    const [code] = await exited
    expect(code).toBe(130)
    expect(stderr).toBe("interrupt-study: interrupted\n")

    const trials = await storedTrials(file)
    expect(trials.filter((t) => t.state === "Running")).toEqual([])
    expect(trials.find((t) => t.number === 0)?.state).toBe("Complete")
    const interrupted = trials.filter((t) => running().includes(t.number))
    expect(interrupted).toHaveLength(2)
    for (const t of interrupted) {
      expect(t.state).toBe("Failed")
      expect(t.reason).toMatch(/interrupt/)
      expect(t.finishedAt).toBeDefined()
    }
  }, 90_000)
})
