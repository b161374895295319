// The samplers the benchmarks know, by name. Each entry builds a fresh sampler layer for one run.
// Add an entry per sampler (one line each); `npm run bench -- samplers --samplers a,b` picks from these.
import type { Layer } from "effect"
import { Sampler } from "@tunekit/core"
import { Auto, CmaEs, Gp, Nsga2, Qmc, Tpe } from "@tunekit/samplers"

/** What a run tells the factory: its budget of trials (Auto chooses by it; others may ignore it). */
export interface RunInfo {
  readonly budget: number
}

export type SamplerFactory = (run?: RunInfo) => Layer.Layer<Sampler.Sampler>

export const samplers: Record<string, SamplerFactory> = {
  random: () => Sampler.layerRandom,
  tpe: () => Tpe.layer(),
  // tunekit's TPE with Optuna 3.x's default settings (measured here; not Optuna itself).
  "tpe-optuna-defaults": () => Tpe.layer(Tpe.optunaOptions),
  cmaes: () => CmaEs.layer(),
  nsga2: () => Nsga2.layer(),
  gp: () => Gp.layer(),
  sobol: () => Qmc.layer({ kind: "sobol" }),
  halton: () => Qmc.layer({ kind: "halton" }),
  lhs: () => Qmc.layer({ kind: "lhs" }),
  auto: (run) => Auto.layer({ trials: run?.budget }),
}

/** The factory for a name, or an error listing the known names. */
export const samplerByName = (name: string): SamplerFactory => {
  const f = samplers[name]
  if (f === undefined) throw new Error(`unknown sampler "${name}"; known: ${Object.keys(samplers).join(", ")}`)
  return f
}
