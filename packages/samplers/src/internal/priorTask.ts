// An earlier task for prior transfer, as TPE (`Tpe.Options.prior`) and the GP sampler
// (`Gp.Options.prior`) take it; `Transfer.priorTasks` of @tunekit/transfer gives them from the
// transfer database.
import type { Trial } from "@tunekit/core"
import { Options as Opts } from "@tunekit/core"
import { Schema } from "effect"

/** An earlier task: its trials (internal values by this study's parameter names) and direction. */
export interface PriorTask {
  readonly name?: string
  /** Its trials: internal parameter values by this study's names, and the objective value. */
  readonly trials: ReadonlyArray<Trial.FrozenTrial>
  readonly direction: "minimize" | "maximize"
  /** Its similarity to this task, in [0, 1] (default 1). */
  readonly similarity?: number
}

/** The Schema of an options' `prior`: a list of earlier tasks. */
export const PriorTasksSchema = Schema.Array(Schema.Struct({
  name: Schema.optional(Schema.String),
  trials: Schema.Array(Opts.instance<Trial.FrozenTrial>((u): u is Trial.FrozenTrial => typeof u === "object" && u !== null && "params" in u, "a trial")),
  direction: Opts.literals("minimize", "maximize"),
  similarity: Schema.optional(Opts.Probability)
}))
