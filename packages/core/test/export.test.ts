import { describe, expect, it } from "vitest"
import { Distribution, Export, Trial } from "../src/index.js"

const x = Distribution.float("x", 0, 1)
const c = Distribution.categorical("c", ["a,b", 'say "hi"'])
const trial = (number: number, state: Trial.State, value: number | undefined, extra: Partial<Trial.FrozenTrial> = {}): Trial.FrozenTrial => ({
  id: number + 10, number, state, params: { x: number / 10, c: number % 2 }, distributions: { x, c },
  values: value === undefined ? undefined : [value], intermediate: [], userAttrs: {}, systemAttrs: {},
  startedAt: 1000, finishedAt: 3500, worker: "h:1", reason: undefined, ...extra
})

describe("Export", () => {
  const trials = [
    trial(0, "Complete", 0.5, { userAttrs: { note: "first" } }),
    trial(1, "Complete", 0.2),
    trial(2, "Failed", undefined, { reason: "the objective failed: boom" }),
    trial(3, "Complete", 0.5),
    trial(4, "Pruned", 0.9, { reason: "median" })
  ]

  it("ranks complete trials, ties sharing the lower rank", () => {
    expect(Export.rows(trials, ["minimize"]).map((r) => r.rank)).toEqual([2, 1, null, 2, null])
    expect(Export.rows(trials, ["maximize"]).map((r) => r.rank)).toEqual([1, 3, null, 1, null])
  })

  it("writes external parameter values, durations and attributes", () => {
    const [r] = Export.rows(trials, ["minimize"])
    expect(r).toEqual({ number: 0, state: "Complete", params: { x: 0, c: "a,b" }, values: [0.5], rank: 2, duration_s: 2.5, user_attrs: { note: "first" }, reason: null })
  })

  it("writes CSV with one column a parameter and quoting where needed", () => {
    const csv = Export.toCsv(Export.rows(trials, ["minimize"]))
    const lines = csv.trimEnd().split("\n")
    expect(lines[0]).toBe("number,state,params_x,params_c,value,rank,duration_s,user_attrs_note,reason")
    expect(lines[1]).toBe('0,Complete,0,"a,b",0.5,2,2.5,first,')
    expect(lines[2]).toBe('1,Complete,0.1,"say ""hi""",0.2,1,2.5,,')
    expect(lines[3]).toBe('2,Failed,0.2,"a,b",,,2.5,,the objective failed: boom')
  })

  it("names one value column per objective when there are several", () => {
    const two = [trial(0, "Complete", undefined, { values: [1, 2] })]
    const header = Export.toCsv(Export.rows(two, ["minimize", "maximize"]), 2).split("\n")[0]
    expect(header).toBe("number,state,params_x,params_c,values_0,values_1,rank,duration_s,reason")
  })

  it("writes JSON that parses back to the rows", () => {
    const rows = Export.rows(trials, ["minimize"])
    expect(JSON.parse(Export.toJson(rows))).toEqual(rows)
  })
})
