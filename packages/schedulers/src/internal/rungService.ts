// The rung schedulers as Scheduler services: the pure decisions of rungs.ts, plus the writes they
// call for (the mark of a trial let past a rung, the losers of a synchronous rung stored as Pruned).
import { Effect, Either, Layer, Option } from "effect"
import type { Schema } from "effect"
import { Scheduler, Storage, type StorageError, Trial } from "@tunekit/core"
import * as Pruner from "../Pruner.js"
import { type Bracket, type Core, etaOf, isPaused, KEY, type Place, RECORD, type RungOptions } from "./rungs.js"
import { fmt, valueOf } from "./series.js"

export const pruner = (name: string, core: Core): Pruner.Pruner =>
  Pruner.make(name, (input) => core.decide(input).decision, { usesHistory: true })

/**
 * A rung scheduler's pruner and layer, from its options Schema and its decisions: options are
 * decoded once; invalid ones give a scheduler that fails when the study starts with
 * InvalidScheduler naming the field.
 */
export const scheduler = <O extends RungOptions & { readonly limit?: number }>(
  name: string,
  schema: Schema.Schema<O, O, never>,
  core: (options: O) => Core
) => {
  const decode = Pruner.decodeOptions(name, schema)
  return {
    /** Each trial's bracket under these options, or undefined when they are invalid. */
    bracketOf: (input: O): ((t: Trial.FrozenTrial) => Bracket) | undefined =>
      Either.match(decode(input), { onLeft: () => undefined, onRight: (o) => core(o).bracketOf }),
    make: (input: O): Pruner.Pruner => Either.match(decode(input), { onLeft: Pruner.refused, onRight: (o) => pruner(name, core(o)) }),
    layer: (input: O): Layer.Layer<Scheduler.Scheduler, never, Storage.Storage> =>
      Either.match(decode(input), { onLeft: (e) => Pruner.layer(Pruner.refused(e)), onRight: (o) => layer(name, core(o), o) })
  }
}

/**
 * `limit`: the configurations the study runs. Once that many exist, a worker asking for a trial
 * waits while other trials run, rather than find nothing to do and stop: a running trial may
 * complete a rung and make a paused trial resumable. (A trial left Running by a dead worker in
 * another process keeps it waiting until that trial is failed as stale.)
 */
