import { describe, expect, it } from "vitest"
import { fc, test } from "@fast-check/vitest"
import { Schedule } from "@tunekit/tfjs"

const run = { base: 0.1, stepsPerEpoch: 10, epochs: 10 }

describe("learning-rate schedules", () => {
  it("constant", () => {
    const s = Schedule.make({ type: "constant" }, run)
    expect([0, 50, 99].map(s.at)).toEqual([0.1, 0.1, 0.1])
  })

  it("linear warmup over steps, then cosine to the floor", () => {
    const s = Schedule.make({ type: "cosine", minLearningRate: 0.01, warmup: { steps: 4 } }, run)
    expect([0, 1, 2, 3].map(s.at)).toEqual([0.025, 0.05, 0.075, 0.1].map((x) => expect.closeTo(x, 12)))
    // 96 steps of cosine after the warmup: at the middle, halfway between base and floor.
    expect(s.at(4)).toBeCloseTo(0.1, 12)
    expect(s.at(4 + 48)).toBeCloseTo(0.055, 12)
    expect(s.at(4 + 24)).toBeCloseTo(0.01 + 0.09 * 0.5 * (1 + Math.cos(Math.PI / 4)), 12)
    expect(s.at(100)).toBeCloseTo(0.01, 12)
  })

  it("warmup as a ratio of all steps", () => {
    const s = Schedule.make({ type: "constant", warmup: { ratio: 0.1 } }, run)
    expect(Schedule.warmupSteps({ ratio: 0.1 }, 100)).toBe(10)
    expect(s.at(0)).toBeCloseTo(0.01, 12)
    expect(s.at(4)).toBeCloseTo(0.05, 12)
    expect(s.at(10)).toBe(0.1)
  })

  it("step decay by epochs", () => {
    const s = Schedule.make({ type: "step", everyEpochs: 3, gamma: 0.5 }, run)
    // epochs 0-2: 0.1, 3-5: 0.05, 6-8: 0.025, 9: 0.0125
    expect([0, 29, 30, 59, 60, 90].map(s.at)).toEqual([0.1, 0.1, 0.05, 0.05, 0.025, 0.0125])
  })

  it("reduce on plateau after `patience` epochs without improvement, down to the floor", () => {
    const s = Schedule.make({ type: "plateau", factor: 0.5, patience: 2, minLearningRate: 0.02 }, run)
    const seen: Array<number> = []
    for (const [epoch, loss] of [1, 0.9, 0.95, 0.91, 0.8, 0.85, 0.85, 0.85, 0.85, 0.85].entries()) {
      s.endEpoch(epoch + 1, loss)
      seen.push(s.at((epoch + 1) * 10))
    }
    expect(seen).toEqual([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.02, 0.02])
  })

  it("plateau state survives a checkpoint", () => {
    const a = Schedule.make({ type: "plateau", factor: 0.5, patience: 1 }, run)
    a.endEpoch(1, 1)
    a.endEpoch(2, 2)
    const b = Schedule.make({ type: "plateau", factor: 0.5, patience: 1 }, run)
    b.restore(a.state())
    b.endEpoch(3, 2)
    a.endEpoch(3, 2)
    expect(b.at(0)).toBe(a.at(0))
    expect(b.at(0)).toBe(0.025)
  })

  test.prop([fc.integer({ min: 0, max: 50 }), fc.double({ min: 0, max: 0.05, noNaN: true })])(
    "cosine never increases after the warmup and stays within [floor, base]",
    (warm, floor) => {
      const s = Schedule.make({ type: "cosine", minLearningRate: floor, warmup: { steps: warm } }, run)
      let prev = Infinity
      for (let t = warm; t < 100; t++) {
        const lr = s.at(t)
        expect(lr).toBeLessThanOrEqual(prev + 1e-15)
        expect(lr).toBeGreaterThanOrEqual(floor - 1e-15)
        expect(lr).toBeLessThanOrEqual(0.1 + 1e-15)
        prev = lr
      }
    }
  )

  it("rejects bad settings", () => {
    expect(Schedule.validate({ type: "step", everyEpochs: 0, gamma: 0.5 })?.field).toBe("schedule.everyEpochs")
    expect(Schedule.validate({ type: "cosine", warmup: { ratio: 1.5 } })?.field).toBe("schedule.warmup.ratio")
    expect(Schedule.validate({ type: "plateau", factor: 2, patience: 1 })?.field).toBe("schedule.factor")
  })
})
