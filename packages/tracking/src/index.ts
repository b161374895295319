/**
 * @tunekit/tracking: trackers that follow a study as it runs. The built-in runs in the study's own
 * storage (`Runs`), JSON lines (`JsonLines`) and an MLflow tracking server (`Mlflow`). Compose
 * them with `Tracker.all` of @tunekit/core; the progress line is core's `Progress.layer`.
 *
 * @since 0.2.0
 */
export * as JsonLines from "./JsonLines.js"
export * as Mlflow from "./Mlflow.js"
export * as Runs from "./Runs.js"
