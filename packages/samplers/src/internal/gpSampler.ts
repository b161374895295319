// The GP-BO sampler: a GP fitted on the completed trials of the relative space, and an acquisition
// maximized over quasi-random candidates refined by a local pattern search (Snoek et al.,
// "Practical Bayesian optimization of machine learning algorithms", NeurIPS 2012).
import { Distribution } from "@tunekit/core"
import type { Rng, Sampler, Trial } from "@tunekit/core"
import * as Acq from "./acquisition.js"
import * as Gp from "./gp.js"
import * as GpPrior from "./gpPrior.js"
import type { Kind as KernelKind } from "./kernel.js"
import * as Sobol from "./sobol.js"

export type Acquisition = "ei" | "logei" | "pi" | "ucb"
export type Liar = "believer" | "min" | "max" | "mean"

export interface Settings {
  readonly kernel: KernelKind
  readonly acquisition: Acquisition
  readonly kappa: number
  readonly xi: number
  readonly exploreXi: number
  readonly liar: Liar
  readonly candidates: number
  readonly localStarts: number
  readonly restarts: number
  readonly maxFitPoints: number
  readonly maxPoints: number
  readonly warp: boolean
  readonly additive: boolean
}

/**
 * A log warp of skewed objectives (values to maximize, in place): Rosenbrock-like objectives span
 * orders of magnitude, and a stationary GP on the raw values sees the good region as flat. The
 * warp is monotone, so it keeps the optimum; it applies only when the losses have a long upper
 * tail (sample skewness above 1), the case that log transforms of the output are used for in
 * practice (Snoek et al. 2014, "Input warping"; Cowen-Rivers et al. 2022, HEBO, use power
 * transforms of the output for the same reason).
 */
export const warpInPlace = (raw: Float64Array): boolean => {
  const n = raw.length
  if (n < 4) return false
  const loss = Array.from(raw, (v) => -v)
  const m = loss.reduce((a, b) => a + b, 0) / n
  let m2 = 0
  let m3 = 0
  for (const v of loss) {
    m2 += (v - m) ** 2
    m3 += (v - m) ** 3
  }
  m2 /= n
  m3 /= n
  if (!(m2 > 0) || m3 / m2 ** 1.5 <= 1) return false
  const sorted = [...loss].sort((a, b) => a - b)
  const min = sorted[0]
  // The offset sets the resolution near the best value: the spread of the best fifth, but at least
  // 1% of the range, so that a cluster of trials around a local optimum is not magnified into a
  // rough surface (which left Branin stuck on its x1 = 10 boundary in some seeds).
  const offset = Math.max(sorted[Math.floor(0.2 * (n - 1))] - min, 1e-2 * (sorted[n - 1] - min), 1e-300)
  for (let i = 0; i < n; i++) raw[i] = -Math.log(loss[i] - min + offset)
  return true
}

/** How the parameters become GP inputs: numeric ones through `toUnit`, categoricals one-hot. */
export interface Encoding {
  readonly names: ReadonlyArray<string>
  readonly dists: ReadonlyArray<Distribution.Distribution>
  /** First column of each parameter. */
  readonly offsets: ReadonlyArray<number>
  readonly dims: number
}

export const encoding = (space: Sampler.SearchSpace): Encoding => {
  const names: Array<string> = []
  const dists: Array<Distribution.Distribution> = []
  const offsets: Array<number> = []
  let dims = 0
  for (const [name, d] of space) {
    names.push(name)
    dists.push(d)
    offsets.push(dims)
    dims += d._tag === "Categorical" ? d.choices.length : 1
  }
  return { names, dists, offsets, dims }
}

/**
 * Where an inactive parameter (another branch's, in a conditional space) sits in the unit cube: a
 * constant outside [0, 1], so that trials that lack it agree with each other on it and stay apart
 * from those that have it (the imputation of Levesque, Durand, Gagne & Sabourin, "Bayesian
 * optimization for conditional hyperparameter spaces", IJCNN 2017); an inactive categorical is
 * all zeros.
 */
