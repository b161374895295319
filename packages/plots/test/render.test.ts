import { Distribution } from "@tunekit/core"
import { describe, expect, it } from "vitest"
import {
  Contour,
  Edf,
  Folds,
  History,
  Importance,
  Intermediate,
  Lineage,
  ParallelCoordinates,
  ParetoFront,
  Plot,
  Rank,
  Rungs,
  Slice,
  Source,
  Timeline
} from "../src/index.js"
import { empty, history, mixed, space } from "./fixtures.js"
import { type Element, findAll, items, parse, texts } from "./svg.js"

const render = (data: Plot.Data, options?: Plot.Options): Element => {
  const root = parse(Plot.toSvg(data, options))
  expect(root.name).toBe("svg")
  return root
}

/** The drawn items of each series, in order of the option's series. */
const counts = (root: Element, series: number) => Array.from({ length: series }, (_, k) => items(root, k))

const seriesCount = (data: Plot.Data) => (Plot.option(data).option.series as ReadonlyArray<unknown>).length

describe("the test's SVG parser", () => {
  it("rejects malformed XML", () => {
    for (const bad of ["<svg><g></svg>", "<svg a=1/>", "<svg>&nope;</svg>", "<svg>a & b</svg>", "<svg/><svg/>", "<svg a=\"1\" a=\"2\"/>", "<svg>"]) {
      expect(() => parse(bad), bad).toThrow(SyntaxError)
    }
    expect(parse("<?xml version=\"1.0\"?><svg x=\"&lt;&#65;\"><![CDATA[<&>]]>t</svg>")).toEqual({ name: "svg", attrs: { x: "<A" }, children: ["<&>", "t"] })
  })
})

