/**
 * Seeded randomness. Every random choice in tunekit flows from the study's seed through this
 * module, so that the same seed and the same history give the same suggestions.
 *
 * A generator is derived from the seed and a path of keys (for example the trial number), not
 * drawn from a shared stream: trials running concurrently do not disturb each other's draws.
 *
 * @since 0.1.0
 */
import { Context, Layer } from "effect"

/** A pseudo-random generator (sfc32, Doornik's "small fast counting" generator). */
export interface Generator {
  /** A float in [0, 1). */
  readonly next: () => number
  /** An integer in [0, n). */
  readonly int: (n: number) => number
  /** A standard normal draw (Box-Muller). */
  readonly normal: () => number
  /** A float in [low, high). */
  readonly uniform: (low: number, high: number) => number
  /** A new independent generator for a sub-task, derived from this one's state and the keys. */
  readonly fork: (...keys: ReadonlyArray<number | string>) => Generator
  /** Shuffles a copy of an array (Fisher-Yates). */
  readonly shuffle: <A>(xs: ReadonlyArray<A>) => Array<A>
}

/**
 * A 32-bit mixer (murmur3's finalizer): turns keys into well-spread seeds.
 *
 * @example
 * import { Rng } from "@tunekit/core"
 * Rng.mix(1) !== Rng.mix(2) // true
 */
export const mix = (h: number): number => {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

const hashKey = (h: number, key: number | string): number => {
  if (typeof key === "number") {
    const lo = key >>> 0
    const hi = Math.floor(key / 4294967296) >>> 0
    return mix(mix(h ^ lo) + 0x9e3779b9 + hi)
  }
  for (let i = 0; i < key.length; i++) h = mix(h ^ key.charCodeAt(i)) + 0x9e3779b9
  return mix(h)
}

/**
 * A generator from a seed and an optional path of keys.
 *
 * @example
 * import { Rng } from "@tunekit/core"
 * const g = Rng.generator(42, "trial", 7)
 * g.next() // the same number every time
 */
export const generator = (seed: number | string, ...keys: ReadonlyArray<number | string>): Generator => {
  let h = hashKey(0x2545f491, seed)
  for (const k of keys) h = hashKey(h, k)
  let a = h
  let b = mix(h + 0x6d2b79f5)
  let c = mix(b + 0x6d2b79f5)
  let d = 1
  const nextU32 = (): number => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return t >>> 0
  }
  for (let i = 0; i < 12; i++) nextU32()
  const next = () => nextU32() / 4294967296
  let spare: number | undefined
  const normal = () => {
    if (spare !== undefined) {
      const s = spare
      spare = undefined
      return s
    }
    let u = 0
    while (u === 0) u = next()
    const v = next()
    const r = Math.sqrt(-2 * Math.log(u))
    spare = r * Math.sin(2 * Math.PI * v)
    return r * Math.cos(2 * Math.PI * v)
  }
  const self: Generator = {
    next,
    int: (n) => Math.floor(next() * n),
    normal,
    uniform: (low, high) => low + next() * (high - low),
    fork: (...ks) => generator(nextU32(), ...ks),
    shuffle: (xs) => {
      const out = [...xs]
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1))
        const t = out[i]
        out[i] = out[j]
        out[j] = t
      }
      return out
    }
  }
  return self
}

/** The study's seed, as a service. */
export interface RngService {
  readonly seed: number
  /** The generator for a path of keys, for example `derive("trial", 12)`. */
  readonly derive: (...keys: ReadonlyArray<number | string>) => Generator
}

/** The Rng service tag. */
export class Rng extends Context.Tag("@tunekit/core/Rng")<Rng, RngService>() {}

/** An Rng service from a seed. */
export const make = (seed: number): RngService => ({ seed, derive: (...keys) => generator(seed, ...keys) })

/**
 * The Rng layer.
 *
 * @example
 * import { Rng } from "@tunekit/core"
 * const layer = Rng.layer({ seed: 42 })
 */
export const layer = (options: { readonly seed?: number } = {}): Layer.Layer<Rng> =>
  Layer.succeed(Rng, make(options.seed ?? Math.floor(Math.random() * 2 ** 31)))
