/**
 * Evaluation metrics: accuracy and log loss for classification; MSE, RMSE, MAE and R² for
 * regression.
 *
 * @example
 * import { Metrics } from "@tunekit/datasets"
 * Metrics.accuracy([0, 1, 1], [0, 1, 0]) // 0.666...
 *
 * @since 0.1.0
 */

const same = (a: ReadonlyArray<unknown>, b: ReadonlyArray<unknown>, what: string) => {
  if (a.length !== b.length) throw new RangeError(`${what}: ${a.length} true values for ${b.length} predictions`)
  if (a.length === 0) throw new RangeError(`${what}: no values`)
}

/**
 * The share of predictions equal to the truth.
 *
 * @example
 * import { Metrics } from "@tunekit/datasets"
 * Metrics.accuracy([0, 1], [0, 1]) // 1
 */
export const accuracy = (yTrue: ReadonlyArray<number>, yPred: ReadonlyArray<number>): number => {
  same(yTrue, yPred, "accuracy")
  let hits = 0
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hits++
  return hits / yTrue.length
}

/**
 * Mean squared error.
 *
 * @example
 * import { Metrics } from "@tunekit/datasets"
 * Metrics.mse([1, 2], [1, 4]) // 2
 */
export const mse = (yTrue: ReadonlyArray<number>, yPred: ReadonlyArray<number>): number => {
  same(yTrue, yPred, "mse")
  let s = 0
  for (let i = 0; i < yTrue.length; i++) s += (yTrue[i] - yPred[i]) ** 2
  return s / yTrue.length
}

/**
 * Root mean squared error.
 *
 * @example
 * import { Metrics } from "@tunekit/datasets"
 * Metrics.rmse([0, 0], [3, 3]) // 3
 */
export const rmse = (yTrue: ReadonlyArray<number>, yPred: ReadonlyArray<number>): number => Math.sqrt(mse(yTrue, yPred))

/**
 * Mean absolute error.
 *
 * @example
 * import { Metrics } from "@tunekit/datasets"
 * Metrics.mae([1, 2], [2, 4]) // 1.5
 */
export const mae = (yTrue: ReadonlyArray<number>, yPred: ReadonlyArray<number>): number => {
  same(yTrue, yPred, "mae")
  let s = 0
  for (let i = 0; i < yTrue.length; i++) s += Math.abs(yTrue[i] - yPred[i])
  return s / yTrue.length
}

/**
 * The coefficient of determination: 1 - SS_res / SS_tot (1 is perfect, 0 is the mean's score;
 * a constant truth scores 1 when matched exactly and 0 otherwise, as scikit-learn).
 *
 * @example
 * import { Metrics } from "@tunekit/datasets"
 * Metrics.r2([1, 2, 3], [1, 2, 3]) // 1
 */
export const r2 = (yTrue: ReadonlyArray<number>, yPred: ReadonlyArray<number>): number => {
  same(yTrue, yPred, "r2")
  const mean = yTrue.reduce((a, b) => a + b, 0) / yTrue.length
  let res = 0
  let tot = 0
  for (let i = 0; i < yTrue.length; i++) {
    res += (yTrue[i] - yPred[i]) ** 2
    tot += (yTrue[i] - mean) ** 2
  }
  if (tot === 0) return res === 0 ? 1 : 0
  return 1 - res / tot
}

/**
 * Mean cross-entropy of class probabilities against the true classes (probabilities clipped to
 * [1e-15, 1 - 1e-15], as scikit-learn).
 *
 * @example
 * import { Metrics } from "@tunekit/datasets"
 * Metrics.logLoss([0], [[0.5, 0.5]]) // 0.693...
 */
export const logLoss = (yTrue: ReadonlyArray<number>, proba: ReadonlyArray<ReadonlyArray<number>>): number => {
  same(yTrue, proba, "logLoss")
  let s = 0
  for (let i = 0; i < yTrue.length; i++) {
    const p = Math.min(1 - 1e-15, Math.max(1e-15, proba[i][yTrue[i]] ?? 0))
    s -= Math.log(p)
  }
  return s / yTrue.length
}