describe("SVG of each plot kind", () => {
  it("history: axis names, one symbol per complete trial of each study, and the size asked for", () => {
    const other = Source.make({ name: "other", directions: ["minimize"], metrics: ["loss"] }, history(space, [{ values: [0.8] }, { values: [0.2] }]))
    const root = render(History.make([mixed, other]), { width: 640, height: 360 })
    expect([root.attrs.width, root.attrs.height]).toEqual(["640", "360"])
    const t = texts(root)
    expect(t).toEqual(expect.arrayContaining(["trial", "loss", "Optimization history", "mixed: loss", "other: best"]))
    expect(counts(root, 4).filter((_, k) => k % 2 === 0)).toEqual([3, 2])
  })

  it("history of several objectives: a grid and y axis per objective, each trial drawn in each", () => {
    const mo = Source.make({ name: "mo", directions: ["minimize", "maximize"], metrics: ["loss", "accuracy"] }, history(space, [
      { values: [0.5, 0.7] },
      { values: [0.3, 0.6] },
      { values: [0.4, 0.8] }
    ]))
    const data = History.make(mo)
    const { option, height } = Plot.option(data)
    expect((option.grid as Array<unknown>).length).toBe(2)
    expect((option.yAxis as Array<{ name: string }>).map((a) => a.name)).toEqual(["loss (min)", "accuracy (max)"])
    expect(height).toBeGreaterThan(500)
    const root = render(data)
    // series: loss points, loss best, accuracy points, accuracy best
    expect([items(root, 0), items(root, 2)]).toEqual([3, 3])
    expect(texts(root)).toEqual(expect.arrayContaining(["loss (min)", "accuracy (max)", "best so far", "trial"]))
    expect((Plot.option(History.make(mo, { objective: 1 })).option.yAxis as Array<{ name: string }>).map((a) => a.name)).toEqual(["accuracy"])
  })

  it("importance: a bar per parameter for each objective, named", () => {
    const data = Importance.pedAnova(mixed)
    const root = render(data)
    expect(items(root, 0)).toBe(data.params.length)
    expect(texts(root)).toEqual(expect.arrayContaining([...data.params, "importance", "Parameter importance (PED-ANOVA)"]))
  })

  it("parallel coordinates: an axis per parameter and a line per complete trial; log axes labelled at powers of ten", () => {
    const data = ParallelCoordinates.make(mixed)
    const root = render(data)
    expect(items(root, 0)).toBe(3)
    const t = texts(root)
    expect(t).toEqual(expect.arrayContaining(["act", "layers", "lr", "opt.adam.beta1", "opt.sgd.momentum", "loss", "relu", "tanh"]))
    expect(t).toEqual(expect.arrayContaining(["0.0001", "0.001", "0.01", "0.1"]))
    expect(t.some((s) => /9999/.test(s))).toBe(false)
  })

  it("contour: a cell per grid point with a value, and a symbol per trial", () => {
    const data = Contour.make(mixed, { params: ["lr", "act"], resolution: 10 })
    const root = render(data)
    expect(counts(root, 2)).toEqual([20, 3])
    expect(texts(root)).toEqual(expect.arrayContaining(["lr", "act", "relu", "tanh"]))
  })

  it("slice: a panel per parameter with the trials that have it", () => {
    const data = Slice.make(mixed)
    const root = render(data)
    expect(counts(root, data.panels.length)).toEqual(data.panels.map((p) => p.points.length))
    expect(counts(root, data.panels.length)).toEqual([3, 3, 3, 3, 1, 2])
  })

  it("rank: a panel per pair of parameters", () => {
    const data = Rank.make(mixed, { params: ["lr", "layers", "act"] })
    const root = render(data)
    expect(counts(root, 3)).toEqual([3, 3, 3])
    expect(texts(root)).toEqual(expect.arrayContaining(["best", "worst"]))
    expect(items(render(Rank.make(mixed, { params: ["lr"] })), 0)).toBe(3)
  })

  it("EDF: a named line per study", () => {
    const other = Source.make({ name: "other", directions: ["minimize"] }, history(space, [{ values: [1] }]))
    const root = render(Edf.make([mixed, other]))
    expect(texts(root)).toEqual(expect.arrayContaining(["mixed", "other", "fraction of trials", "loss"]))
    expect(findAll(root, (e) => e.name === "path" && e.attrs.stroke !== undefined && e.attrs.fill === "none").length).toBeGreaterThanOrEqual(2)
  })

  it("intermediate values: a marker where each pruned and failed trial stopped", () => {
    const data = Intermediate.make(mixed)
    const root = render(data)
    const n = seriesCount(data)
    // The last two series are the markers: one pruned trial, one failed.
    expect([items(root, n - 2), items(root, n - 1)]).toEqual([1, 1])
    expect(texts(root)).toEqual(expect.arrayContaining(["step", "loss", "Pruned here", "Failed here", "Complete", "Running"]))
  })

  it("intermediate values and the EDF: a series of one point is drawn as a symbol (a line of one point draws nothing)", () => {
    const data = Intermediate.make(mixed)
    const root = render(data)
    const series = Plot.option(data).option.series as ReadonlyArray<{ id?: string; showSymbol?: boolean; data: ReadonlyArray<unknown> }>
    const one = series.flatMap((s, k) => (s.id !== undefined && s.data.length === 1 ? [k] : []))
    // the running trial #5 and the failed #3 reported once
    expect(one.map((k) => series[k].id).sort()).toEqual(["trial 3", "trial 5"])
    for (const k of one) expect([series[k].showSymbol, items(root, k)]).toEqual([true, 1])
    // longer curves stay lines without symbols
    const long = series.findIndex((s) => s.id !== undefined && s.data.length > 1)
    expect([series[long].showSymbol, items(root, long)]).toEqual([false, 0])
    const single = Source.make({ name: "one", directions: ["minimize"], metrics: ["loss"] }, history(space, [{ values: [0.4] }]))
    expect(items(render(Edf.make([single, mixed])), 0)).toBe(1)
    expect(items(render(Edf.make([single, mixed])), 1)).toBe(0)
  })

  it("timeline: a bar per started trial, on its worker's lane", () => {
    const data = Timeline.make(mixed, { now: 9_000 })
    const root = render(data)
    const states = Plot.option(data).option.series as ReadonlyArray<{ name: string }>
    expect(states.map((s) => s.name)).toEqual(["Complete", "Pruned", "Failed", "Running"])
    expect(counts(root, 4)).toEqual([3, 1, 1, 1])
    expect(texts(root)).toEqual(expect.arrayContaining(["a:1", "b:2"]))
  })

  it("rungs: a bar per rung for each outcome, and each member's value", () => {
    const study = Source.make({ name: "asha", directions: ["minimize"], metrics: ["loss"] }, history(space, [
      { values: [0.1], intermediate: [[1, 1], [3, 0.5], [9, 0.1]], systemAttrs: { "tunekit.rung": 2 } },
      { state: "Pruned", values: [2], intermediate: [[1, 2]] },
      { state: "Waiting", intermediate: [[1, 1.5], [3, 0.9]], systemAttrs: { "tunekit.rung": 1 } }
    ]))
    const data = Rungs.make(study, { rungs: [1, 3] })
    const root = render(data)
    const outcomes = Rungs.outcomes.length
    // Bars: the promoted at both rungs, the stopped at rung 1, the paused at rung 3.
    const bars = counts(root, outcomes)
    expect(bars[Rungs.outcomes.indexOf("promoted")]).toBe(2)
    const points = Array.from({ length: outcomes }, (_, k) => items(root, outcomes + k))
    expect(points.reduce((a, b) => a + b, 0)).toBe(5)
    expect(texts(root)).toEqual(expect.arrayContaining(["rung (resource)", "loss at the rung", "promoted", "stopped", "paused"]))
  })

  it("lineage: a stretch per trial on its member's lane and an arrow per exploit, with what changed", () => {
    const pbt = Source.make({ name: "pbt", directions: ["minimize"], metrics: ["loss"] }, history(space, [
      { state: "Pruned", params: { lr: 1e-2 }, intermediate: [[1, 1], [2, 0.9]] },
      { state: "Running", params: { lr: 1e-3 }, intermediate: [[1, 0.8], [2, 0.7], [3, 0.6]] },
      {
        state: "Running",
        params: { lr: 1.2e-3 },
        intermediate: [[3, 0.5]],
        systemAttrs: { pbt: { member: 0, generation: 1, parent: 0, exploitedAt: 2, donor: 1, step: 2, changes: { lr: { from: 0.001, to: 0.0012 } } } }
      }
    ]))
    const data = Lineage.make(pbt)
    const root = render(data)
    expect(texts(root)).toEqual(expect.arrayContaining(["member 0", "member 1", "lr 0.001→0.0012", "#0", "#1", "#2"]))
    const n = seriesCount(data)
    expect(items(root, n - 1)).toBe(1)
  })

  it("folds: a point per fold run, and the mean of each trial", () => {
    const cv = Source.make({ name: "cv", directions: ["maximize"], metrics: ["score"] }, history(space, [
      { values: [0.9], intermediate: [[0, 0.8], [1, 0.9], [2, 1]], metric: "score" },
      { state: "Pruned", values: [0.5], intermediate: [[0, 0.5]], metric: "score" }
    ]))
    const root = render(Folds.make(cv))
    expect(counts(root, 4)).toEqual([2, 1, 1, 2])
    expect(texts(root)).toEqual(expect.arrayContaining(["#0", "#1", "fold 0", "fold 2", "mean", "score"]))
  })

  it("Pareto front: the front and the dominated trials, in one panel for 2 objectives and three for 3, with the hypervolume", () => {
    const two = Source.make({ name: "mo", directions: ["minimize", "maximize"], metrics: ["loss", "accuracy"] }, history(space, [
      { values: [1, 0.5] }, { values: [2, 0.9] }, { values: [2, 0.6] }, { state: "Failed" }
    ]))
    const root = render(ParetoFront.make(two))
    expect(counts(root, 2)).toEqual([1, 2])
    expect(texts(root)).toEqual(expect.arrayContaining(["loss (min)", "accuracy (max)", "hypervolume"]))
    const three = Source.make({ name: "mo3", directions: ["minimize", "minimize", "minimize"] }, history(space, [
      { values: [0, 0, 1] }, { values: [0, 1, 0] }, { values: [1, 1, 1] }
    ]))
    const root3 = render(ParetoFront.make(three))
    expect(counts(root3, 6)).toEqual([1, 2, 1, 2, 1, 2])
  })
})

