// `npm run bench -- trainers [--epochs 15] [--seeds 3] [--backends wasm,cpu,tensorflow,tensorflow-gpu]
//   [--width 128] [--layers 2] [--batch 32] [--quickstart 1,2,3]`
// Trains the same MLP on the digits on each backend and prints, per backend, the median over seeds
// of epochs per second (training and the per-epoch validation pass, as a trial runs it) and of the
// final validation accuracy. Native backends that are not installed are reported and skipped.
// With --quickstart SEEDS, also runs examples/quickstart.ts (TPE + median pruning, its default
// budget) with each seed and prints its best validation accuracy in a table (stderr only).
import { Backend, Train } from "@tunekit/tfjs"
import { Effect } from "effect"
import * as quickstart from "../examples/quickstart.js"
import { digits } from "../examples/tfjs-data.js"
import { emit, median, parseArgs, table } from "./_util.js"

// The same data as the examples: a stratified 80/20 holdout, pixels scaled to [0, 1].
const digitsData = () => digits({ seed: 0 })

export const main = async (args: ReadonlyArray<string>) => {
  const o = parseArgs(args)
  const epochs = Number(o.epochs ?? 15)
  const seeds = Number(o.seeds ?? 3)
  const width = Number(o.width ?? 128)
  const layers = Number(o.layers ?? 2)
  const batchSize = Number(o.batch ?? 32)
  const backends = String(o.backends ?? "wasm,cpu,tensorflow,tensorflow-gpu").split(",") as Array<Backend.Name>
  const data = digitsData()
  const available: Array<Backend.Name> = []
  for (const backend of backends) {
    try {
      await Backend.select(backend)
      available.push(backend)
    } catch (e) {
      process.stderr.write(`${backend}: skipped (${(e as Error).message})\n`)
    }
  }
  // Seeds are the outer loop, so that the backends take turns and share the machine's load alike.
  const rates = new Map<Backend.Name, Array<number>>(available.map((b) => [b, []]))
  const accuracies = new Map<Backend.Name, Array<number>>(available.map((b) => [b, []]))
  for (let seed = 0; seed < seeds; seed++) {
    for (const backend of available) {
      await Backend.select(backend)
      const start = performance.now()
      const last = await Train.run({
        model: { type: "mlp", layers, width, activation: "relu", dropout: 0.1 },
        ...data,
        training: { optimizer: { type: "adam", learningRate: 2e-3 }, schedule: { type: "cosine" }, batchSize, epochs, seed }
      })
      rates.get(backend)!.push(epochs / ((performance.now() - start) / 1000))
      accuracies.get(backend)!.push(last.values.val_accuracy)
    }
  }
  const rows: Array<Array<unknown>> = []
  const speed: Record<string, number> = {}
  for (const backend of available) {
    const r = { bench: "trainers", model: "mlp-digits", backend, epochs_per_s: median(rates.get(backend)!), val_accuracy: median(accuracies.get(backend)!) }
    speed[backend] = r.epochs_per_s
    emit(r)
    rows.push([backend, r.epochs_per_s, r.val_accuracy, seeds])
  }
  const base = speed.cpu
  table(
    `trainers: MLP ${layers}x${width} on digits (${data.train.n} train / ${data.validation.n} validation), batch ${batchSize}, ${epochs} epochs, median of ${seeds} seeds`,
    ["backend", "epochs/s", "val_accuracy", "seeds", "x cpu"],
    rows.map((r) => [...r, base === undefined ? "-" : (r[1] as number) / base])
  )
  if (o.quickstart !== undefined) {
    const qs = String(o.quickstart === true ? "1,2,3" : o.quickstart).split(",").map(Number)
    const out: Array<Array<unknown>> = []
    for (const seed of qs) {
      const start = performance.now()
      const r = await Effect.runPromise(quickstart.main({ seed, progress: false, storage: "memory" }))
      out.push([seed, r.best.values![0], r.trials.filter((t) => t.state === "Pruned").length, r.trials.length, (performance.now() - start) / 1000])
    }
    out.push(["median", median(out.map((r) => r[1] as number)), "", "", median(out.map((r) => r[4] as number))])
    table("quickstart: best validation accuracy (TPE + median pruning, 25 trials of up to 15 epochs, wasm)", ["seed", "best val_accuracy", "pruned", "trials", "seconds"], out)
  }
}
