import { fc, test as propTest } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { BreastCancer, Scaler, Split, Tokenizer } from "../src/index.js"

describe("standardization", () => {
  it("fitted on the training part: training columns get mean 0 and std 1; test uses the training statistics", () => {
    const split = Split.holdout(BreastCancer.load(), { seed: 1, stratify: true })
    const { train, test, scaler } = Scaler.standardize(split)
    for (let j = 0; j < 30; j++) {
      const col = train.x.map((r) => r[j])
      const m = col.reduce((a, b) => a + b, 0) / col.length
      const v = col.reduce((a, b) => a + (b - m) ** 2, 0) / col.length
      expect(m).toBeCloseTo(0, 10)
      expect(v).toBeCloseTo(1, 10)
    }
    // the test part is transformed with the training mean and scale, not its own
    expect(test.x[0][0]).toBeCloseTo((split.test.x[0][0] - scaler.mean[0]) / scaler.scale[0], 12)
    const trainMean0 = split.train.x.reduce((a, r) => a + r[0], 0) / split.train.x.length
    expect(scaler.mean[0]).toBeCloseTo(trainMean0, 10)
    expect(scaler.inverse(test.x)[3][7]).toBeCloseTo(split.test.x[3][7], 10)
  })

  propTest.prop([fc.array(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 40 })])(
    "transform then inverse gives the rows back; a constant column maps to 0",
    (x) => {
      const s = Scaler.fit(x)
      const back = s.inverse(s.transform(x))
      x.forEach((row, i) => row.forEach((v, j) => expect(back[i][j]).toBeCloseTo(v, 3)))
      expect(s.scale.every((v) => v > 0 && Number.isFinite(v))).toBe(true)
    }
  )

  it("constant features and single values", () => {
    expect(Scaler.fit([[5, 1], [5, 3]]).transform([[5, 2]])).toEqual([[0, 0]])
    const v = Scaler.fitValues([1, NaN, 3])
    expect(v.mean).toBe(2)
    expect(v.transform([3])[0]).toBeCloseTo(1, 12)
    expect(() => Scaler.fit([[1, 2]]).transform([[1]])).toThrow(/fitted on 2/)
  })
})

describe("tokenizer", () => {
  it("fits a vocabulary by frequency on training texts; unseen words are unknown", () => {
    const tok = Tokenizer.fit(["The cat sat.", "the CAT ran", "a dog"], { minCount: 1 })
    expect(tok.vocab.slice(0, 2)).toEqual(["cat", "the"])
    expect(tok.size).toBe(tok.vocab.length + 2)
    expect(tok.encode("the zebra")).toEqual([3, Tokenizer.UNKNOWN])
    expect(tok.encodeAll(["cat cat cat", "dog"], 2)).toEqual([[2, 2], [tok.vocab.indexOf("dog") + 2, Tokenizer.PAD]])
    expect(tok.bagOfWords(["cat the cat"])[0].slice(0, 2)).toEqual([2, 1])
    expect(tok.bagOfWords(["cat the cat"], { binary: true })[0].slice(0, 2)).toEqual([1, 1])
  })

  it("minCount and maxVocab cut the vocabulary; only training texts count", () => {
    const tok = Tokenizer.fit(["a a b", "c"], { minCount: 2 })
    expect(tok.vocab).toEqual(["a"])
    expect(Tokenizer.fit(["a b c d e"], { minCount: 1, maxVocab: 2 }).vocab).toHaveLength(2)
    expect(() => Tokenizer.fit([], { maxVocab: 0 })).toThrow(/maxVocab/)
    expect(Tokenizer.tokens("Win $1000 NOW! don't")).toEqual(["win", "1000", "now", "don't"])
  })
})
