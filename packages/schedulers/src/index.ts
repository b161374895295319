/**
 * @tunekit/schedulers: pruners, successive halving, ASHA, Hyperband, population-based training
 * and multi-fidelity, as RxJS operators over a trial's metric stream and as Scheduler layers.
 *
 * @since 0.1.0
 */
export * as Median from "./Median.js"
export * as Operators from "./Operators.js"
export * as Patience from "./Patience.js"
export * as Percentile from "./Percentile.js"
export * as Pruner from "./Pruner.js"
export * as Threshold from "./Threshold.js"
export * as Wilcoxon from "./Wilcoxon.js"
export * as Pbt from "./Pbt.js"
export * as Asha from "./Asha.js"
export * as Budget from "./Budget.js"
export * as Hyperband from "./Hyperband.js"
export * as SuccessiveHalving from "./SuccessiveHalving.js"
export * as RungRecord from "./RungRecord.js"
export * as Fidelity from "./Fidelity.js"
export * as Bohb from "./Bohb.js"
