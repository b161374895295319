// Why the GP sampler does its own linear algebra: the kernel-matrix work of one marginal-likelihood
// evaluation (Cholesky factor, full inverse for the gradient, one solve), on flat Float64Arrays as
// the sampler does it and with ml-matrix, side by side in one run (interleaved repeats, medians).
// A suggestion evaluates the likelihood 18 to 60 times on up to 100 points (the fit's cap), then
// factors once on up to 400 (the posterior's).
//   npm run bench -- gp-linalg [--sizes 50,100,200,400] [--repeats 15]
import { CholeskyDecomposition, Matrix } from "ml-matrix"
import { Rng } from "@tunekit/core"
import * as Linalg from "../packages/samplers/src/internal/linalg.js"
import { emit, median, parseArgs, table } from "./_util.js"

/** A Matern 5/2 kernel matrix of n random points in 6 dimensions, with a little noise on the diagonal. */
const kernelMatrix = (n: number): Float64Array => {
  const g = Rng.generator(n, "gp-linalg")
  const dims = 6
  const x = Float64Array.from({ length: n * dims }, () => g.next())
  const k = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let r2 = 0
      for (let p = 0; p < dims; p++) r2 += ((x[i * dims + p] - x[j * dims + p]) / 0.5) ** 2
      const r = Math.sqrt(5 * r2)
      k[i * n + j] = (1 + r + (r * r) / 3) * Math.exp(-r) + (i === j ? 1e-3 : 0)
    }
  }
  return k
}

const engines = {
  tunekit: (k: Float64Array, n: number, y: Float64Array) => {
    const { l } = Linalg.cholesky(k, n)
    Linalg.cholInverse(l, n)
    return Linalg.cholSolve(l, n, y)[0]
  },
  "ml-matrix": (k: Float64Array, n: number, y: Float64Array) => {
    const rows = Array.from({ length: n }, (_, i) => Array.from(k.subarray(i * n, (i + 1) * n)))
    const chol = new CholeskyDecomposition(new Matrix(rows))
    chol.solve(Matrix.eye(n, n))
    return chol.solve(Matrix.columnVector(Array.from(y))).get(0, 0)
  }
} as const

export const main = async (args: ReadonlyArray<string>) => {
  const opts = parseArgs(args)
  const sizes = typeof opts.sizes === "string" ? opts.sizes.split(",").map(Number) : [50, 100, 200, 400]
  const repeats = Number(opts.repeats ?? 15)
  const rows: Array<Array<unknown>> = []
  for (const n of sizes) {
    const k = kernelMatrix(n)
    const y = Float64Array.from({ length: n }, (_, i) => Math.sin(i))
    const times: Record<string, Array<number>> = { tunekit: [], "ml-matrix": [] }
    // Same answer from both, or the comparison means nothing.
    const a = engines.tunekit(k, n, y)
    const b = engines["ml-matrix"](k, n, y)
    if (Math.abs(a - b) > 1e-6 * Math.max(1, Math.abs(b))) throw new Error(`the engines disagree at n=${n}: ${a} vs ${b}`)
    for (let r = 0; r < repeats + 2; r++) {
      for (const [name, run] of Object.entries(engines)) {
        const t0 = performance.now()
        run(k, n, y)
        if (r >= 2) times[name].push(performance.now() - t0) // the first two warm the JIT
      }
    }
    const ours = median(times.tunekit)
    const theirs = median(times["ml-matrix"])
    emit({ bench: "gp-linalg", engine: "tunekit", n, ms: ours })
    emit({ bench: "gp-linalg", engine: "ml-matrix", n, ms: theirs })
    rows.push([n, ours, theirs, theirs / ours])
  }
  table("Cholesky + inverse + solve of an n x n kernel matrix: median ms", ["n", "tunekit", "ml-matrix", "ml-matrix / tunekit"], rows)
}
