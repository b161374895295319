// Latin hypercube sampling (McKay, Beckman & Conover 1979): in blocks of `size` points, each
// dimension's [0, 1) is cut in `size` equal strata and each stratum holds exactly one point of the
// block. A block's permutations depend on the seed and the block only, so the i-th trial takes the
// i-th point whichever worker runs it; a study longer than one block starts a new hypercube.
import type { Rng } from "@tunekit/core"

export interface Sequence {
  readonly size: number
  readonly coordinate: (index: number, dim: number) => number
  readonly point: (index: number, dims: number) => Array<number>
}

/**
 * A Latin hypercube design of blocks of `size` points. `rng(block, dim)` gives the generator of a
 * block's dimension; `centered` puts each point in the middle of its stratum instead of at a
 * random place in it.
 */
export const make = (size: number, rng: (block: number, dim: number) => Rng.Generator, centered = false): Sequence => {
  const cache = new Map<string, { perm: Array<number>; jitter: Float64Array }>()
  const strata = (block: number, dim: number) => {
    const key = `${block}:${dim}`
    let s = cache.get(key)
    if (!s) {
      const g = rng(block, dim)
      const perm = g.shuffle(Array.from({ length: size }, (_, i) => i))
      const jitter = new Float64Array(size)
      for (let i = 0; i < size; i++) jitter[i] = centered ? 0.5 : g.next()
      s = { perm, jitter }
      if (cache.size > 4096) cache.clear()
      cache.set(key, s)
    }
    return s
  }
  const coord = (index: number, dim: number) => {
    const block = Math.floor(index / size)
    const j = index - block * size
    const s = strata(block, dim)
    return (s.perm[j] + s.jitter[j]) / size
  }
  return { size, coordinate: coord, point: (index, n) => Array.from({ length: n }, (_, j) => coord(index, j)) }
}
