// The charts of parameters: importance, parallel coordinates, contour, slice and rank.
import type * as Contour from "../../Contour.js"
import type * as Importance from "../../Importance.js"
import type * as ParallelCoordinates from "../../ParallelCoordinates.js"
import type * as Rank from "../../Rank.js"
import type * as Slice from "../../Slice.js"
import type { ParamAxis } from "../params.js"
import {
  base,
  bestToWorst,
  colorBar,
  extent,
  fmt,
  type Frame,
  grids,
  type Json,
  logAxis,
  lowToHigh,
  nameGapOf,
  note,
  type Option,
  panelBoxes,
  paramAxis,
  valueAxis
} from "./common.js"

/** Room at the right of panels for a colour bar (a fraction of the frame's width). */
const BAR = 0.12

export const importance = (data: Importance.Data, frame: Frame): Option => {
  const empty = data.params.length === 0 || data.objectives.every((o) => o.importances.every((v) => v === 0))
  return base(frame, {
    legend: data.objectives.length > 1 ? { bottom: 4 } : undefined,
    grid: { left: 20, right: 60, top: 50, bottom: data.objectives.length > 1 ? 50 : 40, containLabel: true },
    xAxis: { type: "value", name: "importance", nameLocation: "middle", nameGap: 28, min: 0 },
    yAxis: { type: "category", data: data.params, inverse: true },
    series: data.objectives.map((o) => ({
      type: "bar",
      name: `${o.objective} (${o.trials} trials)`,
      data: o.importances.map((v) => Number(v.toFixed(3))),
      label: { show: true, position: "right" }
    })),
    ...(empty ? { graphic: [note("not enough complete trials to tell")] } : {})
  })
}

export const parallelCoordinates = (data: ParallelCoordinates.Data, frame: Frame): Option => {
  const n = data.axes.length
  const axes: Array<Json> = data.axes.map((a, dim) =>
    a.scale === "categorical"
      ? { dim, name: a.name, type: "category", data: a.choices }
      : a.scale === "log"
      ? { dim, name: a.name, ...logAxis(a.range[0], a.range[1]) }
      : { dim, name: a.name, type: "value", min: a.range[0], max: a.range[1], ...(a.step !== undefined ? { minInterval: a.step } : {}) }
  )
  axes.push({ dim: n, name: data.objective, type: "value", scale: true })
  return base(frame, {
    parallel: { left: 60, right: 140, top: 70, bottom: 40, parallelAxisDefault: { nameLocation: "end", nameGap: 14, nameTextStyle: { fontSize: 11 } } },
    parallelAxis: axes,
    visualMap: colorBar(data.objective, extent(data.lines.map((l) => l.value)), lowToHigh(data.direction), { dimension: n, seriesIndex: 0 }),
    series: [{
      type: "parallel",
      name: "trials",
      lineStyle: { width: 1.2, opacity: 0.75 },
      data: data.lines.map((l) => ({ name: `trial ${l.trial}`, value: [...l.params, l.value] }))
    }],
    ...(data.lines.length === 0 ? { graphic: [note("no complete trials yet")] } : {})
  })
}

/**
 * A contour axis: the grid's cells centred on its points, so the axis reaches half a cell past
 * the first and last point (in log space on a log axis); choices are categories.
 */
const contourAxis = (axis: ParamAxis, grid: ReadonlyArray<number>, gridIndex: number, nameGap: number): Json => {
  const common = { name: axis.name, nameLocation: "middle", nameGap, gridIndex }
  if (axis.scale === "categorical") return { ...common, type: "category", data: axis.choices }
  const [lo, hi] = [grid[0], grid[grid.length - 1]]
  const labels = { axisLabel: { showMinLabel: false, showMaxLabel: false } }
  if (axis.scale === "log") {
    const half = grid.length > 1 ? Math.sqrt(grid[1] / grid[0]) : 2
    return { ...common, ...logAxis(lo, hi, [lo / half, hi * half]) }
  }
  const half = grid.length > 1 ? (grid[1] - grid[0]) / 2 : 0.5
  return { ...common, type: "value", min: lo - half, max: hi + half, ...labels }
}

