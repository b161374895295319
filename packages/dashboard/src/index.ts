/**
 * @tunekit/dashboard: the live web dashboard of a tunekit storage (`tunekit dashboard`).
 *
 * @since 0.1.0
 */
export * as Dashboard from "./Dashboard.js"
export * from "./Errors.js"
