import Database from "better-sqlite3"
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { Distribution } from "@tunekit/core"
import { Transfer } from "../src/index.js"

type StudyRecord = Transfer.StudyRecord

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-transfer-db-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const rec = (task: string, study: string, values: ReadonlyArray<number>, at: number): StudyRecord => ({
  task,
  study,
  direction: "minimize",
  metric: "loss",
  space: { lr: Distribution.float("lr", 1e-4, 1e-1, { log: true }), opt: Distribution.categorical("opt", ["adam", "sgd"]) },
  trials: values.map((v, i) => ({ params: { lr: 10 ** -(1 + i), opt: i % 2 === 0 ? "adam" : "sgd" }, value: v, state: "Complete" as const })),
  recordedAt: at
})

// The same behaviour from every layer of the Transfer service.
const layers: ReadonlyArray<readonly [string, () => Layer.Layer<Transfer.Transfer, unknown>]> = [
  ["memory", () => Transfer.layerMemory],
  ["sqlite", () => Transfer.layerSqlite(path.join(dir, `t-${Math.random().toString(36).slice(2)}.db`))]
]

for (const [name, layer] of layers) {
  describe(`Transfer service (${name})`, () => {
    const run = <A, E>(e: Effect.Effect<A, E, Transfer.Transfer>) => Effect.runPromise(e.pipe(Effect.provide(layer())))

    it("saves tasks: created, then tags and meta-features updated only when given", async () => {
      const [a, b, all] = await run(Effect.gen(function*() {
        const db = yield* Transfer.Transfer
        const a = yield* db.saveTask({ name: "mnist_cnn", tags: ["vision"], metaFeatures: { logRows: 11 } })
        const b = yield* db.saveTask({ name: "mnist_cnn", metaFeatures: { logRows: 11.1 } })
        yield* db.saveTask({ name: "cifar10_resnet" })
        return [a, b, yield* db.tasks] as const
      }))
      expect(a).toMatchObject({ name: "mnist_cnn", tags: ["vision"], metaFeatures: { logRows: 11 } })
      expect(b).toMatchObject({ tags: ["vision"], metaFeatures: { logRows: 11.1 }, createdAt: a.createdAt })
      expect(all.map((t) => t.name)).toEqual(["cifar10_resnet", "mnist_cnn"])
    })

    it("records studies (creating the task), replaces a study recorded again, keeps the oldest first", async () => {
      const [studies, task] = await run(Effect.gen(function*() {
        const db = yield* Transfer.Transfer
        yield* db.record(rec("t", "s2", [3, 2], 20))
        yield* db.record(rec("t", "s1", [5], 10))
        yield* db.record(rec("t", "s2", [1, 0.5, 0.25], 30))
        return [yield* db.studies("t"), yield* db.getTask("t")] as const
      }))
      expect(task.name).toBe("t")
      expect(studies.map((s) => [s.study, s.trials.length])).toEqual([["s1", 1], ["s2", 3]])
      expect(studies[1]).toEqual(rec("t", "s2", [1, 0.5, 0.25], 30))
      expect(Distribution.equals(studies[1].space.lr, Distribution.float("lr", 1e-4, 1e-1, { log: true }))).toBe(true)
    })

    it("a missing task is TaskNotFound; deleting a task deletes its studies", async () => {
      const [missing, studies, again] = await run(Effect.gen(function*() {
        const db = yield* Transfer.Transfer
        const missing = yield* Effect.flip(db.getTask("nope"))
        yield* db.record(rec("gone", "s", [1], 1))
        yield* db.deleteTask("gone")
        return [missing, yield* db.studies("gone"), yield* Effect.flip(db.deleteTask("gone"))] as const
      }))
      expect(missing._tag).toBe("TaskNotFound")
      expect(studies).toEqual([])
      expect(again.message).toContain(`no task named "gone"`)
    })
  })
}

describe("Transfer.layerSqlite", () => {
  it("keeps tasks and studies across connections, and reads a corrupt row as an error naming the field", async () => {
    const file = path.join(dir, "persist.db")
    await Effect.runPromise(Effect.flatMap(Transfer.Transfer, (db) => db.record(rec("kept", "s", [1, 2], 5))).pipe(Effect.provide(Transfer.layerSqlite(file))))
    const studies = await Effect.runPromise(Effect.flatMap(Transfer.Transfer, (db) => db.studies("kept")).pipe(Effect.provide(Transfer.layerSqlite(file))))
    expect(studies).toEqual([rec("kept", "s", [1, 2], 5)])
    const raw = new Database(file)
    raw.prepare(`UPDATE transfer_studies SET trials = '[{"params":{},"value":"x","state":"Complete"}]'`).run()
    raw.close()
    const err = await Effect.runPromise(Effect.flip(Effect.flatMap(Transfer.Transfer, (db) => db.studies("kept")).pipe(Effect.provide(Transfer.layerSqlite(file)))))
    expect(err._tag).toBe("TransferError")
    expect(err.message).toMatch(/study s of task kept is corrupt: trials\[0\]\.value: expected a number/)
  })

  it("refuses an empty path", async () => {
    const err = await Effect.runPromise(Effect.flip(Effect.scoped(Layer.build(Transfer.layerSqlite("")))))
    expect(err.message).toContain("the database path is empty")
  })
})
