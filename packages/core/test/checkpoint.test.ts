import { fc, test } from "@fast-check/vitest"
import { Effect, Either, Option } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { Checkpoint } from "../src/index.js"

const tmpdir = () => fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-ckpt-"))
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)

const json: fc.Arbitrary<Checkpoint.Data> = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)))
const bytes = fc.uint8Array({ maxLength: 256 })
const data = fc.oneof(json, bytes)

const implementations: ReadonlyArray<readonly [string, () => Checkpoint.CheckpointService]> = [
  ["files", () => Checkpoint.makeFiles(tmpdir())],
  ["memory", () => Checkpoint.makeMemory()]
]

describe.each(implementations)("Checkpoint (%s)", (_, make) => {
  test.prop([data, fc.integer({ min: 0, max: 10_000 }), fc.string({ minLength: 1, maxLength: 20 })], { numRuns: 40 })(
    "loads back exactly what was saved, bytes or JSON, under any study name",
    async (d, step, study) => {
      const c = make()
      const key = { study, trial: 3 }
      await run(c.save(key, step, d))
      const back = await run(c.load(key, step))
      if (d instanceof Uint8Array) {
        expect(back).toBeInstanceOf(Uint8Array)
        expect([...(back as Uint8Array)]).toEqual([...d])
      } else expect(back).toEqual(d)
      expect(await run(c.steps(key))).toEqual([step])
    }
  )

  it("keys by study, trial and step; loads the latest step by default; replaces a step saved twice", async () => {
    const c = make()
    const a = { study: "s", trial: 0 }
    await run(c.save(a, 5, { w: 5 }))
    await run(c.save(a, 20, { w: 20 }))
    await run(c.save(a, 10, new Uint8Array([1, 2, 3])))
    await run(c.save({ study: "s", trial: 1 }, 30, { w: "other trial" }))
    await run(c.save({ study: "t", trial: 0 }, 40, { w: "other study" }))
    expect(await run(c.steps(a))).toEqual([5, 10, 20])
    expect(await run(c.load(a))).toEqual({ w: 20 })
    expect(await run(c.load(a, 5))).toEqual({ w: 5 })
    await run(c.save(a, 20, new Uint8Array([9])))
    expect([...(await run(c.load(a, 20))) as Uint8Array]).toEqual([9])
    expect(await run(c.steps(a))).toEqual([5, 10, 20])
    await run(c.remove(a, { before: 20 }))
    expect(await run(c.steps(a))).toEqual([20])
    expect(await run(c.steps({ study: "s", trial: 1 }))).toEqual([30])
  })

  it("fails with CheckpointNotFound for a missing step and CheckpointError for a bad key", async () => {
    const c = make()
    const missing = await run(Effect.either(c.load({ study: "s", trial: 2 }, 7)))
    expect(Either.isLeft(missing) && missing.left._tag).toBe("CheckpointNotFound")
    expect(Either.isLeft(missing) && missing.left.message).toContain("trial 2 at step 7")
    const bad = await run(Effect.either(c.save({ study: "s", trial: -1 }, 1, {})))
    expect(Either.isLeft(bad) && bad.left._tag).toBe("CheckpointError")
    expect(Either.isLeft(bad) && bad.left.message).toContain("non-negative integer")
  })

  it("does not let the trainer change a stored checkpoint through its buffer", async () => {
    const c = make()
    const key = { study: "s", trial: 0 }
    const buf = new Uint8Array([1, 2, 3])
    await run(c.save(key, 1, buf))
    buf[0] = 99
    expect([...(await run(c.load(key, 1))) as Uint8Array]).toEqual([1, 2, 3])
  })
})

describe("Checkpoint files", () => {
  it("lays files out under the directory by study and trial, and leaves no temporary file", async () => {
    const dir = tmpdir()
    const c = Checkpoint.makeFiles(dir)
    await run(c.save({ study: "my study/1", trial: 4 }, 12, { ok: true }))
    await run(c.save({ study: "my study/1", trial: 4 }, 13, new Uint8Array([0])))
    const trialDir = path.join(dir, encodeURIComponent("my study/1"), "trial-4")
    expect(fs.readdirSync(trialDir).sort()).toEqual(["step-12.json", "step-13.bin"])
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
