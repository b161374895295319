// Pieces every chart shares: the option's frame, parameter axes, panel layouts, colours. Options
// are plain JSON (no functions), so that the same option renders to SVG on the server and is
// inlined into HTML for the browser.
import type { Trial } from "@tunekit/core"
import type { EChartsOption } from "echarts"
import type { ParamAxis } from "../params.js"

export type Option = EChartsOption
/** A JSON object of the option, for the parts ECharts' types are too narrow to state simply. */
export type Json = Record<string, unknown>

export interface Frame {
  readonly width: number
  readonly height: number
  readonly title: string
}

/** Trial states in the colours of the terminal table and the dashboard. */
export const stateColor: Record<Trial.State, string> = {
  Complete: "#3b6fd4",
  Running: "#2e9e5b",
  Waiting: "#9aa0a6",
  Pruned: "#e8912d",
  Failed: "#d64545"
}

/** Colours of studies or series side by side (ColorBrewer's Dark2, readable on white). */
export const palette = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]

/** A sequential blue scale from the best value (dark) to the worst (light), as Optuna's plots use. */
export const bestToWorst = ["#08306b", "#2171b5", "#6baed6", "#c6dbef", "#f7fbff"]

/** Colours from a low value to a high one, so that the best end is dark. */
export const lowToHigh = (direction: Trial.Direction) => (direction === "minimize" ? bestToWorst : [...bestToWorst].reverse())

/** A round number at or above x (two significant digits), for the end of an axis. */
export const niceCeil = (x: number): number => {
  if (!(x > 0)) return 1
  const unit = 10 ** (Math.floor(Math.log10(x)) - 1)
  return Number((Math.ceil(x / unit - 1e-9) * unit).toPrecision(2))
}

/** Numbers in labels and tooltips: 4 significant digits, no float noise. */
export const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(4))))

export const base = (frame: Frame, parts: Json): Option => ({
  animation: false,
  backgroundColor: "#ffffff",
  title: { text: frame.title, left: "center", top: 8, textStyle: { fontSize: 15 } },
  tooltip: { trigger: "item", confine: true },
  ...parts
}) as Option

/** A centred note where there is nothing to draw. */
export const note = (text: string): Json => ({
  type: "text",
  left: "center",
  top: "middle",
  style: { text, fill: "#777", fontSize: 14 }
})

/**
 * Ticks of a log axis: the powers of ten in range (every other one beyond 4), or with less than
 * two of those, 1, 2 and 5 times them, or else the bounds. Given explicitly because ECharts labels
 * some powers of ten with float noise (1e-4 as 0.00009999999999999999).
 */
export const logTicks = (lo: number, hi: number): Array<number> => {
  const within = (v: number) => v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)
  const [a, b] = [Math.floor(Math.log10(lo)), Math.ceil(Math.log10(hi))]
  const decades: Array<number> = []
  const fine: Array<number> = []
  for (let k = a; k <= b; k++) {
    for (const m of [1, 2, 5]) {
      const v = Number(`${m}e${k}`)
      if (!within(v)) continue
      fine.push(v)
      if (m === 1) decades.push(v)
    }
  }
  // At most 4 labelled decades: wider ranges (1e-6 to 1e-2) label every other one, so that long
  // labels such as 0.000001 do not run into each other on a small panel.
  const every = Math.ceil(decades.length / 4)
  const shown = decades.filter((_, i) => i % every === (decades.length - 1) % every)
  return decades.length >= 2 ? shown : fine.length >= 2 ? fine : [Number(lo.toPrecision(3)), Number(hi.toPrecision(3))]
}

/** Options of a log axis over [lo, hi] (its ticks may be given with a wider extent). */
export const logAxis = (lo: number, hi: number, extent: readonly [number, number] = [lo, hi]): Json => {
  const ticks = logTicks(lo, hi)
  return { type: "log", min: extent[0], max: extent[1], axisLabel: { customValues: ticks }, axisTick: { customValues: ticks } }
}

/**
 * The gap from a vertical parameter axis to its name: past its longest label (about 7 px a
 * character of ECharts' 12 px labels), so that the name of a log axis labelled 0.000001 does not sit
 * on its labels; at most 70 px, as panels side by side leave about that much between them.
 */
