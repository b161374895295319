// Dense linear algebra on row-major Float64Arrays, for the GP's hot loops (kernel matrices of a
// few hundred rows). ml-matrix does the same work 7 to 13 times slower (`npm run bench -- gp-linalg`),
// so it serves only as the reference the tests check the posterior against.

/** Thrown when a matrix stays non-positive-definite after every jitter we are willing to add. */
export class NotPositiveDefinite extends Error {
  constructor(readonly jitter: number) {
    super(`the kernel matrix is not positive definite, even with jitter ${jitter}`)
  }
}

/**
 * In-place Cholesky factorization A = L L^T of a symmetric n x n matrix: L overwrites the lower
 * triangle, the strict upper triangle keeps A (so a failed attempt can be undone). Returns false when
 * a pivot is not positive. Every routine here reads only the lower triangle of a factor.
 */
export const choleskyInPlace = (a: Float64Array, n: number): boolean => {
  for (let j = 0; j < n; j++) {
    const rj = j * n
    let d = a[rj + j]
    for (let k = 0; k < j; k++) d -= a[rj + k] * a[rj + k]
    if (!(d > 0) || !Number.isFinite(d)) return false
    const ljj = Math.sqrt(d)
    a[rj + j] = ljj
    const inv = 1 / ljj
    for (let i = j + 1; i < n; i++) {
      const ri = i * n
      let s = a[ri + j]
      for (let k = 0; k < j; k++) s -= a[ri + k] * a[rj + k]
      a[ri + j] = s * inv
    }
  }
  return true
}

/**
 * The Cholesky factor of A + jitter I. Starts with no jitter and grows it tenfold from 1e-10 times
 * the mean diagonal until the factorization succeeds: a nearly singular kernel matrix (duplicate
 * points, tiny noise) then still gives a usable, slightly regularized factor. `inPlace` overwrites
 * the lower triangle of `a`.
 */
export const cholesky = (
  a: Float64Array,
  n: number,
  inPlace = false
): { readonly l: Float64Array; readonly jitter: number } => {
  const diag = new Float64Array(n)
  let meanDiag = 0
  for (let i = 0; i < n; i++) {
    diag[i] = a[i * n + i]
    meanDiag += diag[i]
  }
  meanDiag = n > 0 ? Math.abs(meanDiag / n) || 1 : 1
  const l = inPlace ? a : new Float64Array(a)
  let jitter = 0
  for (let attempt = 0; attempt < 12; attempt++) {
    if (attempt > 0) {
      // Restore the lower triangle from the untouched upper one.
      for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) l[i * n + j] = l[j * n + i]
    }
    for (let i = 0; i < n; i++) l[i * n + i] = diag[i] + jitter
    if (choleskyInPlace(l, n)) return { l, jitter }
    jitter = jitter === 0 ? 1e-10 * meanDiag : jitter * 10
  }
  throw new NotPositiveDefinite(jitter)
}

/** Solves L x = b in place (L lower triangular). */
export const solveLower = (l: Float64Array, n: number, b: Float64Array): Float64Array => {
  for (let i = 0; i < n; i++) {
    const ri = i * n
    let s = b[i]
    for (let k = 0; k < i; k++) s -= l[ri + k] * b[k]
    b[i] = s / l[ri + i]
  }
  return b
}

/** Solves L^T x = b in place (L lower triangular). */
export const solveUpperT = (l: Float64Array, n: number, b: Float64Array): Float64Array => {
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i]
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * b[k]
    b[i] = s / l[i * n + i]
  }
  return b
}

/** Solves (L L^T) x = b, returning a new vector. */
export const cholSolve = (l: Float64Array, n: number, b: ArrayLike<number>): Float64Array =>
  solveUpperT(l, n, solveLower(l, n, Float64Array.from(b)))

/** L^{-1} of a lower-triangular L, row by row with contiguous row updates. */
export const lowerInverse = (l: Float64Array, n: number): Float64Array => {
  const li = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    const ri = i * n
    // row_i = (e_i - sum_{k<i} L[i,k] row_k) / L[i,i]; row_k is zero past column k.
    for (let k = 0; k < i; k++) {
      const c = l[ri + k]
      if (c === 0) continue
      const rk = k * n
      for (let j = 0; j <= k; j++) li[ri + j] -= c * li[rk + j]
    }
    li[ri + i] += 1
    const inv = 1 / l[ri + i]
    for (let j = 0; j <= i; j++) li[ri + j] *= inv
  }
  return li
}

/** (L L^T)^{-1} = L^{-T} L^{-1}, the full symmetric inverse from a Cholesky factor. */
export const cholInverse = (l: Float64Array, n: number): Float64Array => {
  const li = lowerInverse(l, n)
  const inv = new Float64Array(n * n)
  // Sum of the outer products of the rows of L^{-1} (lower triangle), then mirrored.
  for (let k = 0; k < n; k++) {
    const rk = k * n
    for (let i = 0; i <= k; i++) {
      const c = li[rk + i]
      if (c === 0) continue
      const ri = i * n
      for (let j = 0; j <= i; j++) inv[ri + j] += c * li[rk + j]
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) inv[j * n + i] = inv[i * n + j]
  return inv
}

/** log det(L L^T) = 2 sum log diag(L). */
export const logDet = (l: Float64Array, n: number): number => {
  let s = 0
  for (let i = 0; i < n; i++) s += Math.log(l[i * n + i])
  return 2 * s
}
