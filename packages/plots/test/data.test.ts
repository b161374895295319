import { describe, expect, it } from "vitest"
import {
  Contour,
  Edf,
  Folds,
  History,
  Intermediate,
  Lineage,
  ParallelCoordinates,
  ParetoFront,
  Rank,
  Rungs,
  Slice,
  Source,
  Timeline
} from "../src/index.js"
import { empty, history, mixed, space } from "./fixtures.js"

describe("History", () => {
  it("shows complete trials and the best so far, overlaying studies", () => {
    const other = Source.make({ name: "other", directions: ["minimize"], metrics: ["loss"] }, history(space, [{ values: [0.8] }, { values: [0.2] }]))
    const d = History.make([mixed, other])
    expect(d.objective).toBe("loss")
    expect(d.studies[0].points).toEqual([{ trial: 0, value: 0.5 }, { trial: 1, value: 0.3 }, { trial: 4, value: 0.4 }])
    expect(d.studies[0].best.map((b) => b.value)).toEqual([0.5, 0.3, 0.3])
    expect(d.studies[1]).toEqual({ study: "other", points: [{ trial: 0, value: 0.8 }, { trial: 1, value: 0.2 }], best: [{ trial: 0, value: 0.8 }, { trial: 1, value: 0.2 }] })
  })

  it("keeps the best under a maximized objective, and is empty for an empty study", () => {
    const up = Source.make({ name: "up", directions: ["maximize"] }, history(space, [{ values: [1] }, { values: [3] }, { values: [2] }]))
    expect(History.make(up).studies[0].best.map((b) => b.value)).toEqual([1, 3, 3])
    expect(History.make(empty).studies).toEqual([{ study: "empty", points: [], best: [] }])
  })

  it("gives a study with several objectives a panel per objective, each best under its own direction", () => {
    const mo = Source.make({ name: "mo", directions: ["minimize", "maximize"], metrics: ["loss", "accuracy"] }, history(space, [
      { values: [0.5, 0.7] },
      { values: [0.3, 0.6] },
      { state: "Pruned", values: [0.1, 0.9] },
      { values: [0.4, 0.8] }
    ]))
    const d = History.make(mo)
    expect(d.panels.map((p) => [p.objective, p.direction])).toEqual([["loss", "minimize"], ["accuracy", "maximize"]])
    expect(d.panels[0].studies[0].best.map((b) => b.value)).toEqual([0.5, 0.3, 0.3])
    expect(d.panels[1].studies[0].points.map((p) => p.value)).toEqual([0.7, 0.6, 0.8])
    expect(d.panels[1].studies[0].best.map((b) => b.value)).toEqual([0.7, 0.7, 0.8])
    // the first panel is also the data's own objective, as with one objective
    expect([d.objective, d.studies]).toEqual([d.panels[0].objective, d.panels[0].studies])
    // one chosen, as Optuna's target: one panel
    const one = History.make(mo, { objective: "accuracy" })
    expect(one.panels.map((p) => p.objective)).toEqual(["accuracy"])
    expect(History.make(mo, { target: { name: "sum", value: (t) => t.values![0] + t.values![1] } }).panels.map((p) => p.objective)).toEqual(["sum"])
    expect(History.make(mixed).panels.length).toBe(1)
  })
})

describe("ParallelCoordinates", () => {
  const d = ParallelCoordinates.make(mixed)
  it("has an axis per parameter, with categorical and log scales", () => {
    expect(d.axes.map((a) => a.name)).toEqual(["act", "layers", "lr", "opt", "opt.adam.beta1", "opt.sgd.momentum"])
    expect(d.axes[0]).toEqual({ name: "act", scale: "categorical", range: [0, 1], choices: ["relu", "tanh"] })
    expect(d.axes[2]).toEqual({ name: "lr", scale: "log", range: [1e-4, 1e-1] })
    expect(d.axes[1].scale).toBe("linear")
  })

  it("draws complete trials only, with null on the axes of an inactive branch", () => {
    expect(d.lines.map((l) => l.trial)).toEqual([0, 1, 4])
    expect(d.lines[0].params).toEqual([0, 2, 1e-3, 0, null, 0.9])
    expect(d.lines[1].params).toEqual([1, 3, 1e-2, 1, 0.9, null])
  })

  it("says which parameter does not exist, and has no lines for an empty study", () => {
    expect(() => ParallelCoordinates.make(mixed, { params: ["dropout"] })).toThrow(/no trial has the parameter "dropout"/)
    expect(ParallelCoordinates.make(empty)).toMatchObject({ axes: [], lines: [] })
  })
})

