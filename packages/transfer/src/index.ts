/**
 * @tunekit/transfer: the hyperparameter-transfer database (tasks, their meta-features and the
 * studies tuned on them), similarity between tasks, warm starts and TPE's prior transfer.
 *
 * @since 0.2.0
 */
export * as Commands from "./Commands.js"
export * from "./Errors.js"
export * as MetaFeatures from "./MetaFeatures.js"
export * as Transfer from "./Transfer.js"
