// tunekit's own CART (Breiman, Friedman, Olshen, Stone 1984), grown as scikit-learn grows its
// trees (sklearn/tree/_splitter.pyx, BestSplitter): at each node, for each candidate feature, the
// node's rows sorted by that feature are scanned once, keeping running class counts (Gini) or
// sums (squared error), so a node costs O(features x rows log rows) instead of ml-cart's
// quadratic scan. Splits honour min_samples_leaf while growing, and a random forest draws the
// candidate features afresh at each split (Breiman 2001) from the seeded generator.
import type { Rng } from "@tunekit/core"
import type { Matrix } from "../Dataset.js"

export type Node =
  | { readonly leaf: true; readonly value: number; readonly proba: Float64Array | undefined; readonly n: number }
  | { readonly leaf: false; readonly feature: number; readonly threshold: number; readonly left: Node; readonly right: Node; readonly n: number }

export interface GrowParams {
  readonly maxDepth: number
  readonly minSamplesSplit: number
  readonly minSamplesLeaf: number
  readonly minImpurityDecrease: number
  /** Candidate features at each split (all of them: no sampling). */
  readonly featuresPerSplit: number
  /** 0 for regression, else the number of classes. */
  readonly classes: number
}

/** Column-major copy of the rows: `cols[j][i]` is feature j of row i (fast scans by feature). */
export const columns = (x: Matrix): Array<Float64Array> => {
  const d = x[0].length
  const cols = Array.from({ length: d }, () => new Float64Array(x.length))
  for (let i = 0; i < x.length; i++) {
    const row = x[i]
    for (let j = 0; j < d; j++) cols[j][i] = row[j]
  }
  return cols
}

/**
 * Grows a tree on the rows `rows` (indices into the columns; repeats allowed, as in a bootstrap
 * sample). `rng` draws the candidate features when `featuresPerSplit` is below the feature count.
 */
