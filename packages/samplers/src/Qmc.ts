/**
 * Quasi-Monte Carlo samplers: Sobol' (scrambled), Halton (scrambled) and Latin hypercube designs.
 *
 * Trial number i takes point i of the sequence, so that the points stay low-discrepancy when
 * several workers share a study, and after it is reopened: the sampler reads no history. With a
 * declared space, parameter k of the space is dimension k of the sequence (conditional parameters
 * keep their dimension); define-by-run parameters take dimensions in the order a trial suggests
 * them. Scrambling is seeded by the study's seed, so the same seed gives the same points.
 *
 * @since 0.1.0
 */
import { Distribution, Options as Opts, Rng, Sampler, SamplerUnsupported } from "@tunekit/core"
import type { Space } from "@tunekit/core"
import { Effect, Either, Layer, Schema } from "effect"
import * as Halton from "./internal/halton.js"
import * as Lhs from "./internal/lhs.js"
import * as Sobol from "./internal/sobol.js"

/**
 * The sequences on offer.
 *
 * @example
 * import { Qmc } from "@tunekit/samplers"
 * const k: Qmc.Kind = "halton"
 */
export type Kind = "sobol" | "halton" | "lhs"

/**
 * Options of the QMC samplers.
 *
 * @example
 * import { Qmc } from "@tunekit/samplers"
 * const options: Qmc.Options = { kind: "lhs", size: 50 }
 */
export interface Options {
  /** Which sequence (default "sobol"). */
  readonly kind?: Kind
  /** Randomize the sequence, seeded by the study's seed (default true). Latin hypercubes are always random. */
  readonly scramble?: boolean
  /** A seed of its own instead of the study's. */
  readonly seed?: number
  /** Latin hypercube: points per hypercube, ideally the study's budget (default 100). */
  readonly size?: number
  /** Latin hypercube: each point in the middle of its stratum (default false: at random inside it). */
  readonly centered?: boolean
}

/**
 * A sequence's coordinate function.
 *
 * @example
 * import { Qmc } from "@tunekit/samplers"
 * const s: Qmc.Sequence = Qmc.sequence({ kind: "halton", seed: 1 })
 * s.coordinate(3, 0) // the first coordinate of the fourth point
 */
export interface Sequence {
  /** Coordinate `dim` (0-based) of point `index`, in [0, 1). */
  readonly coordinate: (index: number, dim: number) => number
  /** The first `dims` coordinates of point `index`. */
  readonly point: (index: number, dims: number) => Array<number>
}

/**
 * The most dimensions a Sobol' sequence supports here (Joe & Kuo's direction numbers embedded).
 *
 * @example
 * import { Qmc } from "@tunekit/samplers"
 * Qmc.sobolMaxDimensions // 46
 */
export const sobolMaxDimensions: number = Sobol.MAX_DIM

/**
 * A sequence on its own, seeded by `seed` (or the generator factory `scramble(dim)`), for designs
 * outside a study.
 *
 * @example
 * import { Qmc } from "@tunekit/samplers"
 * const s = Qmc.sequence({ kind: "sobol", scramble: false })
 * s.point(1, 2) // [0.5, 0.5]
 */
export const sequence = (
  options: Options & { readonly generator?: (dim: number, block?: number) => Rng.Generator } = {}
): Sequence => {
  const kind = options.kind ?? "sobol"
  const gen = options.generator ?? ((dim: number, block = 0) => Rng.generator(options.seed ?? 0, "qmc", kind, dim, block))
  const scramble = options.scramble === false ? undefined : (dim: number) => gen(dim)
  switch (kind) {
    case "sobol":
      return Sobol.make(scramble)
    case "halton":
      return Halton.make(scramble)
    case "lhs": {
      const size = options.size ?? 100
      return Lhs.make(size, (block, dim) => gen(dim, block), options.centered ?? false)
    }
  }
}

/**
 * The Schema of the QMC samplers' options, and their JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Qmc } from "@tunekit/samplers"
 * Options.jsonSchema(Qmc.OptionsSchema)
 */
export const OptionsSchema: Schema.Schema<Options> = Schema.Struct({
  kind: Schema.optional(Opts.literals("sobol", "halton", "lhs")),
  scramble: Schema.optional(Opts.Boolean),
  seed: Schema.optional(Opts.Finite),
  size: Schema.optional(Opts.PositiveInt),
  centered: Schema.optional(Opts.Boolean)
})

