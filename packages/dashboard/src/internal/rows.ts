// What the pages show of trials and studies, as compact JSON: a trial's row (the table's and a live
// update's unit: no learning curve, attributes only when they are scalars) and a study's summary.
import { type Storage, Study, Trial } from "@tunekit/core"
import { Source } from "@tunekit/plots"

/** A scalar as rows carry it: long strings are cut (the trial page has them whole). */
export type Scalar = string | number | boolean | null

/** A trial as the table and live updates carry it. */
export interface Row {
  readonly id: number
  readonly number: number
  readonly state: Trial.State
  readonly values: ReadonlyArray<number> | null
  /** External values by parameter name. */
  readonly params: Readonly<Record<string, Scalar>>
  readonly started: number | null
  readonly finished: number | null
  readonly worker: string | null
  readonly reason: string | null
  /** How many steps it reported, and its last report. */
  readonly steps: number
  readonly last: Trial.Metric | null
  /** User attributes that are scalars, then system ones as `system.KEY`. */
  readonly attrs: Readonly<Record<string, Scalar>>
}

const CUT = 160

const scalar = (v: unknown): Scalar | undefined => {
  if (v === null || typeof v === "number" || typeof v === "boolean") return v
  if (typeof v === "string") return v.length > CUT ? `${v.slice(0, CUT)}…` : v
  return undefined
}

const scalars = (into: Record<string, Scalar>, attrs: Readonly<Record<string, Trial.Json>>, prefix: string) => {
  for (const [k, v] of Object.entries(attrs)) {
    const s = scalar(v)
    if (s !== undefined) into[prefix + k] = s
  }
}

/** A trial's row. */
export const rowOf = (t: Trial.FrozenTrial): Row => {
  const params: Record<string, Scalar> = {}
  for (const [k, v] of Object.entries(Trial.paramValues(t))) params[k] = scalar(v) ?? JSON.stringify(v)
  const attrs: Record<string, Scalar> = {}
  scalars(attrs, t.userAttrs, "")
  scalars(attrs, t.systemAttrs, "system.")
  const last = t.intermediate.length === 0 ? null : t.intermediate[t.intermediate.length - 1]
  return {
    id: t.id,
    number: t.number,
    state: t.state,
    values: t.values ?? null,
    params,
    started: t.startedAt ?? null,
    finished: t.finishedAt ?? null,
    worker: t.worker ?? null,
    reason: t.reason ?? null,
    steps: t.intermediate.length,
    last,
    attrs
  }
}

/** A study at a glance: what the studies list and the study page's header show. */
export interface Summary {
  readonly name: string
  readonly directions: ReadonlyArray<Trial.Direction>
  /** The objectives' names. */
  readonly objectives: ReadonlyArray<string>
  /** "running" while a trial runs; else the tracker's end status when it recorded one, "idle", or "empty". */
  readonly state: string
  readonly trials: number
  readonly counts: Readonly<Record<Trial.State, number>>
  /** The best complete trial of a single objective. */
  readonly best: { readonly number: number; readonly values: ReadonlyArray<number> } | null
  /** How many complete trials are on the Pareto front, with several objectives. */
  readonly front: number | null
  /** The latest start or end of a trial (ms since epoch), or the study's creation. */
  readonly lastActive: number
  readonly created: number
  /** The change counter the summary is of. */
  readonly seq: number
}

export const STATES: ReadonlyArray<Trial.State> = ["Running", "Waiting", "Complete", "Pruned", "Failed"]

/** The names of a study's objectives, as the plots name them. */
export const objectivesOf = (info: Storage.StudyInfo): Array<string> => Source.objectiveNames(info.directions, info.metrics)

/** A study's summary from its trials (in any order: ties of the best value go to the lowest number). */
export const summaryOf = (info: Storage.StudyInfo, trials: Iterable<Trial.FrozenTrial>, seq: number): Summary => {
  const counts = { Running: 0, Waiting: 0, Complete: 0, Pruned: 0, Failed: 0 } as Record<Trial.State, number>
  let lastActive = info.createdAt
  let total = 0
  let best: Trial.FrozenTrial | undefined
  const complete: Array<Trial.FrozenTrial> = []
  const sign = info.directions[0] === "maximize" ? -1 : 1
  for (const t of trials) {
    total++
    counts[t.state]++
    const at = t.finishedAt ?? t.startedAt
    if (at !== undefined && at > lastActive) lastActive = at
    if (info.directions.length > 1 && t.state === "Complete") complete.push(t)
    if (info.directions.length === 1 && t.state === "Complete" && t.values !== undefined) {
      const d = best === undefined ? -1 : sign * (t.values[0] - best.values![0])
      if (d < 0 || (d === 0 && t.number < best!.number)) best = t
    }
  }
  const tracked = info.systemAttrs["run:status"]
  const state = counts.Running > 0
    ? "running"
    : typeof tracked === "string" && tracked !== "RUNNING"
    ? tracked.toLowerCase()
    : total === 0
    ? "empty"
    : "idle"
  return {
    name: info.name,
    directions: info.directions,
    objectives: objectivesOf(info),
    state,
    trials: total,
    counts,
    best: best === undefined ? null : { number: best.number, values: best.values! },
    front: info.directions.length > 1 ? Study.paretoFrontOf(Array.from(complete), info.directions).length : null,
    lastActive,
    created: info.createdAt,
    seq
  }
}
