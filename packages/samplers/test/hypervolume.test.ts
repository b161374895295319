import { fc, test } from "@fast-check/vitest"
import type { Trial } from "@tunekit/core"
import { describe, expect, it } from "vitest"
import * as Hypervolume from "../src/Hypervolume.js"
import * as Nsga2 from "../src/Nsga2.js"

const trial = (number: number, values: ReadonlyArray<number> | undefined, state: Trial.State = "Complete"): Trial.FrozenTrial => ({
  id: number + 1,
  number,
  state,
  params: {},
  distributions: {},
  values,
  intermediate: [],
  userAttrs: {},
  systemAttrs: {},
  startedAt: 0,
  finishedAt: 1,
  worker: undefined,
  reason: undefined
})

describe("Hypervolume on small known fronts", () => {
  it("2-D staircase: three unit steps under the reference", () => {
    // Boxes of the sweep: (4-1)(4-3) + (4-2)(3-2) + (4-3)(2-1) = 3 + 2 + 1.
    expect(Hypervolume.compute([[1, 3], [2, 2], [3, 1]], [4, 4])).toBe(6)
  })

  it("ignores dominated points, duplicates and points not below the reference", () => {
    const front = [[1, 3], [2, 2], [3, 1]]
    expect(Hypervolume.compute([...front, [3, 3], [2, 2], [5, 0], [4, 1], [0, 4]], [4, 4])).toBe(6)
    expect(Hypervolume.compute([], [1, 1])).toBe(0)
  })

  it("3-D: three unit slabs on the axes (inclusion-exclusion by hand: 3*4 - 3*2 + 1 = 7)", () => {
    expect(Hypervolume.compute([[0, 0, 1], [0, 1, 0], [1, 0, 0]], [2, 2, 2])).toBeCloseTo(7, 12)
    expect(Hypervolume.compute([[1, 1, 1]], [2, 3, 4])).toBe(6)
  })

  it("4-D: two overlapping boxes (8 + 8 - 4 = 12)", () => {
    expect(Hypervolume.compute([[1, 0, 0, 0], [0, 1, 0, 0]], [2, 2, 2, 2])).toBeCloseTo(12, 12)
  })

  it("1-D: the distance from the best point to the reference", () => {
    expect(Hypervolume.compute([[3], [1], [2]], [5])).toBe(4)
  })

  it("rejects a point whose length differs from the reference", () => {
    expect(() => Hypervolume.compute([[1, 2, 3]], [4, 4])).toThrow(/3 objectives and the reference 2/)
  })

  it("of trials: maximized objectives are flipped, only complete trials count", () => {
    const trials = [trial(0, [1, 3]), trial(1, [2, 4]), trial(2, [0, 10], "Pruned"), trial(3, undefined, "Failed")]
    // Minimize the first, maximize the second, reference (4, 0): as minimization (1,-3), (2,-4)
    // against (4, 0): (4-1)*3 + (4-2)*(4-3) = 9 + 2.
    expect(Hypervolume.ofTrials(trials, ["minimize", "maximize"], [4, 0])).toBe(11)
  })

  const front = (d: number) =>
    fc.array(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: d, maxLength: d }), { minLength: 0, maxLength: 9 })

  test.prop([fc.integer({ min: 2, max: 5 }).chain((d) => front(d).map((ps) => [d, ps] as const))], { numRuns: 150 })(
    "WFG agrees with inclusion-exclusion on random fronts in 2 to 5 objectives",
    ([d, points]) => {
      const ref = new Array<number>(d).fill(10)
      const a = Hypervolume.compute(points, ref)
      const b = Hypervolume.bruteForce(points, ref)
      expect(a).toBeCloseTo(b, 6)
    }
  )

  test.prop([front(3)], { numRuns: 60 })("3-D volume equals the count of dominated unit cells of an integer grid", (points) => {
    // Integer points and reference: the dominated region is a union of unit cells [a, a+1)^3 for
    // cells whose lower corner some point weakly dominates.
    const R = 10
    let cells = 0
    for (let a = 0; a < R; a++) for (let b = 0; b < R; b++) for (let c = 0; c < R; c++) {
      if (points.some((p) => p[0] <= a && p[1] <= b && p[2] <= c)) cells++
    }
    expect(Hypervolume.compute(points, [R, R, R])).toBeCloseTo(cells, 9)
  })

  test.prop([front(2)], { numRuns: 100 })("adding a point never decreases the volume", (points) => {
    const ref = [10, 10]
    const base = Hypervolume.compute(points, ref)
    expect(Hypervolume.compute([...points, [5, 5]], ref)).toBeGreaterThanOrEqual(base - 1e-9)
  })
})

describe("Non-dominated sorting and crowding distance", () => {
  it("sorts a small set into its known fronts", () => {
    const values = [[1, 5], [2, 2], [5, 1], [3, 3], [4, 4], [2, 6], [6, 6]]
    expect(Nsga2.nonDominatedSort(values, ["minimize", "minimize"])).toEqual([[0, 1, 2], [3, 5], [4], [6]])
  })

  it("respects maximized objectives", () => {
    // Maximize both: (5, 5) dominates everything, then (4, 1) and (1, 4), then (0, 0).
    const values = [[0, 0], [4, 1], [5, 5], [1, 4]]
    expect(Nsga2.nonDominatedSort(values, ["maximize", "maximize"])).toEqual([[2], [1, 3], [0]])
  })

  it("equal points share a front", () => {
    expect(Nsga2.nonDominatedSort([[1, 1], [1, 1], [2, 2]], ["minimize", "minimize"])).toEqual([[0, 1], [2]])
  })

  it("crowding distance: extremes infinite, inner points the normalized sum of neighbour gaps", () => {
    // Objective ranges are 4 and 4. Point (1, 2): neighbours 0 and 3 in the first, 1 and 4 in the
    // second: 3/4 + 3/4 = 1.5. Point (3, 1): 1 and 4, then 0 and 2: 3/4 + 2/4 = 1.25.
    const values = [[0, 4], [1, 2], [3, 1], [4, 0]]
    expect(Nsga2.crowding(values, [0, 1, 2, 3], ["minimize", "minimize"])).toEqual([Infinity, 1.5, 1.25, Infinity])
  })

  test.prop([fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20 })), { maxLength: 30 })], { numRuns: 100 })(
    "fronts partition the points; nothing in a front is dominated by its own or a later front",
    (values) => {
      const fronts = Nsga2.nonDominatedSort(values, ["minimize", "minimize", "minimize"])
      expect(fronts.flat().sort((a, b) => a - b)).toEqual(values.map((_, i) => i))
      const dom = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => a.every((v, i) => v <= b[i]) && a.some((v, i) => v < b[i])
      fronts.forEach((front, f) => {
        for (const i of front) {
          for (const later of fronts.slice(f)) for (const j of later) expect(dom(values[j], values[i])).toBe(false)
          // Every point after the first front is dominated by some point of the front before.
          if (f > 0) expect(fronts[f - 1].some((j) => dom(values[j], values[i]))).toBe(true)
        }
      })
    }
  )
})
