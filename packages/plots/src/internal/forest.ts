// A small regression forest for fANOVA (Breiman 2001, with CART's squared-error splits). It is
// tunekit's own rather than @tunekit/datasets' forest because fANOVA needs each tree's partition of
// the space (which box every leaf covers), and because categorical parameters are split natively
// into two sets of choices, as in Hutter et al.'s fANOVA: for squared error, sorting the choices by
// their mean response and cutting that order gives the best of all set splits (Breiman et al. 1984,
// "Classification and Regression Trees", section 9.4; Fisher 1958).
import { Rng } from "@tunekit/core"

/** A column of the design: a number in [0, 1] (the unit space), or the index of one of `size` choices. */
export type Feature = { readonly kind: "numeric" } | { readonly kind: "categorical"; readonly size: number }

export type Node =
  | { readonly _tag: "Leaf"; readonly value: number }
  /** Rows with x <= threshold go left. */
  | { readonly _tag: "Numeric"; readonly feature: number; readonly threshold: number; readonly left: Node; readonly right: Node }
  /** Rows whose choice is in `left` (a mask over the choices) go left. */
  | { readonly _tag: "Categorical"; readonly feature: number; readonly left: Uint8Array; readonly leftChild: Node; readonly right: Node }

export interface ForestOptions {
  /** Trees (default 64, as Optuna's fANOVA evaluator). */
  readonly trees?: number
  /** The deepest a tree grows (default 64). */
  readonly maxDepth?: number
  /** Rows a node needs to be split (default 2). */
  readonly minSamplesSplit?: number
  /** Rows each child keeps (default 1). */
  readonly minSamplesLeaf?: number
  readonly seed?: number
}

interface Split {
  readonly gain: number
  readonly feature: number
  readonly threshold?: number
  readonly left?: Uint8Array
}

const mean = (y: Float64Array, rows: ReadonlyArray<number>) => {
  let s = 0
  for (const r of rows) s += y[r]
  return s / rows.length
}

/** The best split of one numeric column: the largest drop in the sum of squares. */
const numericSplit = (x: Float64Array, y: Float64Array, rows: ReadonlyArray<number>, feature: number, minLeaf: number): Split | undefined => {
  const order = [...rows].sort((a, b) => x[a] - x[b])
  const n = order.length
  let total = 0
  for (const r of order) total += y[r]
  let sumLeft = 0
  let best: Split | undefined
  for (let i = 0; i < n - 1; i++) {
    sumLeft += y[order[i]]
    const nl = i + 1
    if (nl < minLeaf || n - nl < minLeaf || x[order[i]] === x[order[i + 1]]) continue
    // The drop in squared error equals nl*nr/n * (meanL - meanR)^2; compare by sL^2/nl + sR^2/nr.
    const sumRight = total - sumLeft
    const gain = (sumLeft * sumLeft) / nl + (sumRight * sumRight) / (n - nl) - (total * total) / n
    if (best === undefined || gain > best.gain) best = { gain, feature, threshold: (x[order[i]] + x[order[i + 1]]) / 2 }
  }
  return best
}