export const INACTIVE = -0.5

/** Encodes internal values; NaN (or undefined) marks an inactive parameter. */
export const encode = (enc: Encoding, values: ArrayLike<number>, out: Float64Array, at = 0): void => {
  for (let p = 0; p < enc.dists.length; p++) {
    const d = enc.dists[p]
    const o = at + enc.offsets[p]
    const v = values[p]
    const active = v !== undefined && !Number.isNaN(v)
    if (d._tag === "Categorical") {
      for (let c = 0; c < d.choices.length; c++) out[o + c] = active && c === v ? 1 : 0
    } else out[o] = active ? Distribution.toUnit(d, v) : INACTIVE
  }
}

/**
 * The branches of a conditional space as the history shows them: each set of modelled parameters
 * that completed trials have together (one set for a space without branches). For each branch,
 * the discrete parameters that select it (their values in the branch's trials never occur in other
 * branches' trials: a branch's own choice of `Space.branch`, or define-by-run's `layers`) keep
 * those values, so that a candidate is always a configuration the objective can produce.
 */
export interface Branch {
  readonly active: ReadonlyArray<number>
  readonly selectors: ReadonlyMap<number, ReadonlyArray<number>>
  readonly count: number
}

export const branchesOf = (enc: Encoding, rows: ReadonlyArray<ArrayLike<number>>): ReadonlyArray<Branch> => {
  const P = enc.names.length
  const bySig = new Map<string, Array<ArrayLike<number>>>()
  for (const r of rows) {
    let sig = ""
    for (let p = 0; p < P; p++) sig += Number.isNaN(r[p]) ? "0" : "1"
    const list = bySig.get(sig)
    if (list) list.push(r)
    else bySig.set(sig, [r])
  }
  const sigs = [...bySig.keys()].sort()
  return sigs.map((sig) => {
    const own = bySig.get(sig)!
    const active: Array<number> = []
    for (let p = 0; p < P; p++) if (sig[p] === "1") active.push(p)
    const selectors = new Map<number, ReadonlyArray<number>>()
    if (sigs.length > 1) {
      for (const p of active) {
        const d = enc.dists[p]
        if (d._tag === "Float" && d.step === undefined) continue
        const mine = new Set<number>()
        for (const r of own) mine.add(r[p])
        // A selector is shared with other branches, which take other values of it: a parameter of
        // this branch alone (a width, a depth) is tuned, not fixed.
        let elsewhere = false
        let disjoint = true
        for (const [other, rs] of bySig) {
          if (other === sig) continue
          for (const r of rs) {
            if (Number.isNaN(r[p])) continue
            elsewhere = true
            if (mine.has(r[p])) disjoint = false
          }
        }
        if (elsewhere && disjoint) selectors.set(p, [...mine].sort((a, b) => a - b))
      }
    }
    return { active, selectors, count: own.length }
  })
}

const isContinuous = (d: Distribution.Distribution) => d._tag === "Float" && d.step === undefined

/** The objective as a quantity to maximize: minimized objectives are negated. */
const signed = (ctx: Sampler.SampleContext, v: number) => (ctx.study.directions[0] === "maximize" ? v : -v)

/** A trial's values of the modelled parameters, NaN where it has none (another branch's). */
export const rowOf = (t: Trial.FrozenTrial, enc: Encoding): Float64Array => {
  const v = new Float64Array(enc.names.length)
  enc.names.forEach((k, p) => {
    const x = t.params[k]
    const d = t.distributions[k]
    v[p] = x !== undefined && d !== undefined && Distribution.equals(d, enc.dists[p]) ? x : NaN
  })
  return v
}

export const isActive = (v: ArrayLike<number>) => {
  for (let i = 0; i < v.length; i++) if (!Number.isNaN(v[i])) return true
  return false
}

