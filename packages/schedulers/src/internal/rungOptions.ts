// The options every rung scheduler shares (successive halving, ASHA, Hyperband, BOHB's), as
// Schema fields and the rule across them, for each scheduler's options Schema.
import { Options } from "@tunekit/core"
import { Schema } from "effect"
import type { RungOptions } from "./rungs.js"

export const rungFields = {
  /** The first rung: the resource every trial gets (grace period). */
  minResource: Options.Positive,
  /** The resource of a trial that runs to the end (max_t). */
  maxResource: Options.Positive,
  /** eta: one in `reductionFactor` trials goes on at each rung (default 3). */
  reductionFactor: Schema.optional(Options.number({ min: 2 }))
}

/** minResource <= maxResource, reported at minResource. */
export const rungRule = (o: RungOptions) =>
  o.minResource <= o.maxResource || { path: ["minResource"], message: `must not exceed maxResource (${o.maxResource}), got ${o.minResource}` }

/** The rung options alone. */
export const RungOptionsSchema: Schema.Schema<RungOptions> = Schema.Struct(rungFields).pipe(Schema.filter(rungRule))

/** Whether rung options are valid (a guard for functions that take them undecoded, such as `Asha.rungs`). */
export const isRungOptions = Schema.is(RungOptionsSchema)
