/**
 * What a trained model offers: predictions, and class probabilities for classifiers. The tree
 * models (`DecisionTree`, `RandomForest`, `Boosting`) all return these.
 *
 * @example
 * import { Iris, Model, RandomForest, Split } from "@tunekit/datasets"
 * const { train, test } = Split.holdout(Iris.load(), { seed: 1, stratify: true })
 * const model = RandomForest.fit(train, { nEstimators: 20 })
 * Model.score(model, test) // accuracy on the test part
 *
 * @since 0.1.0
 */
import type * as Dataset from "./Dataset.js"
import * as Metrics from "./Metrics.js"

/** A trained classifier. */
export interface Classifier {
  readonly _tag: "Classifier"
  /** The number of classes it was trained for. */
  readonly classes: number
  /** The predicted class index of each row. */
  readonly predict: (x: Dataset.Matrix) => Array<number>
  /** Each row's class probabilities (each sums to 1). */
  readonly predictProba: (x: Dataset.Matrix) => Array<Array<number>>
}

/** A trained regressor. */
export interface Regressor {
  readonly _tag: "Regressor"
  readonly predict: (x: Dataset.Matrix) => Array<number>
}

/** A trained model. */
export type Fitted = Classifier | Regressor

/** The model type a dataset trains: a classifier for classification, a regressor for regression. */
export type For<D extends Dataset.Tabular> = D extends Dataset.Classification ? Classifier : Regressor

/**
 * scikit-learn's default score of a model on a dataset: accuracy for a classifier, R² for a
 * regressor.
 *
 * @example
 * import { Diabetes, Model, RandomForest, Split } from "@tunekit/datasets"
 * const { train, test } = Split.holdout(Diabetes.load(), { seed: 1 })
 * Model.score(RandomForest.fit(train, { nEstimators: 30 }), test) // R² on the test part
 */
export const score = (model: Fitted, test: Dataset.Tabular): number =>
  model._tag === "Classifier" ? Metrics.accuracy(test.y, model.predict(test.x)) : Metrics.r2(test.y, model.predict(test.x))