/** Prior transfer (gpPrior.ts): the earlier tasks' models over an encoding, fitted once per encoding. */
export interface Prior {
  readonly bases: (enc: Encoding, encoder: GpPrior.Encoder) => ReadonlyArray<GpPrior.BaseModel>
  /** Draws of the ranking weights. */
  readonly samples: number
  /** The ranking-weighted ensemble, or the study's GP on its residuals from the earlier tasks' mean. */
  readonly model: "ensemble" | "stacked"
  /** The trust region's initial side in the unit cube (0: none). */
  readonly trustRegion: number
  /** Below this many trials of its own, the study's GPs take the earlier tasks' hyperparameters. */
  readonly pretrainedTrials: number
}

/** What the prior transfer needs of an encoding. */
export const encoderOf = (enc: Encoding, warp: boolean): GpPrior.Encoder => ({
  dims: enc.dims,
  rowOf: (t) => rowOf(t, enc),
  isActive,
  encode: (row, out, at) => encode(enc, row, out, at),
  warp: (raw) => void (warp && warpInPlace(raw))
})

export const sampleRelative = (
  ctx: Sampler.SampleContext,
  space: Sampler.SearchSpace,
  s: Settings,
  prior?: Prior
): Record<string, number> => {
  const enc = encoding(space)
  const P = enc.names.length
  const D = enc.dims
  const done: Array<Trial.FrozenTrial> = []
  const rows: Array<Float64Array> = []
  const pendingRows: Array<Float64Array> = []
  for (const t of ctx.history) {
    const complete = t.state === "Complete" && t.values !== undefined && Number.isFinite(t.values[0])
    if (!complete && t.state !== "Running" && t.state !== "Waiting") continue
    const row = rowOf(t, enc)
    if (!isActive(row)) continue
    if (complete) {
      done.push(t)
      rows.push(row)
    } else pendingRows.push(row)
  }
  const bases = prior === undefined ? [] : prior.bases(enc, encoderOf(enc, s.warp))
  // Before the study has trials of its own, the earlier tasks' best show the branches.
  const branches = branchesOf(enc, rows.length === 0 ? bases.flatMap((b) => b.tops) : rows)
  const signature = (r: ArrayLike<number>) => Array.from(r, (v) => (Number.isNaN(v) ? "0" : "1")).join("")
  const known = new Set(rows.map(signature))
  // A running trial enters the model only once it has every parameter of some branch.
  const pending = pendingRows.filter((r) => known.has(signature(r)))
  const n = done.length
  const valuesOf = (i: number) => rows[i]
  const x = new Float64Array(n * D)
  const raw = new Float64Array(n)
  done.forEach((t, i) => {
    encode(enc, rows[i], x, i * D)
    raw[i] = signed(ctx, t.values![0])
  })
  const values = Array.from(raw)
  if (s.warp) warpInPlace(raw)
  // Standardize the outputs.
  const y = Float64Array.from(raw)
  if (n > 0) GpPrior.standardizeInPlace(y)
  const data: Gp.Data = { x, y, n, dims: D }
  const rng = ctx.rng.fork("gp")
  // With prior transfer the study may have no trial of its own yet (or one: no model to fit).
  const ownModel = prior === undefined || n >= 2
  // Fewer random restarts once the data pin the hyperparameters down: the fit's cost grows as n^3.
  const restarts = n > 120 ? 0 : n > 60 ? Math.min(s.restarts, 1) : s.restarts
  // The local phase of prior transfer, when the earlier tasks are said to be related (their
  // similarities would give them most of the weight) and the space has continuous parameters: a
  // trust region around the study's best trial (below), in which the study's GPs take the earlier
  // tasks' kernel hyperparameters while it has few trials of its own, rather than fit them on a
  // handful of points (gpPrior.ts, pretrained). On a grid (categoricals only) the earlier tasks'
  // kernel alone was measured worse (docs/transfer.md).
  const local = prior !== undefined && prior.trustRegion > 0 && bases.reduce((a, b) => a + b.similarity, 0) >= 1 && enc.dists.some(isContinuous)
  const preHyper = local && n < prior.pretrainedTrials ? GpPrior.pretrained(bases) : undefined
  const hyper = ownModel ? preHyper ?? Gp.fit(s.kernel, data, rng.fork("fit"), { restarts, maxPoints: s.maxFitPoints, additive: s.additive }) : undefined
  // Past `maxPoints` trials the posterior uses a subset too (the best fifth kept): its cost grows as n^3.
  let post = hyper === undefined ? undefined : Gp.posterior(s.kernel, Gp.subset(data, s.maxPoints, rng.fork("subset")), hyper)
  let best = -Infinity
  let bestIndex = 0
  for (let i = 0; i < n; i++) {
    if (y[i] > best) {
      best = y[i]
      bestIndex = i
    }
  }
  // Running trials: constant liar or kriging believer, so that workers spread out.
  if (post !== undefined && hyper !== undefined && pending.length > 0) {
    const px = new Float64Array(pending.length * D)
    const py = new Float64Array(pending.length)
    const lie = s.liar === "min" ? Math.min(...y) : s.liar === "max" ? best : s.liar === "mean" ? 0 : undefined
    const own = post
    pending.forEach((r, i) => {
      encode(enc, r, px, i * D)
      py[i] = lie ?? own.predict(px.subarray(i * D, (i + 1) * D)).mean
    })
    const base = post.data
    const ax = new Float64Array((base.n + pending.length) * D)
    ax.set(base.x)
    ax.set(px, base.n * D)
    const ay = new Float64Array(base.n + pending.length)
    ay.set(base.y)
    ay.set(py, base.n)
    post = Gp.posterior(s.kernel, { x: ax, y: ay, n: base.n + pending.length, dims: D }, hyper)
  }

  // Every other trial (odd numbers) uses the larger margin exploreXi: a two-member portfolio of
  // a greedy and an exploring EI (in the spirit of Hoffman, Brochu & de Freitas 2011), which keeps
  // the precision of the greedy one near the optimum and escapes local optima more often.
  const xi = ctx.trialNumber % 2 === 1 ? Math.max(s.xi, s.exploreXi) : s.xi
  const feat = new Float64Array(D)
  // With prior transfer, the model is the ranking-weighted ensemble of the study's GP and the
  // earlier tasks' or the study's GP on its residuals from their weighted mean (gpPrior.ts); with
  // fewer than 2 trials of its own, the ensemble, and with none the study takes its best mean.
  let priorShare = 0
  const predict = (() => {
    if (prior === undefined) return post!.predict
    // Judged leave-one-out on at most maxFitPoints of its trials (the fit's own cap: it is O(n^3)
    // and runs at every suggestion); a factorization that fails predicts a flat line, which ranks
    // no pair right, rather than the data themselves, which would rank every pair right.
    const looData = Gp.subset(data, s.maxFitPoints, rng.fork("loo"))
    const flat = () => ({ mean: new Float64Array(looData.n).fill(looData.y.reduce((a, b) => a + b, 0) / looData.n), variance: new Float64Array(looData.n).fill(1) })
    const weigh = (h: Gp.Hyper | undefined) => {
      const own = post === undefined || h === undefined ? undefined : { data: looData, loo: Gp.looPredictions(s.kernel, looData, h) ?? flat() }
      const w = GpPrior.weights(own, bases, rng.fork("weights"), prior.samples)
      return { own, w, share: w.bases.reduce((a, b) => a + b, 0) }
    }
    let weighed = weigh(hyper)
    // The earlier tasks' kernel stands only while they lead: once the study's trials show them
    // ranking wrongly, the study's own fit judges them.
    if (preHyper !== undefined && weighed.own !== undefined && weighed.share < 0.5) {
      weighed = weigh(Gp.fit(s.kernel, data, rng.fork("fit"), { restarts, maxPoints: s.maxFitPoints, additive: s.additive }))
    }
    const { own, w } = weighed
    priorShare = weighed.share
    if (prior.model === "ensemble" || own === undefined) return GpPrior.ensemble(post, bases, w)
    // The residual GP takes the earlier tasks' kernel once the study's own ranking (3 trials at
    // least) gives them the lead: on a task said to be related but not, the similarities alone
    // gave it to them at the second trial, which then set the study's course.
    return GpPrior.stacked(data, bases, w, (residual) =>
      Gp.posterior(s.kernel, Gp.subset(residual, s.maxPoints, rng.fork("subset")), (n >= 3 && priorShare >= 0.5 ? preHyper : undefined) ?? Gp.fit(s.kernel, residual, rng.fork("fit-residual"), { restarts: Math.min(restarts, 1), maxPoints: s.maxFitPoints, additive: s.additive })))
  })()
  // The ensemble mixes models standardized on different data, so EI's incumbent is the best of
  // its own means at the study's trials (the plug-in incumbent, Picheny et al. 2013): the
  // improvement is then measured in the ensemble's units, not in the study model's alone.
  const incumbent = prior === undefined || n === 0
    ? best
    : Array.from({ length: n }, (_, i) => predict(x.subarray(i * D, (i + 1) * D)).mean).reduce((a, b) => Math.max(a, b), -Infinity)
  // In the local phase, while the earlier tasks lead by the ranking of the study's own trials (3
  // at least, most of the weight), the search is confined to a trust region around the study's
  // best trial (gpPrior.ts, trustRegion) in its continuous parameters. Not for tasks said to be
  // unrelated: their prior mean can rank a study's first few trials well by chance and then hold
  // it where they put their optimum.
  const side = prior === undefined || !local || n < 3 || priorShare < 0.5
    ? undefined
    : GpPrior.trustRegion(values, { initial: prior.trustRegion, max: 0.8, min: prior.trustRegion / 16, successes: 3, failures: Math.max(4, P) })
  const region = side === undefined ? undefined : enc.dists.map((d, p) => {
    if (!isContinuous(d) || Number.isNaN(rows[bestIndex][p])) return undefined
    const c = Distribution.toUnit(d, rows[bestIndex][p])
    return { lo: Math.max(0, c - side / 2), hi: Math.min(1, c + side / 2) }
  })
  const confine = (v: Float64Array): Float64Array => {
    if (region === undefined) return v
    region.forEach((r, p) => {
      if (r !== undefined && !Number.isNaN(v[p])) v[p] = Distribution.fromUnit(enc.dists[p], Math.min(r.hi, Math.max(r.lo, Distribution.toUnit(enc.dists[p], v[p]))))
    })
    return v
  }
  const inRegion = (v: ArrayLike<number>): boolean => {
    if (region === undefined) return true
    return region.every((r, p) => {
      if (r === undefined || Number.isNaN(v[p])) return true
      const u = Distribution.toUnit(enc.dists[p], v[p])
      return u >= r.lo - 1e-12 && u <= r.hi + 1e-12
    })
  }
  const acquisition = (v: ArrayLike<number>): number => {
    if (!inRegion(v)) return -Infinity
    encode(enc, v, feat)
    const { mean: mu, variance } = predict(feat)
    if (n === 0) return mu
    const sigma = Math.sqrt(variance)
    switch (s.acquisition) {
      case "ei":
        return Acq.expectedImprovement(mu, sigma, incumbent, xi)
      case "logei":
        return Acq.logExpectedImprovement(mu, sigma, incumbent, xi)
      case "pi":
        return Acq.logProbabilityOfImprovement(mu, sigma, incumbent, xi)
      case "ucb":
        return Acq.upperConfidenceBound(mu, sigma, s.kappa)
    }
  }

  // Candidates: a scrambled Sobol' set over the space, and perturbations of the best trials.
  type Cand = { v: Float64Array; a: number }
  const cands: Array<Cand> = []
  const add = (v: Float64Array) => cands.push({ v: confine(v), a: acquisition(confine(v)) })
  const sobol = Sobol.make((j) => rng.fork("candidates", j))
  const sobolDims = Math.min(P, Sobol.MAX_DIM)
  // Each candidate costs O(n^2): long histories score fewer (the local search does the fine work).
  const nCandidates = n > 120 ? Math.max(64, Math.round((s.candidates * 120) / n)) : s.candidates
  // The candidates are shared among the branches (each gets at least a fair part): a candidate
  // sets its branch's parameters and leaves the others inactive.
  const perBranch = Math.max(64, Math.ceil(nCandidates / branches.length))
  let index = 0
  for (const b of branches) {
    for (let i = 0; i < perBranch; i++, index++) {
      const v = new Float64Array(P).fill(NaN)
      for (const p of b.active) {
        const u = p < sobolDims ? sobol.coordinate(index, p) : rng.next()
        const allowed = b.selectors.get(p)
        const r = region?.[p]
        v[p] = allowed ? allowed[Math.min(allowed.length - 1, Math.floor(u * allowed.length))] : Distribution.fromUnit(enc.dists[p], r === undefined ? u : r.lo + u * (r.hi - r.lo))
      }
      add(v)
    }
  }
  const selectorsOf = new Map(branches.map((b) => [b.active.join(","), b.selectors] as const))
  const fixedOf = (v: ArrayLike<number>): ReadonlyMap<number, unknown> => {
    const active: Array<number> = []
    for (let p = 0; p < P; p++) if (!Number.isNaN(v[p])) active.push(p)
    return selectorsOf.get(active.join(",")) ?? new Map()
  }
  const ranked = Array.from({ length: n }, (_, i) => i).sort((a, b) => y[b] - y[a])
  const tops = ranked.slice(0, Math.min(5, n))
  if (n > 0 && !tops.includes(bestIndex)) tops.unshift(bestIndex)
  // The earlier tasks' best configs are searched around too.
  for (const b of bases) for (const top of b.tops) add(Float64Array.from(top))
  for (const base of [...tops.map(valuesOf), ...bases.flatMap((b) => b.tops)]) {
    const fixed = fixedOf(base)
    for (const scale of [0.1, 0.02, 0.004]) {
      for (let r = 0; r < 8; r++) add(perturb(enc, base, scale, rng, fixed))
    }
  }
  // Lines through the best trial along each parameter (one-dimensional subspaces, as LineBO's:
  // Kirschner et al., ICML 2019): where the objective is close to a sum of one-parameter effects
  // (the additive component), another basin along one parameter (Styblinski-Tang's second minimum)
  // lies on such a line, where neither the Sobol' set nor the small perturbations reach.
  if (n > 0) for (const v of lines(enc, valuesOf(bestIndex), fixedOf(valuesOf(bestIndex)), rng.fork("lines"))) add(v)
  cands.sort((a, b) => b.a - a.a)
  const seen = new Set<string>()
  let started = 0
  for (const c of [...cands]) {
    if (started >= s.localStarts) break
    const key = Array.from(c.v, (x) => x.toPrecision(3)).join(",")
    if (seen.has(key)) continue
    seen.add(key)
    started++
    cands.push(localSearch(enc, c, acquisition, fixedOf(c.v)))
  }
  // Never a point that a trial holds already: at a corner of the box the believer's value may not
  // lower the acquisition enough to move a parallel worker elsewhere.
  const taken = new Set([...rows, ...pending].map((r) => keyOf(enc, r)))
  cands.sort((a, b) => b.a - a.a)
  const winner = cands.find((c) => !taken.has(keyOf(enc, c.v))) ?? cands[0]
  const out: Record<string, number> = {}
  for (let p = 0; p < P; p++) if (!Number.isNaN(winner.v[p])) out[enc.names[p]] = Distribution.snap(enc.dists[p], winner.v[p])
  return out
}