export const layer = (
  name: string,
  core: Core,
  options: RungOptions & { readonly limit?: number }
): Layer.Layer<Scheduler.Scheduler, never, Storage.Storage> =>
  Layer.effect(
    Scheduler.Scheduler,
    Effect.gen(function*() {
      const storage = yield* Storage.Storage
      // One decision at a time in this process, so that two trials of this process never both
      // take the last place past a rung. Stopping ASHA's decisions only read: they run side by side.
      const lock = yield* Effect.makeSemaphore(1)
      const deciding = core.writes ? lock.withPermits(1) : <A, E>(e: Effect.Effect<A, E>) => e
      const worker = Storage.workerId()
      // A trial that finished meanwhile (another worker) needs no mark.
      const ignoreState = <E extends { readonly _tag: string }>(e: Effect.Effect<void, E>) =>
        Effect.catchIf(e, (x): x is Extract<E, { _tag: "TrialStateError" }> => x._tag === "TrialStateError", () => Effect.void)
      // Claims the first free place past a rung, so that workers in other processes, deciding from
      // histories read at other times, never let more than the quota past it.
      const takePlace = (studyId: number, place: Place | undefined) =>
        Effect.gen(function*() {
          if (place === undefined) return true
          for (let i = place.from; i < place.quota; i++) if (yield* storage.claim(studyId, `${place.key}:${i}`)) return true
          return false
        })
      // The study records this scheduler once (plots rebuild its rungs and brackets from it); each
      // process writes it at its first decision on a study, unless the study has it already.
      const record = { scheduler: name, options } as unknown as Trial.Json
      const recorded = new Set<number>()
      const recordIn = (study: Storage.StudyInfo) =>
        recorded.has(study.id) ? Effect.void : Effect.zipRight(
          JSON.stringify(study.systemAttrs[RECORD]) === JSON.stringify(record) ? Effect.void : storage.setStudyAttr(study.id, "system", RECORD, record),
          Effect.sync(() => void recorded.add(study.id))
        )
      const limit = options.limit
      const service: Scheduler.SchedulerService = {
        name,
        resources: { minResource: options.minResource, maxResource: options.maxResource, reductionFactor: etaOf(options) },
        decide: (ctx) =>
          // Between rungs, or for a trial that has ended, there is nothing to decide: no history read, no lock.
          Trial.isFinished(ctx.trial.state) || !core.crosses(ctx.trial, ctx.metric) ? Effect.succeed(Scheduler.Continue) : deciding(Effect.gen(function*() {
            yield* recordIn(ctx.study)
            const history = yield* ctx.history
            const objective = ctx.objectives[0] ?? { metric: "value", direction: "minimize" as const }
            const out = core.decide({ trial: ctx.trial, metric: ctx.metric, history, objective })
            if (out.mark === undefined) return out.decision
            if (!(yield* takePlace(ctx.study.id, out.place))) return out.place!.fallback
            yield* ignoreState(storage.setTrialAttr(ctx.trial.id, "system", KEY, out.mark))
            return out.decision
          })),
        ...(core.resume
          ? {
            resume: (ctx) => {
              const attempt = lock.withPermits(1)(Effect.gen(function*() {
                const history: ReadonlyArray<Trial.FrozenTrial> = yield* ctx.history
                const objective = { metric: ctx.study.metrics[0] ?? "value", direction: ctx.study.directions[0] ?? "minimize" }
                const plan = core.resume!(history, objective)
                for (const r of plan.retire) {
                  // Take the paused trial as a worker would, then end it: another worker may have taken it first.
                  const taken = yield* storage.claimWaiting(ctx.study.id, worker, r.id)
                  if (Option.isNone(taken)) continue
                  const values = ctx.study.directions.length === 1 && Number.isFinite(r.value) ? { values: [r.value] } : {}
                  yield* ignoreState(Effect.asVoid(storage.finishTrial(r.id, { state: "Pruned", reason: r.reason, ...values })))
                }
                if (plan.resume === undefined || !(yield* takePlace(ctx.study.id, plan.resume.place))) {
                  // a running trial may yet pause, or complete a rung and make a paused one resumable
                  const wait = limit !== undefined && history.length >= limit && history.some((t) => t.state === "Running")
                  return wait ? undefined : Option.none<number>()
                }
                yield* ignoreState(storage.setTrialAttr(plan.resume.id, "system", KEY, plan.resume.mark))
                return Option.some(plan.resume.id)
              }))
              const loop: Effect.Effect<Option.Option<number>, StorageError> = Effect.flatMap(
                attempt,
                (r) => (r === undefined ? Effect.zipRight(Effect.sleep("20 millis"), loop) : Effect.succeed(r))
              )
              return loop
            }
          }
          : {}),
        ...(core.resume
          ? {
            // The study has ended: no trial will complete a rung now, so no paused trial can be
            // promoted. End them as Pruned, with their metrics, rather than leave them Waiting.
            finish: (ctx) =>
              lock.withPermits(1)(Effect.gen(function*() {
                const metric = ctx.study.metrics[0] ?? "value"
                for (const t of yield* ctx.history) {
                  if (!isPaused(t)) continue
                  const taken = yield* storage.claimWaiting(ctx.study.id, worker, t.id)
                  if (Option.isNone(taken)) continue
                  const last = t.intermediate[t.intermediate.length - 1]
                  const rung = core.rungOf(t)
                  const at = rung === undefined ? `step ${fmt(last.step)}` : `rung ${fmt(rung)} (step ${fmt(last.step)})`
                  const value = valueOf(last, metric)
                  const values = ctx.study.directions.length === 1 && value !== undefined && Number.isFinite(value) ? { values: [value] } : {}
                  const reason = `${name}: paused at ${at} and not promoted before the study ended`
                  yield* ignoreState(Effect.asVoid(storage.finishTrial(t.id, { state: "Pruned", reason, ...values })))
                }
              }))
          }
          : {})
      }
      return service
    })
  )
