// The charts of schedulers: rungs (successive halving, ASHA, Hyperband), the PBT lineage, and the
// Pareto front with its hypervolume.
import type * as Lineage from "../../Lineage.js"
import type * as ParetoFront from "../../ParetoFront.js"
import * as Rungs from "../../Rungs.js"
import { base, fmt, type Frame, grids, type Json, niceCeil, note, type Option, panelBoxes, stateColor, valueAxis } from "./common.js"

/** A changed parameter's value in a label: numbers to 4 significant digits (0.5699 rather than 0.5699241664937191). */
const changed = (v: unknown) => (typeof v === "number" ? fmt(v) : typeof v === "string" ? v : JSON.stringify(v))

const outcomeColor: Record<Rungs.Outcome, string> = {
  promoted: "#2e9e5b",
  running: "#7fc97f",
  paused: "#9aa0a6",
  completed: stateColor.Complete,
  stopped: stateColor.Pruned,
  failed: stateColor.Failed
}

export const rungs = (data: Rungs.Data, frame: Frame): Option => {
  const several = data.brackets.length > 1
  const labels = data.rungs.map((r) => (several ? `${r.bracket} · ${fmt(r.resource)}` : fmt(r.resource)))
  const axis = (gridIndex: number, name: string) => ({ type: "category", gridIndex, data: labels, name, nameLocation: "middle", nameGap: 26 })
  const series: Array<Json> = Rungs.outcomes.map((o) => ({
    type: "bar",
    name: o,
    stack: "occupancy",
    color: outcomeColor[o],
    data: data.rungs.map((r) => r.counts[o])
  }))
  for (const o of Rungs.outcomes) {
    series.push({
      type: "scatter",
      name: o,
      xAxisIndex: 1,
      yAxisIndex: 1,
      symbolSize: 7,
      color: outcomeColor[o],
      data: data.rungs.flatMap((r, k) => r.members.filter((m) => m.outcome === o).map((m) => ({ name: `trial ${m.trial} at step ${fmt(m.step)}`, value: [k, m.value] })))
    })
  }
  const reached = data.rungs.some((r) => r.members.length > 0)
  return base(frame, {
    legend: { bottom: 4, data: [...Rungs.outcomes] },
    grid: [{ left: 70, right: 30, top: 50, height: "30%" }, { left: 70, right: 30, top: "52%", bottom: 70 }],
    xAxis: [axis(0, ""), axis(1, several ? "bracket · rung (resource)" : "rung (resource)")],
    yAxis: [
      { type: "value", gridIndex: 0, name: "trials", nameLocation: "middle", nameGap: 45, minInterval: 1 },
      valueAxis(`${data.metric} at the rung`, 1)
    ],
    series,
    ...(reached ? {} : { graphic: [note("no trial has reached a rung yet")] })
  })
}

