import { describe, expect, it } from "vitest"
import type { Trial } from "@tunekit/core"
import * as Portfolio from "../src/internal/portfolio.js"

const trial = (number: number, value: number, by: string): Trial.FrozenTrial => ({
  id: number,
  number,
  state: "Complete",
  params: {},
  distributions: {},
  values: [value],
  intermediate: [],
  userAttrs: {},
  systemAttrs: { by },
  startedAt: number,
  finishedAt: number,
  worker: undefined,
  reason: undefined
})
const memberOf = (t: Trial.FrozenTrial) => (t.systemAttrs.by === "design" ? undefined : (t.systemAttrs.by as "gp" | "tpe"))

describe("portfolio", () => {
  // Ten design trials 10..19, then alternating members: gp's values keep improving, tpe's do not.
  const history = [
    ...Array.from({ length: 10 }, (_, i) => trial(i, 10 + i, "design")),
    ...Array.from({ length: 10 }, (_, i) => trial(10 + i, i % 2 === 0 ? 9 - i : 50 + i, i % 2 === 0 ? "gp" : "tpe"))
  ]

  it("scores a trial a success when it beats the best tenth of the values before it", () => {
    const s = Portfolio.scores(history, ["gp", "tpe"], memberOf, "minimize")
    expect(s.gp).toEqual({ successes: 5, failures: 0 })
    expect(s.tpe).toEqual({ successes: 0, failures: 5 })
    // Maximizing turns it around.
    const m = Portfolio.scores(history, ["gp", "tpe"], memberOf, "maximize")
    expect(m.tpe.successes).toBeGreaterThan(m.gp.successes)
  })

  it("keeps the first member in the lead unless another's success rate is clearly higher, and lets the others probe", () => {
    expect(Portfolio.leader({ gp: { successes: 2, failures: 3 }, tpe: { successes: 5, failures: 5 } }, ["gp", "tpe"])).toBe("gp")
    expect(Portfolio.leader({ gp: { successes: 1, failures: 9 }, tpe: { successes: 4, failures: 6 } }, ["gp", "tpe"])).toBe("tpe")
    // Too few scored trials to take the lead.
    expect(Portfolio.leader({ gp: { successes: 0, failures: 9 }, tpe: { successes: 3, failures: 0 } }, ["gp", "tpe"])).toBe("gp")
    const score = { gp: { successes: 3, failures: 2 }, tpe: { successes: 0, failures: 5 } }
    const picks = Array.from({ length: 20 }, (_, i) => Portfolio.pick(score, ["gp", "tpe"], i))
    expect(picks.filter((m) => m === "tpe").length).toBe(4)
    expect(picks.filter((m) => m === "gp").length).toBe(16)
  })
})
