// The charts of values over trials: the optimization history and the EDF.
import type * as Edf from "../../Edf.js"
import type * as History from "../../History.js"
import { base, type Frame, type Json, note, type Option, palette } from "./common.js"

export const history = (data: History.Data, frame: Frame): Option => {
  const several = data.studies.length > 1
  // A study's points and its best line share a colour.
  const series: Array<Json> = data.studies.flatMap((s, k) => [
    {
      type: "scatter",
      name: several ? `${s.study}: ${data.objective}` : data.objective,
      color: palette[k % palette.length],
      itemStyle: { opacity: 0.55 },
      symbolSize: 5,
      data: s.points.map((p) => ({ name: `trial ${p.trial}`, value: [p.trial, p.value] }))
    },
    {
      type: "line",
      name: several ? `${s.study}: best` : "best value",
      color: palette[k % palette.length],
      step: "end",
      showSymbol: false,
      lineStyle: { width: 2 },
      data: s.best.map((p) => [p.trial, p.value])
    }
  ])
  const empty = data.studies.every((s) => s.points.length === 0)
  return base(frame, {
    legend: { bottom: 4 },
    grid: { left: 70, right: 30, top: 50, bottom: 70 },
    xAxis: { type: "value", name: "trial", nameLocation: "middle", nameGap: 28, minInterval: 1 },
    yAxis: { type: "value", name: data.objective, nameLocation: "middle", nameGap: 50, scale: true },
    dataZoom: [{ type: "inside" }],
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
