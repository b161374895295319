// Learning curves recorded once from real trainers (benchmarks/record-curves.ts) and replayed by
// the schedulers benchmark. A fixture is gzipped JSON under benchmarks/fixtures/: each recorded
// configuration's params and its per-epoch metrics, with how, when and where it was recorded.
// Replaying a curve takes microseconds, so a scheduler comparison on hundreds of real curves
// takes seconds; real curves cross, plateau, overfit and diverge in ways synthetic ones do not.
import type { Trial } from "@tunekit/core"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as zlib from "node:zlib"
import { Observable } from "rxjs"

export const FORMAT = "tunekit-curves/1"

export const fixturesDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures")

/** One recorded configuration. */
export interface Curve {
  readonly params: Readonly<Record<string, unknown>>
  /** The training seed (weights, shuffling, dropout). */
  readonly seed: number
  /** Per-epoch values by metric name; index e is epoch e + 1. */
  readonly metrics: Readonly<Record<string, ReadonlyArray<number>>>
  /** Wall time of the whole run, in seconds. */
  readonly seconds: number
  /** The epoch at which training diverged (a non-finite loss): the metrics stop before it. */
  readonly diverged?: number
}

/** A recorded set of curves: one model family on one dataset. */
export interface CurveSet {
  readonly format: typeof FORMAT
  readonly name: string
  readonly description: string
  /** The objective metric and its direction. */
  readonly metric: string
  readonly direction: Trial.Direction
  /** The epochs every run was trained for. */
  readonly epochs: number
  /** The search space the configurations were drawn from, in words. */
  readonly space: Readonly<Record<string, string>>
  readonly provenance: Readonly<Record<string, string | number>>
  readonly curves: ReadonlyArray<Curve>
}

export const fixturePath = (name: string, dir = fixturesDir) => path.join(dir, `curves-${name}.json.gz`)

/** The curve sets in a folder (default: those shipped under benchmarks/fixtures/), by name. */
export const available = (dir = fixturesDir): Array<string> =>
  fs.existsSync(dir)
    ? fs.readdirSync(dir).filter((f) => /^curves-.+\.json\.gz$/.test(f)).map((f) => f.slice("curves-".length, -".json.gz".length)).sort()
    : []

/** Writes a curve set as gzipped JSON; returns the file's path and size in bytes. */
export const save = (set: CurveSet, dir = fixturesDir): { readonly file: string; readonly bytes: number } => {
  const file = fixturePath(set.name, dir)
  fs.mkdirSync(dir, { recursive: true })
  const bytes = zlib.gzipSync(JSON.stringify(set), { level: 9 })
  fs.writeFileSync(file, bytes)
  return { file, bytes: bytes.length }
}

/** Reads and checks a curve set by name. */
export const load = (name: string, dir = fixturesDir): CurveSet => {
  const file = fixturePath(name, dir)
  if (!fs.existsSync(file)) {
    throw new Error(`no recorded curves named ${name} (${file}); recorded: ${available(dir).join(", ") || "none"}; record them with npm run bench -- record-curves`)
  }
  const set = JSON.parse(zlib.gunzipSync(fs.readFileSync(file)).toString("utf8")) as CurveSet
  const problem = check(set)
  if (problem !== undefined) throw new Error(`${file}: ${problem}`)
  return set
}

const check = (set: CurveSet): string | undefined => {
  if (set?.format !== FORMAT) return `format is ${JSON.stringify(set?.format)}, expected ${FORMAT}`
  if (!Array.isArray(set.curves) || set.curves.length === 0) return "no curves"
  for (const [i, c] of set.curves.entries()) {
    const values = c.metrics?.[set.metric]
    if (!Array.isArray(values)) return `curve ${i} has no ${set.metric}`
    const expected = c.diverged === undefined ? set.epochs : c.diverged - 1
    for (const [name, xs] of Object.entries(c.metrics) as Array<[string, ReadonlyArray<number>]>) {
      if (!Array.isArray(xs) || xs.length !== expected) return `curve ${i}: ${name} has ${xs.length} epochs, expected ${expected}`
    }
  }
  return undefined
}

/** Counts what a trainer actually produced (not what a study stored). */
export interface Produced {
  steps: number
}

/**
 * A recorded curve as a trainer: a synchronous source that emits epoch `resumeFrom + 1` onwards
 * and checks `subscriber.closed` before each epoch, so that a pruned or paused trial stops
 * producing. Each epoch is counted in `produced` as it is emitted. A run that diverged errors
 * where it diverged, as the trainer did.
 */
export const replay = (curve: Curve, resumeFrom: number | undefined, produced: Produced): Observable<Trial.Metric> =>
  new Observable<Trial.Metric>((subscriber) => {
    const names = Object.keys(curve.metrics)
    const recorded = curve.metrics[names[0]].length
    for (let step = (resumeFrom ?? 0) + 1; step <= recorded && !subscriber.closed; step++) {
      const values: Record<string, number> = {}
      for (const n of names) values[n] = curve.metrics[n][step - 1]
      produced.steps++
      subscriber.next({ step, values })
    }
    if (subscriber.closed) return
    if (curve.diverged !== undefined) subscriber.error(new Error(`training diverged at epoch ${curve.diverged} (recorded)`))
    else subscriber.complete()
  })

/** The final (last epoch's) objective value of a curve that trained to the end, else undefined. */
export const finalValue = (set: CurveSet, curve: Curve): number | undefined =>
  curve.diverged === undefined ? curve.metrics[set.metric][set.epochs - 1] : undefined

/** Ranks (1 = smallest), ties sharing their mean rank. */
const ranks = (xs: ReadonlyArray<number>): Array<number> => {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0])
  const out = new Array<number>(xs.length)
  for (let i = 0; i < order.length;) {
    let j = i
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++
    for (let k = i; k <= j; k++) out[order[k][1]] = (i + j) / 2 + 1
    i = j + 1
  }
  return out
}

/** Spearman's rank correlation: Pearson's on the ranks. */
export const spearman = (xs: ReadonlyArray<number>, ys: ReadonlyArray<number>): number => {
  const rx = ranks(xs)
  const ry = ranks(ys)
  const mean = (r: ReadonlyArray<number>) => r.reduce((a, b) => a + b, 0) / r.length
  const mx = mean(rx)
  const my = mean(ry)
  let sxy = 0
  let sxx = 0
  let syy = 0
  for (let i = 0; i < rx.length; i++) {
    sxy += (rx[i] - mx) * (ry[i] - my)
    sxx += (rx[i] - mx) ** 2
    syy += (ry[i] - my) ** 2
  }
  return sxy / Math.sqrt(sxx * syy)
}

/**
 * How much the early epochs of a set say about the final ones, over the curves trained to the
 * end: at each epoch, Spearman's correlation between the values there and the final values, and
 * the rank there (1 = best) of the configuration that ends best.
 */
export const predictiveness = (set: CurveSet, epochs: ReadonlyArray<number>) => {
  const done = set.curves.filter((c) => c.diverged === undefined)
  const sign = set.direction === "maximize" ? -1 : 1 // ranks count from the best
  const finals = done.map((c) => sign * c.metrics[set.metric][set.epochs - 1])
  const winner = finals.indexOf(Math.min(...finals))
  return epochs.filter((e) => e <= set.epochs).map((epoch) => {
    const at = done.map((c) => sign * c.metrics[set.metric][epoch - 1])
    const rank = at.filter((v) => v < at[winner]).length + 1
    return { epoch, spearman: spearman(at, finals), winnerRank: rank }
  })
}
