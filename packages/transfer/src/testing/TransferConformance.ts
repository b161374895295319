/**
 * The Transfer conformance suite: what every layer of the hyperparameter-transfer database must
 * do. Declare it from a test file with a factory that gives a fresh, empty database (and cleans up
 * in `close`).
 *
 * It checks that a task is created by `saveTask` and its tags and meta-features are updated only
 * when given (its creation time kept); that `tasks` lists them by name; that `record` creates the
 * task when missing, replaces a study recorded again and `studies` gives them oldest first, each
 * exactly as recorded (distributions, parameter values of every kind, values); that a missing task
 * is `TaskNotFound` for `getTask` and `deleteTask`, and deleting a task deletes its studies; that
 * names with quotes, slashes and non-ASCII letters are kept apart; and that concurrent records
 * all land.
 *
 * @example
 * import { TransferConformance } from "@tunekit/transfer/testing"
 * import { Transfer } from "@tunekit/transfer"
 * TransferConformance.suite("memory", async () => ({ transfer: Transfer.makeMemory(), close: async () => {} }))
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { Distribution } from "@tunekit/core"
import type { StudyRecord, TransferService } from "../Transfer.js"

/**
 * A fresh, empty database for one test, and how to dispose of it.
 *
 * @example
 * import { Transfer } from "@tunekit/transfer"
 * import type { TransferConformance } from "@tunekit/transfer/testing"
 * const subject: TransferConformance.Subject = { transfer: Transfer.makeMemory(), close: async () => {} }
 */
export interface Subject {
  readonly transfer: TransferService
  readonly close: () => Promise<void>
}

/**
 * A study record of a task, its trials' values as given (minimized), over a space with a
 * log-scaled float, an int and a categorical of mixed choices: the suite's own data.
 *
 * @example
 * import { TransferConformance } from "@tunekit/transfer/testing"
 * const r = TransferConformance.record("mnist_cnn", "s1", [0.3, 0.2, 0.1], Date.now())
 * r.trials.length // 3
 */
export const record = (task: string, study: string, values: ReadonlyArray<number>, at: number): StudyRecord => ({
  task,
  study,
  direction: "minimize",
  metric: "loss",
  space: {
    lr: Distribution.float("lr", 1e-4, 1e-1, { log: true }),
    layers: Distribution.int("layers", 1, 8),
    opt: Distribution.categorical("opt", ["adam", "sgd", null, 3, true])
  },
  trials: values.map((v, i) => ({
    params: { lr: 10 ** -(1 + i), layers: 1 + (i % 8), opt: (["adam", "sgd", null, 3, true] as const)[i % 5] },
    value: v,
    state: i % 3 === 2 ? "Pruned" as const : "Complete" as const
  })),
  recordedAt: at
})

/**
 * Declares the suite for one layer (see the module's example).
 *
 * @example
 * import { TransferConformance } from "@tunekit/transfer/testing"
 * import { Transfer } from "@tunekit/transfer"
 * TransferConformance.suite("memory", async () => ({ transfer: Transfer.makeMemory(), close: async () => {} }))
 */
