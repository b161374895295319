// PBT with checkpoint retention: the same lineage and results as with every checkpoint kept, while
// the store holds at most population x (keepLast + 1) + keepBest checkpoints, and keepBest at the end.
import { Checkpoint, Retention, Rng, Sampler, Space, Storage, Study, Tracker, Trial } from "@tunekit/core"
import { Effect, Layer, Option } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { Pbt } from "../src/index.js"
import { toyTraining } from "./toyTraining.js"

const STEPS = 40
const POPULATION = 8
const toy = toyTraining(STEPS)
const space = Space.struct({ lr: Space.float(1e-3, 1, { log: true }) })
type Config = Space.Type<typeof space>

interface Run {
  readonly summary: ReadonlyArray<unknown>
  readonly most: number
  readonly left: ReadonlyArray<Checkpoint.Entry>
}

/** Runs PBT on a store; `raw` is the store under the retention (or the store itself), listed after each save. */
const runPbt = (seed: number, store: Checkpoint.CheckpointService, raw: Checkpoint.CheckpointService): Promise<Run> => {
  let most = 0
  const program = Effect.gen(function*() {
    const r = yield* Study.optimize({
      study: "decay",
      space,
      metric: "loss",
      direction: "minimize",
      trials: POPULATION,
      concurrency: POPULATION,
      objective: toy.objective(store, async () => {
        most = Math.max(most, (await Effect.runPromise(raw.list!("decay"))).length)
      })
    })
    const all = yield* r.study.trials
    return all.map((t) => [t.number, t.state, t.params, t.systemAttrs[Pbt.LINEAGE] ?? null, t.values ?? null, t.intermediate.map((m) => m.values.loss)])
  })
  const services = Layer.mergeAll(
    Pbt.layer({ perturbationInterval: 4, quantileFraction: 0.25, hyperparamMutations: { lr: true }, maxStep: STEPS }),
    Sampler.layerRandom,
    Tracker.layerNone
  ).pipe(Layer.provideMerge(Layer.mergeAll(Storage.layerMemory, Rng.layer({ seed }), Layer.succeed(Checkpoint.Checkpoint, store))))
  return Effect.runPromise(Effect.scoped(Effect.provide(program, services))).then(async (summary) => ({
    summary,
    most,
    left: await Effect.runPromise(raw.list!("decay"))
  }))
}

describe("PBT with checkpoint retention", () => {
  it.each([
    [{ keepLast: 1, keepBest: 1 }],
    [Retention.defaults]
  ])("gives the same lineage and results as with every checkpoint kept, within the bound (%j)", async (policy) => {
    for (const seed of [3, 9]) {
      const all = Checkpoint.makeMemory()
      const without = await runPbt(seed, all, all)
      const raw = Checkpoint.makeMemory()
      const withRetention = await runPbt(seed, Retention.make(raw, policy), raw)
      expect(withRetention.summary).toEqual(without.summary)
      // Exploits happened: continuations restored donors' checkpoints.
      expect(without.summary.filter((t) => (t as Array<unknown>)[3] !== null).length).toBeGreaterThan(3)
      expect(withRetention.most).toBeLessThanOrEqual(POPULATION * (policy.keepLast + 1) + policy.keepBest)
      expect(without.most).toBeGreaterThan(POPULATION * STEPS)
      // When the study is done: the final checkpoints of the best keepBest trials.
      const done = (without.summary as Array<[number, Trial.State, unknown, unknown, ReadonlyArray<number> | null]>)
        .filter((t) => t[1] === "Complete")
        .sort((a, b) => a[4]![0] - b[4]![0] || a[0] - b[0])
        .slice(0, policy.keepBest)
      expect(withRetention.left.map((e) => [e.trial, e.step])).toEqual(done.map((t) => [t[0], STEPS]).sort((a, b) => a[0] - b[0]))
    }
  })

  it("on the files store, keeps its bound during the run and the best trials' finals after it", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-pbt-retention-"))
    const raw = Checkpoint.makeFiles(dir)
    const r = await runPbt(5, Retention.make(raw, Retention.defaults), raw)
    const { keepBest, keepLast } = Retention.defaults
    expect(r.most).toBeLessThanOrEqual(POPULATION * (keepLast + 1) + keepBest)
    expect(r.left).toHaveLength(keepBest)
    expect(r.left.every((e) => e.step === STEPS)).toBe(true)
    // What is left on disk: the kept checkpoints' folders, nothing else.
    expect(fs.readdirSync(path.join(dir, "decay")).sort()).toEqual(r.left.map((e) => `trial-${e.trial}`).sort())
  })
})
