import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { retrying, type RetryOptions, worker } from "../src/internal/delivery.js"
import { counter } from "../src/internal/health.js"
import { MlflowError } from "../src/internal/mlflowRest.js"

const once: RetryOptions = { retries: 0, backoffMs: 1, maxBackoffMs: 1, cooldownMs: 1000 }

/**
 * A worker that sends each op as one `request` through `retrying`, as the MLflow tracker's requests
 * go, recording the ops settled (sent or failed) in order; `hopeless` is the give-up the tracker
 * passes to `drain` at a study's end, with the requests left (one an op, queued or in hand).
 */
const requests = (request: Effect.Effect<void, MlflowError>, settled: Array<number>, retry = once) => {
  const health = counter()
  const r = retrying(retry, health)
  let left = 0
  return Effect.map(
    worker<number>(1000, health, (ops, done) =>
      Effect.forEach(ops, (op) => Effect.map(Effect.either(r.send(request)), () => (left--, settled.push(op), done(1))), { discard: true })),
    (w) => ({
      w,
      health,
      offer: (op: number) => {
        left++
        w.offer(op)
      },
      hopeless: (msLeft: number) => r.outlasts(left, 1, msLeft)
    })
  )
}

describe("the delivery worker", () => {
  it("a study's end does not wait for requests the server's pace cannot send in the time allowed, and close still sends them", async () => {
    const settled: Array<number> = []
    const { w, health, offer, hopeless } = await Effect.runPromise(requests(Effect.sleep(40), settled))
    // a head start: the pace is known (a request in about 40 ms)
    offer(0)
    await Effect.runPromise(Effect.sleep(60))
    for (let i = 1; i <= 20; i++) offer(i)
    const t0 = Date.now()
    // 20 requests of 40 ms do not fit in 300 ms: no point waiting
    expect(await Effect.runPromise(w.drain(300, hopeless))).toBe(false)
    expect(Date.now() - t0).toBeLessThan(100)
    // without giving up, close waits for all of them, in order
    expect(await Effect.runPromise(w.drain(5000))).toBe(true)
    expect(settled).toEqual(Array.from({ length: 21 }, (_, i) => i))
    await Effect.runPromise(w.stop)
    expect(health.sent).toBe(21)
    expect(health.dropped + health.failed).toBe(0)
  })

  it("waits when the requests left fit in the time allowed", async () => {
    const settled: Array<number> = []
    const { w, offer, hopeless } = await Effect.runPromise(requests(Effect.sleep(5), settled))
    for (let i = 0; i < 10; i++) offer(i)
    await Effect.runPromise(Effect.sleep(20))
    expect(await Effect.runPromise(w.drain(1000, hopeless))).toBe(true)
    expect(settled).toHaveLength(10)
    await Effect.runPromise(w.stop)
  })

  it("a server that never answers: the study's end gives up once the oldest request's age says the rest cannot fit", async () => {
    const { w, health, offer, hopeless } = await Effect.runPromise(requests(Effect.never, []))
    for (let i = 0; i < 10; i++) offer(i)
    await Effect.runPromise(Effect.sleep(20))
    const t0 = Date.now()
    // 10 requests, the first 20 ms old and counting: hopeless within 1000 ms after about 75 ms
    expect(await Effect.runPromise(w.drain(1000, hopeless))).toBe(false)
    expect(Date.now() - t0).toBeLessThan(400)
    await Effect.runPromise(w.stop)
    expect(health.dropped).toBe(10)
  })

  it("a server that fails: the study's end gives up at once, while the request waits to be tried again", async () => {
    const down = Effect.zipRight(Effect.sleep(5), Effect.fail(new MlflowError({ request: "POST x", reason: "ECONNREFUSED", retriable: true })))
    const { w, health, offer, hopeless } = await Effect.runPromise(requests(down, [], { ...once, retries: 3, backoffMs: 500, maxBackoffMs: 500 }))
    for (let i = 0; i < 3; i++) offer(i)
    await Effect.runPromise(Effect.sleep(30))
    const t0 = Date.now()
    // 3 requests of about 30 ms would fit in 1000 ms; the first failed, and its retry waits
    expect(await Effect.runPromise(w.drain(1000, hopeless))).toBe(false)
    expect(Date.now() - t0).toBeLessThan(100)
    await Effect.runPromise(w.stop)
    expect(health.dropped).toBe(3)
  })

  it("lingers for more ops before handling them, in one batch, and stops lingering for a drain", async () => {
    const batches: Array<ReadonlyArray<number>> = []
    const w = await Effect.runPromise(worker<number>(100, counter(), (ops, done) => Effect.sync(() => (batches.push(ops), done(ops.length))), 10_000))
    for (let i = 0; i < 5; i++) {
      w.offer(i)
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
    for (const op of [1, 2, 3]) w.offer(op)
    await Effect.runPromise(w.drain(1000))
    w.offer(4)
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
