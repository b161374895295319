// When a sweep stops runs and stops starting them: W&B's `early_terminate` (its "hyperband"
// stopping rule), `run_cap` and `metric.target`, each as W&B's documentation and
// wandb/sweeps (src/sweeps/hyperband_stopping.py) define it.
import { Scheduler, type Sampler, type Trial } from "@tunekit/core"
import { Pruner } from "@tunekit/schedulers"

/** `early_terminate` as the file gives it. */
export interface EarlyTerminate {
  readonly type: "hyperband"
  readonly min_iter?: number | undefined
  readonly max_iter?: number | undefined
  readonly s?: number | undefined
  readonly eta?: number | undefined
  readonly strict?: boolean | undefined
}

/**
 * The brackets, in logged iterations: from `min_iter`, min_iter * eta^k; from `max_iter` and `s`,
 * max_iter / eta^k for k = 1..s (those >= 1), ascending.
 */
export const bands = (o: EarlyTerminate): Array<number> => {
  const eta = o.eta ?? 3
  const out: Array<number> = []
  if (o.max_iter !== undefined) {
    let band = o.max_iter
    for (let i = 0; i < (o.s ?? 0); i++) {
      band /= eta
      if (band < 1) break
      out.push(Math.floor(band))
    }
    return out.sort((a, b) => a - b)
  }
  let band = o.min_iter ?? 1
  while (out.length < 100 && band <= Number.MAX_SAFE_INTEGER) {
    out.push(Math.floor(band))
    band *= eta
  }
  return out
}

/**
 * W&B's hyperband stopping rule. A run that has logged at least `band` values of the metric is
 * compared at the largest such band: the threshold is the value at position floor(n / eta) of
 * the n runs' values at that band, sorted best first (runs that logged that far, this one
 * included); the run stops when its best value so far (`strict`: its value at the band) is worse.
 * Iterations count the values logged, not the step numbers.
 */
export const hyperband = (o: EarlyTerminate): Pruner.Pruner => {
  const bs = bands(o)
  const r = 1 / (o.eta ?? 3)
  return Pruner.make(
    "hyperband (W&B)",
    ({ history, objective, trial }) => {
      // Minimization throughout: a maximized metric is negated, as W&B does.
      const sign = objective.direction === "maximize" ? -1 : 1
      const series = (t: Trial.FrozenTrial) =>
        t.intermediate.flatMap((m) => {
          const v = m.values[objective.metric]
          return typeof v === "number" && Number.isFinite(v) ? [sign * v] : []
        })
      const own = series(trial)
      const band = bs.filter((b) => b <= own.length).pop()
      if (band === undefined) return Scheduler.Continue
      const at = [own, ...history.filter((t) => t.id !== trial.id).map(series)]
        .filter((h) => h.length >= band)
        .map((h) => h[band - 1])
        .sort((a, b) => a - b)
      const threshold = at[Math.floor(r * at.length)]
      const value = o.strict === true ? own[band - 1] : Math.min(...own)
      return value > threshold
        ? Scheduler.Decision.Prune({ reason: `hyperband: at band ${band}, ${objective.metric} ${sign * value} is worse than ${sign * threshold}, the top 1/${o.eta ?? 3} of ${at.length} runs` })
        : Scheduler.Continue
    },
    { usesHistory: true }
  )
}

/** The user attribute of a trial that runs again the config of a trial a crash or stop cut short. */
export const REQUEUED = "requeued_from"

/**
 * A trial that ended because its sweep process died or was stopped, not because of its program:
 * `Storage.failStaleTrials` fails a dead worker's trials, and an interrupted run fails its own.
 */
export const cutShort = (t: Trial.FrozenTrial): boolean =>
  t.state === "Failed" &&
  t.reason !== undefined &&
  (t.reason === "interrupted while running" || /^worker \S* (died while the trial was running|stopped sending heartbeats)/.test(t.reason))

/** The runs a sweep counts toward `run_cap`: every trial but the re-runs of trials cut short. */
export const runsOf = (trials: ReadonlyArray<Trial.FrozenTrial>): number => trials.filter((t) => t.userAttrs[REQUEUED] === undefined).length

/** Whether a complete trial reached the metric's target. */
export const reached = (trials: ReadonlyArray<Trial.FrozenTrial>, target: number, direction: Trial.Direction): boolean =>
  trials.some((t) => t.state === "Complete" && t.values !== undefined && (direction === "minimize" ? t.values[0] <= target : t.values[0] >= target))

/**
 * A sampler that is exhausted, for every worker of the sweep, once the sweep has `runCap` runs or
 * a run reached the target: no new run starts, running ones finish (W&B's meaning of both).
 */
export const capped = (
  inner: Sampler.SamplerService,
  stop: { readonly runCap?: number | undefined; readonly target?: number | undefined; readonly direction: Trial.Direction }
): Sampler.SamplerService =>
  stop.runCap === undefined && stop.target === undefined ? inner : {
    ...inner,
    usesHistory: true,
    isExhausted: (ctx) =>
      (stop.runCap !== undefined && runsOf(ctx.history) >= stop.runCap) ||
      (stop.target !== undefined && reached(ctx.history, stop.target, stop.direction)) ||
      (inner.isExhausted?.(ctx) ?? false)
  }
