/**
 * NSGA-II (Deb, Pratap, Agarwal, Meyarivan 2002) for studies with several objectives (one works
 * too): elitist survival by fast non-dominated sorting and crowding distance, crowded binary
 * tournaments, crossover and mutation per distribution.
 *
 * Stateless: generations are replayed from the stored history. Generation g holds trial numbers
 * [g P, (g + 1) P) for a population size P; generation 0 is random, and once a generation has
 * finished, the parents of the next are the P survivors of the previous parents and its complete
 * trials. Several workers and a reopened study see the same populations.
 *
 * Floats and ints recombine by uniform crossover (or simulated binary crossover) and mutate by
 * polynomial mutation, in the unit cube (log parameters in log space); categoricals recombine
 * uniformly and mutate to a random choice. Conditional parameters follow the first parent.
 *
 * @since 0.1.0
 */
import { Either, Layer, Schema } from "effect"
import type { Trial } from "@tunekit/core"
import { Distribution, Options as Opts, Sampler } from "@tunekit/core"
import { type Dim, dimOf } from "./internal/cmaSpace.js"
import * as Nsga from "./internal/nsga.js"
import { crowdingDistance, nonDominatedSort as sortFronts, toMinimization } from "./internal/pareto.js"
import * as ReplayCache from "./internal/replayCache.js"

/**
 * Options of the NSGA-II sampler.
 *
 * @example
 * import type { Nsga2 } from "@tunekit/samplers"
 * const options: Nsga2.Options = { populationSize: 40, crossover: "sbx", mutationProb: 0.2 }
 */
export interface Options {
  /**
   * Trials per generation (default 20; Optuna uses 50). On ZDT1, ZDT2 and DTLZ2 with budgets of
   * 200 to 1000 trials, 20 gave a larger hypervolume than 30 or 50 (docs/benchmarks-cmaes-nsga2.md).
   */
  readonly populationSize?: number
  /**
   * How floats and ints recombine: uniform swapping between the parents (default, as Optuna) or
   * simulated binary crossover. Uniform did better on the same problems.
   */
  readonly crossover?: "sbx" | "uniform"
  /** The probability that a child is a crossover of two parents rather than a copy (default 0.9). */
  readonly crossoverProb?: number
  /** The probability that each parameter is taken from the second parent or crossed (default 0.5). */
  readonly swappingProb?: number
  /** The probability that each parameter mutates (default 1 / the number of parameters). */
  readonly mutationProb?: number
  /** The distribution index of simulated binary crossover (default 20). */
  readonly etaCrossover?: number
  /** The distribution index of polynomial mutation (default 20). */
  readonly etaMutation?: number
}

/**
 * The Schema of NSGA-II's options, and their JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Nsga2 } from "@tunekit/samplers"
 * Options.jsonSchema(Nsga2.OptionsSchema)
 */
export const OptionsSchema: Schema.Schema<Options> = Schema.Struct({
  populationSize: Schema.optional(Opts.number({ int: true, min: 2 })),
  crossover: Schema.optional(Opts.literals("uniform", "sbx")),
  crossoverProb: Schema.optional(Opts.Probability),
  swappingProb: Schema.optional(Opts.Probability),
  mutationProb: Schema.optional(Opts.Probability),
  etaCrossover: Schema.optional(Opts.NonNegative),
  etaMutation: Schema.optional(Opts.NonNegative)
})

const decodeOptions = Sampler.decodeOptions("nsga2", OptionsSchema)

interface Member extends Nsga.Member {
  readonly trial: Trial.FrozenTrial
}

interface Generation {
  readonly fingerprint: ReadonlyArray<number>
  readonly parents: ReadonlyArray<Member>
  ranked?: Nsga.Ranked<Member>
}

/**
 * An NSGA-II sampler service.
 *
 * @example
 * import { Nsga2 } from "@tunekit/samplers"
 * const sampler = Nsga2.make({ populationSize: 20 })
 */