export const suite = (name: string, make: () => Promise<Subject>): void => {
  const using = async <A, E>(f: (db: TransferService) => Effect.Effect<A, E>): Promise<A> => {
    const s = await make()
    try {
      return await Effect.runPromise(f(s.transfer))
    } finally {
      await s.close()
    }
  }

  describe(`Transfer conformance (${name})`, () => {
    it("saves tasks: created, then tags and meta-features updated only when given, listed by name", async () => {
      const [a, b, c, all] = await using((db) =>
        Effect.gen(function*() {
          const a = yield* db.saveTask({ name: "mnist_cnn", tags: ["vision"], metaFeatures: { logRows: 11, classEntropy: 3.3219 } })
          const b = yield* db.saveTask({ name: "mnist_cnn", metaFeatures: { logRows: 11.1 } })
          const c = yield* db.saveTask({ name: "mnist_cnn", tags: [] })
          yield* db.saveTask({ name: "cifar10_resnet" })
          return [a, b, c, yield* db.tasks] as const
        }))
      expect(a).toMatchObject({ name: "mnist_cnn", tags: ["vision"], metaFeatures: { logRows: 11, classEntropy: 3.3219 } })
      expect(b).toEqual({ name: "mnist_cnn", tags: ["vision"], metaFeatures: { logRows: 11.1 }, createdAt: a.createdAt })
      expect(c).toEqual({ ...b, tags: [] })
      expect(all.map((t) => t.name)).toEqual(["cifar10_resnet", "mnist_cnn"])
      expect(all[0]).toMatchObject({ tags: [], metaFeatures: undefined })
      expect(Math.abs(a.createdAt - Date.now())).toBeLessThan(60_000)
    })

    it("records studies (creating the task), replaces a study recorded again, gives them oldest first as recorded", async () => {
      const [studies, task, none] = await using((db) =>
        Effect.gen(function*() {
          yield* db.record(record("t", "s2", [3, 2], 20))
          yield* db.record(record("t", "s1", [5], 10))
          yield* db.record(record("t", "s2", [1, 0.5, 0.25, 1e-300, -7], 30))
          return [yield* db.studies("t"), yield* db.getTask("t"), yield* db.studies("other")] as const
        }))
      expect(task).toMatchObject({ name: "t", tags: [], metaFeatures: undefined })
      expect(studies.map((s) => [s.study, s.trials.length])).toEqual([["s1", 1], ["s2", 5]])
      expect(studies[1]).toEqual(record("t", "s2", [1, 0.5, 0.25, 1e-300, -7], 30))
      expect(Distribution.equals(studies[1].space.lr, Distribution.float("lr", 1e-4, 1e-1, { log: true }))).toBe(true)
      expect(none).toEqual([])
    })

    it("a missing task is TaskNotFound; deleting a task deletes its studies and only its", async () => {
      const [missing, studies, kept, again, names] = await using((db) =>
        Effect.gen(function*() {
          const missing = yield* Effect.flip(db.getTask("nope"))
          yield* db.record(record("gone", "s", [1], 1))
          yield* db.record(record("kept", "s", [2], 2))
          yield* db.deleteTask("gone")
          return [missing, yield* db.studies("gone"), yield* db.studies("kept"), yield* Effect.flip(db.deleteTask("gone")), (yield* db.tasks).map((t) => t.name)] as const
        }))
      expect(missing._tag).toBe("TaskNotFound")
      expect(missing.message).toContain(`no task named "nope"`)
      expect(studies).toEqual([])
      expect(kept).toHaveLength(1)
      expect(again._tag).toBe("TaskNotFound")
      expect(names).toEqual(["kept"])
    })

    it("keeps tasks and studies whose names hold quotes, slashes and other letters apart", async () => {
      const names = [`it's`, `a"b`, "a/b", "a\\b", "naïve-βayes", "a%2Fb", " a "]
      const back = await using((db) =>
        Effect.gen(function*() {
          for (const [i, n] of names.entries()) yield* db.record(record(n, `${n}#study`, [i], i))
          return yield* Effect.forEach(names, (n) => Effect.map(db.studies(n), (s) => s.map((r) => [r.task, r.study, r.trials[0].value])))
        }))
      expect(back).toEqual(names.map((n, i) => [[n, `${n}#study`, i]]))
    })

    it("concurrent records all land", async () => {
      const studies = await using((db) =>
        Effect.gen(function*() {
          yield* Effect.forEach(Array.from({ length: 20 }, (_, i) => i), (i) => db.record(record("busy", `s${String(i).padStart(2, "0")}`, [i], i)), { concurrency: "unbounded" })
          return yield* db.studies("busy")
        }))
      expect(studies.map((s) => s.study)).toEqual(Array.from({ length: 20 }, (_, i) => `s${String(i).padStart(2, "0")}`))
    })
  })
}
