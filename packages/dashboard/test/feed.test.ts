// The feed reads a study whole once, then only what changed since its change counter, and each
// update it publishes carries the changed trials alone.
import { Storage, type Trial } from "@tunekit/core"
import { Effect, Fiber, Stream } from "effect"
import { describe, expect, it } from "vitest"
import * as Feed from "../src/internal/feed.js"

interface Calls {
  getTrials: number
  since: Array<number>
}

/** A storage that counts its reads of trials. */
const counted = (s: Storage.StorageService, withChanges: boolean) => {
  const calls: Calls = { getTrials: 0, since: [] }
  const { changedTrials: _, ...rest } = s
  const storage: Storage.StorageService = {
    ...rest,
    getTrials: (id, o) => Effect.suspend(() => (calls.getTrials++, s.getTrials(id, o))),
    ...(withChanges ? { changedTrials: (id: number, since: number) => Effect.suspend(() => (calls.since.push(since), s.changedTrials!(id, since))) } : {})
  }
  return { storage, calls }
}

interface Event {
  readonly name: string
  readonly id: number
  readonly data: {
    seq: number
    summary: { trials: number; counts: Record<Trial.State, number> }
    changed: number
    trials: Array<{ id: number; number: number; state: string }>
  }
}

const parse = (text: string): Array<Event> =>
  text.split("\n\n").filter((b) => b.startsWith("event:")).map((b) => {
    const field = (k: string) => b.split("\n").find((l) => l.startsWith(`${k}: `))!.slice(k.length + 2)
    return { name: field("event"), id: Number(field("id")), data: JSON.parse(field("data")) }
  })

/** Runs a study's event stream in the background; `events()` gives what arrived so far. */
const listen = (feed: Feed.Feed, f: Feed.Followed, since: number | undefined, want?: Feed.Want) =>
  Effect.gen(function*() {
    let text = ""
    const decoder = new TextDecoder()
    const fiber = yield* Effect.forkScoped(Stream.runForEach(feed.events(f, since, want), (chunk) => Effect.sync(() => void (text += decoder.decode(chunk)))))
    return { events: () => parse(text), fiber }
  })

const waitFor = <A>(f: () => A | undefined, ms = 3000) =>
  Effect.gen(function*() {
    const end = Date.now() + ms
    for (;;) {
      const v = f()
      if (v !== undefined) return v
      if (Date.now() > end) return yield* Effect.die(new Error("timed out"))
      yield* Effect.sleep("10 millis")
    }
  })

