import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { worker } from "../src/internal/delivery.js"
import { counter } from "../src/internal/health.js"

/** A worker whose handler takes `ms` per op and records the ops it handled, in order. */
const slowWorker = (ms: number, handled: Array<number>) => {
  const health = counter()
  return Effect.map(
    worker<number>(1000, health, (ops, done) =>
      Effect.forEach(ops, (op) => Effect.as(Effect.sleep(ms), op).pipe(Effect.map((x) => (handled.push(x), done(1)))), { discard: true })),
    (w) => ({ w, health })
  )
}

describe("the delivery worker", () => {
  it("a study's end does not wait for ops that cannot be handled in the time allowed, and close still sends them", async () => {
    const handled: Array<number> = []
    const { w, health } = await Effect.runPromise(slowWorker(40, handled))
    // a head start: the rate is known (one op in about 40 ms)
    await Effect.runPromise(w.offer(0))
    await Effect.runPromise(Effect.sleep(60))
    for (let i = 1; i <= 20; i++) await Effect.runPromise(w.offer(i))
    const t0 = Date.now()
    // 20 ops at 40 ms each do not fit in 300 ms: no point waiting
    expect(await Effect.runPromise(w.drain(300, true))).toBe(false)
    expect(Date.now() - t0).toBeLessThan(100)
    // without giving up, close waits for all of them, in order
    expect(await Effect.runPromise(w.drain(5000))).toBe(true)
    expect(handled).toEqual(Array.from({ length: 21 }, (_, i) => i))
    await Effect.runPromise(w.stop)
    expect(health.dropped + health.failed).toBe(0)
  })

  it("waits when the ops left fit in the time allowed", async () => {
    const handled: Array<number> = []
    const { w } = await Effect.runPromise(slowWorker(5, handled))
    for (let i = 0; i < 10; i++) await Effect.runPromise(w.offer(i))
    await Effect.runPromise(Effect.sleep(20))
    expect(await Effect.runPromise(w.drain(1000, true))).toBe(true)
    expect(handled).toHaveLength(10)
    await Effect.runPromise(w.stop)
  })

  it("a handler that never finishes an op: the study's end gives up at once", async () => {
    const health = counter()
    const w = await Effect.runPromise(worker<number>(100, health, () => Effect.never))
    await Effect.runPromise(w.offer(1))
    await Effect.runPromise(Effect.sleep(20))
    const t0 = Date.now()
    expect(await Effect.runPromise(w.drain(1000, true))).toBe(false)
    expect(Date.now() - t0).toBeLessThan(100)
    await Effect.runPromise(w.stop)
    expect(health.dropped).toBe(1)
  })

  it("lingers for more ops before handling them, in one batch, and stops lingering for a drain", async () => {
    const batches: Array<ReadonlyArray<number>> = []
    const w = await Effect.runPromise(worker<number>(100, counter(), (ops, done) => Effect.sync(() => (batches.push(ops), done(ops.length))), 10_000))
    for (let i = 0; i < 5; i++) {
      await Effect.runPromise(w.offer(i))
      await new Promise((r) => setImmediate(r))
    }
    expect(batches).toEqual([])
    const t0 = Date.now()
    expect(await Effect.runPromise(w.drain(1000))).toBe(true)
    expect(Date.now() - t0).toBeLessThan(500)
    expect(batches).toEqual([[0, 1, 2, 3, 4]])
    await Effect.runPromise(w.stop)
  })

  it("a defect loses the batch in hand, counted as failed, and not the worker", async () => {
    const health = counter()
    const handled: Array<number> = []
    const w = await Effect.runPromise(
      worker<number>(100, health, (ops, done) =>
        Effect.forEach(ops, (op) => Effect.sync(() => {
          if (op === 2) throw new Error("an answer of an unexpected shape")
          handled.push(op)
          done(1)
        }), { discard: true }))
    )
    for (const op of [1, 2, 3]) await Effect.runPromise(w.offer(op))
    await Effect.runPromise(w.drain(1000))
    await Effect.runPromise(w.offer(4))
    expect(await Effect.runPromise(w.drain(1000))).toBe(true)
    // 1 handled; 2 and 3 (its batch, whatever the batch was) failed; 4 handled after
    expect(handled[0]).toBe(1)
    expect(handled).toContain(4)
    expect(handled).not.toContain(2)
    expect(health.failed + handled.length).toBe(4)
    expect(health.lastError).toMatch(/unexpected shape/)
    await Effect.runPromise(w.stop)
  })
})
