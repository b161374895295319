/**
 * What a rung scheduler (successive halving, ASHA, Hyperband) records in its study: its name and
 * options, in the study's system attribute `tunekit.rungs`, written the first time it decides on
 * a rung. From it, a study read later (a plot, a report, the dashboard) gets the scheduler's
 * rungs and each trial's bracket exactly as the scheduler computed them, without being told.
 *
 * A study run again with other rung options records the latest: its earlier trials are then
 * placed by the new options.
 *
 * @since 0.1.0
 */
import type { Trial } from "@tunekit/core"
import * as Asha from "./Asha.js"
import * as Hyperband from "./Hyperband.js"
import { type Bracket, levels, RECORD } from "./internal/rungs.js"
import * as SuccessiveHalving from "./SuccessiveHalving.js"

/** The study system attribute of the record. */
export const ATTRIBUTE: string = RECORD

/** The rung schedulers that record themselves, by the name they record. */
export type SchedulerName = "asha" | "successive-halving" | "hyperband"

/** A study's record, read back. */
export interface Recorded {
  readonly scheduler: SchedulerName
  /** The scheduler's options as it decoded them. */
  readonly options: Asha.Options | Hyperband.Options | SuccessiveHalving.Options
  /** Every rung's resource, lowest first (a bracket compares on some of them). */
  readonly rungs: ReadonlyArray<number>
  /** A trial's bracket: its key, and the rungs where its trials are compared. */
  readonly bracketOf: (trial: Trial.FrozenTrial) => Bracket
}

// Each scheduler's own brackets and rungs (Hyperband counts its rungs down from maxResource, as
// Algorithm 1 of Li et al. 2018 does; the others up from minResource).
const schedulers: Record<
  SchedulerName,
  { readonly bracketOf: (options: any) => ((t: Trial.FrozenTrial) => Bracket) | undefined; readonly rungs: (options: any) => ReadonlyArray<number> }
> = {
  asha: { bracketOf: Asha.bracketOf, rungs: Asha.rungs },
  "successive-halving": { bracketOf: SuccessiveHalving.bracketOf, rungs: levels },
  hyperband: { bracketOf: Hyperband.bracketOf, rungs: Hyperband.rungs }
}

/**
 * The record in a study's system attributes, or undefined when the study has none (no rung
 * scheduler decided on it yet, or one from before records) or it cannot be read.
 *
 * @example
 * import { RungRecord } from "@tunekit/schedulers"
 * import type { Storage, Trial } from "@tunekit/core"
 * declare const study: Storage.StudyInfo
 * declare const trials: ReadonlyArray<Trial.FrozenTrial>
 * const recorded = RungRecord.read(study.systemAttrs)
 * recorded?.rungs                    // [1, 3, 9]
 * recorded?.bracketOf(trials[0]).key // "asha:0"
 */
export const read = (systemAttrs: Readonly<Record<string, unknown>>): Recorded | undefined => {
  const r = systemAttrs[RECORD] as { scheduler?: unknown; options?: unknown } | null | undefined
  if (r === null || typeof r !== "object" || typeof r.scheduler !== "string" || !(r.scheduler in schedulers)) return undefined
  const scheduler = r.scheduler as SchedulerName
  const options = r.options as Recorded["options"]
  const bracketOf = schedulers[scheduler].bracketOf(options)
  return bracketOf === undefined ? undefined : { scheduler, options, rungs: schedulers[scheduler].rungs(options), bracketOf }
}
