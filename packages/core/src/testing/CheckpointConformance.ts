/**
 * The checkpoint conformance suite: what every Checkpoint store must do. Declare it from a test
 * file with a factory that gives a fresh, empty store (and cleans up in `close`).
 *
 * It checks that bytes and JSON load back exactly as saved (under any study name, trial and step),
 * and are copies that the caller's buffers cannot change; that `load` without a step gives the
 * latest one; that `steps` lists each saved step once, in increasing order; that saving a step
 * again replaces it (also in the other format); that `remove` deletes all of a trial's steps or
 * those before a step, or the steps listed, and nothing of another trial; that `list` gives every
 * checkpoint of a study with its size; that a missing trial or step fails with
 * `CheckpointNotFound` naming it; that keys of different studies and trials are kept apart, also
 * when the names look like paths (".", "..", "a/b", "a%2Fb"), and two stores from the factory
 * share nothing; that concurrent saves all land; and that a bad key (empty study name, trial
 * number that is not a non-negative integer, step that is not finite) or data that is neither
 * bytes nor JSON is refused with `CheckpointError` by every operation, storing nothing.
 *
 * @example
 * import { CheckpointConformance } from "@tunekit/core/testing"
 * import { Checkpoint } from "@tunekit/core"
 * CheckpointConformance.suite("memory", async () => ({ checkpoints: Checkpoint.makeMemory(), close: async () => {} }))
 *
 * @since 0.1.0
 */
import { Effect, FastCheck as fc, Logger, Option } from "effect"
import { describe, expect, it } from "vitest"
import { type CheckpointService, type Data, forTrial, type Key } from "../Checkpoint.js"
import * as Retention from "../Retention.js"
import { layerMemory, Storage } from "../Storage.js"
import { RESTORE_FROM } from "../Study.js"

/** A fresh, empty store for one test, and how to dispose of it. */
export interface Subject {
  readonly checkpoints: CheckpointService
  readonly close: () => Promise<void>
}

const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
const fail = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(Effect.flip(e))

/** JSON as it comes back from text (no -0, no undefined members). */
const json: fc.Arbitrary<Data> = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)))
const bytes = fc.uint8Array({ maxLength: 300 })
const data: fc.Arbitrary<Data> = fc.oneof(json, bytes)
const step = fc.oneof(fc.integer({ min: -1000, max: 1_000_000 }), fc.integer({ min: 0, max: 4000 }).map((x) => x / 4))
const key: fc.Arbitrary<Key> = fc.record({ study: fc.string({ minLength: 1, maxLength: 24 }), trial: fc.nat({ max: 100_000 }) })

/** Compares loaded data with saved data: bytes as bytes, JSON by value. */
const same = (back: Data, saved: Data) => {
  if (saved instanceof Uint8Array) {
    expect(back).toBeInstanceOf(Uint8Array)
    expect([...(back as Uint8Array)]).toEqual([...saved])
  } else {
    expect(back instanceof Uint8Array).toBe(false)
    expect(back).toEqual(saved)
  }
}

/**
 * Declares the suite for one store.
 */
