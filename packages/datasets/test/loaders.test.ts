import { describe, expect, it } from "vitest"
import { BreastCancer, Co2, Dataset, Diabetes, Digits, InvalidDataset, Iris, SpamAssassin, Sunspots, Wine } from "../src/index.js"
import { dataPath, parseLabelled, readData } from "../src/internal/files.js"

const finite = (x: Dataset.Matrix) => x.every((r) => r.every(Number.isFinite))

describe("bundled loaders", () => {
  it.each([
    ["breast cancer", BreastCancer.load, 569, 30, [212, 357], ["malignant", "benign"]],
    ["wine", Wine.load, 178, 13, [59, 71, 48], ["class_0", "class_1", "class_2"]],
    ["iris", Iris.load, 150, 4, [50, 50, 50], ["setosa", "versicolor", "virginica"]],
    ["digits", Digits.load, 1797, 64, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180], ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]]
  ] as const)("%s has its documented shape and class counts", (_, load, rows, features, counts, classes) => {
    const ds = load()
    expect(ds._tag).toBe("Classification")
    expect(ds.x).toHaveLength(rows)
    expect(ds.y).toHaveLength(rows)
    expect(ds.x.every((r) => r.length === features)).toBe(true)
    expect(ds.featureNames).toHaveLength(features)
    expect(new Set(ds.featureNames).size).toBe(features)
    expect(ds.classNames).toEqual(classes)
    expect(Dataset.classCounts(ds)).toEqual(counts)
    expect(finite(ds.x)).toBe(true)
  })

  it("parses each dataset's first row as the file has it", () => {
    expect(BreastCancer.load().x[0].slice(0, 4)).toEqual([17.99, 10.38, 122.8, 1001])
    expect(BreastCancer.load().y[0]).toBe(0) // malignant
    expect(Iris.load().x[0]).toEqual([5.1, 3.5, 1.4, 0.2])
    expect(Wine.load().x[0][12]).toBe(1065)
    expect(Digits.load().x[0].slice(0, 6)).toEqual([0, 0, 5, 13, 9, 1])
    expect(Digits.image(Digits.load().x[0])[0]).toEqual([0, 0, 5, 13, 9, 1, 0, 0])
    expect(Digits.load().x.every((r) => r.every((v) => v >= 0 && v <= 16 && Number.isInteger(v)))).toBe(true)
  })

  it("diabetes is a regression of 442 rows, 10 raw features, targets 25..346", () => {
    const ds = Diabetes.load()
    expect(ds._tag).toBe("Regression")
    expect(ds.x).toHaveLength(442)
    expect(ds.x[0]).toEqual([59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87])
    expect(ds.y[0]).toBe(151)
    expect(Math.min(...ds.y)).toBe(25)
    expect(Math.max(...ds.y)).toBe(346)
    expect(ds.featureNames).toEqual(["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"])
  })

  it("sunspots: 309 years 1700..2008, nothing missing", () => {
    const s = Sunspots.load()
    expect(s.values).toHaveLength(309)
    expect(s.time[0]).toBe(1700)
    expect(s.time[308]).toBe(2008)
    expect(s.missing).toBe(0)
    expect(s.values[0]).toBe(5)
  })

  it("co2: 2284 weeks with 59 missing as NaN, filled by interpolation", () => {
    const s = Co2.load()
    expect(s.values).toHaveLength(2284)
    expect(s.missing).toBe(59)
    expect(s.values.filter(Number.isNaN)).toHaveLength(59)
    expect(s.time[0]).toBe(19580329)
    const filled = Dataset.fillMissing(s, "linear")
    expect(filled.missing).toBe(0)
    expect(filled.values.every(Number.isFinite)).toBe(true)
    // an interpolated week lies between its observed neighbours
    const i = s.values.findIndex((v, k) => Number.isNaN(v) && k > 0 && !Number.isNaN(s.values[k - 1]) && !Number.isNaN(s.values[k + 1]))
    expect(filled.values[i]).toBeCloseTo((s.values[i - 1] + s.values[i + 1]) / 2, 10)
    // carrying forward never uses a later value
    const prev = Dataset.fillMissing(s, "previous")
    expect(prev.values[i]).toBe(s.values[i - 1])
    expect(new Date(Co2.toEpochMs(19580329)).toISOString()).toBe("1958-03-29T00:00:00.000Z")
  })

  it("the spam corpus: 6046 texts, 4150 ham and 1896 spam, bodies without headers by default", () => {
    const mail = SpamAssassin.load({ maxChars: 5000 })
    expect(mail.texts).toHaveLength(6046)
    expect(Dataset.classCounts(mail)).toEqual([4150, 1896])
    expect(mail.classNames).toEqual(["ham", "spam"])
    expect(mail.texts.every((t) => t.length <= 5000)).toBe(true)
    expect(mail.texts.filter((t) => t.startsWith("From ")).length).toBe(0)
    const full = SpamAssassin.load({ headers: true })
    const bodies = SpamAssassin.load()
    full.texts.forEach((t, i) => expect(t.endsWith(bodies.texts[i])).toBe(true))
    expect(full.texts.filter((t, i) => t.length > bodies.texts[i].length + 100).length).toBe(6046)
    const groups = SpamAssassin.messageGroups()
    expect(groups.filter((g) => g === "hard-ham-1")).toHaveLength(250)
    groups.forEach((g, i) => expect(mail.y[i]).toBe(g.startsWith("spam") ? 1 : 0))
    expect(() => SpamAssassin.load({ maxChars: 0 })).toThrow(/maxChars/)
  })

  it("finds its data files inside the package, not in the shared folder", () => {
    expect(dataPath("iris.csv")).toMatch(/packages\/datasets\/data\/iris\.csv$/)
  })
})