const keyOf = (enc: Encoding, v: ArrayLike<number>): string =>
  Array.from(enc.dists, (d, p) => (Number.isNaN(v[p]) ? "-" : String(Distribution.snap(d, v[p])))).join(",")

/** Points of the line through `base` along each free parameter: LINE_POINTS strata per numeric one, every choice of a categorical. */
const LINE_POINTS = 16
const lines = (enc: Encoding, base: ArrayLike<number>, fixed: ReadonlyMap<number, unknown>, rng: Rng.Generator): Array<Float64Array> => {
  const out: Array<Float64Array> = []
  const offset = rng.next()
  for (let p = 0; p < enc.dists.length; p++) {
    const d = enc.dists[p]
    if (Number.isNaN(base[p]) || fixed.has(p)) continue
    const k = d._tag === "Categorical" ? d.choices.length : LINE_POINTS
    for (let j = 0; j < k; j++) {
      const v = Float64Array.from(base)
      v[p] = d._tag === "Categorical" ? j : Distribution.snap(d, Distribution.fromUnit(d, (j + offset) / k))
      if (v[p] !== base[p]) out.push(v)
    }
  }
  return out
}

const perturb = (
  enc: Encoding,
  base: ArrayLike<number>,
  scale: number,
  rng: Rng.Generator,
  fixed: ReadonlyMap<number, unknown>
): Float64Array => {
  const P = enc.dists.length
  const v = Float64Array.from(base)
  for (let p = 0; p < P; p++) {
    const d = enc.dists[p]
    if (Number.isNaN(v[p]) || fixed.has(p)) continue
    if (d._tag === "Categorical") {
      if (rng.next() < 1 / P) v[p] = rng.int(d.choices.length)
    } else if (isContinuous(d)) {
      v[p] = Distribution.fromUnit(d, Distribution.toUnit(d, v[p]) + scale * rng.normal())
    } else if (rng.next() < Math.max(1 / P, scale * 4)) {
      v[p] = Distribution.snap(d, v[p] + (rng.next() < 0.5 ? -d.step! : d.step!))
    }
  }
  return v
}

