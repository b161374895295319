/**
 * The work of the CLI's transfer commands, as Effects that return the text to print:
 * `tunekit tasks`, `tunekit tasks similar NAME [--k K]` and `tunekit tasks record STUDY --task NAME`.
 *
 * @example
 * import { Effect } from "effect"
 * import { Commands, Transfer } from "@tunekit/transfer"
 * const text = Commands.tasks().pipe(Effect.provide(Transfer.layerSqlite("tunekit.db")))
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import type { Storage, StorageError, StudyNotFound } from "@tunekit/core"
import type { NoMetaFeatures, TransferError } from "./Errors.js"
import * as Transfer from "./Transfer.js"

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(3) : v.toPrecision(4))

const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>) => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()
  return [line(header), ...rows.map(line)].join("\n")
}

/**
 * `tunekit tasks`: every task with its tags, recorded studies and trials, and best value.
 *
 * @example
 * import { Commands } from "@tunekit/transfer"
 * const text = Commands.tasks()
 */
export const tasks = (): Effect.Effect<string, TransferError, Transfer.Transfer> =>
  Effect.gen(function*() {
    const db = yield* Transfer.Transfer
    const all = yield* db.tasks
    if (all.length === 0) return "no tasks"
    const rows = yield* Effect.forEach(all, (t) =>
      Effect.map(db.studies(t.name), (studies) => {
        const trials = studies.reduce((a, s) => a + s.trials.length, 0)
        const bests = studies.flatMap((s) => {
          const vs = s.trials.filter((x) => x.state === "Complete").map((x) => x.value)
          return vs.length === 0 ? [] : [`${s.metric} ${fmt(s.direction === "maximize" ? Math.max(...vs) : Math.min(...vs))}`]
        })
        return [t.name, t.tags.join(",") || "-", String(studies.length), String(trials), t.metaFeatures === undefined ? "no" : "yes", bests.join("; ") || "-"]
      }))
    return table(["task", "tags", "studies", "trials", "meta-features", "best"], rows)
  })

/**
 * `tunekit tasks similar NAME`: the k most similar tasks by meta-features.
 *
 * @example
 * import { Commands } from "@tunekit/transfer"
 * const text = Commands.similar("digits_mlp", 5)
 */
export const similar = (name: string, k = 5): Effect.Effect<string, TransferError | NoMetaFeatures, Transfer.Transfer> =>
  Effect.map(Transfer.similar(name, k), (near) =>
    near.length === 0 ? `no task to compare "${name}" with` : table(["task", "similarity"], near.map((s) => [s.task.name, s.similarity.toFixed(4)])))

/**
 * `tunekit tasks record STUDY --task NAME`: records a study of the storage under a task.
 *
 * @example
 * import { Commands } from "@tunekit/transfer"
 * const text = Commands.record("digits-mlp", "digits_mlp")
 */
export const record = (
  study: string,
  task: string
): Effect.Effect<string, TransferError | StorageError | StudyNotFound, Transfer.Transfer | Storage.Storage> =>
  Effect.map(Transfer.recordStudy(study, { task }), (r) => `recorded study "${r.study}" under task "${task}": ${r.trials.length} trials, ${Object.keys(r.space).length} parameters`)
