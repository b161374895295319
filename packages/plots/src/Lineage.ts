/**
 * The lineage tree of population-based training: who copied whom, when, and what changed. Each
 * member of the population is a chain of trials; at each exploit the member's trial ends and a new
 * trial continues it from a donor's checkpoint with explored parameters (see docs/pbt.md). The
 * plot draws each trial as a stretch of training steps on its member's lane, with an edge from the
 * member's previous trial ("continues") and one from the donor whose weights it took ("copies",
 * labelled with the parameters that changed).
 *
 * It reads what the PBT scheduler of @tunekit/schedulers stores (`Pbt.lineageOf`).
 *
 * @since 0.1.0
 */
import { Trial } from "@tunekit/core"
import { Pbt } from "@tunekit/schedulers"
import type { Source } from "./Source.js"

/** A trial of the population. */
export interface Node {
  readonly trial: number
  /** The member (population slot): the number of the member's first trial. */
  readonly member: number
  /** Exploits the member went through before this trial (0 for its first trial). */
  readonly generation: number
  readonly state: Trial.State
  /** The training steps this trial ran: from its restore point (0 for a first trial) to its last report. */
  readonly from: number
  readonly to: number
  /** The metric's last reported value. */
  readonly value: number | undefined
  /** The trial's parameters (external values). */
  readonly params: Readonly<Record<string, unknown>>
}

/** An edge of the tree. */
export interface Edge {
  /** "continues": the member's previous trial, exploited at `step`; "copies": the donor, whose checkpoint at `step` the trial starts from. */
  readonly kind: "continues" | "copies"
  readonly from: number
  readonly to: number
  readonly step: number
  /** On "copies": the explored parameters that differ from the donor's. */
  readonly changes?: Readonly<Record<string, Pbt.Change>>
}

/** The data of a lineage plot. */
export interface Data {
  readonly _tag: "Lineage"
  readonly metric: string
  /** The members, in order. */
  readonly members: ReadonlyArray<number>
  readonly nodes: ReadonlyArray<Node>
  readonly edges: ReadonlyArray<Edge>
}

/** Options of `make`. */
export interface Options {
  /** The metric of the nodes' values (default: the study's first objective). */
  readonly metric?: string
}

/**
 * The lineage of a PBT study.
 *
 * @example
 * import { Lineage, Source } from "@tunekit/plots"
 * declare const study: Source.Source
 * const data = Lineage.make(study)
 * data.edges.filter((e) => e.kind === "copies") // every exploit: donor -> new trial, with the changes
 */
export const make = (source: Source, options: Options = {}): Data => {
  const metric = options.metric ?? source.objectives[0] ?? "value"
  const trials = [...source.trials].sort((a, b) => a.number - b.number)
  const nodes: Array<Node> = []
  const edges: Array<Edge> = []
  const members = new Set<number>()
  for (const t of trials) {
    const lineage = Pbt.lineageOf(t)
    const member = Pbt.memberOf(t)
    members.add(member)
    const series = Trial.series(t, metric)
    const from = lineage?.step ?? 0
    nodes.push({
      trial: t.number,
      member,
      generation: lineage?.generation ?? 0,
      state: t.state,
      from,
      to: Math.max(from, Trial.lastStep(t) ?? from),
      value: series.length === 0 ? undefined : series[series.length - 1][1],
      params: Trial.paramValues(t)
    })
    if (lineage !== undefined) {
      edges.push({ kind: "continues", from: lineage.parent, to: t.number, step: lineage.exploitedAt })
      edges.push({ kind: "copies", from: lineage.donor, to: t.number, step: lineage.step, changes: lineage.changes })
    }
  }
  return { _tag: "Lineage", metric, members: [...members].sort((a, b) => a - b), nodes, edges }
}
