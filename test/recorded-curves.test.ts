import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { firstValueFrom, lastValueFrom, take, toArray } from "rxjs"
import { describe, expect, it } from "vitest"
import * as Recorded from "../benchmarks/_recorded.js"

const curve = (values: ReadonlyArray<number>, diverged?: number): Recorded.Curve => ({
  params: { lr: 0.1 },
  seed: 0,
  metrics: { val_accuracy: values, train_loss: values.map((v) => 1 - v) },
  seconds: 1,
  ...(diverged === undefined ? {} : { diverged })
})

const set = (curves: ReadonlyArray<Recorded.Curve>, epochs: number): Recorded.CurveSet => ({
  format: Recorded.FORMAT,
  name: "test",
  description: "a test set",
  metric: "val_accuracy",
  direction: "maximize",
  epochs,
  space: { lr: "float" },
  provenance: { recorded: "2026-11-30", seed: 0 },
  curves
})

describe("Recorded.replay", () => {
  const values = Array.from({ length: 50 }, (_, i) => i / 50)

  it("emits every recorded metric from epoch resumeFrom + 1 and counts what it emits", async () => {
    const produced = { steps: 0 }
    const all = await lastValueFrom(Recorded.replay(curve(values), undefined, produced).pipe(toArray()))
    expect(all.map((m) => m.step)).toEqual(values.map((_, i) => i + 1))
    expect(all[9].values).toEqual({ val_accuracy: values[9], train_loss: 1 - values[9] })
    const resumed = await lastValueFrom(Recorded.replay(curve(values), 27, produced).pipe(toArray()))
    expect(resumed[0].step).toBe(28)
    expect(produced.steps).toBe(50 + 23)
  })

  it("a synchronous source stops producing as soon as its subscriber unsubscribes", async () => {
    const produced = { steps: 0 }
    const first = await lastValueFrom(Recorded.replay(curve(values), undefined, produced).pipe(take(3), toArray()))
    expect(first.map((m) => m.step)).toEqual([1, 2, 3])
    // take(3) unsubscribes on the third value: the fourth epoch is never produced
    expect(produced.steps).toBe(3)
  })

  it("a run that diverged errors where it diverged, after its recorded epochs", async () => {
    const produced = { steps: 0 }
    const seen: Array<number> = []
    const error = await new Promise((resolve) =>
      Recorded.replay(curve(values.slice(0, 6), 7), undefined, produced).subscribe({ next: (m) => seen.push(m.step), error: resolve })
    )
    expect(seen).toEqual([1, 2, 3, 4, 5, 6])
    expect(String(error)).toContain("diverged at epoch 7")
    expect(produced.steps).toBe(6)
  })
})

describe("Recorded fixtures", () => {
  it("round-trip through gzipped JSON, and a curve of the wrong length is an error naming it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-curves-"))
    const good = set([curve([0.1, 0.2, 0.3]), curve([0.5], 2)], 3)
    Recorded.save(good, dir)
    expect(Recorded.available(dir)).toEqual(["test"])
    expect(Recorded.load("test", dir)).toEqual(good)
    expect(Recorded.finalValue(good, good.curves[0])).toBe(0.3)
    expect(Recorded.finalValue(good, good.curves[1])).toBeUndefined()
    Recorded.save(set([curve([0.1, 0.2, 0.3]), curve([0.1, 0.2])], 3), dir)
    expect(() => Recorded.load("test", dir)).toThrow("curve 1: val_accuracy has 2 epochs, expected 3")
    expect(() => Recorded.load("missing", dir)).toThrow("no recorded curves named missing")
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("the shipped digits MLP set holds at least 200 configurations of 50 epochs, with provenance", async () => {
    const digits = Recorded.load("digits-mlp")
    expect(digits.curves.length).toBeGreaterThanOrEqual(200)
    expect(digits.epochs).toBe(50)
    expect(digits.metric).toBe("val_accuracy")
    for (const key of ["recorded", "command", "seed", "backend", "tfjs"]) expect(digits.provenance[key]).toBeDefined()
    const completed = digits.curves.filter((c) => c.diverged === undefined)
    expect(completed.length).toBeGreaterThan(0)
    for (const c of completed) expect(c.metrics.train_loss.length).toBe(50)
    const first = await firstValueFrom(Recorded.replay(digits.curves[0], 49, { steps: 0 }))
    expect(first.step).toBe(50)
  })

  it("every shipped set passes the checks and holds a second model family", () => {
    const names = Recorded.available()
    expect(names.length).toBeGreaterThanOrEqual(2)
    for (const name of names) expect(Recorded.load(name).name).toBe(name)
  })
})

describe("Recorded.predictiveness", () => {
  it("Spearman's correlation is 1 for any increasing relation, -1 for a decreasing one, and ties share ranks", () => {
    expect(Recorded.spearman([1, 2, 3, 4], [10, 100, 1000, 10000])).toBeCloseTo(1, 12)
    expect(Recorded.spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12)
    // ranks [1.5, 1.5, 3] against [1, 2, 3]: r = 0.866
    expect(Recorded.spearman([5, 5, 7], [1, 2, 3])).toBeCloseTo(Math.sqrt(3) / 2, 12)
  })

  it("ranks the configuration that ends best at each epoch, from the best, and leaves out diverged runs", () => {
    // the slow learner (curve 2) ends best: last at epoch 1, first at epoch 3
    const s = set([curve([0.5, 0.6, 0.7]), curve([0.4, 0.5, 0.6]), curve([0.1, 0.4, 0.9]), curve([0.9, 0.9], 3)], 3)
    const p = Recorded.predictiveness(s, [1, 3, 5])
    expect(p.map((r) => r.epoch)).toEqual([1, 3])
    expect(p.map((r) => r.winnerRank)).toEqual([3, 1])
    expect(p[1].spearman).toBeCloseTo(1, 12)
  })
})
