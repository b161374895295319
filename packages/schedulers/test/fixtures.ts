// Trials and learning curves for the scheduler tests.
import type { Trial } from "@tunekit/core"

/** A stored trial whose objective ("value") was reported at steps start, start+1, ... */
export const trial = (
  number: number,
  values: ReadonlyArray<number>,
  o: { state?: Trial.State; start?: number; attrs?: Record<string, Trial.Json>; final?: number; steps?: ReadonlyArray<number> } = {}
): Trial.FrozenTrial => {
  const state = o.state ?? "Complete"
  const steps = o.steps ?? values.map((_, i) => (o.start ?? 1) + i)
  const final = o.final ?? values[values.length - 1]
  return {
    id: 1000 + number,
    number,
    state,
    params: {},
    distributions: {},
    values: state === "Complete" ? [final] : undefined,
    intermediate: values.map((v, i) => ({ step: steps[i], values: { value: v } })),
    userAttrs: {},
    systemAttrs: o.attrs ?? {},
    startedAt: 0,
    finishedAt: state === "Running" || state === "Waiting" ? undefined : 1,
    worker: undefined,
    reason: undefined
  }
}

/** One report. */
export const m = (step: number, value: number): Trial.Metric => ({ step, values: { value } })

export const minimize = { metric: "value", direction: "minimize" as const }
export const maximize = { metric: "value", direction: "maximize" as const }
