import { Effect, Layer, Option } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { Checkpoint, Rng, Sampler, Scheduler, Space, Storage, Study, Tracker } from "../src/index.js"

const tmpdir = () => fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-integrity-"))
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
const fail = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(Effect.flip(e))
const fileOf = (dir: string, study: string, trial: number, step: number) => path.join(dir, encodeURIComponent(study), `trial-${trial}`, `step-${step}.ckpt`)

/** Saves a checkpoint, damages its file with `damage`, and gives the load's error. */
const corrupted = async (data: Checkpoint.Data, damage: (bytes: Buffer) => Buffer) => {
  const dir = tmpdir()
  const c = Checkpoint.makeFiles(dir)
  const key = { study: "my study", trial: 3 }
  await run(c.save(key, 7, data))
  const file = fileOf(dir, "my study", 3, 7)
  fs.writeFileSync(file, damage(fs.readFileSync(file)))
  const e = await fail(c.load(key, 7))
  const latest = await fail(c.load(key))
  return { e, latest, file }
}

const flip = (at: (b: Buffer) => number) => (b: Buffer) => {
  const out = Buffer.from(b)
  out[at(out)] ^= 0x20
  return out
}

describe("checkpoint files: integrity", () => {
  const weights = new Uint8Array(4096).map((_, i) => (i * 31) % 256)

  it.each([
    ["a flipped byte in the data", flip((b) => b.length - 100), "its SHA-256 does not match its contents (changed bytes)"],
    ["a flipped byte in JSON data", flip((b) => b.length - 3), "its SHA-256 does not match"],
    ["a file cut short", (b: Buffer) => b.subarray(0, b.length - 10), "it holds 4086 of its 4096 bytes (cut short)"],
    ["a file cut inside its header", (b: Buffer) => b.subarray(0, 30), "its header line is missing or cut short"],
    ["an empty file", () => Buffer.alloc(0), "the file is empty"],
    ["bytes appended", (b: Buffer) => Buffer.concat([b, Buffer.from([1, 2])]), "it holds 4098 bytes, not 4096"],
    ["another digit in the header's checksum", (b: Buffer) => {
      const out = Buffer.from(b)
      const at = out.indexOf(" ", 25) + 3
      out[at] = out[at] === 0x30 ? 0x31 : 0x30
      return out
    }, "its SHA-256 does not match"],
    ["a damaged header", flip(() => 2), "its header line is damaged"]
  ] as const)("%s fails the load with CheckpointCorrupt naming the checkpoint", async (what, damage, reason) => {
    const { e, file, latest } = await corrupted(what.includes("JSON") ? { w: Array.from({ length: 50 }, (_, i) => i) } : weights, damage)
    expect(e._tag).toBe("CheckpointCorrupt")
    expect(latest._tag).toBe("CheckpointCorrupt")
    if (e._tag !== "CheckpointCorrupt") return
    expect([e.key, e.step, e.location]).toEqual([{ study: "my study", trial: 3 }, 7, file])
    expect(e.reason).toContain(reason)
    expect(e.message).toContain(`the checkpoint of study "my study" trial 3 step 7 (${file}) is corrupt`)
    expect(e.message).toContain("it was not loaded")
  })

  it("loads checkpoints written before checksums existed (.json and .bin), and refuses such a .json that does not parse", async () => {
    const dir = tmpdir()
    const trialDir = path.join(dir, "old", "trial-0")
    fs.mkdirSync(trialDir, { recursive: true })
    fs.writeFileSync(path.join(trialDir, "step-1.json"), JSON.stringify({ w: [1, 2] }))
    fs.writeFileSync(path.join(trialDir, "step-2.bin"), Buffer.from([9, 8, 7]))
    fs.writeFileSync(path.join(trialDir, "step-3.json"), "{\"w\": [1,")
    const c = Checkpoint.makeFiles(dir)
    const key = { study: "old", trial: 0 }
    expect(await run(c.steps(key))).toEqual([1, 2, 3])
    expect(await run(c.load(key, 1))).toEqual({ w: [1, 2] })
    expect([...(await run(c.load(key, 2))) as Uint8Array]).toEqual([9, 8, 7])
    const e = await fail(c.load(key, 3))
    expect(e._tag).toBe("CheckpointCorrupt")
    expect(e.message).toContain("it is not JSON")
    // Saved again, a step is written with its checksum and the old file goes.
    await run(c.save(key, 1, { w: [3] }))
    expect(fs.readdirSync(trialDir).sort()).toEqual(["step-1.ckpt", "step-2.bin", "step-3.json"])
    expect(await run(c.load(key, 1))).toEqual({ w: [3] })
  })

  it("never shows a save in progress or left behind by a killed process: only renamed files are checkpoints", async () => {
    const dir = tmpdir()
    const c = Checkpoint.makeFiles(dir)
    const key = { study: "s", trial: 0 }
    await run(c.save(key, 1, { ok: 1 }))
    const trialDir = path.join(dir, "s", "trial-0")
    // What a process killed in the middle of a save leaves: a temporary file (and a lease of a killed loader).
    fs.writeFileSync(path.join(trialDir, "step-2.ckpt.tmp-otherhost-1-1-abc"), "tunekit-checkpoint 1 json")
    fs.linkSync(path.join(trialDir, "step-1.ckpt"), path.join(trialDir, "step-1.ckpt.lease-otherhost-1-1-abc"))
    expect(await run(c.steps(key))).toEqual([1])
    expect(await run(c.load(key))).toEqual({ ok: 1 })
    // Stale leftovers (over an hour old) go with the trial's next removal.
    await run(c.remove(key))
    expect(fs.existsSync(trialDir)).toBe(false)
  })
})

