// Hand-built histories for the plot tests.
import { Distribution, Rng, type Trial } from "@tunekit/core"
import * as Source from "../src/Source.js"

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

// A branch space: the optimizer's own parameter exists only in the trials that chose it.
export const space = {
  lr: Distribution.float("lr", 1e-4, 1e-1, { log: true }),
  layers: Distribution.int("layers", 1, 4),
  act: Distribution.categorical("act", ["relu", "tanh"]),
  opt: Distribution.categorical("opt", ["sgd", "adam"]),
  "opt.sgd.momentum": Distribution.float("opt.sgd.momentum", 0, 1),
  "opt.adam.beta1": Distribution.float("opt.adam.beta1", 0.8, 0.999)
}

export const mixed = Source.make({ name: "mixed", directions: ["minimize"], metrics: ["loss"] }, history(space, [
  { params: { lr: 1e-3, layers: 2, act: "relu", opt: "sgd", "opt.sgd.momentum": 0.9 }, values: [0.5], intermediate: [[1, 0.9], [2, 0.7], [3, 0.5]], worker: "a:1" },
  { params: { lr: 1e-2, layers: 3, act: "tanh", opt: "adam", "opt.adam.beta1": 0.9 }, values: [0.3], intermediate: [[1, 0.8], [2, 0.5], [3, 0.3]], worker: "b:2" },
  { state: "Pruned", params: { lr: 1e-1, layers: 1, act: "relu", opt: "sgd", "opt.sgd.momentum": 0.5 }, values: [1.2], intermediate: [[1, 1.5], [2, 1.2]], worker: "a:1", reason: "median" },
  { state: "Failed", params: { lr: 1e-4, layers: 4, act: "tanh", opt: "adam", "opt.adam.beta1": 0.95 }, intermediate: [[1, 2]], worker: "b:2", reason: "NaN loss" },
  { params: { lr: 3e-3, layers: 2, act: "tanh", opt: "sgd", "opt.sgd.momentum": 0.1 }, values: [0.4], intermediate: [[1, 0.7], [2, 0.5], [3, 0.4]], worker: "a:1" },
  { state: "Running", params: { lr: 5e-3, layers: 3, act: "relu", opt: "adam", "opt.adam.beta1": 0.85 }, intermediate: [[1, 0.6]], worker: "b:2" },
  { state: "Waiting", startedAt: undefined }
]))

export const empty = Source.make({ name: "empty", directions: ["minimize"] }, [])