export const nameGapOf = (axis: ParamAxis): number => {
  const labels = axis.choices ?? (axis.scale === "log" ? logTicks(axis.range[0], axis.range[1]).map(String) : axis.range.map((v) => `${fmt(v)}.0`))
  return Math.min(70, Math.max(30, 14 + 7 * Math.max(...labels.map((l) => l.length))))
}

/** An ECharts axis for a parameter: categories, a log axis or a value axis over its range. */
export const paramAxis = (axis: ParamAxis, gridIndex: number, extra: Json = {}): Json => {
  const common = { name: axis.name, nameLocation: "middle", nameGap: 28, gridIndex }
  if (axis.scale === "categorical") return { ...common, type: "category", data: axis.choices, ...extra }
  if (axis.scale === "log") return { ...common, ...logAxis(axis.range[0], axis.range[1]), ...extra }
  return { ...common, type: "value", min: axis.range[0], max: axis.range[1], ...(axis.step !== undefined ? { minInterval: axis.step } : {}), ...extra }
}

/** A value axis fitted to the data (not forced through 0). */
export const valueAxis = (name: string, gridIndex: number, extra: Json = {}): Json => ({
  type: "value",
  name,
  nameLocation: "middle",
  nameGap: 45,
  scale: true,
  gridIndex,
  ...extra
})

/** The smallest and largest of some numbers ([0, 1] for none; widened by 0.5 around a single value). */
export const extent = (xs: ReadonlyArray<number>): [number, number] => {
  let lo = Infinity
  let hi = -Infinity
  for (const x of xs) {
    if (x < lo) lo = x
    if (x > hi) hi = x
  }
  return !Number.isFinite(lo) ? [0, 1] : lo === hi ? [lo - 0.5, hi + 0.5] : [lo, hi]
}

/** A colour bar for a value, at the right of the frame, labelled with enough digits for its range. */
export const colorBar = (name: string, [min, max]: readonly [number, number], colors: ReadonlyArray<string>, extra: Json): Json => ({
  type: "continuous",
  min,
  max,
  precision: Math.max(0, Math.min(6, 2 - Math.floor(Math.log10(max - min)))),
  text: [name, ""],
  right: 8,
  top: "middle",
  itemHeight: 160,
  calculable: true,
  inRange: { color: colors },
  ...extra
})

/** A panel's place in the frame, in fractions of its width and height. */
export interface Box {
  readonly left: number
  readonly top: number
  readonly width: number
  readonly height: number
}

/**
 * Panels in rows and columns inside the frame: below the title, above a legend at the bottom,
 * and left of a colour bar when `right` keeps room for one (fractions of the frame).
 */
export const panelBoxes = (
  n: number,
  columns: number,
  opts: { readonly top?: number; readonly bottom?: number; readonly right?: number } = {}
): Array<Box> => {
  const cols = Math.max(1, Math.min(columns, n))
  const rows = Math.max(1, Math.ceil(n / cols))
  const top = opts.top ?? 0.09
  const bottom = opts.bottom ?? 0.06
  const left = 0.02
  const h = (1 - top - bottom) / rows
  const w = (1 - left - (opts.right ?? 0.02)) / cols
  return Array.from({ length: n }, (_, i) => {
    const r = Math.floor(i / cols)
    const c = i % cols
    // Room on the left of each panel for its y axis's labels and name (a log axis's 0.000001 and
    // its name take about 75 px), and a little on its right.
    const room = Math.min(0.1, w * 0.26)
    return { left: left + c * w + room, width: w * 0.94 - room, top: top + r * h + h * 0.05, height: h * 0.72 }
  })
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`

/** ECharts grids for the boxes. */
export const grids = (boxes: ReadonlyArray<Box>): Array<Json> =>
  boxes.map((b) => ({ left: pct(b.left), top: pct(b.top), width: pct(b.width), height: pct(b.height) }))

/** Rows of panels a frame of `n` panels in `columns` needs, for a default height. */
export const rowsOf = (n: number, columns: number) => Math.max(1, Math.ceil(n / Math.max(1, Math.min(columns, n))))