describe("awkward studies render", () => {
  it("every kind renders an empty study, with a note instead of data", () => {
    const none = Source.make({ name: "none", directions: ["minimize", "minimize"] }, [])
    const kinds: ReadonlyArray<readonly [Plot.Data, string]> = [
      [History.make(empty), "no complete trials yet"],
      [Importance.fanova(empty), "not enough complete trials to tell"],
      [ParallelCoordinates.make(empty), "no complete trials yet"],
      [Contour.make(empty), "a contour needs two parameters"],
      [Slice.make(empty), "no parameters"],
      [Rank.make(empty), "no parameters"],
      [Edf.make(empty), "no complete trials yet"],
      [Intermediate.make(empty), "no trial has reported value"],
      [Timeline.make(empty), "no trial has started yet"],
      [Rungs.make(empty, { rungs: [1, 3] }), "no trial has reached a rung yet"],
      [Lineage.make(empty), "no trials yet"],
      [Folds.make(empty), "no trial has reported score by fold"],
      [ParetoFront.make(none), "no complete trials yet"]
    ]
    for (const [data, message] of kinds) expect(texts(render(data)), data._tag).toContain(message)
  })

  it("a study whose names hold markup renders them as text", () => {
    const probe = "<img src=x onerror=alert(1)> & \"q\""
    const d = { [probe]: Distribution.categorical(probe, ["<b>", "a&b"]), x: Distribution.float("x", 0, 1) }
    const study = Source.make({ name: probe, directions: ["minimize"], metrics: [probe] }, history(d, [
      { params: { [probe]: "<b>", x: 0.2 }, values: [1] },
      { params: { [probe]: "a&b", x: 0.7 }, values: [2] }
    ]))
    for (const data of [ParallelCoordinates.make(study), Slice.make(study), History.make(study), Importance.fanova(study, { trees: 4 })]) {
      const root = render(data)
      expect(texts(root), data._tag).toEqual(expect.arrayContaining([probe]))
      expect(findAll(root, (e) => e.name === "img")).toEqual([])
    }
    const html = Plot.toHtml([ParallelCoordinates.make(study), History.make(study)], { title: probe })
    // The page's own markup and the options' JSON, without ECharts' code (the first script).
    const page = html.replace(/<script>[\s\S]*?<\/script>/, "")
    expect(page).not.toContain("<img")
    expect(page).toContain("<title>&lt;img src=x onerror=alert(1)&gt; &amp; &quot;q&quot;</title>")
    expect(page).toContain("\\u003cimg src=x onerror=alert(1)>")
  })
})

describe("HTML", () => {
  const html = Plot.toHtml([History.make(mixed), { data: Importance.pedAnova(mixed), options: { height: 320 } }], { title: "mixed" })

  it("inlines ECharts and every option, and fetches nothing", () => {
    expect(html.startsWith("<!doctype html>")).toBe(true)
    expect(html.length).toBeGreaterThan(1_000_000)
    expect(html).toMatch(/echarts/)
    expect(html).not.toMatch(/<script[^>]+src=/i)
    expect(html).not.toMatch(/<link[^>]+href=/i)
    expect(html.match(/<div class="chart" id="tk-plot-\d+"/g)).toHaveLength(2)
    expect(html).toContain("height:320px")
  })

  it("embeds the same options as Plot.option, as JSON", () => {
    const json = /const options = (.*);\n/.exec(html)![1]
    expect(JSON.parse(json)).toEqual([Plot.option(History.make(mixed)).option, Plot.option(Importance.pedAnova(mixed), { height: 320 }).option])
  })

  it("says what is wrong with a size", () => {
    expect(() => Plot.toSvg(History.make(mixed), { width: 0 })).toThrow(RangeError)
  })
})