// At step 2 of the first trial, a continuation is created from its checkpoint (what PBT's exploit
// does); the test corrupts that checkpoint before the continuation loads it.
const continuing = Layer.effect(
  Scheduler.Scheduler,
  Effect.gen(function*() {
    const storage = yield* Storage.Storage
    return {
      name: "continuing",
      decide: (ctx) =>
        Effect.gen(function*() {
          if (ctx.metric.step !== 2 || ctx.trial.number !== 0) return Scheduler.Continue
          yield* Effect.orDie(storage.createTrial(ctx.study.id, {
            state: "Waiting",
            params: ctx.trial.params,
            distributions: ctx.trial.distributions,
            systemAttrs: { [Study.RESTORE_FROM]: { trial: 0, step: 2 } }
          }))
          return Scheduler.Decision.Prune({ reason: "continued" })
        })
    } satisfies Scheduler.SchedulerService
  })
)

describe("a corrupt checkpoint in a study", () => {
  it("fails the trial that loads it, with an error naming the checkpoint; the other trials run", async () => {
    const dir = tmpdir()
    const program = Effect.gen(function*() {
      const checkpoints = yield* Checkpoint.Checkpoint
      return yield* Study.optimize({
        study: "corrupt",
        space: Space.struct({ x: Space.float(0, 1) }),
        trials: 2,
        concurrency: 1,
        objective: async (config, trial) => {
          const ckpt = Checkpoint.forTrial(checkpoints, trial)
          const start = await Effect.runPromise(ckpt.restore)
          let value = Option.isSome(start) ? (start.value.data as { value: number }).value : 0
          for (let step = (trial.resumeFrom ?? 0) + 1; step <= 3; step++) {
            value += config.x
            await Effect.runPromise(ckpt.save(step, { value }))
            // A disk that changes the donor's checkpoint after it was written.
            if (trial.number === 0 && step === 2) fs.appendFileSync(fileOf(dir, "corrupt", 0, 2), "x")
            await trial.report({ step, values: { value } })
          }
          return value
        }
      })
    })
    const r = await run(program.pipe(
      Effect.provide(Layer.mergeAll(continuing, Sampler.layerRandom, Tracker.layerNone).pipe(
        Layer.provideMerge(Layer.mergeAll(Storage.layerMemory, Rng.layer({ seed: 1 }), Checkpoint.layer({ directory: dir, retention: false })))
      ))
    ))
    const cont = r.trials.find((t) => Study.restorePointOf(t) !== undefined)!
    expect(r.trials.filter((t) => t !== cont).map((t) => [t.number, t.state])).toEqual([[0, "Pruned"], [2, "Complete"]])
    expect(cont.state).toBe("Failed")
    expect(cont.reason).toContain(`the checkpoint of study "corrupt" trial 0 step 2 (${fileOf(dir, "corrupt", 0, 2)}) is corrupt`)
    expect(cont.reason).toContain("it was not loaded")
    expect(cont.intermediate).toEqual([])
  })
})