/**
 * A compass search (Kolda, Lewis & Torczon, SIAM Review 2003): moves each continuous coordinate by
 * +-h in the unit cube while the acquisition improves, then halves h; discrete coordinates move one
 * step, categoricals try every choice.
 */
const localSearch = (
  enc: Encoding,
  start: { v: Float64Array; a: number },
  acq: (v: ArrayLike<number>) => number,
  fixed: ReadonlyMap<number, unknown>
): { v: Float64Array; a: number } => {
  const P = enc.dists.length
  const cur = Float64Array.from(start.v)
  let fa = start.a
  const tryValue = (p: number, value: number): boolean => {
    if (value === cur[p]) return false
    const old = cur[p]
    cur[p] = value
    const a = acq(cur)
    if (a > fa + 1e-12 * Math.abs(fa)) {
      fa = a
      return true
    }
    cur[p] = old
    return false
  }
  for (let h = 0.08; h >= 5e-5; h /= 2.5) {
    for (let round = 0; round < 8; round++) {
      let improved = false
      for (let p = 0; p < P; p++) {
        const d = enc.dists[p]
        if (Number.isNaN(cur[p]) || fixed.has(p)) continue
        if (d._tag === "Categorical") {
          for (let c = 0; c < d.choices.length; c++) if (tryValue(p, c)) improved = true
        } else if (isContinuous(d)) {
          const u = Distribution.toUnit(d, cur[p])
          if (tryValue(p, Distribution.fromUnit(d, u + h)) || tryValue(p, Distribution.fromUnit(d, u - h))) improved = true
        } else {
          if (tryValue(p, Distribution.snap(d, cur[p] + d.step!)) || tryValue(p, Distribution.snap(d, cur[p] - d.step!))) improved = true
        }
      }
      if (!improved) break
    }
  }
  return { v: cur, a: fa }
}
