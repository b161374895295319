/**
 * The hypervolume of a Pareto front: the volume of objective space that a set of points dominates,
 * bounded by a reference point. The standard measure of how good a multi-objective study's front
 * is (larger is better). Exact: a sweep in two objectives, the WFG algorithm (While et al. 2012)
 * in more.
 *
 * @since 0.1.0
 */
import type { Trial } from "@tunekit/core"
import { toMinimization } from "./internal/pareto.js"
import { hypervolume, inclusionExclusion } from "./internal/paretoHypervolume.js"

/**
 * The hypervolume of points where every objective is minimized, bounded by `reference`. Points
 * not strictly better than the reference in every objective add nothing.
 *
 * @example
 * import { Hypervolume } from "@tunekit/samplers"
 * Hypervolume.compute([[1, 3], [2, 2], [3, 1]], [4, 4]) // 6
 */
export const compute = (points: ReadonlyArray<ReadonlyArray<number>>, reference: ReadonlyArray<number>): number => {
  for (const p of points) {
    if (p.length !== reference.length) {
      throw new RangeError(`a point has ${p.length} objectives and the reference ${reference.length}`)
    }
  }
  return hypervolume(points, reference)
}

/**
 * The same volume by inclusion-exclusion over every subset of points: exponential, meant for
 * checking `compute` on fronts of at most 20 points.
 *
 * @example
 * import { Hypervolume } from "@tunekit/samplers"
 * Hypervolume.bruteForce([[1, 3], [2, 2], [3, 1]], [4, 4]) // 6
 */
export const bruteForce = (points: ReadonlyArray<ReadonlyArray<number>>, reference: ReadonlyArray<number>): number =>
  inclusionExclusion(points, reference)

/**
 * The hypervolume of a study's complete trials under its directions. The reference is given in
 * the objectives' own units and directions (for a maximized objective, a value below every
 * result of interest).
 *
 * @example
 * import { Hypervolume } from "@tunekit/samplers"
 * import type { Trial } from "@tunekit/core"
 * declare const trials: ReadonlyArray<Trial.FrozenTrial>
 * const hv = Hypervolume.ofTrials(trials, ["minimize", "maximize"], [10, 0])
 */
export const ofTrials = (
  trials: ReadonlyArray<Trial.FrozenTrial>,
  directions: ReadonlyArray<Trial.Direction>,
  reference: ReadonlyArray<number>
): number => {
  if (reference.length !== directions.length) {
    throw new RangeError(`the reference has ${reference.length} values for ${directions.length} objectives`)
  }
  const points = trials
    .filter((t) => t.state === "Complete" && t.values !== undefined && t.values.length === directions.length)
    .map((t) => toMinimization(t.values!, directions))
  return hypervolume(points, toMinimization(reference, directions))
}