describe("Contour", () => {
  it("interpolates a surface that passes through the trials", () => {
    const d = Contour.make(mixed, { params: ["layers", "act"], resolution: 4 })
    expect(d.panels).toHaveLength(1)
    const { grid, points } = d.panels[0]
    expect(grid.xs).toEqual([1, 2, 3, 4])
    expect(grid.ys).toEqual([0, 1])
    expect(points).toHaveLength(3)
    expect(grid.z[0][1]).toBeCloseTo(0.5, 12) // layers 2, relu: trial 0
    expect(grid.z[1][2]).toBeCloseTo(0.3, 12) // layers 3, tanh: trial 1
    for (const row of grid.z) for (const v of row) expect(v! >= 0.3 && v! <= 0.5).toBe(true)
  })

  it("spaces a log axis geometrically, and makes every pair a panel", () => {
    const d = Contour.make(mixed, { params: ["lr", "layers", "act"], resolution: 5 })
    expect(d.panels.map((p) => [p.x.name, p.y.name])).toEqual([["lr", "layers"], ["lr", "act"], ["layers", "act"]])
    expect(d.panels[0].grid.xs.map((x) => Math.log10(x))).toEqual([-4, -3.25, -2.5, -1.75, -1].map((v) => expect.closeTo(v, 9)))
  })

  it("has no surface for two parameters no trial has together", () => {
    const d = Contour.make(mixed, { params: ["opt.sgd.momentum", "opt.adam.beta1"] })
    expect(d.panels[0].points).toEqual([])
    expect(d.panels[0].grid.z.flat().every((v) => v === null)).toBe(true)
    expect(() => Contour.make(mixed, { params: ["lr"] })).toThrow(/two parameters/)
    expect(Contour.make(empty).panels).toEqual([])
  })
})

describe("Slice", () => {
  it("puts in each parameter's panel the complete trials that have it", () => {
    const d = Slice.make(mixed)
    const mom = d.panels.find((p) => p.axis.name === "opt.sgd.momentum")!
    expect(mom.points).toEqual([{ trial: 0, x: 0.9, value: 0.5 }, { trial: 4, x: 0.1, value: 0.4 }])
    const act = d.panels.find((p) => p.axis.name === "act")!
    expect(act.points.map((p) => p.x)).toEqual([0, 1, 1])
    expect(Slice.make(empty).panels).toEqual([])
  })
})

describe("Rank", () => {
  it("ranks complete trials from best (0) to worst (1)", () => {
    const d = Rank.make(mixed, { params: ["lr", "act"] })
    expect(d.points.map((p) => [p.trial, p.rank])).toEqual([[0, 1], [1, 0], [4, 0.5]])
    expect(d.points[0].params).toEqual([1e-3, 0])
  })

  it("shares the rank of ties and flips for a maximized objective", () => {
    const up = Source.make({ name: "up", directions: ["maximize"] }, history(space, [{ values: [1] }, { values: [3] }, { values: [3] }, { values: [2] }]))
    expect(Rank.make(up).points.map((p) => p.rank)).toEqual([1, 1 / 6, 1 / 6, 2 / 3])
  })
})

describe("Edf", () => {
  it("gives each study's fraction of trials at or below each value", () => {
    const other = Source.make({ name: "other", directions: ["minimize"] }, history(space, [{ values: [1] }, { values: [1] }, { values: [2] }, { values: [0] }]))
    const d = Edf.make([mixed, other])
    expect(d.studies[0].points).toEqual([{ value: 0.3, fraction: 1 / 3 }, { value: 0.4, fraction: 2 / 3 }, { value: 0.5, fraction: 1 }])
    expect(d.studies[1].points).toEqual([{ value: 0, fraction: 0.25 }, { value: 1, fraction: 0.75 }, { value: 2, fraction: 1 }])
    expect(Edf.make(empty).studies[0].points).toEqual([])
  })
})

describe("Intermediate", () => {
  it("draws every reporting trial and marks where pruned and failed ones stopped", () => {
    const d = Intermediate.make(mixed)
    expect(d.metric).toBe("loss")
    expect(d.curves.map((c) => c.trial)).toEqual([0, 1, 2, 3, 4, 5])
    expect(d.curves[2].stoppedAt).toEqual({ step: 2, value: 1.2 })
    expect(d.curves[3]).toMatchObject({ state: "Failed", stoppedAt: { step: 1, value: 2 } })
    expect(d.curves[0].stoppedAt).toBeUndefined()
    expect(d.curves[5]).toMatchObject({ state: "Running", points: [{ step: 1, value: 0.6 }] })
    expect(Intermediate.make(mixed, { metric: "accuracy" }).curves).toEqual([])
    expect(Intermediate.make(empty).curves).toEqual([])
  })
})

