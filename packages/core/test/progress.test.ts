import { describe, expect, it } from "vitest"
import { Progress, Trial } from "../src/index.js"

const fakeStream = (isTTY: boolean) => {
  const chunks: Array<string> = []
  return { chunks, stream: { isTTY, write: (s: string) => chunks.push(s) } as unknown as NodeJS.WriteStream }
}

const trial = (number: number, state: Trial.State, value?: number): Trial.FrozenTrial => ({
  id: number, number, state, params: {}, distributions: {}, values: value === undefined ? undefined : [value],
  intermediate: [], userAttrs: {}, systemAttrs: {}, startedAt: 0, finishedAt: 1, worker: undefined, reason: undefined
})

describe("Progress", () => {
  it("prints plain lines when not on a terminal, with counts, the best value and the time", () => {
    const { chunks, stream } = fakeStream(false)
    const p = Progress.make("maximize", { stream, plainEveryMs: 0 })
    p.started()
    p.started()
    p.finished(trial(0, "Complete", 0.5))
    p.finished(trial(1, "Complete", 0.9))
    p.started()
    p.finished(trial(2, "Pruned"))
    p.started()
    p.finished(trial(3, "Failed"))
    p.close()
    expect(chunks.every((c) => c.endsWith("\n") && !c.includes("\r"))).toBe(true)
    expect(chunks.at(-1)).toMatch(/^trials 4 done \(2 complete, 1 pruned, 1 failed\), 0 running \| best 0\.90000 \(trial 1\) \| 0m00s\n$/)
  })

  it("rewrites one line in place on a terminal", () => {
    const { chunks, stream } = fakeStream(true)
    const p = Progress.make("minimize", { stream })
    p.started()
    p.finished(trial(0, "Complete", 3))
    p.close()
    expect(chunks[0].startsWith("\r\x1b[2K")).toBe(true)
    expect(chunks.filter((c) => c === "\n").length).toBe(1)
    expect(chunks.at(-2)).toContain("best 3.00000 (trial 0)")
  })

  it("throttles plain lines", () => {
    const { chunks, stream } = fakeStream(false)
    const p = Progress.make("minimize", { stream, plainEveryMs: 60_000 })
    for (let i = 0; i < 100; i++) {
      p.started()
      p.finished(trial(i, "Complete", i))
    }
    p.close()
    expect(chunks.length).toBe(2) // the first line, and the final one
    expect(chunks[1]).toContain("trials 100 done")
  })

  it("counts what proposed the trials when the sampler recorded it (Auto's auto.sampler)", () => {
    const { chunks, stream } = fakeStream(false)
    const p = Progress.make("minimize", { stream, plainEveryMs: 0 })
    const by = ["design", "design", "gp", "tpe", "gp"]
    by.forEach((b, i) => p.finished({ ...trial(i, "Complete", i), systemAttrs: { "auto.sampler": b } }))
    p.close()
    expect(chunks.at(-1)).toContain("| auto: design 2, gp 2, tpe 1 |")
  })
})
