// Moments and the nearest-neighbour landmarker of the meta-features.

/**
 * The biased sample skewness g1 = m3 / m2^1.5 and excess kurtosis g2 = m4 / m2^2 - 3 of a
 * column (scipy.stats.skew and kurtosis with their defaults); undefined for a constant column.
 */
export const standardMoments = (xs: ReadonlyArray<number>): { readonly skewness: number; readonly kurtosis: number } | undefined => {
  const n = xs.length
  let mean = 0
  for (const x of xs) mean += x
  mean /= n
  let m2 = 0, m3 = 0, m4 = 0
  for (const x of xs) {
    const d = x - mean
    const d2 = d * d
    m2 += d2
    m3 += d2 * d
    m4 += d2 * d2
  }
  m2 /= n
  m3 /= n
  m4 /= n
  // A column that is constant up to rounding has no shape.
  if (m2 <= 1e-14 * Math.max(1, mean * mean)) return undefined
  return { skewness: m3 / m2 ** 1.5, kurtosis: m4 / (m2 * m2) - 3 }
}

/**
 * The accuracy of 1-nearest-neighbour (Euclidean; the first training row of the smallest
 * distance wins a tie) on the test rows, trained on the training rows.
 */
export const nearestNeighbourAccuracy = (
  x: ReadonlyArray<ReadonlyArray<number>>,
  y: ReadonlyArray<number>,
  train: ReadonlyArray<number>,
  test: ReadonlyArray<number>
): number => {
  if (test.length === 0) return 0
  const d = x[0].length
  let right = 0
  for (const t of test) {
    const q = x[t]
    let best = Infinity
    let label = -1
    for (const r of train) {
      const p = x[r]
      let s = 0
      for (let j = 0; j < d && s < best; j++) {
        const diff = p[j] - q[j]
        s += diff * diff
      }
      if (s < best) {
        best = s
        label = y[r]
      }
    }
    if (label === y[t]) right++
  }
  return right / test.length
}