/** The best split of a categorical column into two sets of choices (choices ordered by mean). */
const categoricalSplit = (
  x: Float64Array,
  y: Float64Array,
  rows: ReadonlyArray<number>,
  feature: number,
  size: number,
  minLeaf: number
): Split | undefined => {
  const sum = new Float64Array(size)
  const count = new Float64Array(size)
  for (const r of rows) {
    sum[x[r]] += y[r]
    count[x[r]]++
  }
  const present = [...Array(size).keys()].filter((c) => count[c] > 0).sort((a, b) => sum[a] / count[a] - sum[b] / count[b])
  if (present.length < 2) return undefined
  const n = rows.length
  let total = 0
  for (const c of present) total += sum[c]
  let sl = 0
  let nl = 0
  let best: { gain: number; cut: number } | undefined
  for (let i = 0; i < present.length - 1; i++) {
    sl += sum[present[i]]
    nl += count[present[i]]
    if (nl < minLeaf || n - nl < minLeaf) continue
    const sr = total - sl
    const gain = (sl * sl) / nl + (sr * sr) / (n - nl) - (total * total) / n
    if (best === undefined || gain > best.gain) best = { gain, cut: i + 1 }
  }
  if (best === undefined) return undefined
  const left = new Uint8Array(size)
  let leftRows = 0
  for (const c of present.slice(0, best.cut)) {
    left[c] = 1
    leftRows += count[c]
  }
  // Choices no row of the node has still need a side, so that the leaves partition the space:
  // they go with the larger child.
  if (leftRows * 2 > n) for (let c = 0; c < size; c++) if (count[c] === 0) left[c] = 1
  return { gain: best.gain, feature, left }
}

export const grow = (
  columns: ReadonlyArray<Float64Array>,
  features: ReadonlyArray<Feature>,
  y: Float64Array,
  rows: ReadonlyArray<number>,
  options: Required<Omit<ForestOptions, "trees" | "seed">>,
  depth = 0
): Node => {
  const value = mean(y, rows)
  if (depth >= options.maxDepth || rows.length < options.minSamplesSplit) return { _tag: "Leaf", value }
  let best: Split | undefined
  for (let f = 0; f < features.length; f++) {
    const feat = features[f]
    const s = feat.kind === "numeric"
      ? numericSplit(columns[f], y, rows, f, options.minSamplesLeaf)
      : categoricalSplit(columns[f], y, rows, f, feat.size, options.minSamplesLeaf)
    if (s !== undefined && (best === undefined || s.gain > best.gain)) best = s
  }
  // A gain at the level of rounding noise means the node is constant.
  if (best === undefined || !(best.gain > 1e-12 * Math.max(1, value * value) * rows.length)) return { _tag: "Leaf", value }
  const x = columns[best.feature]
  const goesLeft = best.left !== undefined ? (r: number) => best.left![x[r]] === 1 : (r: number) => x[r] <= best.threshold!
  const l = rows.filter(goesLeft)
  const r = rows.filter((i) => !goesLeft(i))
  const left = grow(columns, features, y, l, options, depth + 1)
  const right = grow(columns, features, y, r, options, depth + 1)
  return best.left !== undefined
    ? { _tag: "Categorical", feature: best.feature, left: best.left, leftChild: left, right }
    : { _tag: "Numeric", feature: best.feature, threshold: best.threshold!, left, right }
}

/**
 * A forest of regression trees, each grown on a bootstrap sample of the rows with every feature
 * considered at each split (scikit-learn's RandomForestRegressor defaults, which Optuna's fANOVA uses).
 */
export const forest = (
  columns: ReadonlyArray<Float64Array>,
  features: ReadonlyArray<Feature>,
  y: Float64Array,
  options: ForestOptions = {}
): Array<Node> => {
  const n = y.length
  const growOptions = {
    maxDepth: options.maxDepth ?? 64,
    minSamplesSplit: options.minSamplesSplit ?? 2,
    minSamplesLeaf: options.minSamplesLeaf ?? 1
  }
  return Array.from({ length: options.trees ?? 64 }, (_, k) => {
    const rng = Rng.generator(options.seed ?? 0, "plots.forest", k)
    const rows = Array.from({ length: n }, () => rng.int(n))
    return grow(columns, features, y, rows, growOptions)
  })
}

/** A tree's prediction for one row. */
export const predict = (tree: Node, row: ReadonlyArray<number>): number => {
  let node = tree
  while (node._tag !== "Leaf") {
    node = node._tag === "Numeric"
      ? (row[node.feature] <= node.threshold ? node.left : node.right)
      : (node.left[row[node.feature]] === 1 ? node.leftChild : node.right)
  }
  return node.value
}