describe("Timeline", () => {
  it("puts each started trial on its worker's lane; running ones end now", () => {
    const d = Timeline.make(mixed, { now: 9_000 })
    expect(d.workers).toEqual(["a:1", "b:2"])
    expect(d.bars.map((b) => b.trial)).toEqual([0, 1, 2, 3, 4, 5])
    expect(d.bars[5]).toEqual({ trial: 5, worker: "b:2", state: "Running", start: 5_000, end: 9_000, running: true })
    expect(d.bars[3]).toMatchObject({ state: "Failed", start: 3_000, end: 3_500, running: false })
    expect(d.start).toBe(0)
    expect(Timeline.make(empty)).toEqual({ _tag: "Timeline", start: undefined, now: 0, workers: [], bars: [] })
  })
})

describe("ParetoFront", () => {
  const two = Source.make({ name: "mo", directions: ["minimize", "minimize"], metrics: ["loss", "latency"] }, history(space, [
    { values: [3, 4], finishedAt: 100 },
    { values: [1, 5], finishedAt: 200 },
    { state: "Pruned", values: [0, 0], finishedAt: 250 },
    { values: [2, 3], finishedAt: 300 },
    { state: "Failed", finishedAt: 350 },
    { values: [4, 1], finishedAt: 400 }
  ]))

  it("marks the front and follows the hypervolume as trials finish", () => {
    const d = ParetoFront.make(two, { reference: [5, 6] })
    expect(d.objectives).toEqual(["loss", "latency"])
    expect(d.points.map((p) => [p.trial, p.front])).toEqual([[0, false], [1, true], [3, true], [5, true]])
    // By hand, as a union of boxes up to (5, 6): (3,4) is 2*2 = 4; with (1,5): 4 + 4*1 - 2*1 = 6;
    // (2,3) dominates (3,4): 4*1 + 3*2 = 10; with (4,1): 10 + 1*2 = 12.
    expect(d.hypervolume.history).toEqual([{ trial: 0, value: 4 }, { trial: 1, value: 6 }, { trial: 3, value: 10 }, { trial: 5, value: 12 }])
  })

  it("handles a maximized objective, three objectives, and a default reference", () => {
    const mixedDirs = Source.make({ name: "mo", directions: ["minimize", "maximize"] }, history(space, [{ values: [1, 1] }, { values: [2, 3] }, { values: [2, 2] }]))
    const d = ParetoFront.make(mixedDirs)
    expect(d.points.map((p) => p.front)).toEqual([true, true, false])
    // Worst values pushed 10% of the range further: loss 2 + 0.1, gain 1 - 0.2.
    expect(d.hypervolume.reference).toEqual([2.1, expect.closeTo(0.8, 12)])
    const three = Source.make({ name: "mo3", directions: ["minimize", "minimize", "minimize"] }, history(space, [{ values: [0, 0, 1] }, { values: [0, 1, 0] }, { values: [1, 0, 0] }]))
    const d3 = ParetoFront.make(three, { reference: [2, 2, 2] })
    expect(d3.points.every((p) => p.front)).toBe(true)
    expect(d3.hypervolume.history.at(-1)!.value).toBeCloseTo(7, 12)
  })

  it("needs 2 or 3 objectives, and is empty for a study without complete trials", () => {
    expect(() => ParetoFront.make(mixed)).toThrow(/2 or 3 objectives/)
    expect(ParetoFront.make(two, { objectives: ["latency", 0] }).objectives).toEqual(["latency", "loss"])
    const none = Source.make({ name: "none", directions: ["minimize", "maximize"] }, [])
    expect(ParetoFront.make(none)).toMatchObject({ points: [], hypervolume: { history: [] } })
  })
})

