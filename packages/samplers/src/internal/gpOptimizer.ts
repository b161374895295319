// Limited-memory BFGS (Nocedal 1980; Liu & Nocedal 1989, the two-loop recursion) with box bounds
// handled by projection: steps are clipped to the box and coordinates held at a bound by the
// gradient are frozen for that step (the projected-gradient variant of Bertsekas 1982). Used to
// maximize the GP's marginal likelihood over a dozen log-hyperparameters, where it is enough.

export interface Result {
  readonly x: Float64Array
  readonly f: number
  readonly iterations: number
}

/**
 * Minimizes `fg` (value and gradient) from `x0` inside [lower, upper].
 */
export const minimize = (
  fg: (x: Float64Array) => { readonly f: number; readonly g: Float64Array },
  x0: ArrayLike<number>,
  lower: ArrayLike<number>,
  upper: ArrayLike<number>,
  options: { readonly maxIterations?: number; readonly memory?: number; readonly tolerance?: number } = {}
): Result => {
  const n = x0.length
  const maxIt = options.maxIterations ?? 50
  const m = options.memory ?? 6
  const tol = options.tolerance ?? 1e-5
  const clamp = (x: Float64Array) => {
    for (let i = 0; i < n; i++) x[i] = Math.min(upper[i], Math.max(lower[i], x[i]))
    return x
  }
  let x = clamp(Float64Array.from(x0))
  let cur = fg(x)
  if (!Number.isFinite(cur.f)) return { x, f: cur.f, iterations: 0 }
  const ss: Array<Float64Array> = []
  const ys: Array<Float64Array> = []
  const active = (x: Float64Array, g: Float64Array, i: number) =>
    (x[i] <= lower[i] && g[i] > 0) || (x[i] >= upper[i] && g[i] < 0)
  let it = 0
  for (; it < maxIt; it++) {
    const g = cur.g
    const pg = new Float64Array(n)
    let norm = 0
    for (let i = 0; i < n; i++) {
      pg[i] = active(x, g, i) ? 0 : g[i]
      norm = Math.max(norm, Math.abs(pg[i]))
    }
    if (norm < tol) break
    // Two-loop recursion: d = -H pg.
    const q = Float64Array.from(pg)
    const alpha = new Float64Array(ss.length)
    for (let k = ss.length - 1; k >= 0; k--) {
      const rho = 1 / dot(ys[k], ss[k])
      alpha[k] = rho * dot(ss[k], q)
      for (let i = 0; i < n; i++) q[i] -= alpha[k] * ys[k][i]
    }
    if (ss.length > 0) {
      const last = ss.length - 1
      const gamma = dot(ss[last], ys[last]) / dot(ys[last], ys[last])
      for (let i = 0; i < n; i++) q[i] *= gamma
    }
    for (let k = 0; k < ss.length; k++) {
      const rho = 1 / dot(ys[k], ss[k])
      const beta = rho * dot(ys[k], q)
      for (let i = 0; i < n; i++) q[i] += ss[k][i] * (alpha[k] - beta)
    }
    const d = new Float64Array(n)
    for (let i = 0; i < n; i++) d[i] = pg[i] === 0 ? 0 : -q[i]
    let slope = dot(d, g)
    if (!(slope < 0)) {
      for (let i = 0; i < n; i++) d[i] = -pg[i]
      slope = dot(d, g)
      ss.length = 0
      ys.length = 0
    }
    // Backtracking (Armijo) line search along the projected path.
    let t = ss.length === 0 ? Math.min(1, 1 / norm) : 1
    let next: { f: number; g: Float64Array } | undefined
    let xn = x
    for (let ls = 0; ls < 25; ls++) {
      xn = clamp(Float64Array.from(x, (xi, i) => xi + t * d[i]))
      let moved = 0
      for (let i = 0; i < n; i++) moved += g[i] * (xn[i] - x[i])
      const cand = fg(xn)
      if (Number.isFinite(cand.f) && cand.f <= cur.f + 1e-4 * Math.min(moved, 0)) {
        next = cand
        break
      }
      t *= 0.5
    }
    if (next === undefined) break
    const s = Float64Array.from(xn, (v, i) => v - x[i])
    const y = Float64Array.from(next.g, (v, i) => v - g[i])
    if (dot(s, y) > 1e-12) {
      ss.push(s)
      ys.push(y)
      if (ss.length > m) {
        ss.shift()
        ys.shift()
      }
    }
    const df = cur.f - next.f
    x = xn
    cur = next
    if (df < 1e-9 * Math.max(1, Math.abs(cur.f))) break
  }
  return { x, f: cur.f, iterations: it }
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i] * b[i]
  return s
}
