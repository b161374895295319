/**
 * @tunekit/plots: the data of each plot of a study, as typed values computed from its trials, and
 * their rendering to SVG, PNG and self-contained HTML with Apache ECharts; plots by name to files,
 * and a study's report.
 *
 * @since 0.1.0
 */
export * as Axis from "./Axis.js"
export * as Contour from "./Contour.js"
export * as Edf from "./Edf.js"
export * from "./Errors.js"
export * as File from "./File.js"
export * as Folds from "./Folds.js"
export * as History from "./History.js"
export * as Importance from "./Importance.js"
export * as Intermediate from "./Intermediate.js"
export * as Kind from "./Kind.js"
export * as Lineage from "./Lineage.js"
export * as ParallelCoordinates from "./ParallelCoordinates.js"
export * as ParetoFront from "./ParetoFront.js"
export * as Plot from "./Plot.js"
export * as Rank from "./Rank.js"
export * as Report from "./Report.js"
export * as Rungs from "./Rungs.js"
export * as Slice from "./Slice.js"
export * as Source from "./Source.js"
export * as Timeline from "./Timeline.js"
