// Storage.changedTrials: a reader follows a study by its change counter, reading only the trials
// that changed (what the dashboard does), on memory and on SQLite, and across processes' connections.
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { Distribution, type Storage } from "../src/index.js"
import { makeMemory } from "../src/internal/memoryStorage.js"
import { makeSqlite } from "../src/internal/sqliteStorage.js"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-changes-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
const x = Distribution.float("x", 0, 1)

/** Writes through `writer` and checks what `reader` (the same storage, or another connection) sees. */
const follows = async (writer: Storage.StorageService, reader: Storage.StorageService) => {
  const study = await run(writer.createStudy("s", { directions: ["minimize"] }))
  const changes = (since: number) => run(reader.changedTrials!(study.id, since))

  const empty = await changes(0)
  expect(empty).toEqual({ seq: 0, trials: [] })

  const a = await run(writer.createTrial(study.id, { state: "Running", params: { x: 0.5 }, distributions: { x } }))
  const b = await run(writer.createTrial(study.id, { state: "Running" }))
  const first = await changes(0)
  expect(first.trials.map((t) => t.number)).toEqual([0, 1])
  expect(first.seq).toBeGreaterThan(0)
  // Nothing changed: nothing read, the counter stays.
  expect(await changes(first.seq)).toEqual({ seq: first.seq, trials: [] })

  // A report on one trial brings that trial alone, with its reports.
  await run(writer.report(b.id, { step: 1, values: { loss: 0.3 } }))
  const reported = await changes(first.seq)
  expect(reported.trials.map((t) => [t.number, t.intermediate])).toEqual([[1, [{ step: 1, values: { loss: 0.3 } }]]])
  expect(reported.seq).toBeGreaterThan(first.seq)

  // Several changes: each trial once, as it is now, in the order of their last change.
  await run(writer.finishTrial(b.id, { state: "Pruned" }))
  await run(writer.finishTrial(a.id, { state: "Complete", values: [0.25] }))
  const finished = await changes(reported.seq)
  expect(finished.trials.map((t) => [t.number, t.state, t.values])).toEqual([[1, "Pruned", undefined], [0, "Complete", [0.25]]])
  // Reading from an older counter again gives the same trials as they are now.
  expect((await changes(first.seq)).trials.map((t) => t.number)).toEqual([1, 0])
  expect((await changes(0)).seq).toBe(finished.seq)
}

describe("Storage.changedTrials", () => {
  it("in memory", async () => {
    const s = makeMemory()
    await follows(s, s)
  })

  it("on SQLite, read by another read-only connection while the writer has the file open", async () => {
    const file = path.join(dir, "changes.db")
    const writer = await run(makeSqlite(file))
    const reader = await run(makeSqlite(file, { readonly: true }))
    await follows(writer, reader)
    await run(reader.close)
    await run(writer.close)
  })

  it("on SQLite, a deleted study has no changes", async () => {
    const s = await run(makeSqlite(path.join(dir, "deleted.db")))
    const study = await run(s.createStudy("gone", { directions: ["minimize"] }))
    await run(s.createTrial(study.id, { state: "Running" }))
    await run(s.deleteStudy("gone"))
    expect(await run(s.changedTrials!(study.id, 0))).toEqual({ seq: 0, trials: [] })
    await run(s.close)
  })
})