export const suite = (name: string, make: () => Promise<Subject>, options: { readonly numRuns?: number } = {}): void => {
  const numRuns = options.numRuns ?? 25
  const using = async <A>(f: (c: CheckpointService) => Promise<A>): Promise<A> => {
    const subject = await make()
    try {
      return await f(subject.checkpoints)
    } finally {
      await subject.close()
    }
  }

  describe(`Checkpoint conformance: ${name}`, () => {
    it("loads back exactly the bytes or JSON saved, under any key and step", () =>
      fc.assert(
        fc.asyncProperty(key, step, data, (k, s, d) =>
          using(async (c) => {
            await run(c.save(k, s, d))
            same(await run(c.load(k, s)), d)
            same(await run(c.load(k)), d)
            expect(await run(c.steps(k))).toEqual([s])
          })),
        { numRuns }
      ))

    it("lists each saved step once, in increasing order, and loads the latest when no step is given", () =>
      fc.assert(
        fc.asyncProperty(key, fc.uniqueArray(step, { minLength: 1, maxLength: 8 }), fc.array(data, { minLength: 8, maxLength: 8 }), (k, steps, ds) =>
          using(async (c) => {
            for (let i = 0; i < steps.length; i++) await run(c.save(k, steps[i], ds[i]))
            const sorted = [...steps].sort((a, b) => a - b)
            expect(await run(c.steps(k))).toEqual(sorted)
            same(await run(c.load(k)), ds[steps.indexOf(sorted[sorted.length - 1])])
            for (let i = 0; i < steps.length; i++) same(await run(c.load(k, steps[i])), ds[i])
          })),
        { numRuns }
      ))

    it("replaces a step saved again, also in the other format", () =>
      using(async (c) => {
        const k = { study: "s", trial: 0 }
        await run(c.save(k, 5, { w: 1 }))
        await run(c.save(k, 5, { w: 2 }))
        same(await run(c.load(k, 5)), { w: 2 })
        await run(c.save(k, 5, new Uint8Array([7, 8])))
        same(await run(c.load(k, 5)), new Uint8Array([7, 8]))
        await run(c.save(k, 5, [1, "two"]))
        same(await run(c.load(k)), [1, "two"])
        expect(await run(c.steps(k))).toEqual([5])
      }))

    it("keeps stored data apart from the caller's buffers and objects", () =>
      using(async (c) => {
        const k = { study: "s", trial: 0 }
        const buf = new Uint8Array([1, 2, 3])
        const obj = { w: [1, 2] }
        await run(c.save(k, 1, buf))
        await run(c.save(k, 2, obj))
        buf[0] = 99
        obj.w.push(3)
        const back = (await run(c.load(k, 1))) as Uint8Array
        back[1] = 99
        same(await run(c.load(k, 1)), new Uint8Array([1, 2, 3]))
        const o = (await run(c.load(k, 2))) as { w: Array<number> }
        o.w.push(4)
        same(await run(c.load(k, 2)), { w: [1, 2] })
      }))

    it("removes all of a trial's steps, or those before a step, and nothing of another trial", () =>
      using(async (c) => {
        const a = { study: "s", trial: 0 }
        const b = { study: "s", trial: 1 }
        for (const s of [1, 2, 3, 10]) await run(c.save(a, s, { s }))
        await run(c.save(b, 1, { b: true }))
        await run(c.remove(a, { before: 3 }))
        expect(await run(c.steps(a))).toEqual([3, 10])
        expect((await fail(c.load(a, 2)))._tag).toBe("CheckpointNotFound")
        await run(c.remove(a, { before: 3 }))
        expect(await run(c.steps(a))).toEqual([3, 10])
        await run(c.remove(a))
        expect(await run(c.steps(a))).toEqual([])
        expect((await fail(c.load(a)))._tag).toBe("CheckpointNotFound")
        expect(await run(c.steps(b))).toEqual([1])
        // removing what is not there is not an error
        await run(c.remove({ study: "none", trial: 3 }))
        await run(c.remove(a, { before: 100 }))
      }))

    it("removes exactly the steps listed (those of them before `before`, when both are given)", () =>
      using(async (c) => {
        const a = { study: "s", trial: 0 }
        for (const s of [1, 2, 3, 4, 5]) await run(c.save(a, s, s % 2 ? { s } : new Uint8Array([s])))
        await run(c.remove(a, { steps: [2, 4, 9] }))
        expect(await run(c.steps(a))).toEqual([1, 3, 5])
        await run(c.remove(a, { steps: [1, 5], before: 3 }))
        expect(await run(c.steps(a))).toEqual([3, 5])
        await run(c.remove(a, { steps: [] }))
        expect(await run(c.steps(a))).toEqual([3, 5])
        same(await run(c.load(a, 5)), { s: 5 })
      }))

    it("lists every checkpoint of a study with its size, and nothing of another study", () =>
      using(async (c) => {
        expect(c.list, "a store lists its checkpoints (retention needs it)").toBeDefined()
        const list = (study: string) => run(c.list!(study))
        expect(await list("s")).toEqual([])
        const big = new Uint8Array(5000).map((_, i) => i % 251)
        await run(c.save({ study: "s", trial: 2 }, 1, big))
        await run(c.save({ study: "s", trial: 2 }, 0.5, { w: [1, 2, 3] }))
        await run(c.save({ study: "s", trial: 0 }, 7, new Uint8Array([1])))
        for (const study of ["t", ".", ".."]) await run(c.save({ study, trial: 2 }, 3, { other: study }))
        const entries = await list("s")
        expect(entries.map((e) => [e.trial, e.step])).toEqual([[0, 7], [2, 0.5], [2, 1]])
        const size = (trial: number, step: number) => entries.find((e) => e.trial === trial && e.step === step)!.bytes
        // What the store holds: at least the data, and the larger checkpoint larger.
        expect(size(2, 1)).toBeGreaterThanOrEqual(5000)
        expect(size(2, 0.5)).toBeGreaterThanOrEqual(JSON.stringify({ w: [1, 2, 3] }).length)
        expect(size(2, 1)).toBeGreaterThan(size(0, 7))
        for (const e of entries) if (e.savedAt !== undefined) expect(Number.isFinite(e.savedAt)).toBe(true)
        for (const study of ["t", ".", ".."]) expect((await list(study)).map((e) => [e.trial, e.step])).toEqual([[2, 3]])
        await run(c.remove({ study: "s", trial: 2 }, { steps: [1] }))
        expect((await list("s")).map((e) => [e.trial, e.step])).toEqual([[0, 7], [2, 0.5]])
        await run(c.remove({ study: "s", trial: 0 }))
        expect((await list("s")).map((e) => [e.trial, e.step])).toEqual([[2, 0.5]])
      }))

    it("fails with CheckpointNotFound, naming the key and step, for a missing trial or step", () =>
      using(async (c) => {
        const k = { study: "s", trial: 2 }
        const none = await fail(c.load(k))
        expect(none._tag).toBe("CheckpointNotFound")
        if (none._tag === "CheckpointNotFound") expect([none.key, none.step]).toEqual([k, undefined])
        expect(await run(c.steps(k))).toEqual([])
        await run(c.save(k, 4, { ok: true }))
        const missing = await fail(c.load(k, 7))
        expect(missing._tag).toBe("CheckpointNotFound")
        if (missing._tag === "CheckpointNotFound") expect([missing.key, missing.step]).toEqual([k, 7])
        expect(missing.message).toContain("trial 2 at step 7")
      }))

    it("keeps the keys of different studies and trials apart, whatever the names look like", () =>
      using(async (c) => {
        const studies = ["s", "t", "S", ".", "..", "a/b", "a", "a%2Fb", "trial-0", "step-1.json", " ", "名前"]
        const keys = studies.flatMap((study) => [0, 1, 10].map((trial) => ({ study, trial })))
        for (const [i, k] of keys.entries()) await run(c.save(k, 1, { i }))
        for (const [i, k] of keys.entries()) {
          expect(await run(c.steps(k)), JSON.stringify(k)).toEqual([1])
          same(await run(c.load(k)), { i })
        }
        await run(c.remove({ study: "a", trial: 1 }))
        for (const k of keys) expect(await run(c.steps(k))).toEqual(k.study === "a" && k.trial === 1 ? [] : [1])
      }))

    it("shares nothing between two stores from the factory", async () => {
      const one = await make()
      const two = await make()
      try {
        for (const study of ["s", ".", ".."]) {
          await run(one.checkpoints.save({ study, trial: 0 }, 1, { store: 1 }))
          expect(await run(two.checkpoints.steps({ study, trial: 0 })), study).toEqual([])
        }
      } finally {
        await one.close()
        await two.close()
      }
    })

    it("lands every one of many concurrent saves", () =>
      using(async (c) => {
        const saves = Array.from({ length: 24 }, (_, i) => ({ k: { study: "s", trial: i % 3 }, s: i, d: i % 2 ? new Uint8Array([i]) : { i } }))
        await run(Effect.all(saves.map(({ d, k, s }) => c.save(k, s, d)), { concurrency: "unbounded" }))
        for (const trial of [0, 1, 2]) expect(await run(c.steps({ study: "s", trial }))).toEqual(saves.filter((x) => x.k.trial === trial).map((x) => x.s))
        for (const { d, k, s } of saves) same(await run(c.load(k, s)), d)
      }))

    it("refuses a bad key or step with CheckpointError in every operation, storing nothing", () =>
      using(async (c) => {
        const bad: ReadonlyArray<readonly [Key, number | undefined]> = [
          [{ study: "", trial: 0 }, 1],
          [{ study: "s", trial: -1 }, 1],
          [{ study: "s", trial: 1.5 }, 1],
          [{ study: "s", trial: NaN }, 1],
          [{ study: 3 as unknown as string, trial: 0 }, 1],
          [{ study: "s", trial: 0 }, NaN],
          [{ study: "s", trial: 0 }, Infinity]
        ]
        for (const [k, s] of bad) {
          const ops = [
            ["save", c.save(k, s ?? 1, { x: 1 })],
            ["load", c.load(k, s)],
            ["remove", c.remove(k, s === undefined || Number.isFinite(s) ? undefined : { before: s })],
            ...(Number.isFinite(s) ? [["list", c.steps(k)] as const] : [])
          ] as const
          for (const [operation, op] of ops) {
            const e = await fail(op as Effect.Effect<unknown, { readonly _tag: string }>)
            expect(e._tag, `${operation} ${JSON.stringify(k)} step ${s}`).toBe("CheckpointError")
          }
        }
        expect(await run(c.steps({ study: "s", trial: 0 }))).toEqual([])
      }))

    it("refuses data that is neither bytes nor JSON with CheckpointError, storing nothing", () =>
      using(async (c) => {
        const k = { study: "s", trial: 0 }
        const circular: Record<string, unknown> = {}
        circular.self = circular
        for (const d of [undefined, () => 1, 10n, circular, Symbol("x")]) {
          const e = await fail(c.save(k, 1, d as unknown as Data))
          expect(e._tag, String(typeof d)).toBe("CheckpointError")
        }
        expect(await run(c.steps(k))).toEqual([])
      }))
  })
}