export const grow = (
  cols: ReadonlyArray<Float64Array>,
  y: ArrayLike<number>,
  rows: Array<number>,
  p: GrowParams,
  rng: Rng.Generator | undefined
): Node => {
  const d = cols.length
  const total = rows.length
  const k = p.classes
  const featureIds = Array.from({ length: d }, (_, j) => j)
  const countsL = new Float64Array(Math.max(k, 1))
  const countsT = new Float64Array(Math.max(k, 1))

  const leafOf = (rs: ReadonlyArray<number>): Node => {
    if (k === 0) {
      let s = 0
      for (const r of rs) s += y[r]
      return { leaf: true, value: s / rs.length, proba: undefined, n: rs.length }
    }
    const proba = new Float64Array(k)
    for (const r of rs) proba[y[r]]++
    let best = 0
    for (let c = 0; c < k; c++) {
      if (proba[c] > proba[best]) best = c
    }
    for (let c = 0; c < k; c++) proba[c] /= rs.length
    return { leaf: true, value: best, proba, n: rs.length }
  }

  // Impurity of a node: Gini for classification, variance for regression (per row, as sklearn).
  const impurityOf = (rs: ReadonlyArray<number>): number => {
    const n = rs.length
    if (k === 0) {
      let s = 0, s2 = 0
      for (const r of rs) {
        s += y[r]
        s2 += y[r] * y[r]
      }
      return Math.max(0, s2 / n - (s / n) ** 2)
    }
    countsT.fill(0)
    for (const r of rs) countsT[y[r]]++
    let g = 1
    for (let c = 0; c < k; c++) g -= (countsT[c] / n) ** 2
    return g
  }

  /** Whether every row has the same target (nothing left to separate). */
  const constant = (rs: ReadonlyArray<number>): boolean => {
    const first = y[rs[0]]
    for (const r of rs) if (y[r] !== first) return false
    return true
  }

  const node = (rs: Array<number>, depth: number): Node => {
    const n = rs.length
    if (depth >= p.maxDepth || n < p.minSamplesSplit || n < 2 * p.minSamplesLeaf || constant(rs)) return leafOf(rs)
    const impurity = impurityOf(rs)
    const m = Math.min(p.featuresPerSplit, d)

    let bestGain = -Infinity
    let bestFeature = -1
    let bestThreshold = 0
    let sorted: Array<number> = []
    // Totals of the node, for the right side (total minus left).
    let sumT = 0, sum2T = 0
    if (k === 0) for (const r of rs) {
      sumT += y[r]
      sum2T += y[r] * y[r]
    }
    else {
      countsT.fill(0)
      for (const r of rs) countsT[y[r]]++
    }
    // Candidate features come from a lazy Fisher-Yates draw. As scikit-learn, the search goes on
    // past `m` features while none of those drawn gives a valid split (say, all constant here).
    for (let fi = 0; fi < d; fi++) {
      if (fi >= m && bestFeature >= 0) break
      if (m < d && rng !== undefined) {
        const j = fi + rng.int(d - fi)
        const t = featureIds[fi]
        featureIds[fi] = featureIds[j]
        featureIds[j] = t
      }
      const f = featureIds[fi]
      const col = cols[f]
      // A feature constant in this node (the digits' border pixels) is skipped before sorting.
      let lo = Infinity, hi = -Infinity
      for (const r of rs) {
        const v = col[r]
        if (v < lo) lo = v
        if (v > hi) hi = v
      }
      if (lo === hi) continue
      sorted = rs.slice().sort((a, b) => col[a] - col[b])
      let sumL = 0, sum2L = 0
      if (k > 0) countsL.fill(0)
      for (let i = 1; i < n; i++) {
        const r = sorted[i - 1]
        if (k === 0) {
          sumL += y[r]
          sum2L += y[r] * y[r]
        } else countsL[y[r]]++
        const v0 = col[r], v1 = col[sorted[i]]
        if (v0 === v1 || i < p.minSamplesLeaf || n - i < p.minSamplesLeaf) continue
        const nL = i, nR = n - i
        let childImpurity: number
        if (k === 0) {
          const sumR = sumT - sumL, sum2R = sum2T - sum2L
          // n * weighted variance = SSE_left + SSE_right
          childImpurity = (sum2L - (sumL * sumL) / nL + sum2R - (sumR * sumR) / nR) / n
        } else {
          let gl = 0, gr = 0
          for (let c = 0; c < k; c++) {
            const cl = countsL[c], cr = countsT[c] - cl
            gl += cl * cl
            gr += cr * cr
          }
          childImpurity = (nL - gl / nL + nR - gr / nR) / n
        }
        const gain = impurity - childImpurity
        if (gain > bestGain) {
          bestGain = gain
          bestFeature = f
          // The midpoint, unless rounding lands it on the upper value (as scikit-learn).
          let t = v0 / 2 + v1 / 2
          if (t === v1 || !Number.isFinite(t)) t = v0
          bestThreshold = t
        }
      }
    }
    // scikit-learn's min_impurity_decrease weighs the decrease by the node's share of the rows. As
    // scikit-learn, a split that gains nothing is still taken (an XOR needs one before the next
    // can gain), with a tolerance for rounding in the gain.
    if (bestFeature < 0 || (n / total) * bestGain + 1e-12 < p.minImpurityDecrease) return leafOf(rs)
    const col = cols[bestFeature]
    const left: Array<number> = []
    const right: Array<number> = []
    for (const r of rs) (col[r] <= bestThreshold ? left : right).push(r)
    return {
      leaf: false,
      feature: bestFeature,
      threshold: bestThreshold,
      left: node(left, depth + 1),
      right: node(right, depth + 1),
      n
    }
  }
  return node(rows, 0)
}

/** The leaf a row falls in. */
export const leafFor = (tree: Node, row: ReadonlyArray<number>): Extract<Node, { leaf: true }> => {
  let t = tree
  while (!t.leaf) t = row[t.feature] <= t.threshold ? t.left : t.right
  return t
}

/** Depth and leaves of a tree. */
export const shapeOf = (tree: Node): { readonly depth: number; readonly leaves: number } => {
  if (tree.leaf) return { depth: 0, leaves: 1 }
  const l = shapeOf(tree.left), r = shapeOf(tree.right)
  return { depth: 1 + Math.max(l.depth, r.depth), leaves: l.leaves + r.leaves }
}