export const contour = (data: Contour.Data, frame: Frame, columns: number): Option => {
  const boxes = panelBoxes(data.panels.length, columns, { right: BAR })
  const xAxis: Array<Json> = []
  const yAxis: Array<Json> = []
  const series: Array<Json> = []
  const values: Array<number> = []
  data.panels.forEach((p, i) => {
    xAxis.push(contourAxis(p.x, p.grid.xs, i, 26))
    yAxis.push(contourAxis(p.y, p.grid.ys, i, nameGapOf(p.y)))
    // The surface: one square a grid point, sized to tile the panel, coloured by value.
    const cell = [(boxes[i].width * frame.width) / p.grid.xs.length + 0.6, (boxes[i].height * frame.height) / p.grid.ys.length + 0.6]
    const cells: Array<[number, number, number]> = []
    p.grid.z.forEach((row, j) => row.forEach((z, k) => {
      if (z === null) return
      cells.push([p.grid.xs[k], p.grid.ys[j], z])
      values.push(z)
    }))
    series.push({
      type: "scatter",
      name: `${p.x.name} × ${p.y.name}`,
      xAxisIndex: i,
      yAxisIndex: i,
      symbol: "rect",
      symbolSize: cell,
      itemStyle: { opacity: 1 },
      emphasis: { disabled: true },
      tooltip: { show: false },
      silent: true,
      data: cells
    })
    series.push({
      type: "scatter",
      name: "trials",
      xAxisIndex: i,
      yAxisIndex: i,
      symbolSize: 6,
      z: 3,
      itemStyle: { color: "#111", borderColor: "#fff", borderWidth: 0.8 },
      data: p.points.map((q) => ({ name: `trial ${q.trial}: ${fmt(q.value)}`, value: [q.x, q.y, q.value] }))
    })
  })
  return base(frame, {
    grid: grids(boxes),
    xAxis,
    yAxis,
    visualMap: colorBar(data.objective, extent(values), lowToHigh(data.direction), {
      seriesIndex: data.panels.map((_, i) => 2 * i),
      dimension: 2
    }),
    series,
    ...(data.panels.length === 0
      ? { graphic: [note("a contour needs two parameters")] }
      : values.length === 0
      ? { graphic: [note("no complete trials with these parameters")] }
      : {})
  })
}

export const slice = (data: Slice.Data, frame: Frame, columns: number): Option => {
  const boxes = panelBoxes(data.panels.length, columns, { right: BAR })
  const trials = data.panels.flatMap((p) => p.points.map((q) => q.trial))
  const cols = Math.max(1, Math.min(columns, data.panels.length))
  return base(frame, {
    grid: grids(boxes),
    xAxis: data.panels.map((p, i) => paramAxis(p.axis, i)),
    yAxis: data.panels.map((_, i) => valueAxis(i % cols === 0 ? data.objective : "", i)),
    visualMap: colorBar("trial", extent(trials), ["#c6dbef", "#08306b"], { dimension: 2, seriesIndex: data.panels.map((_, i) => i) }),
    series: data.panels.map((p, i) => ({
      type: "scatter",
      name: p.axis.name,
      xAxisIndex: i,
      yAxisIndex: i,
      symbolSize: 6,
      data: p.points.map((q) => ({ name: `trial ${q.trial}: ${fmt(q.value)}`, value: [q.x, q.value, q.trial] }))
    })),
    ...(data.panels.length === 0 ? { graphic: [note("no parameters")] } : trials.length === 0 ? { graphic: [note("no complete trials yet")] } : {})
  })
}

export const rank = (data: Rank.Data, frame: Frame, columns: number): Option => {
  const pairs: Array<[number, number]> = []
  for (let i = 0; i < data.axes.length; i++) for (let j = i + 1; j < data.axes.length; j++) pairs.push([i, j])
  const single = data.axes.length === 1
  const boxes = panelBoxes(single ? 1 : pairs.length, columns, { right: BAR })
  const point = (p: Rank.Point, x: number | null, y: number | null) =>
    x === null || y === null ? [] : [{ name: `trial ${p.trial}: ${fmt(p.value)}`, value: [x, y, p.rank] }]
  const series: Array<Json> = single
    ? [{ type: "scatter", name: data.axes[0].name, symbolSize: 7, data: data.points.flatMap((p) => point(p, p.params[0], p.value)) }]
    : pairs.map(([i, j], k) => ({
      type: "scatter",
      name: `${data.axes[i].name} × ${data.axes[j].name}`,
      xAxisIndex: k,
      yAxisIndex: k,
      symbolSize: 7,
      data: data.points.flatMap((p) => point(p, p.params[i], p.params[j]))
    }))
  return base(frame, {
    grid: grids(boxes),
    xAxis: single ? [paramAxis(data.axes[0], 0)] : pairs.map(([i], k) => paramAxis(data.axes[i], k)),
    yAxis: single ? [valueAxis(data.objective, 0)] : pairs.map(([, j], k) => paramAxis(data.axes[j], k, { nameGap: nameGapOf(data.axes[j]) })),
    visualMap: colorBar("rank", [0, 1], bestToWorst, { dimension: 2, seriesIndex: series.map((_, k) => k), text: ["worst", "best"], precision: 1 }),
    series,
    ...(data.axes.length === 0 ? { graphic: [note("no parameters")] } : data.points.length === 0 ? { graphic: [note("no complete trials yet")] } : {})
  })
}

