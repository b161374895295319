// CART trees (Breiman, Friedman, Olshen, Stone 1984) through ml-cart, with scikit-learn's
// hyperparameter names mapped onto its options, a min_samples_leaf pass ml-cart lacks, and a fast
// walk for predictions and class probabilities.
import type { TreeNode } from "ml-cart"
import { DecisionTreeClassifier, DecisionTreeRegression } from "ml-cart"
import type { Matrix } from "../Dataset.js"

export interface TreeParams {
  readonly maxDepth: number
  readonly minSamplesSplit: number
  readonly minSamplesLeaf: number
  readonly minImpurityDecrease: number
}

/** A trained tree: a root to walk. */
export interface Tree {
  readonly root: TreeNode
}

export const trainTree = (
  kind: "classification" | "regression",
  x: Matrix,
  y: ReadonlyArray<number>,
  p: TreeParams
): Tree => {
  // ml-cart makes a leaf of a node with at most minNumSamples rows; scikit-learn splits a node
  // of at least min_samples_split rows: so minNumSamples = min_samples_split - 1.
  const options = {
    minNumSamples: p.minSamplesSplit - 1,
    maxDepth: p.maxDepth,
    ...(kind === "classification" ? { gainFunction: "gini" as const, gainThreshold: p.minImpurityDecrease } : {})
  }
  const tree = kind === "classification" ? new DecisionTreeClassifier(options) : new DecisionTreeRegression(options)
  tree.train(x, y)
  if (p.minSamplesLeaf > 1) {
    prune(tree.root, x, y, Array.from({ length: y.length }, (_, i) => i), p.minSamplesLeaf)
  }
  return { root: tree.root }
}

/**
 * min_samples_leaf, approximated after the fact: a split that leaves fewer than `minLeaf`
 * training rows on either side is undone (the node becomes a leaf predicting from its rows).
 * scikit-learn instead rejects such splits while growing, and may pick another split there.
 */
const prune = (node: TreeNode, x: Matrix, y: ReadonlyArray<number>, rows: ReadonlyArray<number>, minLeaf: number): void => {
  if (node.left === undefined || node.right === undefined) return
  const left: Array<number> = []
  const right: Array<number> = []
  for (const i of rows) (x[i][node.splitColumn] < node.splitValue ? left : right).push(i)
  if (left.length < minLeaf || right.length < minLeaf) {
    node.left = undefined
    node.right = undefined
    node.calculatePrediction(rows.map((i) => y[i]))
    return
  }
  prune(node.left, x, y, left, minLeaf)
  prune(node.right, x, y, right, minLeaf)
}

const leaf = (tree: Tree, row: ReadonlyArray<number>, columns: ReadonlyArray<number> | undefined): TreeNode => {
  let node = tree.root
  while (node.left !== undefined && node.right !== undefined) {
    const v = columns === undefined ? row[node.splitColumn] : row[columns[node.splitColumn]]
    node = v < node.splitValue ? node.left : node.right
  }
  return node
}

/** Adds a tree's class frequencies for a row into `into` (length: the number of classes). */
export const addProba = (tree: Tree, row: ReadonlyArray<number>, columns: ReadonlyArray<number> | undefined, into: Array<number>, weight = 1) => {
  const d = leaf(tree, row, columns).distribution
  const p = typeof d === "number" ? [] : d.to1DArray()
  for (let k = 0; k < p.length && k < into.length; k++) into[k] += weight * p[k]
}

/** A regression tree's prediction for a row. */
export const value = (tree: Tree, row: ReadonlyArray<number>, columns: ReadonlyArray<number> | undefined): number => {
  const d = leaf(tree, row, columns).distribution
  return typeof d === "number" ? d : NaN
}

/** The index of the largest entry (the lowest on ties). */
export const argmax = (xs: ReadonlyArray<number>): number => {
  let best = 0
  for (let k = 1; k < xs.length; k++) if (xs[k] > xs[best]) best = k
  return best
}

/** Depth and leaves of a tree, for tests and reports. */
export const shape = (tree: Tree): { readonly depth: number; readonly leaves: number } => {
  const walk = (n: TreeNode): { depth: number; leaves: number } => {
    if (n.left === undefined || n.right === undefined) return { depth: 0, leaves: 1 }
    const l = walk(n.left), r = walk(n.right)
    return { depth: 1 + Math.max(l.depth, r.depth), leaves: l.leaves + r.leaves }
  }
  return walk(tree.root)
}
