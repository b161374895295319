/**
 * @tunekit/plots: the data of each plot of a study, as typed values computed from its trials, and
 * their rendering to SVG and self-contained HTML with Apache ECharts.
 *
 * @since 0.1.0
 */
export * from "./Errors.js"
export * as History from "./History.js"
export * as Importance from "./Importance.js"
export * as Source from "./Source.js"
