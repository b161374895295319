// Halton sequences (Halton 1960) with random digit permutations (Braaten & Weller 1979; the
// "random permutation" scramble of Mascagni & Chi 2004): dimension j uses the j-th prime as its
// base, and each digit position has its own seeded permutation of the digits. Computed point by
// point, so the i-th trial takes the i-th point.
import type { Rng } from "@tunekit/core"

const primes: Array<number> = [2]

/** The j-th prime (0-based): 2, 3, 5, 7, ... */
export const prime = (j: number): number => {
  while (primes.length <= j) {
    let c = primes[primes.length - 1] + 1
    for (;; c++) {
      let ok = true
      for (const p of primes) {
        if (p * p > c) break
        if (c % p === 0) {
          ok = false
          break
        }
      }
      if (ok) break
    }
    primes.push(c)
  }
  return primes[j]
}

/** Digits kept per coordinate: enough for double precision. */
const digitsFor = (base: number) => Math.ceil(52 / Math.log2(base))

/** The radical inverse of `index` in `base`, each digit position mapped through its permutation. */
export const radicalInverse = (index: number, base: number, perms?: ReadonlyArray<Uint16Array>): number => {
  let x = 0
  let f = 1 / base
  let i = index
  const n = perms ? perms.length : Infinity
  for (let k = 0; k < n && (perms || i > 0); k++) {
    const digit = i % base
    i = Math.floor(i / base)
    x += (perms ? perms[k][digit] : digit) * f
    f /= base
  }
  return Math.min(x, 1 - Number.EPSILON)
}

export interface Sequence {
  readonly coordinate: (index: number, dim: number) => number
  readonly point: (index: number, dims: number) => Array<number>
}

/** A Halton sequence; `scramble(j)` seeds the digit permutations of dimension j (none: plain Halton). */
export const make = (scramble?: (dim: number) => Rng.Generator): Sequence => {
  const perms: Array<ReadonlyArray<Uint16Array> | undefined> = []
  const get = (j: number) => {
    if (!scramble) return undefined
    let p = perms[j]
    if (p === undefined) {
      const base = prime(j)
      const rng = scramble(j)
      const ident = Array.from({ length: base }, (_, d) => d)
      p = Array.from({ length: digitsFor(base) }, () => Uint16Array.from(rng.shuffle(ident)))
      perms[j] = p
    }
    return p
  }
  const coord = (index: number, dim: number) => radicalInverse(index, prime(dim), get(dim))
  return {
    coordinate: coord,
    point: (index, n) => Array.from({ length: n }, (_, j) => coord(index, j))
  }
}
