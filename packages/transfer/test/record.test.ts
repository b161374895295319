import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { Storage, Space, Study, Tracker, Trial } from "@tunekit/core"
import { Iris, Wine } from "@tunekit/datasets"
import { Commands, Transfer } from "../src/index.js"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-transfer-record-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const space = Space.struct({ depth: Space.int(1, 8), rate: Space.float(0.01, 0.3, { log: true }), criterion: Space.categorical(["gini", "entropy"] as const) })
const objective = (c: Space.Type<typeof space>) => (c.depth === 8 ? Number.NaN : Math.abs(c.depth - 4) + c.rate)

describe("recording studies in the transfer database", () => {
  it("the recorder tracker records a finished study under the task it names (user attribute task)", async () => {
    const file = path.join(dir, "study.db")
    const program = Effect.gen(function*() {
      const storage = yield* Storage.Storage
      const study = yield* Study.open({ study: "iris-trees", space })
      yield* storage.setStudyAttr(study.info.id, "user", Transfer.TASK_ATTR, "iris_trees")
      const r = yield* Study.optimize({ study: "iris-trees", space, objective, trials: 12 })
      // the run loop calls studyFinished when Study.optimize ends
      const tracker = yield* Tracker.Tracker
      yield* tracker.studyFinished!(study.info, { state: "Finished" })
      return { trials: r.trials, studies: yield* (yield* Transfer.Transfer).studies("iris_trees") }
    }).pipe(
      Effect.provide(Transfer.recorder()),
      Effect.provide(Layer.merge(Transfer.layerSqlite(file), Study.layerDefaults({ seed: 2, storage: file })))
    )
    const { trials, studies } = await Effect.runPromise(program)
    expect(studies).toHaveLength(1)
    const rec = studies[0]
    expect(rec).toMatchObject({ task: "iris_trees", study: "iris-trees", direction: "minimize", metric: "value" })
    expect(Object.keys(rec.space).sort()).toEqual(["criterion", "depth", "rate"])
    const complete = trials.filter((t) => t.state === "Complete")
    expect(rec.trials).toEqual(complete.map((t) => ({ params: Trial.paramValues(t), value: t.values![0], state: "Complete" })))
  })

  it("a study that names no task is left alone; recordStudy and the commands record, list and compare", async () => {
    const file = path.join(dir, "commands.db")
    const program = Effect.gen(function*() {
      yield* Study.optimize({ study: "wine-trees", space, objective, trials: 6 })
      const tracker = yield* Tracker.Tracker
      const info = (yield* Study.open({ study: "wine-trees", space })).info
      yield* tracker.studyFinished!(info, { state: "Finished" })
      const before = yield* (yield* Transfer.Transfer).tasks
      yield* Transfer.saveTask({ name: "wine_trees", tags: ["tabular"], metaFeatures: { ...Transfer.describe(Wine.load()) } })
      yield* Transfer.saveTask({ name: "iris_trees", metaFeatures: { ...Transfer.describe(Iris.load()) } })
      const recorded = yield* Commands.record("wine-trees", "wine_trees")
      return { before, recorded, tasks: yield* Commands.tasks(), similar: yield* Commands.similar("wine_trees", 3) }
    }).pipe(
      Effect.provide(Transfer.recorder()),
      Effect.provide(Layer.merge(Transfer.layerSqlite(file), Study.layerDefaults({ seed: 3, storage: file })))
    )
    const r = await Effect.runPromise(program)
    expect(r.before).toEqual([])
    expect(r.recorded).toMatch(/^recorded study "wine-trees" under task "wine_trees": \d+ trials, 3 parameters$/)
    const lines = r.tasks.split("\n")
    expect(lines[0]).toMatch(/^task\s+tags\s+studies\s+trials\s+meta-features\s+best$/)
    expect(lines.find((l) => l.startsWith("wine_trees"))).toMatch(/^wine_trees\s+tabular\s+1\s+\d+\s+yes\s+value \d/)
    expect(lines.find((l) => l.startsWith("iris_trees"))).toMatch(/^iris_trees\s+-\s+0\s+0\s+yes\s+-$/)
    expect(r.similar.split("\n")[1]).toMatch(/^iris_trees\s+0\.\d{4}$/)
  })
})