export const make = (input: Options = {}): Sampler.SamplerService => {
  const decoded = decodeOptions(input)
  if (Either.isLeft(decoded)) return Sampler.refused(decoded.left)
  const options = decoded.right
  const size = options.populationSize ?? 20
  const crossoverProb = options.crossoverProb ?? 0.9
  const swappingProb = options.swappingProb ?? 0.5
  const etaC = options.etaCrossover ?? 20
  const etaM = options.etaMutation ?? 20
  const generationsOf = ReplayCache.make<Generation>()
  const dims = new WeakMap<Distribution.Distribution, Dim>()
  const dimFor = (name: string, d: Distribution.FloatDistribution | Distribution.IntDistribution) => {
    let x = dims.get(d)
    if (x === undefined) {
      x = dimOf(name, d)
      dims.set(d, x)
    }
    return x
  }

  /** The parent population for the next trials, or undefined while generation 0 is open. */
  const parentsOf = (ctx: Sampler.SampleContext): Generation | undefined => {
    const directions = ctx.study.directions
    const key = `${ctx.study.id}\u0000${ctx.study.name}`
    const gens = generationsOf(key)
    const byNumber: Array<Trial.FrozenTrial | undefined> = []
    for (const t of ctx.history) byNumber[t.number] = t
    let last: Generation | undefined
    for (let i = 0; ; i++) {
      const start = i * size
      const end = start + size
      if (end > byNumber.length) break
      const fingerprint = ReplayCache.fingerprint(byNumber, start, end)
      if (fingerprint === undefined) break
      const cached = gens[i]
      if (cached !== undefined && ReplayCache.sameNumbers(cached.fingerprint, fingerprint)) {
        last = cached
        continue
      }
      gens.length = i
      const offspring: Array<Member> = []
      for (let k = start; k < end; k++) {
        const t = byNumber[k]!
        if (t.state !== "Complete" || t.values === undefined || t.values.length !== directions.length) continue
        offspring.push({ id: t.number, objectives: toMinimization(t.values, directions), trial: t })
      }
      last = { fingerprint, parents: Nsga.survive([...(last?.parents ?? []), ...offspring], size) }
      gens.push(last)
    }
    return last
  }

  const child = (ctx: Sampler.SampleContext, space: Sampler.SearchSpace, gen: Generation): Record<string, number> => {
    const ranked = (gen.ranked ??= Nsga.rank(gen.parents))
    const rng = ctx.derive("nsga2", ctx.trialNumber)
    const p1 = Nsga.tournament(ranked, rng).trial
    const p2 = Nsga.tournament(ranked, rng).trial
    const cross = rng.next() < crossoverProb
    const out: Record<string, number> = {}
    const names = [...space.keys()].filter((k) => p1.params[k] !== undefined && sameAs(p1.distributions[k], space.get(k)!))
    const pm = options.mutationProb ?? 1 / Math.max(1, names.length)
    for (const name of names) {
      const d = space.get(name)!
      const v1 = p1.params[name]
      const v2 = p2.params[name] !== undefined && sameAs(p2.distributions[name], d) ? p2.params[name] : undefined
      const swap = rng.next() < swappingProb
      if (d._tag === "Categorical") {
        let v = cross && swap && v2 !== undefined ? v2 : v1
        if (rng.next() < pm) v = rng.int(d.choices.length)
        out[name] = v
        continue
      }
      const dim = dimFor(name, d)
      let u = toCoord(dim, v1)
      if (cross && swap && v2 !== undefined) {
        u = options.crossover === "sbx" ? Nsga.sbx(u, toCoord(dim, v2), etaC, rng)[0] : toCoord(dim, v2)
      }
      if (rng.next() < pm) u = Nsga.polynomialMutation(u, etaM, rng)
      out[name] = fromCoord(dim, u)
    }
    return out
  }

  return {
    name: "nsga2",
    usesHistory: true,
    inferRelativeSpace: (ctx) => ctx.space?.params ?? unionOf(ctx.history),
    sampleRelative: (ctx, space) => {
      const gen = parentsOf(ctx)
      if (gen === undefined || gen.parents.length === 0) return Sampler.noRelative
      return { params: child(ctx, space, gen) }
    },
    sampleIndependent: (ctx, _, d) => Sampler.sampleUniform(ctx.rng, d)
  }
}

/**
 * The NSGA-II sampler as a layer.
 *
 * @example
 * import { Effect } from "effect"
 * import { Space, Study } from "@tunekit/core"
 * import { Nsga2 } from "@tunekit/samplers"
 * const run = Study.optimize({
 *   study: "two-objectives",
 *   space: Space.struct({ x: Space.float(0, 1), y: Space.float(0, 1) }),
 *   objective: (c) => [c.x, 1 - Math.sqrt(c.x) + c.y],
 *   directions: ["minimize", "minimize"],
 *   trials: 200
 * }).pipe(Effect.provide(Nsga2.layer({ populationSize: 20 })))
 */
export const layer = (options: Options = {}): Layer.Layer<Sampler.Sampler> => Layer.sync(Sampler.Sampler, () => make(options))

/**
 * Fast non-dominated sorting of objective vectors under the given directions: the fronts, best
 * first, as lists of indices.
 *
 * @example
 * import { Nsga2 } from "@tunekit/samplers"
 * Nsga2.nonDominatedSort([[1, 2], [2, 1], [2, 2], [3, 3]], ["minimize", "minimize"]) // [[0, 1], [2], [3]]
 */
export const nonDominatedSort = (
  values: ReadonlyArray<ReadonlyArray<number>>,
  directions: ReadonlyArray<Trial.Direction>
): Array<Array<number>> => sortFronts(values.map((v) => toMinimization(v, directions)))

/**
 * The crowding distance of each member of one front (indices into `values`), in the front's order.
 *
 * @example
 * import { Nsga2 } from "@tunekit/samplers"
 * Nsga2.crowding([[0, 4], [1, 2], [4, 0]], [0, 1, 2], ["minimize", "minimize"]) // [Infinity, 2, Infinity]
 */
export const crowding = (
  values: ReadonlyArray<ReadonlyArray<number>>,
  front: ReadonlyArray<number>,
  directions: ReadonlyArray<Trial.Direction>
): Array<number> => crowdingDistance(values.map((v) => toMinimization(v, directions)), front)

const toCoord = (dim: Dim, v: number) => (dim.discrete === undefined ? dim.toUnit(v) : dim.center(dim.cellOfValue(v)))
const fromCoord = (dim: Dim, u: number) => (dim.discrete === undefined ? dim.fromUnit(u) : dim.valueOf(dim.discrete.cellOf(u)))

const sameAs = (a: Distribution.Distribution | undefined, b: Distribution.Distribution): boolean =>
  a !== undefined && (a === b || Distribution.equals(a, b))

/** Define-by-run: every parameter seen in the history, with its latest distribution. */
const unionOf = (history: ReadonlyArray<Trial.FrozenTrial>): Sampler.SearchSpace => {
  const out = new Map<string, Distribution.Distribution>()
  for (const t of history) for (const [k, d] of Object.entries(t.distributions)) out.set(k, d)
  return out
}