describe("Rungs", () => {
  const steps = (n: number, v: (s: number) => number) => Array.from({ length: n }, (_, i) => [i + 1, v(i + 1)] as const)
  const study = Source.make({ name: "asha", directions: ["minimize"], metrics: ["loss"] }, history(space, [
    { values: [0.1], intermediate: steps(9, (s) => 1 / s), systemAttrs: { "tunekit.rung": 2 } },
    { state: "Pruned", values: [2], intermediate: steps(1, () => 2), reason: "asha: ranks 3 of 3" },
    { state: "Waiting", intermediate: steps(3, (s) => 1.5 / s), systemAttrs: { "tunekit.rung": 1 } },
    { state: "Running", intermediate: steps(1, () => 1.2), systemAttrs: { "tunekit.rung": 1 } },
    { state: "Failed", reason: "boom" }
  ]))

  it("counts who reached each rung and what became of them", () => {
    const d = Rungs.make(study, { rungs: [1, 3, 9] })
    expect(d.rungs.map((r) => r.resource)).toEqual([1, 3, 9])
    expect(d.rungs[0].members.map((m) => [m.trial, m.outcome])).toEqual([[0, "promoted"], [3, "promoted"], [2, "promoted"], [1, "stopped"]])
    expect(d.rungs[1].members.map((m) => [m.trial, m.outcome, m.value])).toEqual([[0, "promoted", 1 / 3], [2, "paused", 0.5]])
    expect(d.rungs[2].members.map((m) => [m.trial, m.outcome])).toEqual([[0, "completed"]])
    expect(d.rungs[0].counts).toEqual({ promoted: 3, running: 0, paused: 0, completed: 0, stopped: 1, failed: 0 })
  })

  it("groups trials by bracket, and shows empty rungs of an empty study", () => {
    const d = Rungs.make(study, { rungs: [1, 3, 9], bracketOf: (t) => (t.number % 2 === 0 ? { key: "a", rungs: [1, 3, 9] } : { key: "b", rungs: [3, 9] }) })
    expect(d.brackets).toEqual(["a", "b"])
    expect(d.rungs.map((r) => [r.bracket, r.resource, r.members.length])).toEqual([["a", 1, 2], ["a", 3, 2], ["a", 9, 1], ["b", 3, 0], ["b", 9, 0]])
    expect(Rungs.make(empty, { rungs: [1, 3] }).rungs.map((r) => r.members.length)).toEqual([0, 0])
    expect(() => Rungs.make(empty, { rungs: [3, 1] })).toThrow(/increasing positive/)
  })
})

describe("Lineage", () => {
  it("links each continuation to the trial it continues and to its donor, with the changes", () => {
    const pbt = Source.make({ name: "pbt", directions: ["minimize"], metrics: ["loss"] }, history(space, [
      { state: "Running", params: { lr: 1e-2 }, intermediate: steps8(0.9), worker: "a:1" },
      { state: "Pruned", params: { lr: 1e-3 }, intermediate: [[1, 1.5], [2, 1.4], [3, 1.3], [4, 1.2]], systemAttrs: { pbtNext: 2 }, reason: "exploited" },
      {
        state: "Running",
        params: { lr: 1.2e-2 },
        intermediate: [[5, 0.7], [6, 0.6]],
        systemAttrs: {
          restoreFrom: { trial: 0, step: 4 },
          pbt: { member: 1, generation: 1, parent: 1, exploitedAt: 4, donor: 0, step: 4, changes: { lr: { from: 0.01, to: 0.012 } } }
        }
      }
    ]))
    const d = Lineage.make(pbt)
    expect(d.members).toEqual([0, 1])
    expect(d.nodes.map((n) => [n.trial, n.member, n.generation, n.from, n.to])).toEqual([[0, 0, 0, 0, 8], [1, 1, 0, 0, 4], [2, 1, 1, 4, 6]])
    expect(d.nodes[2].value).toBe(0.6)
    expect(d.edges).toEqual([
      { kind: "continues", from: 1, to: 2, step: 4 },
      { kind: "copies", from: 0, to: 2, step: 4, changes: { lr: { from: 0.01, to: 0.012 } } }
    ])
    expect(Lineage.make(empty)).toMatchObject({ members: [], nodes: [], edges: [] })
  })
})

const steps8 = (start: number) => Array.from({ length: 8 }, (_, i) => [i + 1, start - 0.05 * i] as const)

describe("Folds", () => {
  it("gives each trial's fold scores, mean and spread; a pruned trial shows the folds it ran", () => {
    const cv = Source.make({ name: "cv", directions: ["maximize"], metrics: ["score"] }, history(space, [
      { values: [0.9], intermediate: [[0, 0.8], [1, 0.9], [2, 1]], metric: "score" },
      { state: "Pruned", values: [0.5], intermediate: [[0, 0.5]], metric: "score" },
      { values: [0.7], intermediate: [[0, 0.7], [1, 0.7], [2, 0.7]], metric: "score" },
      { state: "Failed" }
    ]))
    const d = Folds.make(cv)
    expect(d.folds).toBe(3)
    expect(d.trials.map((r) => r.trial)).toEqual([0, 1, 2])
    expect(d.trials[0]).toMatchObject({ scores: [0.8, 0.9, 1], mean: expect.closeTo(0.9, 12), rank: 1 })
    expect(d.trials[0].std).toBeCloseTo(Math.sqrt(0.02 / 3), 12)
    expect(d.trials[1]).toMatchObject({ state: "Pruned", scores: [0.5, null, null], rank: null })
    expect(d.trials[2]).toMatchObject({ std: expect.closeTo(0, 12), rank: 2 })
    expect(Folds.make(empty)).toMatchObject({ metric: "score", folds: 0, trials: [] })
  })
})
