// The charts of trials as they ran: learning curves, the timeline, cross-validation folds.
import type { Trial } from "@tunekit/core"
import type * as Folds from "../../Folds.js"
import type * as Intermediate from "../../Intermediate.js"
import type * as Timeline from "../../Timeline.js"
import { base, extent, fmt, type Frame, type Json, niceCeil, note, type Option, stateColor } from "./common.js"

export const intermediate = (data: Intermediate.Data, frame: Frame): Option => {
  // One line a trial, coloured by how the trial ended; lines of one state share a legend entry.
  // Pruned and failed trials are drawn last, over the others.
  const order: ReadonlyArray<Trial.State> = ["Complete", "Waiting", "Running", "Pruned", "Failed"]
  const curves = [...data.curves].sort((a, b) => order.indexOf(a.state) - order.indexOf(b.state) || a.trial - b.trial)
  const series: Array<Json> = curves.map((c) => ({
    type: "line",
    name: c.state,
    id: `trial ${c.trial}`,
    // A line of one point draws nothing: a curve of one report (a trial stopped at its first) is its symbol.
    showSymbol: c.points.length === 1,
    symbolSize: 5,
    color: stateColor[c.state],
    lineStyle: { width: 1.2, opacity: c.state === "Complete" || c.state === "Running" ? 0.8 : 0.55 },
    data: c.points.map((p) => [p.step, p.value])
  }))
  const stops = (state: Trial.State, symbol: string) => ({
    type: "scatter",
    name: `${state} here`,
    symbol,
    symbolSize: 9,
    color: stateColor[state],
    z: 5,
    data: data.curves.filter((c) => c.state === state && c.stoppedAt).map((c) => ({ name: `trial ${c.trial}`, value: [c.stoppedAt!.step, c.stoppedAt!.value] }))
  })
  series.push(stops("Pruned", "triangle"), stops("Failed", "rect"))
  return base(frame, {
    legend: { bottom: 4, data: [...order.filter((s) => data.curves.some((c) => c.state === s)), "Pruned here", "Failed here"] },
    grid: { left: 70, right: 30, top: 50, bottom: 70 },
    xAxis: { type: "value", name: "step", nameLocation: "middle", nameGap: 28, scale: true },
    yAxis: { type: "value", name: data.metric, nameLocation: "middle", nameGap: 50, scale: true },
    dataZoom: [{ type: "inside" }],
    series,
    ...(data.curves.length === 0 ? { graphic: [note(`no trial has reported ${data.metric}`)] } : {})
  })
}

export const timeline = (data: Timeline.Data, frame: Frame): Option => {
  const t0 = data.start ?? 0
  const lane = (frame.height - 130) / Math.max(1, data.workers.length)
  const width = Math.max(2, Math.min(22, lane * 0.55))
  const states = [...new Set(data.bars.map((b) => b.state))]
  return base(frame, {
    legend: { bottom: 4, data: states },
    grid: { left: 20, right: 30, top: 50, bottom: 70, containLabel: true },
    // Lines do not widen an axis to fit them as other series do: the extent is given.
    xAxis: { type: "value", name: "seconds since the first trial started", nameLocation: "middle", nameGap: 28, min: 0, max: niceCeil(data.bars.reduce((m, b) => Math.max(m, (b.end - t0) / 1000), 1e-3)) },
    yAxis: { type: "category", data: data.workers, inverse: true },
    series: states.map((state) => ({
      type: "lines",
      name: state,
      coordinateSystem: "cartesian2d",
      polyline: false,
      color: stateColor[state],
      lineStyle: { width, opacity: 0.9, cap: "butt" },
      data: data.bars.filter((b) => b.state === state).map((b) => ({
        name: `trial ${b.trial} (${fmt((b.end - b.start) / 1000)} s)`,
        coords: [[(b.start - t0) / 1000, data.workers.indexOf(b.worker)], [(b.end - t0) / 1000, data.workers.indexOf(b.worker)]]
      }))
    })),
    ...(data.bars.length === 0 ? { graphic: [note("no trial has started yet")] } : {})
  })
}

/** The extent of every score and mean ± std, with a margin of 5%. */
const spanOf = (data: Folds.Data) => {
  const ys = data.trials.flatMap((r) => [
    ...r.scores.filter((s): s is number => s !== null),
    ...(r.mean !== null ? [r.mean - (r.std ?? 0), r.mean + (r.std ?? 0)] : [])
  ])
  if (ys.length === 0) return { scale: true }
  const [lo, hi] = extent(ys)
  const pad = 0.05 * (hi - lo)
  return { min: Number((lo - pad).toPrecision(4)), max: Number((hi + pad).toPrecision(4)) }
}

export const folds = (data: Folds.Data, frame: Frame): Option => {
  const x = data.trials.map((r) => `#${r.trial}`)
  const series: Array<Json> = Array.from({ length: data.folds }, (_, f) => ({
    type: "scatter",
    name: `fold ${f}`,
    symbolSize: 6,
    data: data.trials.flatMap((r, i) => (r.scores[f] === null ? [] : [{ name: `trial ${r.trial}, fold ${f}`, value: [i, r.scores[f]] }]))
  }))
  const withMean = data.trials.flatMap((r, i) => (r.mean === null ? [] : [{ r, i }]))
  series.push({
    type: "scatter",
    name: "mean",
    symbol: "diamond",
    symbolSize: 11,
    color: "#222",
    data: withMean.map(({ r, i }) => ({ name: `trial ${r.trial}: ${fmt(r.mean!)} ± ${fmt(r.std ?? 0)} (${r.state})`, value: [i, r.mean] }))
  })
  series.push({
    type: "lines",
    name: "± std",
    coordinateSystem: "cartesian2d",
    color: "#222",
    lineStyle: { width: 1.5 },
    data: withMean.map(({ r, i }) => ({ coords: [[i, r.mean! - (r.std ?? 0)], [i, r.mean! + (r.std ?? 0)]] }))
  })
  return base(frame, {
    legend: { bottom: 4 },
    grid: { left: 70, right: 30, top: 50, bottom: 70 },
    xAxis: { type: "category", name: "trial", nameLocation: "middle", nameGap: 28, data: x },
    // The ± std lines do not widen the axis: its extent covers them.
    yAxis: { type: "value", name: data.metric, nameLocation: "middle", nameGap: 50, ...spanOf(data) },
    series,
    ...(data.trials.length === 0 ? { graphic: [note(`no trial has reported ${data.metric} by fold`)] } : {})
  })
}
