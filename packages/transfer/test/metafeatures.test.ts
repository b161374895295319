import { describe, expect, it } from "vitest"
import { Dataset, Iris, Wine } from "@tunekit/datasets"
import { MetaFeatures, Transfer } from "../src/index.js"

// Computed independently with numpy 2.4.6 and scipy 1.17.1 by test/reference/metafeatures.py
// (skewness and kurtosis by scipy.stats; the stump and 1-NN written there from their definitions)
// on the same data and tunekit's stratified 10-fold assignment (seed 0).
const reference = {
  iris: {
    rows: 150,
    features: 4,
    logRows: 5.0106352940962555,
    logFeatures: 1.3862943611198906,
    featuresPerRow: 0.02666666666666667,
    classes: 3,
    classEntropy: 1.584962500721156,
    meanSkewness: 0.0633645729547273,
    meanKurtosis: -0.7810487307582669,
    stumpAccuracy: 0.6666666666666666,
    nearestNeighbourAccuracy: 0.96
  },
  wine: {
    rows: 178,
    features: 13,
    logRows: 5.181783550292085,
    logFeatures: 2.5649493574615367,
    featuresPerRow: 0.07303370786516854,
    classes: 3,
    classEntropy: 1.5668222768551812,
    meanSkewness: 0.3472107055606966,
    meanKurtosis: -0.026964671560117504,
    stumpAccuracy: 0.6235955056179775,
    nearestNeighbourAccuracy: 0.7640449438202247
  }
}

describe("Transfer.describe: meta-features", () => {
  for (const [name, load] of [["iris", Iris.load], ["wine", Wine.load]] as const) {
    it(`${name}: every meta-feature matches the numpy/scipy reference`, () => {
      const m = Transfer.describe(load())
      const ref = reference[name]
      expect(Object.keys(m).sort()).toEqual(Object.keys(ref).sort())
      for (const [k, v] of Object.entries(ref)) expect(m[k as keyof typeof m], k).toBeCloseTo(v, 12)
    })
  }

  it("leaves constant features out of the moments, and class meta-features out for regression", () => {
    const x = [[1, 0, 5], [2, 0, 1], [3, 0, 2], [10, 0, 3]]
    const m = MetaFeatures.describe(Dataset.regression({ name: "r", x, y: [1, 2, 3, 4], targetName: "t" }))
    // column 0: 1, 2, 3, 10 (mean 4): m2 = 12.5, m3 = 45, skewness 45 / 12.5^1.5
    const skew0 = 45 / 12.5 ** 1.5
    // column 1 is constant and left out; column 2 from its central moments
    const col2 = [5, 1, 2, 3].map((v) => v - 2.75)
    const m2 = col2.reduce((a, d) => a + d * d, 0) / 4
    const m3 = col2.reduce((a, d) => a + d ** 3, 0) / 4
    expect(m.meanSkewness).toBeCloseTo((skew0 + m3 / m2 ** 1.5) / 2, 12)
    expect(m.classes).toBeUndefined()
    expect(m.stumpAccuracy).toBeUndefined()
    expect(m.features).toBe(3)
  })

  it("distance: 0 for the same task, at most 1, scaled by the population's ranges", () => {
    const a = MetaFeatures.describe(Iris.load())
    const b = MetaFeatures.describe(Wine.load())
    expect(MetaFeatures.distance(a, a, [a, b])).toBe(0)
    const d = MetaFeatures.distance(a, b, [a, b])!
    // with only the two tasks, every feature that differs is a full range apart
    const differing = MetaFeatures.compared.filter((f) => a[f] !== b[f]).length
    expect(d).toBeCloseTo(differing / MetaFeatures.compared.length, 12)
    expect(MetaFeatures.distance({ x: 1 }, { y: 2 }, [])).toBeUndefined()
  })
})
