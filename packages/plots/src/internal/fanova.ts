// Functional ANOVA on a regression forest (Hutter, Hoos & Leyton-Brown 2014, "An Efficient
// Approach for Assessing Hyperparameter Importance", ICML). Each tree is a piecewise-constant
// function over the space (the unit cube for numeric parameters, the set of choices for
// categorical ones, each with the uniform measure). Its variance over the space decomposes into
// the variances of its marginals; the importance of parameter d is the variance of the tree's
// marginal over d (the prediction averaged over all other parameters) as a fraction of the tree's
// total variance, averaged over the trees (section 3 and Algorithm 1 of the paper). Only main
// effects (single parameters) are computed, as Optuna's FanovaImportanceEvaluator does.
import type { Feature, Node } from "./forest.js"

/** A leaf with the box of the space it covers: an interval of each numeric feature, a set of choices of each categorical. */
interface Leaf {
  readonly value: number
  readonly lo: Float64Array
  readonly hi: Float64Array
  readonly sets: ReadonlyArray<Uint8Array | undefined>
  /** The measure of the box (its volume). */
  readonly volume: number
}

const measureOf = (features: ReadonlyArray<Feature>, lo: Float64Array, hi: Float64Array, sets: ReadonlyArray<Uint8Array | undefined>, d: number) => {
  const f = features[d]
  if (f.kind === "numeric") return hi[d] - lo[d]
  let c = 0
  for (const b of sets[d]!) c += b
  return c / f.size
}

const leavesOf = (tree: Node, features: ReadonlyArray<Feature>): Array<Leaf> => {
  const out: Array<Leaf> = []
  const walk = (node: Node, lo: Float64Array, hi: Float64Array, sets: ReadonlyArray<Uint8Array | undefined>) => {
    if (node._tag === "Leaf") {
      let volume = 1
      for (let d = 0; d < features.length; d++) volume *= measureOf(features, lo, hi, sets, d)
      if (volume > 0) out.push({ value: node.value, lo, hi, sets, volume })
      return
    }
    const d = node.feature
    if (node._tag === "Numeric") {
      const t = Math.min(hi[d], Math.max(lo[d], node.threshold))
      const hiL = hi.slice()
      hiL[d] = t
      const loR = lo.slice()
      loR[d] = t
      walk(node.left, lo, hiL, sets)
      walk(node.right, loR, hi, sets)
    } else {
      const set = sets[d]!
      const l = set.map((b, c) => b & node.left[c])
      const r = set.map((b, c) => b & (1 - node.left[c]))
      walk(node.leftChild, lo, hi, sets.map((s, k) => (k === d ? l : s)))
      walk(node.right, lo, hi, sets.map((s, k) => (k === d ? r : s)))
    }
  }
  const lo = new Float64Array(features.length)
  const hi = new Float64Array(features.length).fill(1)
  walk(tree, lo, hi, features.map((f) => (f.kind === "categorical" ? new Uint8Array(f.size).fill(1) : undefined)))
  return out
}

/** The variance of the tree's marginal over feature d, given the tree's mean. */
const marginalVariance = (leaves: ReadonlyArray<Leaf>, features: ReadonlyArray<Feature>, d: number, mean: number): number => {
  const f = features[d]
  if (f.kind === "categorical") {
    // Each choice is a cell of measure 1/size; a leaf adds its value times its measure over the other features.
    const a = new Float64Array(f.size)
    for (const leaf of leaves) {
      const set = leaf.sets[d]!
      let count = 0
      for (const b of set) count += b
      const rest = leaf.volume / (count / f.size)
      for (let c = 0; c < f.size; c++) if (set[c] === 1) a[c] += leaf.value * rest
    }
    let v = 0
    for (let c = 0; c < f.size; c++) v += (a[c] - mean) ** 2 / f.size
    return v
  }
  // The leaves' bounds on d cut [0, 1] into cells on which the marginal is constant; a difference
  // array over the cells adds each leaf to the cells it covers in one pass.
  const cuts = [...new Set(leaves.flatMap((l) => [l.lo[d], l.hi[d]]).concat([0, 1]))].sort((x, y) => x - y)
  const index = new Map(cuts.map((c, i) => [c, i]))
  const diff = new Float64Array(cuts.length)
  for (const leaf of leaves) {
    const width = leaf.hi[d] - leaf.lo[d]
    const add = leaf.value * (leaf.volume / width)
    diff[index.get(leaf.lo[d])!] += add
    diff[index.get(leaf.hi[d])!] -= add
  }
  let v = 0
  let a = 0
  for (let i = 0; i < cuts.length - 1; i++) {
    a += diff[i]
    v += (cuts[i + 1] - cuts[i]) * (a - mean) ** 2
  }
  return v
}

/**
 * The main-effect fraction of variance of each feature, averaged over the trees that vary (a
 * constant tree explains nothing and is left out). Zero for every feature when no tree varies.
 */
export const mainEffects = (trees: ReadonlyArray<Node>, features: ReadonlyArray<Feature>): Array<number> => {
  const sums = new Array<number>(features.length).fill(0)
  let counted = 0
  for (const tree of trees) {
    const leaves = leavesOf(tree, features)
    let mean = 0
    for (const l of leaves) mean += l.value * l.volume
    let total = 0
    for (const l of leaves) total += l.volume * (l.value - mean) ** 2
    if (!(total > 1e-14 * Math.max(1, mean * mean))) continue
    counted++
    for (let d = 0; d < features.length; d++) sums[d] += Math.min(1, marginalVariance(leaves, features, d, mean) / total)
  }
  return sums.map((s) => (counted === 0 ? 0 : s / counted))
}
