// The messages between the thread pool (the study's process) and a worker thread, and how errors
// cross: as plain data that keeps a tagged error's tag and fields, so that the study stores the
// same failure details as for a trial run inline.
import type { MessagePort } from "node:worker_threads"

/** Where a worker loads a trainer from: a module's URL and the name of its export. */
export interface ModuleRef {
  readonly url: string
  readonly export: string
}

/** What a worker gets of a trial: its data, not its functions. */
export interface TrialData {
  readonly id: number
  readonly number: number
  readonly study: string | undefined
  readonly params: Readonly<Record<string, unknown>>
  readonly resumeFrom: number | undefined
  readonly restoreFrom: { readonly trial: number; readonly step: number } | undefined
}

/** Pool to worker, on the worker's own port. */
export type ToWorker = {
  readonly t: "run"
  readonly job: number
  readonly module: ModuleRef
  readonly config: unknown
  readonly trial: TrialData
  /** Int32Array over it: [0] is set to 1 when a reply to a metric (or a stop) waits on the job's port. */
  readonly control: SharedArrayBuffer
  readonly port: MessagePort
}

/** Pool to worker, on the job's port. */
export type ToJob =
  | { readonly t: "go" }
  | { readonly t: "continue" }
  | { readonly t: "stop"; readonly error?: ErrorData }
  | { readonly t: "checkpoint"; readonly request: number; readonly ok: boolean; readonly value?: unknown; readonly error?: ErrorData }

/** Worker to pool, on the job's port. */
export type FromJob =
  | { readonly t: "kind"; readonly stream: boolean }
  | { readonly t: "metric"; readonly metric: { readonly step: number; readonly values: Readonly<Record<string, number>> } }
  | { readonly t: "done"; readonly value?: unknown }
  | { readonly t: "error"; readonly error: ErrorData }
  | { readonly t: "attr"; readonly key: string; readonly value: unknown }
  | { readonly t: "log"; readonly log: unknown }
  | { readonly t: "checkpoint"; readonly request: number; readonly op: "save" | "load" | "steps" | "remove"; readonly args: ReadonlyArray<unknown> }

/** An error as data. */
export interface ErrorData {
  readonly name: string
  readonly message: string
  readonly stack?: string
  /** A tagged error's tag and its own fields. */
  readonly tag?: string
  readonly fields?: Readonly<Record<string, unknown>>
  /** A thrown value that was not an Error. */
  readonly thrown?: unknown
}

const plain = (v: unknown): unknown => {
  try {
    return structuredClone(v)
  } catch {
    return String(v)
  }
}

/** An error (or anything thrown) as data that crosses a thread. */
export const toData = (e: unknown): ErrorData => {
  if (!(e instanceof Error)) return { name: "Thrown", message: typeof e === "string" ? e : String(e), thrown: plain(e) }
  const tag = (e as { _tag?: unknown })._tag
  const fields: Record<string, unknown> = {}
  for (const k of Object.keys(e)) if (k !== "_tag" && k !== "stack" && k !== "message") fields[k] = plain((e as unknown as Record<string, unknown>)[k])
  return {
    name: e.name,
    message: e.message,
    ...(e.stack === undefined ? {} : { stack: e.stack }),
    ...(typeof tag === "string" ? { tag } : {}),
    ...(Object.keys(fields).length > 0 ? { fields } : {})
  }
}

/** The error again, on this side: an Error with the same name, message, stack, tag and fields. */
export const fromData = (d: ErrorData): unknown => {
  if (d.thrown !== undefined) return d.thrown
  const e = new Error(d.message)
  e.name = d.name
  if (d.stack !== undefined) e.stack = d.stack
  if (d.tag !== undefined) Object.defineProperty(e, "_tag", { value: d.tag, enumerable: true })
  Object.assign(e, d.fields ?? {})
  return e
}

/** The trial's data, for a worker. */
export const trialData = (t: TrialData): TrialData => ({
  id: t.id,
  number: t.number,
  study: t.study,
  params: t.params,
  resumeFrom: t.resumeFrom,
  restoreFrom: t.restoreFrom
})
