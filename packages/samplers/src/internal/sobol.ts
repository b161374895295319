// Sobol' sequences, computed point by point (the i-th point costs O(32 d), no state), so that the
// i-th trial of a study takes the i-th point whichever worker runs it.
//
// Direction numbers: Joe & Kuo, "Constructing Sobol sequences with better two-dimensional
// projections", SIAM J. Sci. Comput. 30 (2008), file new-joe-kuo-6.21201, dimensions 2..46.
// Points come in Gray-code order (Antonov & Saleev 1979), as in SciPy's `qmc.Sobol`.
// Scrambling: a random linear matrix scramble plus a digital shift (Matoušek 1998; Owen 2003),
// which keeps the (t, s)-net structure.
import type { Rng } from "@tunekit/core"

/** `s a m1 m2 ... ms` for dimensions 2, 3, ... (dimension 1 is van der Corput). */
const JOE_KUO = [
  "1 0 1", "2 1 1 3", "3 1 1 3 1", "3 2 1 1 1", "4 1 1 1 3 3", "4 4 1 3 5 13", "5 2 1 1 5 5 17",
  "5 4 1 1 5 5 5", "5 7 1 1 7 11 19", "5 11 1 1 5 1 1", "5 13 1 1 1 3 11", "5 14 1 3 5 5 31",
  "6 1 1 3 3 9 7 49", "6 13 1 1 1 15 21 21", "6 16 1 3 1 13 27 49", "6 19 1 1 1 15 7 5",
  "6 22 1 3 1 15 13 25", "6 25 1 1 5 5 19 61", "7 1 1 3 7 11 23 15 103", "7 4 1 3 7 13 13 15 69",
  "7 7 1 1 3 13 7 35 63", "7 8 1 3 5 9 1 25 53", "7 14 1 3 1 13 9 35 107", "7 19 1 3 1 5 27 61 31",
  "7 21 1 1 5 11 19 41 61", "7 28 1 3 5 3 3 13 69", "7 31 1 1 7 13 1 19 1", "7 32 1 3 7 5 13 19 59",
  "7 37 1 1 3 9 25 29 41", "7 41 1 3 5 13 23 1 55", "7 42 1 3 7 3 13 59 17", "7 50 1 3 1 3 5 53 69",
  "7 55 1 1 5 5 23 33 13", "7 56 1 1 7 7 1 61 123", "7 59 1 1 7 9 13 61 49", "7 62 1 3 3 5 3 55 33",
  "8 14 1 3 1 15 31 13 49 245", "8 21 1 3 5 15 31 59 63 97", "8 22 1 3 1 11 11 11 77 249",
  "8 38 1 3 1 11 27 43 71 9", "8 47 1 1 7 15 21 11 81 45", "8 49 1 3 7 3 25 31 65 79",
  "8 50 1 3 1 1 19 11 3 205", "8 52 1 1 5 9 19 21 29 157", "8 56 1 3 7 11 1 33 89 185"
]

/** The number of dimensions the embedded direction numbers cover. */
export const MAX_DIM = JOE_KUO.length + 1

const BITS = 32
const SCALE = 2 ** -BITS

const directionCache: Array<Uint32Array> = []

/** The 32 direction numbers of dimension `j` (0-based), as 32-bit integers (MSB first). */
export const directions = (j: number): Uint32Array => {
  const cached = directionCache[j]
  if (cached) return cached
  if (j < 0 || j >= MAX_DIM) throw new RangeError(`Sobol direction numbers cover ${MAX_DIM} dimensions, asked for dimension ${j + 1}`)
  const v = new Uint32Array(BITS + 1) // 1-based
  if (j === 0) {
    for (let i = 1; i <= BITS; i++) v[i] = 2 ** (BITS - i)
  } else {
    const [s, a, ...m] = JOE_KUO[j - 1].split(" ").map(Number)
    for (let i = 1; i <= Math.min(s, BITS); i++) v[i] = (m[i - 1] * 2 ** (BITS - i)) >>> 0
    for (let i = s + 1; i <= BITS; i++) {
      let x = (v[i - s] ^ (v[i - s] >>> s)) >>> 0
      for (let k = 1; k < s; k++) if ((a >>> (s - 1 - k)) & 1) x = (x ^ v[i - k]) >>> 0
      v[i] = x
    }
  }
  const out = v.subarray(1)
  directionCache[j] = out
  return out
}

const parity = (x: number): number => {
  x ^= x >>> 16
  x ^= x >>> 8
  x ^= x >>> 4
  x ^= x >>> 2
  x ^= x >>> 1
  return x & 1
}

/** A scramble of one dimension: scrambled direction numbers and a digital shift. */
interface Scramble {
  readonly v: Uint32Array
  readonly shift: number
}

/** Linear matrix scramble: a random lower-triangular bit matrix with unit diagonal, then a shift. */
export const scrambleDimension = (j: number, rng: Rng.Generator): Scramble => {
  const v = directions(j)
  // rows[r]: which input bits (MSB = bit 31) feed output bit r (counted from the MSB).
  const rows = new Uint32Array(BITS)
  for (let r = 0; r < BITS; r++) {
    const own = 2 ** (BITS - 1 - r)
    const random = Math.floor(rng.next() * 4294967296) >>> 0
    // Keep bits strictly more significant than r (random), set bit r, clear the rest.
    const above = r === 0 ? 0 : (((0xffffffff << (BITS - r)) >>> 0) & random) >>> 0
    rows[r] = (above | own) >>> 0
  }
  const out = new Uint32Array(BITS)
  for (let k = 0; k < BITS; k++) {
    let x = 0
    for (let r = 0; r < BITS; r++) if (parity((rows[r] & v[k]) >>> 0)) x = (x | 2 ** (BITS - 1 - r)) >>> 0
    out[k] = x >>> 0
  }
  return { v: out, shift: Math.floor(rng.next() * 4294967296) >>> 0 }
}

/** Coordinate `j` of point `index` (Gray-code order), from (scrambled) direction numbers and a shift. */
export const coordinate = (index: number, v: Uint32Array, shift = 0): number => {
  let g = (index ^ (index >>> 1)) >>> 0 // Gray code, for indices below 2^32
  let x = shift >>> 0
  for (let k = 0; g !== 0 && k < BITS; k++, g >>>= 1) if (g & 1) x = (x ^ v[k]) >>> 0
  return x * SCALE
}

/** A Sobol' sequence, unscrambled or scrambled; dimensions are set up on first use. */
export interface Sequence {
  /** The point of an index (0, 1, 2, ...), in [0, 1)^dims. */
  readonly point: (index: number, dims: number) => Array<number>
  /** One coordinate (0-based dimension) of a point. */
  readonly coordinate: (index: number, dim: number) => number
}

/**
 * A Sobol' sequence. `scramble(j)` gives the generator that scrambles dimension j (for instance
 * derived from the study's seed and j); without it the sequence is the unscrambled one.
 */
export const make = (scramble?: (dim: number) => Rng.Generator): Sequence => {
  const dims: Array<Scramble> = []
  const get = (j: number): Scramble => (dims[j] ??= scramble ? scrambleDimension(j, scramble(j)) : { v: directions(j), shift: 0 })
  const coord = (index: number, dim: number) => {
    const s = get(dim)
    return coordinate(index, s.v, s.shift)
  }
  return {
    coordinate: coord,
    point: (index, n) => {
      const out = new Array<number>(n)
      for (let j = 0; j < n; j++) out[j] = coord(index, j)
      return out
    }
  }
}
