// Stationary kernels with one length scale per input dimension (automatic relevance
// determination): k(x, x') = amplitude * g(r), r^2 = sum_p (x_p - x'_p)^2 / l_p^2.
// Squared exponential and Matern 5/2 as in Rasmussen & Williams, "Gaussian Processes for Machine
// Learning" (2006), eqs. 4.9 and 4.17; Matern 5/2 is the default of Snoek et al. (2012).

/** The kernel families. */
export type Kind = "rbf" | "matern52"

const SQRT5 = Math.sqrt(5)

/** g(r) from r^2. */
export const shape = (kind: Kind, r2: number): number => {
  if (kind === "rbf") return Math.exp(-0.5 * r2)
  const r = Math.sqrt(r2)
  return (1 + SQRT5 * r + (5 / 3) * r2) * Math.exp(-SQRT5 * r)
}

/**
 * h(r) such that d k / d log l_p = amplitude * h(r) * (x_p - x'_p)^2 / l_p^2. It has no 1/r, so it
 * stays finite at r = 0.
 */
export const lengthGradient = (kind: Kind, r2: number): number => {
  if (kind === "rbf") return Math.exp(-0.5 * r2)
  const r = Math.sqrt(r2)
  return (5 / 3) * (1 + SQRT5 * r) * Math.exp(-SQRT5 * r)
}

/** g(r) and h(r) (see `lengthGradient`) together into `out`, sharing the exponential. */
export const shapeAndLengthGradient = (kind: Kind, r2: number, out: Float64Array): void => {
  if (kind === "rbf") {
    const e = Math.exp(-0.5 * r2)
    out[0] = e
    out[1] = e
    return
  }
  const r = SQRT5 * Math.sqrt(r2)
  const e = Math.exp(-r)
  out[0] = (1 + r + (r * r) / 3) * e
  out[1] = (5 / 3) * (1 + r) * e
}

/** r^2 between row i of `a` and row j of `b` (both with `dims` columns), scaled by 1 / l^2. */
export const scaledDistance2 = (
  a: Float64Array,
  i: number,
  b: Float64Array,
  j: number,
  invL2: Float64Array,
  dims: number
): number => {
  let s = 0
  const oa = i * dims
  const ob = j * dims
  for (let p = 0; p < dims; p++) {
    const d = a[oa + p] - b[ob + p]
    s += d * d * invL2[p]
  }
  return s
}
