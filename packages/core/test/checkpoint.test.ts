import { Effect, Option } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { Checkpoint } from "../src/index.js"
import { CheckpointConformance } from "../src/testing/index.js"

const tmpdir = () => fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-ckpt-"))
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)

// Every store runs the conformance suite; the tests below are about one store's own behaviour.
CheckpointConformance.suite("memory", async () => ({ checkpoints: Checkpoint.makeMemory(), close: async () => {} }))
CheckpointConformance.suite("files", async () => {
  const dir = tmpdir()
  return { checkpoints: Checkpoint.makeFiles(dir), close: async () => fs.rmSync(dir, { recursive: true, force: true }) }
})

describe("Checkpoint files", () => {
  it("lays files out under the directory by study and trial, and leaves no temporary file", async () => {
    const dir = tmpdir()
    const c = Checkpoint.makeFiles(dir)
    await run(c.save({ study: "my study/1", trial: 4 }, 12, { ok: true }))
    await run(c.save({ study: "my study/1", trial: 4 }, 13, new Uint8Array([0])))
    const trialDir = path.join(dir, encodeURIComponent("my study/1"), "trial-4")
    expect(fs.readdirSync(trialDir).sort()).toEqual(["step-12.ckpt", "step-13.ckpt"])
    // Another service on the same directory (another process) reads the same checkpoints.
    expect(await run(Checkpoint.makeFiles(dir).load({ study: "my study/1", trial: 4 }, 12))).toEqual({ ok: true })
  })

  it("forTrial restores from the trial's restore point and saves under its own key", async () => {
    const c = Checkpoint.makeFiles(tmpdir())
    await run(c.save({ study: "pbt", trial: 2 }, 8, { weights: [1, 2] }))
    const fresh = Checkpoint.forTrial(c, { study: "pbt", number: 5 })
    expect(Option.isNone(await run(fresh.restore))).toBe(true)
    const cont = Checkpoint.forTrial(c, { study: "pbt", number: 6, restoreFrom: { trial: 2, step: 8 } })
    expect(await run(cont.restore)).toEqual(Option.some({ step: 8, data: { weights: [1, 2] } }))
    await run(cont.save(9, { weights: [3] }))
    expect(await run(c.load({ study: "pbt", trial: 6 }))).toEqual({ weights: [3] })
  })
})
