// The charts of values over trials: the optimization history and the EDF.
import type * as Edf from "../../Edf.js"
import type * as History from "../../History.js"
import { base, type Frame, type Json, note, type Option, palette } from "./common.js"

export const history = (data: History.Data, frame: Frame): Option => {
  const several = data.studies.length > 1
  const panels = data.panels.length
  // One grid per objective, stacked, each with its own y axis (objectives have their own scales).
  const top = 50
  const bottom = 70
  const gap = 45
  const height = (frame.height - top - bottom - gap * (panels - 1)) / panels
  const grid = data.panels.map((_, i) => ({ left: 70, right: 30, top: top + i * (height + gap), height }))
  // A study's points and its best line share a colour; with several panels, the names are the
  // same in each, so that the legend toggles a study everywhere.
  const series: Array<Json> = data.panels.flatMap((panel, i) =>
    panel.studies.flatMap((s, k) => [
      {
        type: "scatter",
        name: panels > 1 ? (several ? s.study : "value") : several ? `${s.study}: ${panel.objective}` : panel.objective,
        xAxisIndex: i,
        yAxisIndex: i,
        color: palette[k % palette.length],
        itemStyle: { opacity: 0.55 },
        symbolSize: 5,
        data: s.points.map((p) => ({ name: `trial ${p.trial}`, value: [p.trial, p.value] }))
      },
      {
        type: "line",
        name: several ? `${s.study}: best` : panels > 1 ? "best so far" : "best value",
        xAxisIndex: i,
        yAxisIndex: i,
        color: palette[k % palette.length],
        step: "end",
        showSymbol: false,
        lineStyle: { width: 2 },
        data: s.best.map((p) => [p.trial, p.value])
      }
    ])
  )
  const empty = data.studies.every((s) => s.points.length === 0)
  const last = panels - 1
  return base(frame, {
    legend: { bottom: 4 },
    grid,
    xAxis: data.panels.map((_, i) => ({
      type: "value",
      gridIndex: i,
      minInterval: 1,
      ...(i === last ? { name: "trial", nameLocation: "middle", nameGap: 28 } : {})
    })),
    yAxis: data.panels.map((p, i) => ({
      type: "value",
      gridIndex: i,
      name: panels > 1 ? `${p.objective} (${p.direction === "minimize" ? "min" : "max"})` : p.objective,
      nameLocation: "middle",
      nameGap: 50,
      scale: true
    })),
    // Zooming one panel zooms them all: their x is the same trial number.
    dataZoom: [{ type: "inside", xAxisIndex: data.panels.map((_, i) => i) }],
    series,
    ...(empty ? { graphic: [note("no complete trials yet")] } : {})
  })
}

export const edf = (d: Edf.Data, frame: Frame): Option => {
  const empty = d.studies.every((s) => s.points.length === 0)
  return base(frame, {
    legend: { bottom: 4 },
    grid: { left: 70, right: 30, top: 50, bottom: 70 },
    xAxis: { type: "value", name: d.objective, nameLocation: "middle", nameGap: 28, scale: true },
    yAxis: { type: "value", name: "fraction of trials", nameLocation: "middle", nameGap: 45, min: 0, max: 1 },
    series: d.studies.map((s, k) => ({
      type: "line",
      name: s.study,
      color: palette[k % palette.length],
      step: "end",
      // A line of one point (one complete trial) draws nothing: its symbol shows it.
      showSymbol: s.points.length === 1,
      data: s.points.map((p) => [p.value, p.fraction])
    })),
    ...(empty ? { graphic: [note("no complete trials yet")] } : {})
  })
}
