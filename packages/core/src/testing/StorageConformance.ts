/**
 * The storage conformance suite: the behaviour every Storage backend must have. Declare it from a
 * test file with a factory that gives a fresh, empty storage (and cleans up in `close`).
 *
 * @example
 * import { StorageConformance } from "@tunekit/core/testing"
 * import { Effect } from "effect"
 * import { makeMyStorage } from "./my-storage.js"
 * StorageConformance.suite("mine", async () => {
 *   const storage = await Effect.runPromise(makeMyStorage())
 *   return { storage, close: () => Effect.runPromise(storage.close) }
 * })
 *
 * @since 0.1.0
 */
import { Effect, Either, Option } from "effect"
import { describe, expect, it } from "vitest"
import * as Distribution from "../Distribution.js"
import type { StorageService } from "../Storage.js"

/** A fresh, empty storage for one test, and how to dispose of it. */
export interface Subject {
  readonly storage: StorageService
  readonly close: () => Promise<void>
}

const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
const fail = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(Effect.flip(e))

/**
 * Declares the suite for one backend.
 */
export const suite = (name: string, make: () => Promise<Subject>): void => {
  const withStorage = (f: (s: StorageService) => Promise<void>) => async () => {
    const subject = await make()
    try {
      await f(subject.storage)
    } finally {
      await subject.close()
    }
  }
  const x = Distribution.float("x", 0, 1)
  const c = Distribution.categorical("c", ["a", "b"])

  describe(`Storage conformance: ${name}`, () => {
    it("creates a study, loads it by name, lists and deletes it", withStorage(async (s) => {
      const a = await run(s.createStudy("a", { directions: ["minimize"], metrics: ["loss"] }))
      const again = await run(s.createStudy("a", { directions: ["minimize"] }))
      expect(again.id).toBe(a.id)
      expect(again.metrics).toEqual(["loss"])
      expect((await run(s.getStudy("a"))).name).toBe("a")
      await run(s.createStudy("b", { directions: ["maximize", "minimize"] }))
      expect((await run(s.listStudies())).map((x) => x.name)).toEqual(["a", "b"])
      await run(s.deleteStudy("a"))
      expect((await fail(s.getStudy("a")))._tag).toBe("StudyNotFound")
      expect((await fail(s.deleteStudy("nope")))._tag).toBe("StudyNotFound")
    }))

    it("refuses to load a study with other directions", withStorage(async (s) => {
      await run(s.createStudy("a", { directions: ["minimize"] }))
      const e = await fail(s.createStudy("a", { directions: ["maximize"] }))
      expect(e._tag).toBe("StudyMismatch")
    }))

    it("numbers trials in order and keeps params, metrics and attributes", withStorage(async (s) => {
      const st = await run(s.createStudy("a", { directions: ["minimize"] }))
      const t0 = await run(s.createTrial(st.id, { state: "Running", params: { x: 0.5 }, distributions: { x }, worker: "w:1" }))
      const t1 = await run(s.createTrial(st.id, { state: "Running", worker: "w:1" }))
      expect([t0.number, t1.number]).toEqual([0, 1])
      await run(s.setParams(t1.id, { c: 1 }, { c }))
      await run(s.report(t1.id, { step: 2, values: { loss: 0.5 } }))
      await run(s.report(t1.id, { step: 1, values: { loss: 0.7, acc: 0.1 } }))
      await run(s.report(t1.id, { step: 2, values: { loss: 0.4 } }))
      await run(s.setTrialAttr(t1.id, "user", "note", { a: [1, 2] }))
      const done = await run(s.finishTrial(t1.id, { state: "Complete", values: [0.4] }))
      expect(done.state).toBe("Complete")
      expect(done.params).toEqual({ c: 1 })
      expect(done.distributions.c).toEqual(c)
      expect(done.intermediate).toEqual([{ step: 1, values: { loss: 0.7, acc: 0.1 } }, { step: 2, values: { loss: 0.4 } }])
      expect(done.userAttrs).toEqual({ note: { a: [1, 2] } })
      expect(done.values).toEqual([0.4])
      expect(done.finishedAt).toBeGreaterThanOrEqual(done.startedAt!)
      const all = await run(s.getTrials(st.id))
      expect(all.map((t) => t.number)).toEqual([0, 1])
      expect((await run(s.getTrials(st.id, { states: ["Running"] }))).map((t) => t.number)).toEqual([0])
      expect(await run(s.getTrial(t1.id))).toEqual(done)
    }))

    it("keeps the params sampled for the number a trial gets, and none when it was sampled for another", withStorage(async (s) => {
      const st = await run(s.createStudy("a", { directions: ["minimize"] }))
      const sampled = (v: number) => ({ params: { x: v }, distributions: { x } })
      const later = [sampled(0.3), sampled(0.4)]
      // Sampled for 0, 1 and 2, created as 0 (no one else took it): the expected number's.
      const t0 = await run(s.createTrial(st.id, { state: "Running", ...sampled(0.2), expectedNumber: 0, later }))
      // Another worker took 1 and 2 meanwhile: sampled for 1, 2 and 3, created as 3.
      await run(s.createTrial(st.id, { state: "Running" }))
      await run(s.createTrial(st.id, { state: "Running" }))
      const t3 = await run(s.createTrial(st.id, { state: "Running", ...sampled(0.2), expectedNumber: 1, later }))
      // Sampled for 1 and 2 only, created as 4: bare.
      const t4 = await run(s.createTrial(st.id, { state: "Running", ...sampled(0.2), expectedNumber: 1, later: [sampled(0.3)] }))
      // A claim is kept only for the expected number: later is not used with one.
      await run(s.createTrial(st.id, { state: "Running" }))
      const t6 = await run(s.createTrial(st.id, { state: "Running", ...sampled(0.2), claim: "grid:1", expectedNumber: 5, later }))
      expect([t0, t3, t4, t6].map((t) => [t.number, t.params, t.systemAttrs.claim])).toEqual([
        [0, { x: 0.2 }, undefined],
        [3, { x: 0.4 }, undefined],
        [4, {}, undefined],
        [6, {}, undefined]
      ])
      expect((await run(s.getTrial(t3.id))).distributions).toEqual({ x })
    }))

    it("makes a finishing worker's next trial in the same write, for that worker's next claim, unless a trial waits (makesNext)", withStorage(async (s) => {
      const st = await run(s.createStudy("a", { directions: ["minimize"] }))
      const t = await run(s.createTrial(st.id, { state: "Running", worker: "w:1", params: { x: 0.1 }, distributions: { x } }))
      const next = { state: "Running" as const, worker: "w:1", params: { x: 0.2 }, distributions: { x }, expectedNumber: 1 }
      await run(s.finishTrial(t.id, { state: "Complete", values: [1], next }))
      if (!s.makesNext) {
        // Ignored: the finish made nothing, and the claim has nothing to take.
        expect(await run(s.getTrials(st.id))).toHaveLength(1)
        expect(Option.isNone(await run(s.claimWaiting(st.id, "w:1")))).toBe(true)
        return
      }
      // Made, Running for w:1 (before any claim), with the params sampled for its number.
      expect((await run(s.getTrials(st.id, { states: ["Running"] }))).map((r) => [r.number, r.worker, r.params])).toEqual([[1, "w:1", { x: 0.2 }]])
      // Another worker's claim does not take it; w:1's does, once.
      expect(Option.isNone(await run(s.claimWaiting(st.id, "w:2")))).toBe(true)
      const mine = await run(s.claimWaiting(st.id, "w:1"))
      expect(Option.map(mine, (m) => [m.number, m.state, m.params])).toEqual(Option.some([1, "Running", { x: 0.2 }]))
      expect(Option.isNone(await run(s.claimWaiting(st.id, "w:1")))).toBe(true)
      // A waiting trial goes first: no next trial is made, and the claim takes the waiting one.
      const w = await run(s.createTrial(st.id, { state: "Waiting", params: { x: 0.3 }, distributions: { x } }))
      const m = Option.getOrThrow(mine)
      await run(s.finishTrial(m.id, { state: "Complete", values: [2], next: { ...next, expectedNumber: 3 } }))
      expect(Option.map(await run(s.claimWaiting(st.id, "w:1")), (c) => c.id)).toEqual(Option.some(w.id))
      expect(await run(s.getTrials(st.id))).toHaveLength(3)
      // A finish that is refused (the trial ended elsewhere) makes nothing either.
      await run(s.finishTrial(w.id, { state: "Failed", reason: "elsewhere" }))
      expect((await fail(s.finishTrial(w.id, { state: "Complete", values: [3], next: { ...next, expectedNumber: 3 } })))._tag).toBe("TrialStateError")
      expect(await run(s.getTrials(st.id))).toHaveLength(3)
      expect(Option.isNone(await run(s.claimWaiting(st.id, "w:1")))).toBe(true)
    }))

    it("claims a trial enqueued right after a trial finished", withStorage(async (s) => {
      const st = await run(s.createStudy("a", { directions: ["minimize"] }))
      const t = await run(s.createTrial(st.id, { state: "Running", worker: "w:1" }))
      await run(s.finishTrial(t.id, { state: "Complete", values: [1] }))
      const w = await run(s.createTrial(st.id, { state: "Waiting", params: { x: 0.1 }, distributions: { x } }))
      expect(Option.map(await run(s.claimWaiting(st.id, "w:1")), (c) => c.id)).toEqual(Option.some(w.id))
      const u = await run(s.createTrial(st.id, { state: "Running", worker: "w:1" }))
      await run(s.finishTrial(u.id, { state: "Failed", reason: "boom", retry: { state: "Waiting", params: { x: 0.1 }, distributions: { x } } }))
      expect(Option.map(await run(s.claimWaiting(st.id, "w:1")), (c) => c.params)).toEqual(Option.some({ x: 0.1 }))
    }))

    it("creates a finishing trial's retry in the same write, and none when the trial had finished", withStorage(async (s) => {
      const st = await run(s.createStudy("a", { directions: ["minimize"] }))
      const t = await run(s.createTrial(st.id, { state: "Running", params: { x: 0.5 }, distributions: { x }, worker: "w:1" }))
      const retry = { state: "Waiting" as const, params: { x: 0.5 }, distributions: { x }, userAttrs: { u: 1 }, systemAttrs: { retryOf: t.number } }
      const failed = await run(s.finishTrial(t.id, { state: "Failed", reason: "worker died", retry }))
      expect(failed.state).toBe("Failed")
      const waiting = await run(s.getTrials(st.id, { states: ["Waiting"] }))
      expect(waiting.map((w) => [w.number, w.params, w.userAttrs, w.systemAttrs.retryOf])).toEqual([[1, { x: 0.5 }, { u: 1 }, 0]])
      // Another worker failing the same trial a moment later: refused, and no second retry.
      expect((await fail(s.finishTrial(t.id, { state: "Failed", reason: "stale", retry })))._tag).toBe("TrialStateError")
      expect(await run(s.getTrials(st.id))).toHaveLength(2)
    }))

    it("never changes a finished trial", withStorage(async (s) => {
      const st = await run(s.createStudy("a", { directions: ["minimize"] }))
      const t = await run(s.createTrial(st.id, { state: "Running" }))
      await run(s.finishTrial(t.id, { state: "Failed", reason: "boom" }))
      for (const e of [
        s.finishTrial(t.id, { state: "Complete", values: [1] }),
        s.report(t.id, { step: 0, values: { v: 1 } }),
        s.setParams(t.id, { x: 0.1 }, { x }),
        s.setTrialAttr(t.id, "user", "k", 1),
        s.pauseTrial(t.id)
      ]) {
        expect((await fail(e))._tag).toBe("TrialStateError")
      }
      const after = await run(s.getTrial(t.id))
      expect(after.state).toBe("Failed")
      expect(after.reason).toBe("boom")
    }))

    it("refuses a parameter name reused with another distribution", withStorage(async (s) => {
      const st = await run(s.createStudy("a", { directions: ["minimize"] }))
      await run(s.createTrial(st.id, { state: "Running", params: { x: 0.5 }, distributions: { x } }))
      const t = await run(s.createTrial(st.id, { state: "Running" }))
      const e = await fail(s.setParams(t.id, { x: 1 }, { x: Distribution.int("x", 0, 3) }))
      expect(e._tag).toBe("InvalidSpace")
      expect((await run(s.getTrial(t.id))).params).toEqual({})
    }))

    it("takes enqueued trials oldest first, once each; paused trials only by id", withStorage(async (s) => {
      const st = await run(s.createStudy("a", { directions: ["minimize"] }))
      const w0 = await run(s.createTrial(st.id, { state: "Waiting", params: { x: 0.1 }, distributions: { x } }))
      const w1 = await run(s.createTrial(st.id, { state: "Waiting", params: { x: 0.2 }, distributions: { x } }))
      const a = await run(s.claimWaiting(st.id, "w:1"))
      const b = await run(s.claimWaiting(st.id, "w:2"))
      expect(Option.map(a, (t) => t.id)).toEqual(Option.some(w0.id))
      expect(Option.map(b, (t) => [t.id, t.state, t.worker])).toEqual(Option.some([w1.id, "Running", "w:2"]))
      expect(Option.isNone(await run(s.claimWaiting(st.id, "w:3")))).toBe(true)
      await run(s.report(w0.id, { step: 3, values: { v: 1 } }))
      await run(s.pauseTrial(w0.id))
      expect((await run(s.getTrial(w0.id))).state).toBe("Waiting")
      expect(Option.isNone(await run(s.claimWaiting(st.id, "w:3")))).toBe(true)
      const resumed = await run(s.claimWaiting(st.id, "w:3", w0.id))
      expect(Option.map(resumed, (t) => [t.state, t.intermediate.length])).toEqual(Option.some(["Running", 1]))
    }))

    it("gives each claim to one trial only", withStorage(async (s) => {
      const st = await run(s.createStudy("a", { directions: ["minimize"] }))
      const t0 = await run(s.createTrial(st.id, { state: "Running" }))
      const t1 = await run(s.createTrial(st.id, { state: "Running" }))
      await run(s.setParams(t0.id, { x: 0.1 }, { x }, "grid:0"))
      const e = await fail(s.setParams(t1.id, { x: 0.1 }, { x }, "grid:0"))
      expect(e._tag).toBe("ClaimTaken")
      expect((await run(s.getTrial(t1.id))).params).toEqual({})
      expect((await run(s.getTrial(t0.id))).systemAttrs.claim).toBe("grid:0")
    }))

    it("gives a claimed key to one caller only, sharing the keys of setParams", withStorage(async (s) => {
      const st = await run(s.createStudy("a", { directions: ["minimize"] }))
      const other = await run(s.createStudy("b", { directions: ["minimize"] }))
      expect(await run(s.claim(st.id, "asha:0:0"))).toBe(true)
      expect(await run(s.claim(st.id, "asha:0:0"))).toBe(false)
      expect(await run(s.claim(other.id, "asha:0:0"))).toBe(true)
      const t = await run(s.createTrial(st.id, { state: "Running" }))
      await run(s.setParams(t.id, { x: 0.1 }, { x }, "grid:3"))
      expect(await run(s.claim(st.id, "grid:3"))).toBe(false)
      expect(await run(s.claim(st.id, "grid:4"))).toBe(true)
      const t2 = await run(s.createTrial(st.id, { state: "Running" }))
      expect((await fail(s.setParams(t2.id, { x: 0.2 }, { x }, "grid:4")))._tag).toBe("ClaimTaken")
    }))

    it("keeps studies apart", withStorage(async (s) => {
      const a = await run(s.createStudy("a", { directions: ["minimize"] }))
      const b = await run(s.createStudy("b", { directions: ["minimize"] }))
      await run(s.createTrial(a.id, { state: "Running", params: { x: 0.5 }, distributions: { x } }))
      const tb = await run(s.createTrial(b.id, { state: "Running", params: { x: 1 }, distributions: { x: Distribution.int("x", 0, 3) } }))
      expect(tb.number).toBe(0)
      expect((await run(s.getTrials(a.id))).length).toBe(1)
      expect((await run(s.getTrials(b.id))).length).toBe(1)
    }))

    it("records heartbeats of running trials and study attributes", withStorage(async (s) => {
      const st = await run(s.createStudy("a", { directions: ["minimize"] }))
      const t = await run(s.createTrial(st.id, { state: "Running", worker: "w:1" }))
      await run(s.heartbeat([t.id]))
      const beats = await run(s.heartbeats(st.id))
      expect(beats.get(t.id)).toBeGreaterThan(0)
      await run(s.setStudyAttr(st.id, "system", "seed", 7))
      await run(s.setStudyAttr(st.id, "user", "owner", "me"))
      const again = await run(s.getStudy("a"))
      expect(again.systemAttrs).toEqual({ seed: 7 })
      expect(again.userAttrs).toEqual({ owner: "me" })
    }))

    it("sees changes made through the same storage in later reads", withStorage(async (s) => {
      const st = await run(s.createStudy("a", { directions: ["minimize"] }))
      const t = await run(s.createTrial(st.id, { state: "Running" }))
      expect((await run(s.getTrials(st.id)))[0].state).toBe("Running")
      await run(s.report(t.id, { step: 0, values: { v: 2 } }))
      expect((await run(s.getTrials(st.id)))[0].intermediate.length).toBe(1)
      await run(s.finishTrial(t.id, { state: "Pruned", reason: "slow", values: [2] }))
      const [after] = await run(s.getTrials(st.id))
      expect([after.state, after.reason, after.values]).toEqual(["Pruned", "slow", [2]])
      expect(Either.isRight(await Effect.runPromise(Effect.either(s.getTrial(t.id))))).toBe(true)
    }))
  })
}
