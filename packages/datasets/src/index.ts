/**
 * @tunekit/datasets: bundled real datasets with typed loaders, seeded splits, preprocessing fitted
 * on training data only, cross-validation, and tree models to tune.
 *
 * @since 0.1.0
 */
export * as Boosting from "./Boosting.js"
export * as BreastCancer from "./BreastCancer.js"
export * as Co2 from "./Co2.js"
export * as CrossValidation from "./CrossValidation.js"
export * as Dataset from "./Dataset.js"
export * as DecisionTree from "./DecisionTree.js"
export * as Diabetes from "./Diabetes.js"
export * as Digits from "./Digits.js"
export * from "./Errors.js"
export * as Iris from "./Iris.js"
export * as Metrics from "./Metrics.js"
export * as Model from "./Model.js"
export * as RandomForest from "./RandomForest.js"
export * as Scaler from "./Scaler.js"
export * as SpamAssassin from "./SpamAssassin.js"
export * as Split from "./Split.js"
export * as Sunspots from "./Sunspots.js"
export * as Tokenizer from "./Tokenizer.js"
export * as Wine from "./Wine.js"
