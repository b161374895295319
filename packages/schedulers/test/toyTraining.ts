// The toy training of the PBT tests: over `steps` steps the ideal learning rate decays tenfold, and
// a step lowers the loss most when the learning rate is near the ideal one at that step.
import { Checkpoint, Distribution, Rng, type Space, type Storage, type Study, type Trial } from "@tunekit/core"
import { Effect, Option } from "effect"

export const toyTraining = (steps: number) => {
  const ideal = (step: number) => 0.1 * 0.1 ** (step / steps)
  const advance = (loss: number, lr: number, step: number) => loss * (1 - 0.1 * Math.exp(-(Math.log(lr / ideal(step)) ** 2) / 0.5))
  /**
   * An objective that starts from the trial's restore point (its own pause, or a donor), saves a
   * checkpoint before each report, and runs `afterSave` between the two.
   */
  const objective = (checkpoints: Checkpoint.CheckpointService, afterSave: () => Promise<void> = async () => {}) =>
  async <C extends { readonly lr: number }>(config: C, trial: Study.TrialContext<C>) => {
    const ckpt = Checkpoint.forTrial(checkpoints, trial)
    const start = await Effect.runPromise(ckpt.restore)
    let step = Option.isSome(start) ? start.value.step : 0
    let loss = Option.isSome(start) ? (start.value.data as { loss: number }).loss : 1
    while (step < steps) {
      step++
      loss = advance(loss, config.lr, step)
      await Effect.runPromise(ckpt.save(step, { loss }))
      await afterSave()
      await trial.report({ step, values: { loss } })
    }
    return loss
  }
  return { ideal, advance, objective }
}

/** A PBT population's first trials, Running, each config drawn from the space by the seed's "init" stream. */
export const startPopulation = (storage: Storage.StorageService, studyId: number, space: Space.Compiled<unknown>, seed: number, population: number) =>
  Effect.gen(function*() {
    const g = Rng.generator(seed, "init")
    const trials: Array<Trial.FrozenTrial> = []
    for (let i = 0; i < population; i++) {
      const dists: Record<string, Distribution.Distribution> = {}
      const { params } = space.build((n, d) => ((dists[n] = d), Distribution.fromUnit(d, g.next())))
      trials.push(yield* storage.createTrial(studyId, { state: "Running", params, distributions: dists }))
    }
    return trials
  })
