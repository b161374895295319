import { Effect } from "effect"
import { lastValueFrom, toArray } from "rxjs"
import { describe, expect, it } from "vitest"
import { Boosting, BreastCancer, Dataset, Diabetes, InvalidModelConfig, Iris, Model, Split, TrainingFailed, Wine } from "../src/index.js"

const chance = (ds: Dataset.Classification) => Math.max(...Dataset.classCounts(ds)) / ds.y.length

describe("gradient boosting (ml-xgboost, WebAssembly)", () => {
  it("learns binary and multi-class data well above chance on a holdout", async () => {
    for (const ds of [BreastCancer.load(), Wine.load()]) {
      const { train, test } = Split.holdout(ds, { testFraction: 0.25, seed: 2, stratify: true })
      const acc = await Boosting.score(train, test, { nEstimators: 40, maxDepth: 3, learningRate: 0.2, seed: 1 })
      expect(acc).toBeGreaterThan(0.9)
      expect(acc).toBeGreaterThan(chance(test) + 0.25)
    }
  })

  it("regression on diabetes: R² well above zero", async () => {
    const { train, test } = Split.holdout(Diabetes.load(), { seed: 2 })
    expect(await Boosting.score(train, test, { nEstimators: 100, maxDepth: 2, learningRate: 0.05 })).toBeGreaterThan(0.3)
  })

  it("class probabilities are rows summing to one; predict is their argmax", async () => {
    const iris = Iris.load()
    await Boosting.use(iris, { nEstimators: 10 }, (b) => {
      expect(b._tag).toBe("Classifier")
      if (b._tag !== "Classifier") return
      const ps = b.predictProba(iris.x.slice(0, 30))
      for (const p of ps) {
        expect(p).toHaveLength(3)
        expect(p.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 5)
      }
      expect(b.predict(iris.x.slice(0, 30))).toEqual(ps.map((p) => p.indexOf(Math.max(...p))))
    })
  })

  it("the same seed and subsampling give the same predictions", async () => {
    const ds = BreastCancer.load()
    const cfg = { nEstimators: 20, subsample: 0.7, colsampleBytree: 0.6, seed: 5 }
    const a = await Boosting.use(ds, cfg, (b) => (b as Model.Classifier).predictProba(ds.x.slice(0, 50)))
    const b = await Boosting.use(ds, cfg, (m) => (m as Model.Classifier).predictProba(ds.x.slice(0, 50)))
    expect(a).toEqual(b)
  })

  it("impossible configs throw InvalidModelConfig before reaching XGBoost", async () => {
    const ds = Iris.load()
    const before = await Boosting.memory()
    const cases: ReadonlyArray<[Boosting.Config, string]> = [
      [{ learningRate: 0 }, "boosting.learningRate: expected a number in (0, 1], got 0"],
      [{ nEstimators: 0 }, "boosting.nEstimators: expected an integer in [1, 100000], got 0"],
      [{ maxDepth: 0 }, "boosting.maxDepth: expected an integer in [1, 30], got 0"],
      [{ subsample: 1.5 }, "boosting.subsample: expected a number in (0, 1], got 1.5"],
      [{ colsampleBytree: 0 }, "boosting.colsampleBytree: expected a number in (0, 1], got 0"],
      [{ regAlpha: -1 }, "boosting.regAlpha: expected a number >= 0, got -1"],
      [{ gamma: NaN }, "boosting.gamma: expected a number >= 0, got NaN"]
    ]
    for (const [config, msg] of cases) {
      const err = await Boosting.score(ds, ds, config).then(() => undefined, (e) => e)
      expect(err).toBeInstanceOf(InvalidModelConfig)
      expect((err as Error).message).toBe(msg)
    }
    const after = await Boosting.memory()
    expect(after.created).toBe(before.created)
  })

  it("memory is freed: no growth of the WebAssembly heap over repeated fits", async () => {
    const { train, test } = Split.holdout(BreastCancer.load(), { seed: 3, stratify: true })
    const cfg = { nEstimators: 30, maxDepth: 5 }
    // warm up the allocator, then measure the break over many more fits
    for (let i = 0; i < 2; i++) await Boosting.score(train, test, cfg)
    const start = await Boosting.memory()
    for (let i = 0; i < 12; i++) await Boosting.score(train, test, cfg)
    const end = await Boosting.memory()
    expect(end.liveModels).toBe(0)
    expect(end.freed - start.freed).toBe(12)
    // unfreed, each of these models would keep about 2.5 MB of the heap (30 MB over 12 fits, measured)
    expect(end.breakBytes - start.breakBytes).toBeLessThan(64 * 1024)
  })

  it("the model is freed when the code using it throws", async () => {
    const ds = Wine.load()
    const before = await Boosting.memory()
    await expect(Boosting.use(ds, { nEstimators: 5 }, () => {
      throw new Error("scorer bug")
    })).rejects.toThrow("scorer bug")
    const after = await Boosting.memory()
    expect(after.created - before.created).toBe(1)
    expect(after.liveModels).toBe(0)
    // and a booster used after its scope is a clear error, not a read of freed memory
    let leaked: Boosting.Booster | undefined
    await Boosting.use(ds, { nEstimators: 5 }, (b) => void (leaked = b))
    expect(() => leaked!.predict(ds.x)).toThrow(/after its scope ended/)
  })

  it("a failure inside XGBoost: TrainingFailed with its message, the model freed, a clean instance next", async () => {
    const ds = Wine.load()
    const before = await Boosting.memory()
    const err = await Boosting.score(ds, ds, { nEstimators: 5, params: { objective: "no:such" } }).then(() => undefined, (e) => e)
    expect(err).toBeInstanceOf(TrainingFailed)
    expect((err as Error).message).toMatch(/Unknown objective function no:such/)
    const after = await Boosting.memory()
    expect(after.liveModels).toBe(0)
    expect(after.instances).toBe(before.instances + 1)
    // the fresh instance trains as well as ever
    const { train, test } = Split.holdout(ds, { seed: 1, stratify: true })
    expect(await Boosting.score(train, test, { nEstimators: 30, maxDepth: 3 })).toBeGreaterThan(0.85)
  })

  it("fit is a scoped resource: freed when the scope closes", async () => {
    const ds = Iris.load()
    const before = await Boosting.memory()
    const acc = await Effect.runPromise(Effect.scoped(Effect.map(Boosting.fit(ds, { nEstimators: 10 }), (b) => Model.score(b, ds))))
    expect(acc).toBeGreaterThan(0.9)
    const after = await Boosting.memory()
    expect(after.created - before.created).toBe(1)
    expect(after.liveModels).toBe(0)
    const failed = await Effect.runPromise(Effect.either(Effect.scoped(Boosting.fit(ds, { maxDepth: -1 }))))
    expect(failed._tag === "Left" && failed.left._tag).toBe("InvalidModelConfig")
  })

  it("stream: a report every few rounds, the same model as training all at once, freed at the end", async () => {
    const { train, test } = Split.holdout(BreastCancer.load(), { seed: 3, stratify: true })
    const cfg = { nEstimators: 25, maxDepth: 3, learningRate: 0.3 }
    const before = await Boosting.memory()
    const ms = await lastValueFrom(Boosting.stream(train, test, cfg, { every: 10 }).pipe(toArray()))
    expect(ms.map((m) => m.step)).toEqual([10, 20, 25])
    expect(ms[2].values.accuracy).toBe(await Boosting.score(train, test, cfg))
    expect(ms[0].values.log_loss).toBeGreaterThan(ms[2].values.log_loss)
    const after = await Boosting.memory()
    expect(after.liveModels).toBe(0)
    expect(after.created - before.created).toBe(2)
    // with row and column subsampling too: chunks of 7 rounds give the model of 30 at once
    const sub = { nEstimators: 30, maxDepth: 3, subsample: 0.6, colsampleBytree: 0.5, seed: 4 }
    const chunked = await lastValueFrom(Boosting.stream(train, test, sub, { every: 7 }).pipe(toArray()))
    const whole = await lastValueFrom(Boosting.stream(train, test, sub, { every: 30 }).pipe(toArray()))
    expect(chunked.map((m) => m.step)).toEqual([7, 14, 21, 28, 30])
    expect(chunked.at(-1)!.values).toEqual(whole.at(-1)!.values)
    const reg = Split.holdout(Diabetes.load(), { seed: 1 })
    const rs = await lastValueFrom(Boosting.stream(reg.train, reg.test, { nEstimators: 40, maxDepth: 2, learningRate: 0.1 }, { every: 20 }).pipe(toArray()))
    expect(rs.map((m) => Object.keys(m.values).sort())).toEqual([["r2", "rmse", "score"], ["r2", "rmse", "score"]])
    expect(rs[1].values.rmse).toBeLessThan(rs[0].values.rmse)
  })

  it("stream: unsubscribing stops training and frees the model", async () => {
    const { train, test } = Split.holdout(BreastCancer.load(), { seed: 3, stratify: true })
    const steps: Array<number> = []
    await new Promise<void>((resolve) => {
      const sub = Boosting.stream(train, test, { nEstimators: 1000, maxDepth: 3 }, { every: 5 }).subscribe((m) => {
        steps.push(m.step)
        if (m.step === 10) {
          sub.unsubscribe()
          setTimeout(resolve, 50)
        }
      })
    })
    expect(steps).toEqual([5, 10])
    expect((await Boosting.memory()).liveModels).toBe(0)
    const err = await lastValueFrom(Boosting.stream(train, test, { nEstimators: 10 }, { every: 0 })).then(() => undefined, (e) => e)
    expect(err).toBeInstanceOf(InvalidModelConfig)
  })
})