/** Two handles on one store (one folder, one database), as two worker processes have, and how to dispose of them. */
export interface Shared {
  readonly handles: readonly [CheckpointService, CheckpointService]
  readonly close: () => Promise<void>
}

/**
 * Declares the cross-process exploit race for a store that several processes share: a PBT
 * exploiter (one handle, with retention) chooses a donor's checkpoint; the donor (the other handle,
 * with retention) saves and reports newer steps before the exploiter's continuation exists, and its
 * retention deletes the chosen one; the continuation still starts, from the donor's latest
 * checkpoint (its current weights), with a warning naming both steps. Deterministic: the steps of
 * the two processes are interleaved by hand.
 *
 * @example
 * import { CheckpointConformance } from "@tunekit/core/testing"
 * import { Checkpoint } from "@tunekit/core"
 * CheckpointConformance.exploitRace("files", async () => ({ handles: [Checkpoint.makeFiles("d"), Checkpoint.makeFiles("d")], close: async () => {} }))
 */
export const exploitRace = (name: string, make: () => Promise<Shared>): void => {
  it(`${name}: a PBT exploit whose chosen donor checkpoint the donor's process deletes meanwhile starts from the donor's latest`, async () => {
    const shared = await make()
    try {
      const storage = await run(Effect.provide(Storage, layerMemory))
      const info = await run(storage.createStudy("race", { directions: ["maximize"] }))
      const policy = { keepLast: 2, keepBest: 1 }
      const [exploiting, donating] = shared.handles.map((h) => Retention.make(h, policy))
      for (const c of [exploiting, donating]) await run(c.settle!("race", storage))
      const donor = await run(storage.createTrial(info.id, { state: "Running", worker: "b" }))
      const exploiter = await run(storage.createTrial(info.id, { state: "Running", worker: "a" }))
      const train = (c: CheckpointService, t: typeof donor, step: number) =>
        run(Effect.zipRight(c.save({ study: "race", trial: t.number }, step, { trial: t.number, step }), storage.report(t.id, { step, values: { value: t === donor ? 1 : 0 } })))
      for (const step of [1, 2, 3]) await train(donating, donor, step)
      await train(exploiting, exploiter, 1)
      // The exploiter decides, as Pbt does: the donor's latest checkpoint at or before its last report.
      const chosen = (await run(exploiting.steps({ study: "race", trial: donor.number }))).filter((s) => s <= 3).at(-1)
      expect(chosen).toBe(3)
      // Meanwhile, in the donor's process: two more steps, and its retention keeps the last 2.
      for (const step of [4, 5]) await train(donating, donor, step)
      expect(await run(exploiting.steps({ study: "race", trial: donor.number }))).toEqual([4, 5])
      // The exploiter's decision lands: its continuation, restoring the donor's step 3, and its end.
      const continuation = await run(storage.createTrial(info.id, { state: "Waiting", systemAttrs: { [RESTORE_FROM]: { trial: donor.number, step: 3 } } }))
      await run(storage.finishTrial(exploiter.id, { state: "Pruned", reason: `continues as ${continuation.number}` }))
      await run(exploiting.settle!("race", storage))
      await run(storage.claimWaiting(info.id, "a", continuation.id))
      const warnings: Array<string> = []
      const logger = Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => void warnings.push(([] as Array<unknown>).concat(message).join(" "))))
      const trial = { study: "race", number: continuation.number, restoreFrom: { trial: donor.number, step: 3 } }
      const restored = await run(Effect.provide(forTrial(exploiting, trial).restore, logger))
      expect(Option.getOrThrow(restored)).toEqual({ step: 5, data: { trial: donor.number, step: 5 } })
      expect(warnings.join("\n")).toMatch(new RegExp(`trial ${donor.number}'s step 3, which is gone.*step 5`))
      // A trial's own restore point (a paused trial) has no such fallback.
      const own = await fail(forTrial(exploiting, { study: "race", number: donor.number, restoreFrom: { trial: donor.number, step: 3 } }).restore)
      expect(own._tag).toBe("CheckpointNotFound")
    } finally {
      await shared.close()
    }
  })
}
