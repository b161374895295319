/**
 * Checkpoint retention: what a study keeps of its checkpoints, declared once, applied by the
 * Checkpoint service. Kept, and nothing else:
 *
 * - the last `keepLast` checkpoints of each running trial (default 2), and its latest at or before
 *   its last reported step (what population-based training copies from a donor);
 * - the checkpoint a paused trial resumes from (ASHA promotion, Hyperband);
 * - a continuation's restore point (a PBT exploit), until the continuation has loaded it;
 * - the final checkpoint of the best `keepBest` complete trials by the objective (default 3);
 * - a checkpoint being loaded, by a worker of any process.
 *
 * A pruned or failed trial's checkpoints go when it ends (unless a continuation still needs one),
 * a complete trial's when it falls out of the best `keepBest`. Retention learns all this from the
 * study's storage (trial states, reported steps, the `restoreFrom` of continuations) whenever a
 * checkpoint is saved and whenever the run loop says trials changed (`Checkpoint.settle`). So a
 * population of P trials holds at most about `P x (keepLast + 1) + keepBest` checkpoints at once,
 * and `keepBest` when the study is done; see docs/checkpoints.md.
 *
 * `Checkpoint.layer({ directory })` applies `defaults`; `Retention.layer(policy)` puts a policy on
 * any store.
 *
 * @example
 * import { Effect, Layer } from "effect"
 * import { Checkpoint, Retention, Study } from "@tunekit/core"
 *
 * // Files, keeping the last 3 of each trial and the best 5 trials' final checkpoints:
 * const files = Checkpoint.layer({ directory: "checkpoints", retention: { keepLast: 3, keepBest: 5 } })
 * // The same policy on any store (here memory):
 * const memory = Retention.layer({ keepLast: 3, keepBest: 5 }).pipe(Layer.provide(Checkpoint.layerMemory))
 *
 * @since 0.1.0
 */
import { Effect, Layer } from "effect"
import { Checkpoint, type CheckpointError, type CheckpointService } from "./Checkpoint.js"
import type { StorageError } from "./Errors.js"
import * as internal from "./internal/retention.js"
import type { StorageService } from "./Storage.js"

/** What to keep of a study's checkpoints: `keepLast` (default 2) and `keepBest` (default 3). */
export type Policy = internal.Policy

/** Why a checkpoint is kept (`Last`, `Reported`, `Paused`, `Restore`, `Best`, `Loading`, `Unknown`). */
export type Reason = internal.Reason

/** A stored checkpoint (trial, step, size) and why it is kept; deleted when `reasons` is empty. */
export type Verdict = internal.Verdict

/** What `plan` reads: the policy, the study's directions and trials, the stored checkpoints. */
export type PlanInput = internal.PlanInput

/**
 * The default policy: the last 2 checkpoints of each running trial, the final one of the best 3.
 *
 * @example
 * import { Retention } from "@tunekit/core"
 * Retention.defaults // { keepLast: 2, keepBest: 3 }
 */
export const defaults: Required<Policy> = internal.defaults

/**
 * Which checkpoints a study needs, and why (pure). The rest may be deleted.
 *
 * @example
 * import { Retention, Trial } from "@tunekit/core"
 * const verdicts = Retention.plan({
 *   policy: { keepLast: 1, keepBest: 1 },
 *   directions: ["minimize"],
 *   trials: [Trial.make({ id: 1, number: 0, state: "Running" })],
 *   entries: [{ trial: 0, step: 1, bytes: 10 }, { trial: 0, step: 2, bytes: 10 }]
 * })
 * // step 1: no reason (deleted); step 2: [{ _tag: "Last", keepLast: 1 }]
 */
export const plan: (input: PlanInput) => ReadonlyArray<Verdict> = internal.plan

/**
 * A reason in words ("last 2", "best 3 (#1)", "needed by trial 14", ...).
 *
 * @example
 * import { Retention } from "@tunekit/core"
 * Retention.describe({ _tag: "Restore", by: 14 }) // "needed by trial 14"
 */
export const describe: (reason: Reason) => string = internal.describe

/**
 * The study system attribute where a run records its retention policy.
 *
 * @example
 * import { Retention } from "@tunekit/core"
 * declare const info: { readonly systemAttrs: Record<string, unknown> }
 * info.systemAttrs[Retention.POLICY_ATTR] // { keepLast: 2, keepBest: 3 }
 */
export const POLICY_ATTR = internal.POLICY_ATTR

/**
 * The policy recorded on a study by its runs, if any.
 *
 * @example
 * import { Retention, type Storage } from "@tunekit/core"
 * declare const info: Storage.StudyInfo
 * const policy = Retention.policyOf(info) ?? Retention.defaults
 */
export const policyOf = internal.policyOf

/**
 * A store with a retention policy: saves and `settle` sweep the study. Throws when the policy is
 * invalid (a count that is not a non-negative integer) or the store cannot list its checkpoints.
 *
 * @example
 * import { Checkpoint, Retention } from "@tunekit/core"
 * const service = Retention.make(Checkpoint.makeFiles("checkpoints"), { keepLast: 2, keepBest: 3 })
 */
export const make = (store: CheckpointService, policy: Policy = defaults): CheckpointService => internal.retained(store, policy)

/**
 * Applies a policy to the Checkpoint service provided to it.
 *
 * @example
 * import { Layer } from "effect"
 * import { Checkpoint, Retention } from "@tunekit/core"
 * const layer = Retention.layer({ keepLast: 1 }).pipe(Layer.provide(Checkpoint.layerMemory))
 */
export const layer = (policy: Policy = defaults): Layer.Layer<Checkpoint, never, Checkpoint> =>
  Layer.effect(Checkpoint, Effect.map(Checkpoint, (store) => make(store, policy)))

/**
 * Applies a policy to a study once, now: deletes what it does not keep, and gives every stored
 * checkpoint with why it is kept (those with no reason were deleted). For studies written before
 * retention existed (`tunekit checkpoints STUDY --prune`).
 *
 * @example
 * import { Effect } from "effect"
 * import { Checkpoint, Retention, Storage } from "@tunekit/core"
 * const program = Effect.gen(function*() {
 *   const storage = yield* Storage.Storage
 *   return yield* Retention.prune(Checkpoint.makeFiles("checkpoints"), storage, "my-study")
 * })
 */
export const prune = (
  store: CheckpointService,
  storage: StorageService,
  study: string,
  policy: Policy = defaults
): Effect.Effect<ReadonlyArray<Verdict>, CheckpointError | StorageError> => internal.sweep(store, storage, study, policy)
