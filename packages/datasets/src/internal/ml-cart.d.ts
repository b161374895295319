// The parts of ml-cart (which ships no types) that tunekit uses.
declare module "ml-cart" {
  export interface TreeOptions {
    readonly gainFunction?: "gini" | "regression"
    readonly splitFunction?: "mean"
    readonly minNumSamples?: number
    readonly maxDepth?: number
    readonly gainThreshold?: number
  }
  /** A node of a trained tree: a split (left, right) or a leaf (distribution). */
  export interface TreeNode {
    left?: TreeNode
    right?: TreeNode
    splitColumn: number
    splitValue: number
    /** A 1 x classes row of class frequencies (classifier) or the mean target (regression). */
    distribution: { to1DArray(): Array<number> } | number
    calculatePrediction(y: ReadonlyArray<number>): void
  }
  export class DecisionTreeClassifier {
    constructor(options?: TreeOptions)
    root: TreeNode
    train(x: ReadonlyArray<ReadonlyArray<number>>, y: ReadonlyArray<number>): void
    predict(x: ReadonlyArray<ReadonlyArray<number>>): Array<number>
  }
  export class DecisionTreeRegression {
    constructor(options?: TreeOptions)
    root: TreeNode
    train(x: ReadonlyArray<ReadonlyArray<number>>, y: ReadonlyArray<number>): void
    predict(x: ReadonlyArray<ReadonlyArray<number>>): Array<number>
  }
}
