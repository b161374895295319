// Hand-built histories for the plot tests.
import { Distribution, Rng, type Trial } from "@tunekit/core"

export interface TrialSpec {
  readonly state?: Trial.State
  readonly params?: Readonly<Record<string, unknown>>
  readonly values?: ReadonlyArray<number>
  readonly intermediate?: ReadonlyArray<readonly [step: number, value: number]>
  readonly metric?: string
  readonly systemAttrs?: Readonly<Record<string, Trial.Json>>
  readonly startedAt?: number
  readonly finishedAt?: number
  readonly worker?: string
  readonly reason?: string
}

/** Builds frozen trials from specs, with parameters given as external values of `space`. */
export const history = (
  space: Readonly<Record<string, Distribution.Distribution>>,
  specs: ReadonlyArray<TrialSpec>
): Array<Trial.FrozenTrial> =>
  specs.map((s, number) => {
    const params: Record<string, number> = {}
    const distributions: Record<string, Distribution.Distribution> = {}
    for (const [k, v] of Object.entries(s.params ?? {})) {
      params[k] = Distribution.toInternal(space[k], v)
      distributions[k] = space[k]
    }
    const state = s.state ?? "Complete"
    return {
      id: number + 1,
      number,
      state,
      params,
      distributions,
      values: s.values ?? undefined,
      intermediate: (s.intermediate ?? []).map(([step, v]) => ({ step, values: { [s.metric ?? "loss"]: v } })),
      userAttrs: {},
      systemAttrs: s.systemAttrs ?? {},
      startedAt: s.startedAt ?? 1_000 * number,
      finishedAt: state === "Running" || state === "Waiting" ? undefined : s.finishedAt ?? 1_000 * number + 500,
      worker: s.worker ?? "host:1",
      reason: s.reason
    }
  })

/** Seeded uniform draws in [0, 1) for synthetic histories. */
export const uniform = (seed: number) => Rng.generator(seed, "plots-test").next
