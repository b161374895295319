// `tunekit checkpoints STUDY [--storage FILE|URL] [--checkpoints DIR|URL] [--keep-last N]
// [--keep-best K] [--prune] [--json]`: what a study keeps of its checkpoints, their sizes, and why
// each is kept (Retention.plan); `--prune` deletes what the policy does not keep (for a study
// written before retention existed, or after a change of policy).
import { CommandDescriptor as Descriptor, Options } from "@effect/cli"
import { Data, Effect, Layer, Option } from "effect"
import * as StorageName from "./storageName.js"
import { Checkpoint, Options as Check, Retention, Storage, type StorageError, type StudyNotFound, type Trial } from "@tunekit/core"
import { Postgres, PostgresCheckpoint } from "@tunekit/postgres"
import { formatTable } from "../Cli.js"
import * as Main from "../Main.js"

/** Where checkpoints are when `--checkpoints` is not given and storage is a file (`Checkpoint.layer`'s default). */
export const DEFAULT_CHECKPOINTS = "tunekit-checkpoints"

/** Where a study's checkpoints are when not named: in its PostgreSQL database, else the default folder. */
export const checkpointsOf = (storage: string): string => (Postgres.isUrl(storage) ? storage : DEFAULT_CHECKPOINTS)

/** The `checkpoints` command. */
export const command = Descriptor.make(
  "checkpoints",
  Options.all({
    storage: Main.storageOption,
    checkpoints: Main.option("checkpoints", Main.FilePath, {
      description: `the checkpoints' folder, or a postgres:// URL (default: the storage's URL for PostgreSQL, else ${DEFAULT_CHECKPOINTS})`,
      placeholder: "DIR|URL"
    }).pipe(Options.optional),
    keepLast: Main.number("keep-last", Check.PositiveInt, "keep the last N checkpoints of each running trial (default: the study's policy, else 2)").pipe(Options.optional),
    keepBest: Main.number("keep-best", Check.NonNegativeInt, "keep the final checkpoint of the best K complete trials (default: the study's policy, else 3)").pipe(Options.optional),
    prune: Options.boolean("prune").pipe(Options.withDescription("delete the checkpoints the policy does not keep")),
    json: Options.boolean("json").pipe(Options.withDescription("machine-readable output (JSON)"))
  }),
  Main.argument("STUDY", Check.NonEmptyString, "the study's name (as `tunekit studies` lists it)")
).pipe(Descriptor.withDescription("List a study's checkpoints, their sizes and why each is kept; --prune deletes those no trial needs."))

/** A parsed `checkpoints` command line. */
export type Parsed = typeof command extends Descriptor.Command<infer A> ? A : never

/** The checkpoint store failed (it could not be opened, listed or pruned). */
export class CheckpointStoreError extends Data.TaggedError("CheckpointStoreError")<{ readonly reason: string }> {
  override get message() {
    return this.reason
  }
}

/** What the command can fail with. */
export type CheckpointsError = StorageError | StudyNotFound | CheckpointStoreError

const size = (bytes: number) =>
  bytes < 1024 ? `${bytes} B` : bytes < 2 ** 20 ? `${(bytes / 1024).toFixed(1)} KiB` : bytes < 2 ** 30 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${(bytes / 2 ** 30).toFixed(2)} GiB`
const total = (vs: ReadonlyArray<Retention.Verdict>) => vs.reduce((a, v) => a + v.bytes, 0)

/** The checkpoint store the flags name, as a scoped service (no retention: the command applies the policy itself). */
const storeOf = (storage: string, checkpoints: Option.Option<string>) => {
  const where = Option.getOrElse(checkpoints, () => checkpointsOf(storage))
  return Postgres.isUrl(where)
    ? Effect.map(PostgresCheckpoint.make(where), (store) => ({ store, where: Postgres.maskUrl(where) }))
    : Effect.succeed({ store: Checkpoint.makeFiles(where), where })
}

/** Runs a parsed `checkpoints` command line: the text to print. */
export const run = (parsed: Parsed): Effect.Effect<string, CheckpointsError> =>
  Effect.gen(function*() {
    const o = parsed.options
    const studyName = parsed.args
    if (!StorageName.exists(o.storage)) return `no tunekit storage at ${o.storage} (run a study first, or pass --storage FILE|URL)`
    const work = Effect.gen(function*() {
      const storage = yield* Storage.Storage
      const info = yield* storage.getStudy(studyName)
      const recorded = Retention.policyOf(info)
      const policy: Required<Retention.Policy> = {
        keepLast: Option.getOrElse(o.keepLast, () => recorded?.keepLast ?? Retention.defaults.keepLast),
        keepBest: Option.getOrElse(o.keepBest, () => recorded?.keepBest ?? Retention.defaults.keepBest)
      }
      const origin = Option.isSome(o.keepLast) || Option.isSome(o.keepBest) ? "given" : recorded !== undefined ? "recorded by the study's runs" : "the default"
      const { store, where } = yield* storeOf(o.storage, o.checkpoints)
      const trials = yield* storage.getTrials(info.id)
      const verdicts = o.prune
        ? yield* Retention.prune(store, storage, studyName, policy)
        : Retention.plan({ policy, directions: info.directions, trials, entries: yield* store.list!(studyName) })
      const states = new Map<number, Trial.State>(trials.map((t) => [t.number, t.state]))
      const kept = verdicts.filter((v) => v.reasons.length > 0)
      const unneeded = verdicts.filter((v) => v.reasons.length === 0)
      if (o.json) {
        return JSON.stringify({
          study: studyName,
          store: where,
          policy,
          pruned: o.prune,
          checkpoints: verdicts.map((v) => ({
            trial: v.trial,
            state: states.get(v.trial) ?? null,
            step: v.step,
            bytes: v.bytes,
            kept: v.reasons.length > 0,
            reasons: v.reasons.map(Retention.describe)
          }))
        }, null, 2)
      }
      const head = `checkpoints of study "${studyName}" in ${where} (policy, ${origin}: the last ${policy.keepLast} of each running trial, the final one of the best ${policy.keepBest} complete trials, and what a trial may restore from)`
      if (verdicts.length === 0) return `${head}\nnone stored`
      const shown = o.prune ? kept : verdicts
      const rows = shown.map((v) => [
        String(v.trial),
        states.get(v.trial) ?? "?",
        String(v.step),
        size(v.bytes),
        v.reasons.length > 0 ? v.reasons.map(Retention.describe).join(", ") : "not needed"
      ])
      const summary = o.prune
        ? `deleted ${unneeded.length} checkpoints (${size(total(unneeded))}); ${kept.length} kept (${size(total(kept))})`
        : `${verdicts.length} checkpoints (${size(total(verdicts))}): ${kept.length} kept (${size(total(kept))}), ${unneeded.length} not needed (${size(total(unneeded))})${
          unneeded.length > 0 ? `; tunekit checkpoints ${JSON.stringify(studyName)} --prune deletes them` : ""
        }`
      return [head, ...(rows.length > 0 ? [formatTable(["trial", "state", "step", "size", "kept because"], rows)] : []), summary].join("\n")
    })
    return yield* Effect.scoped(Effect.provide(work, Main.storageLayer(o.storage, { readonly: true }))).pipe(
      Effect.catchTag("CheckpointError", (e) => Effect.fail(new CheckpointStoreError({ reason: e.message })))
    )
  })
