import { fc, test as propTest } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { BreastCancer, Dataset, Diabetes, InvalidSplit, Iris, Split, Sunspots } from "../src/index.js"

const sorted = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)

describe("holdout", () => {
  propTest.prop([fc.integer({ min: 2, max: 400 }), fc.double({ min: 0.01, max: 0.99, noNaN: true }), fc.integer()])(
    "parts are disjoint, cover the rows, and the test part is ceil(n * f)",
    (n, f, seed) => {
      fc.pre(Math.ceil(n * f) < n)
      const { train, test } = Split.holdoutIndices(n, { testFraction: f, seed })
      expect(test).toHaveLength(Math.ceil(n * f))
      expect(sorted([...train, ...test])).toEqual(Array.from({ length: n }, (_, i) => i))
    }
  )

  propTest.prop([fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 8, maxLength: 300 }), fc.double({ min: 0.1, max: 0.5, noNaN: true }), fc.integer()])(
    "stratified: disjoint, covering, and each class's test count within one of its share",
    (labels, f, seed) => {
      const n = labels.length
      fc.pre(Math.ceil(n * f) < n)
      const { train, test } = Split.holdoutIndices(n, { testFraction: f, seed, labels })
      expect(sorted([...train, ...test])).toEqual(Array.from({ length: n }, (_, i) => i))
      const nTest = Math.ceil(n * f)
      for (let c = 0; c <= 3; c++) {
        const total = labels.filter((l) => l === c).length
        const inTest = test.filter((i) => labels[i] === c).length
        expect(Math.abs(inTest - (total * nTest) / n)).toBeLessThan(1)
      }
    }
  )

  it("the same seed gives the same split, another seed another", () => {
    const a = Split.holdout(BreastCancer.load(), { seed: 5, stratify: true })
    const b = Split.holdout(BreastCancer.load(), { seed: 5, stratify: true })
    const c = Split.holdout(BreastCancer.load(), { seed: 6, stratify: true })
    expect(a.indices).toEqual(b.indices)
    expect(a.indices.test).not.toEqual(c.indices.test)
  })

  it("stratified iris holds out 10 of each species", () => {
    const { train, test } = Split.holdout(Iris.load(), { testFraction: 0.2, seed: 3, stratify: true })
    expect(Dataset.classCounts(test)).toEqual([10, 10, 10])
    expect(Dataset.classCounts(train)).toEqual([40, 40, 40])
    // rows travel with their labels
    const iris = Iris.load()
    const { indices } = Split.holdout(iris, { testFraction: 0.2, seed: 3, stratify: true })
    indices.test.forEach((i, k) => {
      expect(test.x[k]).toBe(iris.x[i])
      expect(test.y[k]).toBe(iris.y[i])
    })
  })

  it("rejects impossible splits with InvalidSplit", () => {
    expect(() => Split.holdoutIndices(10, { testFraction: 0 })).toThrow(InvalidSplit)
    expect(() => Split.holdoutIndices(10, { testFraction: 1 })).toThrow("holdout: testFraction: expected a number in (0, 1), got 1")
    expect(() => Split.holdoutIndices(1, {})).toThrow(/at least 2 rows/)
    expect(() => Split.holdoutIndices(3, { testFraction: 0.9 })).toThrow(/leaves no training rows/)
    expect(() => Split.holdout(Diabetes.load(), { stratify: true })).toThrow(/regression dataset/)
  })

  it("chronological splits keep the order: every training year precedes every test year", () => {
    const { train, test } = Split.chronological(Sunspots.load(), { testFraction: 0.2 })
    expect(test.values).toHaveLength(Math.ceil(309 * 0.2))
    expect(train.values.length + test.values.length).toBe(309)
    expect(Math.max(...train.time)).toBeLessThan(Math.min(...test.time))
  })

  it("allocate sums to the total and never exceeds a class", () => {
    expect(Split.allocate([5, 3, 2], 4)).toEqual([2, 1, 1])
    expect(Split.allocate([1, 1], 2)).toEqual([1, 1])
  })
})
