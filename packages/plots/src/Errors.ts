/**
 * The typed errors of @tunekit/plots.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * A plot was asked for something the study cannot give: an objective it does not have, a
 * parameter no trial used, three objectives to a two-objective front. Thrown by the plot
 * functions, which are plain functions of a study's trials.
 *
 * @example
 * import { History, Source } from "@tunekit/plots"
 * const study = Source.make({ name: "s", directions: ["minimize"] }, [])
 * History.make(study, { objective: 3 }) // throws InvalidPlot: history: the study "s" has 1 objective (value), not objective 3
 */
export class InvalidPlot extends Data.TaggedError("InvalidPlot")<{
  readonly plot: string
  readonly reason: string
}> {
  override get message() {
    return `${this.plot}: ${this.reason}`
  }
}
