import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, expectTypeOf, it } from "vitest"
import { Asha, Bohb, Hyperband, Median, Pbt, SuccessiveHalving, Threshold } from "@tunekit/schedulers"
import { Effect } from "effect"
import { Observable } from "rxjs"
import { Storage } from "@tunekit/core"
import { optimize, Space, Trial, TunekitError } from "../src/index.js"

describe("tunekit.optimize", () => {
  const space = Space.struct({ x: Space.float(-5, 5), kind: Space.categorical(["a", "b"]) })

  it("runs a study from plain async code and gives typed configs", async () => {
    const result = await optimize({
      study: "facade",
      space,
      objective: async ({ x, kind }) => (x - 1) ** 2 + (kind === "a" ? 0 : 1),
      trials: 30,
      seed: 5
    })
    expect(result.trials.length).toBe(30)
    expectTypeOf(result.best!.config).toEqualTypeOf<{ readonly x: number; readonly kind: "a" | "b" }>()
    const best = result.best!
    expect(best.value).toBeCloseTo((best.config.x - 1) ** 2 + (best.config.kind === "a" ? 0 : 1), 12)
    expect(best.value).toBe(Math.min(...result.trials.map((t) => t.value!)))
  })

  it("is reproducible for a seed and stores in SQLite", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-facade-"))
    const storage = path.join(dir, "f.db")
    const a = await optimize({ study: "s", space, objective: ({ x }) => x, trials: 5, seed: 9, storage })
    const b = await optimize({ study: "s2", space, objective: ({ x }) => x, trials: 5, seed: 9 })
    // the seed derives per-study generators from the study's name; same name, same configs
    const c = await optimize({ study: "s", space, objective: ({ x }) => x, trials: 5, seed: 9 })
    expect(c.trials.map((t) => t.config)).toEqual(a.trials.map((t) => t.config))
    expect(b.trials.map((t) => t.config)).not.toEqual(a.trials.map((t) => t.config))
    expect(fs.statSync(storage).size).toBeGreaterThan(0)
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("uses the automatic sampler when none is named, and records what it chose", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-facade-auto-"))
    const storage = path.join(dir, "auto.db")
    const r = await optimize({ study: "auto", space, objective: ({ x }) => (x - 1) ** 2, trials: 20, seed: 2, storage })
    expect(r.trials.length).toBe(20)
    const stored = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const s = yield* Storage.Storage
      const info = yield* s.getStudy("auto")
      return { info, trials: yield* s.getTrials(info.id) }
    }).pipe(Effect.provide(Storage.layerSqlite(storage)))))
    expect(stored.info.systemAttrs["auto.sampler"]).toMatchObject({ sampler: expect.any(String), reason: expect.any(String) })
    expect(stored.trials.every((t) => typeof t.systemAttrs["auto.sampler"] === "string")).toBe(true)
  })

  it("rejects with a TunekitError naming the problem", async () => {
    const e = await optimize({ study: "bad", space, objective: () => 1, concurrency: 0 }).catch((e) => e)
    expect(e).toBeInstanceOf(TunekitError)
    expect(e.message).toMatch(/concurrency/)
    expect((e.cause as { _tag: string })._tag).toBe("InvalidOptions")
  })

  // Every scheduler, those that keep their state in the study's storage and checkpoints included.
  const curve = ({ x }: { readonly x: number }, trial: { readonly resumeFrom: number | undefined }) =>
    new Observable<Trial.Metric>((s) => {
      for (let step = (trial.resumeFrom ?? 0) + 1; step <= 9 && !s.closed; step++) s.next({ step, values: { value: (x - 1) ** 2 + 1 / step } })
      s.complete()
    })
  const resources = { minResource: 1, maxResource: 9, reductionFactor: 3 }
  const schedulers = [
    ["median", Median.layer()],
    ["threshold", Threshold.layer({ upper: 100 })],
    ["ASHA stopping", Asha.layer(resources)],
    ["ASHA promotion", Asha.layer({ ...resources, mode: "promotion" })],
    ["successive halving", SuccessiveHalving.layer(resources)],
    ["Hyperband", Hyperband.layer(resources)],
    ["PBT", Pbt.layer({ perturbationInterval: 3, maxStep: 9 })]
  ] as const
  for (const [name, scheduler] of schedulers) {
    it(`takes the ${name} scheduler`, async () => {
      const r = await optimize({ study: name, space, objective: curve, trials: 12, concurrency: 3, seed: 1, scheduler })
      expect(r.trials.length).toBeGreaterThanOrEqual(12)
      expect(r.trials.every((t) => t.state === "Complete" || t.state === "Pruned")).toBe(true)
      expect(r.best?.state).toBe("Complete")
    })
  }

  it("takes BOHB with its Hyperband, and refuses it with another scheduler", async () => {
    const r = await optimize({ study: "bohb", space, objective: curve, trials: 12, seed: 1, sampler: Bohb.layer(resources), scheduler: Hyperband.layer(resources) })
    expect(r.best?.state).toBe("Complete")
    for (const scheduler of [Median.layer(), Hyperband.layer({ ...resources, maxResource: 27 })]) {
      const e = await optimize({ study: "bohb2", space, objective: curve, trials: 3, sampler: Bohb.layer(resources), scheduler }).catch((e) => e)
      expect(e).toBeInstanceOf(TunekitError)
      expect(e.message).toMatch(/the bohb sampler/)
    }
  })
})
