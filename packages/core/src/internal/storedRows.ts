// Rows as the SQL backends (SQLite, PostgreSQL) keep them, and how they become studies and trials;
// with the per-study history cache both refresh from the rows that changed since they last looked.
import type * as Distribution from "../Distribution.js"
import type { StudyInfo } from "../Storage.js"
import type { FrozenTrial, Metric, State } from "../Trial.js"
import * as Stored from "./storedJson.js"

export interface StudyRow {
  id: number
  name: string
  directions: string
  metrics: string
  user_attrs: string
  system_attrs: string
  created_at: number
}

export interface TrialRow {
  id: number
  study_id: number
  number: number
  state: State
  params: string
  distributions: string
  values: string | null
  user_attrs: string
  system_attrs: string
  started_at: number | null
  finished_at: number | null
  worker: string | null
  reason: string | null
}

const DOMAIN_ERRORS = new Set(["StudyMismatch", "StudyNotFound", "TrialStateError", "InvalidSpace", "ClaimTaken"])
/** Whether a thrown value is one of the storage's typed domain errors (not the database's failure). */
export const isDomainError = (e: unknown): boolean =>
  typeof e === "object" && e !== null && DOMAIN_ERRORS.has((e as { _tag?: string })._tag ?? "")

// Stored JSON is decoded through its Schema: a corrupt row fails the read naming the row and field.
export const read = {
  directions: Stored.reader("directions", Stored.Directions),
  metrics: Stored.reader("metrics", Stored.Metrics),
  params: Stored.reader("params", Stored.Params, { quick: Stored.isParams }),
  distributions: Stored.reader("distributions", Stored.Distributions, { cache: 256 }),
  distribution: Stored.reader("distribution", Stored.Distributions.value, { cache: 256 }),
  userAttrs: Stored.reader("userAttrs", Stored.Attrs, { cache: 256 }),
  systemAttrs: Stored.reader("systemAttrs", Stored.Attrs, { cache: 256 })
}
export const studyAt = (r: { readonly name: string }) => `study "${r.name}"`
export const trialAt = (r: { readonly number: number; readonly id: number }) => `trial ${r.number} (id ${r.id})`

export const toStudy = (r: StudyRow): StudyInfo => ({
  id: r.id,
  name: r.name,
  directions: read.directions(r.directions, studyAt(r)),
  metrics: read.metrics(r.metrics, studyAt(r)),
  userAttrs: read.userAttrs(r.user_attrs, studyAt(r)),
  systemAttrs: read.systemAttrs(r.system_attrs, studyAt(r)),
  createdAt: r.created_at
})

export const toTrial = (r: TrialRow, intermediate: ReadonlyArray<Metric>): FrozenTrial => ({
  id: r.id,
  number: r.number,
  state: r.state,
  params: read.params(r.params, trialAt(r)),
  distributions: read.distributions(r.distributions, trialAt(r)),
  values: r.values === null ? undefined : JSON.parse(r.values),
  intermediate,
  userAttrs: read.userAttrs(r.user_attrs, trialAt(r)),
  systemAttrs: read.systemAttrs(r.system_attrs, trialAt(r)),
  startedAt: r.started_at ?? undefined,
  finishedAt: r.finished_at ?? undefined,
  worker: r.worker ?? undefined,
  reason: r.reason ?? undefined
})

/**
 * A study's history as this process last read it, refreshed with the trials that changed since
 * (each backend keeps its own mark of "since": a change counter, a transaction horizon). A trial
 * that changed is decoded once; the list in order of number is copied with the changed trials in
 * their places and new ones at the end (O(n) copying, not a sort of the whole history), so that the
 * cost of a refresh stays small as a study grows. Lists handed out are never changed afterwards.
 */
export class HistoryCache<Mark> {
  private readonly byId = new Map<number, { readonly trial: FrozenTrial; readonly version: unknown }>()
  private sorted: ReadonlyArray<FrozenTrial> = []
  /** Where each trial is in `sorted`, by id. */
  private readonly position = new Map<number, number>()
  private pending: Array<FrozenTrial> = []
  /** Distributions of the study's parameters as last read from storage. */
  readonly params = new Map<string, Distribution.Distribution>()
  constructor(public mark: Mark) {}

  /** Whether this version of the trial is held already (a row read again need not be decoded). */
  holds(id: number, version: unknown): boolean {
    return this.byId.get(id)?.version === version
  }

  /** Puts a changed trial in, replacing its earlier version. */
  put(trial: FrozenTrial, version: unknown): void {
    this.byId.set(trial.id, { trial, version })
    this.pending.push(trial)
  }

  /** The trials in order of number, optionally only those in some states. */
  trials(states?: ReadonlyArray<State>): ReadonlyArray<FrozenTrial> {
    if (this.pending.length > 0) this.apply()
    return states ? this.sorted.filter((t) => states.includes(t.state)) : this.sorted
  }

  private apply(): void {
    const next = this.sorted.slice()
    let inOrder = true
    for (const t of this.pending) {
      const at = this.position.get(t.id)
      if (at !== undefined) next[at] = t
      else if (inOrder && (next.length === 0 || next[next.length - 1].number < t.number)) {
        this.position.set(t.id, next.length)
        next.push(t)
      } else inOrder = false
    }
    this.pending = []
    if (inOrder) {
      this.sorted = next
      return
    }
    // A trial numbered before others already held (created elsewhere, seen late): sort it all.
    this.sorted = Array.from(this.byId.values(), (e) => e.trial).sort((a, b) => a.number - b.number)
    this.position.clear()
    this.sorted.forEach((t, i) => this.position.set(t.id, i))
  }
}