const decodeOptions = Sampler.decodeOptions("qmc", OptionsSchema)

/**
 * A QMC sampler.
 *
 * @example
 * import { Qmc } from "@tunekit/samplers"
 * const sampler = Qmc.make({ kind: "halton" })
 */
export const make = (input: Options = {}): Sampler.SamplerService => {
  const decoded = decodeOptions(input)
  if (Either.isLeft(decoded)) return Sampler.refused(decoded.left)
  const options = decoded.right
  const kind = options.kind ?? "sobol"
  const name = kind
  // One sequence per study: keyed by the study's `derive`, which carries its seed and name.
  const sequences = new WeakMap<object, Sequence>()
  const sequenceOf = (ctx: Sampler.SampleContext): Sequence => {
    let s = sequences.get(ctx.derive)
    if (!s) {
      s = sequence({
        ...options,
        generator: (dim, block = 0) =>
          options.seed !== undefined ? Rng.generator(options.seed, "qmc", kind, dim, block) : ctx.derive("qmc", kind, dim, block)
      })
      sequences.set(ctx.derive, s)
    }
    return s
  }
  const spaceIndex = new WeakMap<object, Map<string, number>>()
  const byRun = new WeakMap<object, Map<string, number>>()
  const dimensionOf = (ctx: Sampler.SampleContext, param: string): number => {
    if (ctx.space !== undefined) {
      let m = spaceIndex.get(ctx.space)
      if (!m) {
        m = new Map([...ctx.space.params.keys()].map((k, i) => [k, i]))
        spaceIndex.set(ctx.space, m)
      }
      const i = m.get(param)
      if (i !== undefined) return i
    }
    // Define-by-run: dimensions in the order this trial suggests its parameters.
    let m = byRun.get(ctx)
    if (!m) {
      m = new Map()
      byRun.set(ctx, m)
    }
    let i = m.get(param)
    if (i === undefined) {
      i = (ctx.space?.params.size ?? 0) + m.size
      m.set(param, i)
    }
    return i
  }
  return {
    name,
    usesHistory: false,
    check: (space: Space.Compiled<any> | undefined) => {
      if (kind === "sobol" && space !== undefined && space.params.size > Sobol.MAX_DIM) {
        return Effect.fail(
          new SamplerUnsupported({
            sampler: name,
            reason: `the space has ${space.params.size} parameters; Sobol' direction numbers cover ${Sobol.MAX_DIM} (use kind "halton")`
          })
        )
      }
      return Effect.void
    },
    sampleIndependent: (ctx, param, d) => {
      if (Distribution.isSingle(d)) return Distribution.fromUnit(d, 0.5)
      const dim = dimensionOf(ctx, param)
      // Past the embedded direction numbers (define-by-run only): plain random.
      if (kind === "sobol" && dim >= Sobol.MAX_DIM) return Sampler.sampleUniform(ctx.rng, d)
      return Distribution.fromUnit(d, sequenceOf(ctx).coordinate(ctx.trialNumber, dim))
    }
  }
}

/**
 * A scrambled Sobol' sampler.
 *
 * @example
 * import { Qmc } from "@tunekit/samplers"
 * const sampler = Qmc.sobol()
 */
export const sobol = (options: Omit<Options, "kind"> = {}): Sampler.SamplerService => make({ ...options, kind: "sobol" })

/**
 * A scrambled Halton sampler.
 *
 * @example
 * import { Qmc } from "@tunekit/samplers"
 * const sampler = Qmc.halton()
 */
export const halton = (options: Omit<Options, "kind"> = {}): Sampler.SamplerService => make({ ...options, kind: "halton" })

/**
 * A Latin hypercube sampler: each block of `size` trials is a Latin hypercube.
 *
 * @example
 * import { Qmc } from "@tunekit/samplers"
 * const sampler = Qmc.lhs({ size: 50 })
 */
export const lhs = (options: Omit<Options, "kind"> = {}): Sampler.SamplerService => make({ ...options, kind: "lhs" })

/**
 * A QMC sampler as a layer.
 *
 * @example
 * import { Qmc } from "@tunekit/samplers"
 * const layer = Qmc.layer({ kind: "sobol" })
 */
export const layer = (options: Options = {}): Layer.Layer<Sampler.Sampler> => Layer.sync(Sampler.Sampler, () => make(options))
