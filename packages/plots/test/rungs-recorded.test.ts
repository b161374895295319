// The rungs plot without being told the rungs: SQLite studies run by Study.optimize with ASHA
// (stopping, and promotion in two brackets) and Hyperband, whose schedulers record their options
// in the study (RungRecord); the plot rebuilds their rungs and brackets from that record.
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Sampler, Space, Storage, Study } from "@tunekit/core"
import { Asha, Budget, Hyperband, RungRecord } from "@tunekit/schedulers"
import { File, Kind, Report, Rungs, Source } from "../src/index.js"
import { parse, texts } from "./svg.js"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-plot-rungs-"))
const db = path.join(dir, "rungs.db")
const space = Space.struct({ final: Space.float(0, 1), speed: Space.float(1, 10) })
const hb = { minResource: 1, maxResource: 9, reductionFactor: 3 }
const hbTrials = Hyperband.plan(hb).configurations
const stopping = { minResource: 1, maxResource: 9, reductionFactor: 3 }
const promotion = { minResource: 1, maxResource: 9, reductionFactor: 3, mode: "promotion", brackets: 2, limit: 16 } as const

const reading = <A, E>(program: Effect.Effect<A, E, Storage.Storage>) =>
  Effect.runPromise(Effect.scoped(Effect.provide(program, Storage.layerSqlite(db, { readonly: true }))))

const run = (study: string, scheduler: Layer.Layer<any, never, Storage.Storage>, n: number) =>
  Effect.runPromise(Effect.scoped(
    Study.optimize({
      study,
      space,
      metric: "loss",
      concurrency: 2,
      objective: async (c, t) => {
        let loss = 0
        for (let step = (t.resumeFrom ?? 0) + 1; step <= 9; step++) {
          // curves cross: fast learners start low, slow ones end lower
          loss = c.final + (2 - c.final) * Math.exp(-step / c.speed)
          await t.report({ step, values: { loss } })
        }
        return loss
      }
    }).pipe(
      Effect.provide(Layer.mergeAll(scheduler, Budget.layerConfigurations(n).pipe(Layer.provide(Sampler.layerRandom)))),
      Effect.provide(Study.layerDefaults({ seed: 5, storage: db }))
    ) as Effect.Effect<unknown, unknown, import("effect").Scope.Scope>
  ))

beforeAll(async () => {
  await run("asha-stopping", Asha.layer(stopping), 20)
  await run("asha-promotion", Asha.layer(promotion), promotion.limit)
  await run("hyperband", Hyperband.layer({ ...hb, limit: hbTrials }), hbTrials)
}, 120_000)

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe("the rungs a rung scheduler recorded in its study", () => {
  it("each study holds its scheduler's record, read back with its rungs", async () => {
    const read = async (name: string) => RungRecord.read((await reading(Effect.flatMap(Storage.Storage, (s) => s.getStudy(name)))).systemAttrs)
    const a = await read("asha-stopping")
    expect(a?.scheduler).toBe("asha")
    expect(a?.rungs).toEqual([1, 3])
    expect((await read("asha-promotion"))?.options).toMatchObject({ mode: "promotion", brackets: 2 })
    expect((await read("hyperband"))?.scheduler).toBe("hyperband")
  })

  it("stopping ASHA (which marks no trial): every trial at rung 1, the pruned ones stopped there or at 3", async () => {
    const study = await reading(Source.load("asha-stopping"))
    expect(Kind.check("rungs", study)).toBeUndefined()
    const d = Rungs.make(study)
    expect(d.brackets).toEqual(["asha:0"])
    expect(d.rungs.map((r) => r.resource)).toEqual([1, 3])
    expect(d.rungs[0].members.length).toBe(20)
    const pruned = study.trials.filter((t) => t.state === "Pruned")
    expect(pruned.length).toBeGreaterThan(0)
    expect(d.rungs[0].counts.stopped + d.rungs[1].counts.stopped).toBe(pruned.length)
    // Those that went past rung 1 are the members of rung 3.
    expect(d.rungs[0].counts.promoted).toBe(d.rungs[1].members.length)
    expect(d.rungs[1].counts.promoted).toBe(study.trials.filter((t) => t.state === "Complete").length)
  })

  it("promotion ASHA in two brackets: each trial in its bracket, the second starting at rung 3", async () => {
    const study = await reading(Source.load("asha-promotion"))
    const d = Rungs.make(study)
    expect(d.brackets).toEqual(["asha:0", "asha:1"])
    expect(d.rungs.map((r) => [r.bracket, r.resource])).toEqual([["asha:0", 1], ["asha:0", 3], ["asha:1", 3]])
    expect(d.rungs[0].members.map((m) => m.trial).sort((a, b) => a - b)).toEqual(study.trials.filter((t) => t.number % 2 === 0).map((t) => t.number))
    expect(d.rungs[2].members.every((m) => m.trial % 2 === 1)).toBe(true)
    // Promotion ASHA lets floor(n / eta) of n past a rung, no more.
    for (const r of d.rungs) expect(r.counts.promoted).toBeLessThanOrEqual(Math.floor(r.members.length / 3))
  })

  it("Hyperband: each bracket's rungs hold the trials its plan says, and pass on the next rung's", async () => {
    const study = await reading(Source.load("hyperband"))
    const d = Rungs.make(study)
    const plan = Hyperband.plan({ ...hb, limit: hbTrials })
    // The bracket without rungs (s = 0) compares nothing and is left out.
    const planned = plan.brackets.filter((b) => b.rungs.length > 1)
    expect(planned.length).toBe(2)
    expect(d.brackets.length).toBe(planned.length)
    for (const [i, b] of planned.entries()) {
      const rungs = d.rungs.filter((r) => r.bracket === d.brackets[i])
      expect(rungs.map((r) => r.resource)).toEqual(b.rungs.slice(0, -1).map((r) => r.resource))
      rungs.forEach((r, k) => {
        expect(r.members.length).toBe(b.rungs[k].trials)
        expect(r.counts.promoted).toBe(b.rungs[k + 1].trials)
      })
    }
  })

  it("tunekit plot and the report draw it without --rungs, and --rungs still overrides", async () => {
    const out = path.join(dir, "hb.svg")
    await reading(File.plot("rungs", "hyperband", out))
    expect(texts(parse(fs.readFileSync(out, "utf8"))).some((t) => t.startsWith("hb:0:"))).toBe(true)
    const overridden = await reading(Effect.map(Source.load("hyperband"), (s) => Effect.runSync(Kind.make("rungs", s, { rungs: [1, 3] }))))
    expect((overridden as Rungs.Data).brackets).toEqual(["0"])
    const report = await reading(Effect.gen(function*() {
      const storage = yield* Storage.Storage
      const info = yield* storage.getStudy("asha-stopping")
      return { info, trials: yield* storage.getTrials(info.id) }
    }))
    expect(Report.make(report.info, report.trials).plots).toContain("rungs")
  })

  it("a study no rung scheduler ran says why, and lists what applies", async () => {
    const study = Source.make({ name: "plain", directions: ["minimize"] }, [])
    expect(Kind.check("rungs", study)).toMatch(/no record of a rung scheduler.*--rungs 1,3,9/)
    expect(() => Rungs.make(study)).toThrow(/not known/)
  })
})
