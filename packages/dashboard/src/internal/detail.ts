// A trial in full, for its page: params with their distributions, learning curves, PBT lineage,
// the failure's details, the tracker's run (tags, notes, artifacts), a sweep's stdout and stderr,
// attributes, and the dashboard's note.
import { Distribution, type Storage, Trial } from "@tunekit/core"
import { Pbt } from "@tunekit/schedulers"
import { Runs } from "@tunekit/tracking"
import { NOTE, STOP, trialNoteKey } from "./actions.js"
import type { Drawn } from "./plots.js"
import { curves } from "./plots.js"
import { objectivesOf } from "./rows.js"

/** The system attribute that keeps a failed objective's details (message, tag, fields, stack). */
export const FAILURE = "failure"

/** The user attributes where a program trial keeps the tails of its output (core's Process). */
const STDOUT = "stdout_tail"
const STDERR = "stderr_tail"

/** Attributes the page shows in sections of their own, left out of the attribute tables. */
const shownApart = (key: string) => key === FAILURE || key === STOP || key === Pbt.LINEAGE || key.startsWith("run:")

/** A parameter of the study as the enqueue form and the table's filters need it. */
export interface ParamInfo {
  readonly name: string
  readonly kind: "float" | "int" | "categorical"
  readonly log: boolean
  readonly low?: number
  readonly high?: number
  readonly step?: number
  readonly choices?: ReadonlyArray<Distribution.Choice>
  readonly text: string
}

export const paramInfo = (name: string, d: Distribution.Distribution): ParamInfo =>
  d._tag === "Categorical"
    ? { name, kind: "categorical", log: false, choices: d.choices, text: Distribution.describe(d) }
    : {
      name,
      kind: d._tag === "Int" ? "int" : "float",
      log: d.log,
      low: d.low,
      high: d.high,
      ...(d.step === undefined ? {} : { step: d.step }),
      text: Distribution.describe(d)
    }

const attrs = (a: Readonly<Record<string, Trial.Json>>, skip: (k: string) => boolean) =>
  Object.fromEntries(Object.entries(a).filter(([k]) => !skip(k)))

const textOf = (v: Trial.Json | undefined) => (typeof v === "string" ? v : v === undefined || v === null ? null : JSON.stringify(v, null, 2))

/** The trial page's data. */
export const detail = (
  info: Storage.StudyInfo,
  trials: ReadonlyArray<Trial.FrozenTrial>,
  t: Trial.FrozenTrial,
  width: number | undefined
): Record<string, unknown> => {
  const lineage = Pbt.lineageOf(t)
  const next = t.systemAttrs[Pbt.NEXT]
  const run = Runs.runOf(info.name, t)
  const failure = t.systemAttrs[FAILURE]
  const note = info.systemAttrs[trialNoteKey(t.number)]
  return {
    study: info.name,
    directions: info.directions,
    objectives: objectivesOf(info),
    trial: {
      id: t.id,
      number: t.number,
      state: t.state,
      values: t.values ?? null,
      started: t.startedAt ?? null,
      finished: t.finishedAt ?? null,
      duration: Trial.duration(t) ?? null,
      worker: t.worker ?? null,
      reason: t.reason ?? null,
      steps: t.intermediate.length,
      stopRequested: t.systemAttrs[STOP] ?? null
    },
    params: Object.entries(Trial.paramValues(t)).map(([name, value]) => ({ name, value, distribution: Distribution.describe(t.distributions[name]) })),
    curves: curves(info, t, width) satisfies ReadonlyArray<Drawn>,
    lineage: lineage === undefined && typeof next !== "number"
      ? null
      : {
        ...(lineage ?? {}),
        chain: Pbt.history(trials, t).map((x) => x.number),
        continuedBy: typeof next === "number" ? next : null,
        donorTo: trials.filter((x) => Pbt.lineageOf(x)?.donor === t.number && Pbt.lineageOf(x)?.parent !== t.number).map((x) => x.number)
      },
    failure: failure === undefined || failure === null ? null : typeof failure === "object" && !Array.isArray(failure) ? failure : { message: textOf(failure) },
    run: { tags: run.tags, notes: run.notes, artifacts: run.artifacts.map(({ file: _file, ...a }) => a) },
    logs: { stdout: textOf(t.userAttrs[STDOUT]), stderr: textOf(t.userAttrs[STDERR]) },
    userAttrs: attrs(t.userAttrs, (k) => k === STDOUT || k === STDERR),
    systemAttrs: attrs(t.systemAttrs, shownApart),
    note: typeof note === "string" && note !== "" ? note : null
  }
}

/** The study's note, if any. */
export const studyNote = (info: Storage.StudyInfo): string | null => {
  const n = info.systemAttrs[NOTE]
  return typeof n === "string" && n !== "" ? n : null
}
