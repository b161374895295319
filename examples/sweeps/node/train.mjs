// Polynomial regression by gradient descent, tuned by a tunekit sweep: reports each epoch's
// validation error through tunekit/report, which waits for the sweep's answer (continue or stop).
//
//   tunekit sweep run examples/sweeps/node/sweep.yaml
import { params, report } from "tunekit/report"

const p = params()
const { degree, epochs, l2 } = p
const lr = p.learning_rate

// y = sin(2x) + noise on [-1, 1]; features 1, x, ..., x^degree.
let seed = 12345
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
const sample = (n) =>
  Array.from({ length: n }, () => {
    const x = random() * 2 - 1
    return { x, y: Math.sin(2 * x) + (random() - 0.5) * 0.2 }
  })
const train = sample(200)
const val = sample(100)
const features = (x) => Array.from({ length: degree + 1 }, (_, k) => x ** k)
const predict = (w, x) => features(x).reduce((s, f, k) => s + w[k] * f, 0)
const mse = (w, rows) => rows.reduce((s, r) => s + (predict(w, r.x) - r.y) ** 2, 0) / rows.length

const w = new Array(degree + 1).fill(0)
for (let epoch = 1; epoch <= epochs; epoch++) {
  for (let pass = 0; pass < 20; pass++) {
    const grad = w.map((wk) => l2 * wk)
    for (const r of train) {
      const err = predict(w, r.x) - r.y
      features(r.x).forEach((f, k) => (grad[k] += (2 * err * f) / train.length))
    }
    grad.forEach((g, k) => (w[k] -= lr * g))
  }
  if (!report({ step: epoch, val_mse: mse(w, val) })) break // stopped by the sweep
}