const scenario = (withChanges: boolean) =>
  Effect.scoped(Effect.gen(function*() {
    const base = yield* Storage.Storage
    const { storage, calls } = counted(base, withChanges)
    const study = yield* base.createStudy("s", { directions: ["minimize"] })
    const a = yield* base.createTrial(study.id, { state: "Running" })
    const b = yield* base.createTrial(study.id, { state: "Running" })
    yield* base.finishTrial(a.id, { state: "Complete", values: [1] })

    const feed = yield* Feed.make(storage, { pollMs: 20 })
    const f = yield* feed.study("s")
    expect(Feed.trialsOf(f).map((t) => t.state)).toEqual(["Complete", "Running"])
    const start = f.seq

    // A page that loaded at `start` gets a hello with nothing to catch up on, then updates; the
    // study page asks for the last changed trial only, a trial's page for its trial only.
    const page = yield* listen(feed, f, start)
    const latest = yield* listen(feed, f, start, { latest: 1 })
    const own = yield* listen(feed, f, start, { trial: b.id })
    const hello = yield* waitFor(() => page.events()[0])
    expect(hello).toMatchObject({ name: "hello", id: start, data: { trials: [] } })

    // One report: one update, with that trial alone.
    yield* base.report(b.id, { step: 1, values: { value: 0.5 } })
    const reported = yield* waitFor(() => page.events().find((e) => e.name === "update"))
    expect(reported.data.trials.map((t) => t.number)).toEqual([1])
    expect(reported.id).toBeGreaterThan(start)

    // A new trial and a finish: the update carries those two, and the summary counts them.
    const c = yield* base.createTrial(study.id, { state: "Running" })
    yield* base.finishTrial(b.id, { state: "Pruned" })
    const later = yield* waitFor(() => {
      const e = page.events().filter((e) => e.name === "update")
      const last = e[e.length - 1]
      return last !== undefined && last.data.summary.trials === 3 && last.data.summary.counts.Pruned === 1 ? e.slice(1) : undefined
    })
    expect(later.flatMap((e) => e.data.trials.map((t) => t.number)).sort()).toEqual([1, 2])
    // Each of the study page's events has the full event's count and its last trial alone.
    const full = page.events().filter((e) => e.name === "update")
    const short = yield* waitFor(() => {
      const u = latest.events().filter((e) => e.name === "update")
      return u.length === full.length ? u : undefined
    })
    expect(short.map((e) => e.id)).toEqual(full.map((e) => e.id))
    expect(short.map((e) => [e.data.changed, e.data.trials.map((t) => t.number)])).toEqual(
      full.map((e) => [e.data.trials.length, e.data.trials.slice(-1).map((t) => t.number)])
    )
    const mine = own.events().filter((e) => e.name === "update")
    expect(mine.map((e) => e.data.trials.map((t) => t.number))).toEqual(mine.map((e) => (e.data.trials.length === 0 ? [] : [1])))
    expect(mine.flatMap((e) => e.data.trials.map((t) => t.state))).toContain("Pruned")
    expect(Feed.trialsOf(f).map((t) => t.state)).toEqual(["Complete", "Pruned", "Running"])

    // A page that reconnects from `start` catches up on every trial changed since, once.
    const again = yield* listen(feed, f, start)
    const caught = yield* waitFor(() => again.events()[0])
    expect(caught.name).toBe("hello")
    expect(caught.data.trials.map((t) => t.number).sort()).toEqual([1, 2])
    // A counter ahead of the study's (another database): the page starts again.
    const ahead = yield* listen(feed, f, f.seq + 100)
    expect((yield* waitFor(() => ahead.events()[0])).name).toBe("reset")
    yield* Fiber.interrupt(page.fiber)
    yield* Fiber.interrupt(latest.fiber)
    yield* Fiber.interrupt(own.fiber)
    yield* Fiber.interrupt(again.fiber)
    yield* Fiber.interrupt(ahead.fiber)
    yield* base.finishTrial(c.id, { state: "Failed" })
    return { calls, start }
  }))

describe("Feed", () => {
  it("reads the trials changed since its counter, never the whole study again", async () => {
    const { calls } = await Effect.runPromise(scenario(true).pipe(Effect.provide(Storage.layerMemory)))
    expect(calls.getTrials).toBe(0)
    // Each read starts where the last one ended: the counters never go back.
    expect(calls.since[0]).toBe(0)
    expect(calls.since.every((s, i) => i === 0 || s >= calls.since[i - 1])).toBe(true)
    expect(new Set(calls.since).size).toBeGreaterThan(2)
  })

  it("follows a storage without changedTrials by comparing its unfinished trials", async () => {
    const { calls } = await Effect.runPromise(scenario(false).pipe(Effect.provide(Storage.layerMemory)))
    expect(calls.since).toEqual([])
    expect(calls.getTrials).toBeGreaterThan(1)
  })

  it("stops reading a study when its last page closes", async () => {
    await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const base = yield* Storage.Storage
      const { storage, calls } = counted(base, true)
      yield* base.createStudy("quiet", { directions: ["minimize"] })
      const feed = yield* Feed.make(storage, { pollMs: 20 })
      const f = yield* feed.study("quiet")
      const page = yield* listen(feed, f, f.seq)
      yield* waitFor(() => (calls.since.length >= 3 ? true : undefined))
      yield* Fiber.interrupt(page.fiber)
      expect(f.subscribers).toBe(0)
      const n = calls.since.length
      yield* Effect.sleep("150 millis")
      expect(calls.since.length).toBe(n)
    })).pipe(Effect.provide(Storage.layerMemory)))
  })
})