describe("bad data gets a clear, typed error", () => {
  const catchErr = (f: () => unknown) => {
    try {
      f()
    } catch (e) {
      return e
    }
    throw new Error("expected a throw")
  }

  it("a NaN feature names the row and the feature", () => {
    const e = catchErr(() => Dataset.classification({ name: "toy", x: [[1, 2], [3, NaN]], y: [0, 1], classNames: ["a", "b"], featureNames: ["p", "q"] }))
    expect(e).toBeInstanceOf(InvalidDataset)
    expect((e as InvalidDataset).message).toBe("toy: feature q of row 1 is NaN, not a finite number")
  })

  it("labels out of range, non-integer, or a single class", () => {
    expect(() => Dataset.classification({ name: "toy", x: [[1], [2]], y: [0, 2], classNames: ["a", "b"] })).toThrow("toy: label 2 at row 1 is outside 0..1")
    expect(() => Dataset.classification({ name: "toy", x: [[1], [2]], y: [0, 0.5], classNames: ["a", "b"] })).toThrow(/label 0.5 at row 1/)
    expect(() => Dataset.classification({ name: "toy", x: [[1], [2]], y: [-1, 0], classNames: ["a", "b"] })).toThrow(/label -1 at row 0/)
    expect(() => Dataset.classification({ name: "toy", x: [[1]], y: [0], classNames: ["a"] })).toThrow(/at least 2 classes/)
    expect(() => Dataset.text({ name: "t", texts: ["a", "b"], y: [0, 3], classNames: ["a", "b"] })).toThrow(InvalidDataset)
  })

  it("ragged rows, mismatched lengths, empty data, bad targets, bad series", () => {
    expect(() => Dataset.classification({ name: "toy", x: [[1, 2], [3]], y: [0, 1], classNames: ["a", "b"] })).toThrow("toy: row 1 has 1 features, row 0 has 2")
    expect(() => Dataset.regression({ name: "r", x: [[1], [2]], y: [1] })).toThrow("r: x has 2 rows but y has 1 labels")
    expect(() => Dataset.regression({ name: "r", x: [], y: [] })).toThrow(/no rows/)
    expect(() => Dataset.regression({ name: "r", x: [[1], [2]], y: [1, Infinity] })).toThrow("r: target of row 1 is Infinity, not a finite number")
    expect(() => Dataset.series({ name: "s", time: [1, 1], values: [1, 2] })).toThrow(/times must increase/)
    expect(() => Dataset.series({ name: "s", time: [1, 2], values: [1, Infinity] })).toThrow(/missing values are NaN/)
  })

  it("windows over a series refuse missing values and give aligned targets", () => {
    expect(() => Dataset.windows(Co2.load(), { length: 4 })).toThrow(/59 values are missing/)
    const w = Dataset.windows(Sunspots.load(), { length: 5, horizon: 2 })
    const v = Sunspots.load().values
    expect(w.x).toHaveLength(309 - 5 - 2 + 1)
    expect(w.x[3]).toEqual(v.slice(3, 8))
    expect(w.y[3]).toBe(v[8 + 1])
    expect(() => Dataset.windows(Sunspots.load(), { length: 0 })).toThrow("sunspots: length: expected a positive integer, got 0")
  })

  it("a missing or corrupt data file names the file, the line and the column", () => {
    expect(() => readData("ghost", "ghost.csv")).toThrow(/ghost: cannot read its data file .*data\/ghost\.csv/)
    expect(() => parseLabelled("toy", "1,2,0\n3,x,1\n", 0)).toThrow('toy: line 2, column 2: "x" is not a finite number')
    expect(() => parseLabelled("toy", "1,,0\n", 0)).toThrow('toy: line 1, column 2: "" is not a finite number')
  })

  it("subsets check their indices", () => {
    expect(() => Dataset.subset(Iris.load(), [0, 150])).toThrow("iris: subset index 150 is outside 0..149")
    expect(Dataset.subset(Iris.load(), [149, 0]).y).toEqual([2, 0])
  })

  it("toFloat32 flattens row-major", () => {
    expect([...Dataset.toFloat32([[1, 2], [3, 4]])]).toEqual([1, 2, 3, 4])
  })
})
