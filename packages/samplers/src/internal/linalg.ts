// Dense linear algebra on row-major Float64Arrays, for the GP's hot loops (kernel matrices of a
// few hundred rows). ml-matrix is used at the edges; these loops avoid its per-element calls.

/** Thrown when a matrix stays non-positive-definite after every jitter we are willing to add. */
export class NotPositiveDefinite extends Error {
  constructor(readonly jitter: number) {
    super(`the kernel matrix is not positive definite, even with jitter ${jitter}`)
  }
}

/**
 * In-place Cholesky factorization A = L L^T of a symmetric n x n matrix (lower triangle used).
 * Returns false when a pivot is not positive.
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
    for (let i = 0; i < j; i++) a[i * n + j] = 0
  }
  return true
}

/**
 * The Cholesky factor of A + jitter I. Starts with no jitter (or `minJitter`) and grows it tenfold
 * from 1e-10 times the mean diagonal until the factorization succeeds: a nearly singular kernel
 * matrix (duplicate points, tiny noise) then still gives a usable, slightly regularized factor.
 */
export const cholesky = (
  a: Float64Array,
  n: number,
  minJitter = 0
): { readonly l: Float64Array; readonly jitter: number } => {
  let meanDiag = 0
  for (let i = 0; i < n; i++) meanDiag += a[i * n + i]
  meanDiag = n > 0 ? Math.abs(meanDiag / n) || 1 : 1
  let jitter = minJitter
  for (let attempt = 0; attempt < 12; attempt++) {
    const l = new Float64Array(a)
    if (jitter > 0) for (let i = 0; i < n; i++) l[i * n + i] += jitter
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

/** (L L^T)^{-1}, the full symmetric inverse from a Cholesky factor. */
export const cholInverse = (l: Float64Array, n: number): Float64Array => {
  // Inverse of L (lower triangular), column by column.
  const li = new Float64Array(n * n)
  for (let j = 0; j < n; j++) {
    li[j * n + j] = 1 / l[j * n + j]
    for (let i = j + 1; i < n; i++) {
      const ri = i * n
      let s = 0
      for (let k = j; k < i; k++) s -= l[ri + k] * li[k * n + j]
      li[ri + j] = s / l[ri + i]
    }
  }
  // A^{-1} = L^{-T} L^{-1}: entry (i, j) = sum_k li[k, i] li[k, j], k >= max(i, j).
  const inv = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0
      for (let k = i; k < n; k++) s += li[k * n + i] * li[k * n + j]
      inv[i * n + j] = s
      inv[j * n + i] = s
    }
  }
  return inv
}

/** log det(L L^T) = 2 sum log diag(L). */
export const logDet = (l: Float64Array, n: number): number => {
  let s = 0
  for (let i = 0; i < n; i++) s += Math.log(l[i * n + i])
  return 2 * s
}