export const lineage = (data: Lineage.Data, frame: Frame): Option => {
  const lanes = data.members.map((m) => `member ${m}`)
  const laneOf = new Map(data.members.map((m, i) => [m, i]))
  const byTrial = new Map(data.nodes.map((n) => [n.trial, n]))
  const states = [...new Set(data.nodes.map((n) => n.state))]
  const lane = (frame.height - 130) / Math.max(1, lanes.length)
  const series: Array<Json> = states.map((state) => ({
    type: "lines",
    name: state,
    coordinateSystem: "cartesian2d",
    color: stateColor[state],
    lineStyle: { width: Math.max(2, Math.min(12, lane * 0.3)), opacity: 0.85, cap: "butt" },
    label: { show: true, position: "insideStartTop", formatter: "{b}", fontSize: 10, color: "#333" },
    data: data.nodes.filter((n) => n.state === state).map((n) => ({
      name: `#${n.trial}`,
      coords: [[n.from, laneOf.get(n.member)!], [n.to, laneOf.get(n.member)!]]
    }))
  }))
  const copies = data.edges.filter((e) => e.kind === "copies" && byTrial.has(e.from) && byTrial.has(e.to))
  series.push({
    type: "lines",
    name: "copies (exploit)",
    coordinateSystem: "cartesian2d",
    color: "#6a3d9a",
    symbol: ["none", "arrow"],
    symbolSize: 8,
    lineStyle: { width: 1.2, type: "dashed", curveness: 0.15 },
    label: { show: true, position: "end", formatter: "{b}", fontSize: 10, color: "#4a2a6a", distance: 4 },
    data: copies.map((e) => ({
      name: Object.entries(e.changes ?? {}).map(([k, c]) => `${k} ${changed(c.from)}→${changed(c.to)}`).join(", "),
      coords: [[e.step, laneOf.get(byTrial.get(e.from)!.member)!], [e.step, laneOf.get(byTrial.get(e.to)!.member)!]]
    }))
  })
  return base(frame, {
    legend: { bottom: 4 },
    grid: { left: 20, right: 40, top: 50, bottom: 70, containLabel: true },
    // Lines do not widen an axis to fit them as other series do: the extent is given.
    xAxis: { type: "value", name: "step", nameLocation: "middle", nameGap: 28, min: 0, max: niceCeil(data.nodes.reduce((m, n) => Math.max(m, n.to), 1)) },
    yAxis: { type: "category", data: lanes, inverse: true },
    series,
    ...(data.nodes.length === 0 ? { graphic: [note("no trials yet")] } : {})
  })
}

export const paretoFront = (data: ParetoFront.Data, frame: Frame): Option => {
  const k = data.objectives.length
  const pairs: Array<[number, number]> = k === 2 ? [[0, 1]] : [[0, 1], [0, 2], [1, 2]]
  const grid = grids(panelBoxes(pairs.length + 1, 2, { bottom: 0.09 }))
  const axisName = (i: number) => `${data.objectives[i]} (${data.directions[i] === "minimize" ? "min" : "max"})`
  const xAxis: Array<Json> = pairs.map(([i], g) => valueAxis(axisName(i), g, { nameGap: 26 }))
  const yAxis: Array<Json> = pairs.map(([, j], g) => valueAxis(axisName(j), g))
  const series: Array<Json> = pairs.flatMap(([i, j], g) => [
    {
      type: "scatter",
      name: "dominated",
      xAxisIndex: g,
      yAxisIndex: g,
      symbolSize: 6,
      color: "#b8bec6",
      data: data.points.filter((p) => !p.front).map((p) => ({ name: `trial ${p.trial}`, value: [p.values[i], p.values[j]] }))
    },
    {
      type: "scatter",
      name: "Pareto front",
      xAxisIndex: g,
      yAxisIndex: g,
      symbolSize: 8,
      color: "#d6404e",
      data: data.points.filter((p) => p.front).map((p) => ({ name: `trial ${p.trial}`, value: [p.values[i], p.values[j]] }))
    }
  ])
  const h = pairs.length
  // Trials finish out of order with several workers: the hypervolume is drawn against how many had finished.
  xAxis.push({ type: "value", gridIndex: h, name: "complete trials", nameLocation: "middle", nameGap: 26, minInterval: 1 })
  yAxis.push(valueAxis("hypervolume", h))
  series.push({
    type: "line",
    name: "hypervolume",
    xAxisIndex: h,
    yAxisIndex: h,
    step: "end",
    showSymbol: false,
    color: "#3b6fd4",
    data: data.hypervolume.history.map((p, k) => ({ name: `after trial ${p.trial}`, value: [k + 1, p.value] }))
  })
  return base(frame, {
    legend: { bottom: 4, data: ["Pareto front", "dominated", "hypervolume"] },
    grid,
    xAxis,
    yAxis,
    series,
    ...(data.points.length === 0 ? { graphic: [note("no complete trials yet")] } : {})
  })
}
