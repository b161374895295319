import { Effect } from "effect"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { expect, it } from "vitest"
import { Space, Storage, Study } from "../src/index.js"

const here = path.dirname(fileURLToPath(import.meta.url))

it("keeps every completed trial and fails the running ones after SIGKILL", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-crash-"))
  const file = path.join(dir, "crash.db")
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", path.join(here, "fixtures/crash-child.ts"), file], {
    stdio: ["ignore", "pipe", "inherit"]
  })
  const completed: Array<number> = []
  await new Promise<void>((resolve, reject) => {
    let buffer = ""
    child.stdout!.on("data", (chunk: Buffer) => {
      buffer += chunk.toString()
      const lines = buffer.split("\n")
      buffer = lines.pop()!
      for (const l of lines) {
        const m = /^done (\d+) Complete$/.exec(l)
        if (m) completed.push(Number(m[1]))
      }
      if (completed.length >= 12) {
        child.kill("SIGKILL")
        resolve()
      }
    })
    child.on("exit", (code, signal) => (signal === "SIGKILL" ? resolve() : reject(new Error(`child exited early: ${code}`))))
  })
  await new Promise((r) => child.once("exit", r).once("close", r))

  // Reopen: the dead worker's running trials are failed with a reason, every completed one is there.
  const trials = await Effect.runPromise(
    Effect.gen(function*() {
      const study = yield* Study.open({ study: "crash", space: Space.struct({ x: Space.float(0, 1) }) })
      const before = yield* study.trials
      const failed = yield* Storage.failStaleTrials(study.info.id)
      const after = yield* study.trials
      return { before, failed, after }
    }).pipe(Effect.provide(Study.layerDefaults({ storage: file })), Effect.scoped)
  )
  const byNumber = new Map(trials.after.map((t) => [t.number, t]))
  for (const n of completed) expect(byNumber.get(n)?.state).toBe("Complete")
  expect(trials.before.some((t) => t.state === "Running")).toBe(true)
  expect(trials.after.some((t) => t.state === "Running")).toBe(false)
  expect(trials.failed.length).toBeGreaterThan(0)
  for (const t of trials.failed) expect(byNumber.get(t.number)!.reason).toMatch(/died while the trial was running/)
  fs.rmSync(dir, { recursive: true, force: true })
})
