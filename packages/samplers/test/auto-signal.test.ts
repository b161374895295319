import { Space } from "@tunekit/core"
import type { Trial } from "@tunekit/core"
import { Rng } from "@tunekit/core"
import { describe, expect, it } from "vitest"
import * as Signal from "../src/internal/autoSignal.js"

const space = Space.compile(Space.struct({ x: Space.float(-5, 5), y: Space.float(-5, 5) })).params
const trial = (number: number, x: number, y: number, value: number): Trial.FrozenTrial => ({
  id: number,
  number,
  state: "Complete",
  params: { x, y },
  distributions: Object.fromEntries(space),
  values: [value],
  intermediate: [],
  userAttrs: {},
  systemAttrs: {},
  startedAt: number,
  finishedAt: number,
  worker: undefined,
  reason: undefined
})
const historyOf = (f: (x: number, y: number) => number, n: number, seed: number) => {
  const rng = Rng.generator(seed, "points")
  return Array.from({ length: n }, (_, i) => {
    const x = rng.uniform(-5, 5)
    const y = rng.uniform(-5, 5)
    return trial(i, x, y, f(x, y))
  })
}
const smooth = (x: number, y: number) => (x - 1) ** 2 + 2 * (y + 0.5) ** 2
// Rastrigin: ripples of period 1 on a bowl, finer than 30 points in a 10 x 10 box resolve.
const rugged = (x: number, y: number) => [x - 1.3, y + 0.7].reduce((a, z) => a + z * z - 10 * Math.cos(2 * Math.PI * z) + 10, 0)

describe("Auto's landscape signal", () => {
  it("leaves almost nothing of a smooth objective to noise, and much of a rugged one", () => {
    for (const seed of [1, 2, 3]) {
      const s = Signal.fit(historyOf(smooth, 30, seed), space, "minimize", Rng.generator(seed, "fit"))!
      const r = Signal.fit(historyOf(rugged, 30, seed), space, "minimize", Rng.generator(seed, "fit"))!
      expect(s.n).toBe(30)
      expect(s.noiseShare).toBeLessThan(0.01)
      expect(r.noiseShare).toBeGreaterThan(Signal.defaults.threshold)
      // Maximizing the negated objective is the same problem.
      const m = Signal.fit(historyOf((x, y) => -smooth(x, y), 30, seed), space, "maximize", Rng.generator(seed, "fit"))!
      expect(m.noiseShare).toBeCloseTo(s.noiseShare, 6)
    }
  })

  it("reads the median of the latest fits, each on the first k completed trials by number, from the history alone", () => {
    const history = historyOf(rugged, 37, 4)
    expect(Signal.ruggedness(history.slice(0, 19), space, "minimize", (k) => Rng.generator(k), new Map())).toBeUndefined()
    const cache: Signal.Cache = new Map()
    const r = Signal.ruggedness(history, space, "minimize", (k) => Rng.generator(k), cache)!
    // Checkpoints 20, 25, 30, 35: the latest three are fitted.
    expect(cache.size).toBe(3)
    const shares = [25, 30, 35].map((k) => Signal.fit(history.slice(0, k), space, "minimize", Rng.generator(k))!.noiseShare).sort((a, b) => a - b)
    expect(r).toBe(shares[1])
    // The order in which the trials arrive does not matter; a cached fit is reused.
    expect(Signal.ruggedness([...history].reverse(), space, "minimize", (k) => Rng.generator(k), cache)).toBe(r)
    expect(cache.size).toBe(3)
  })
})
