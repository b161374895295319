// Every TensorFlow.js example runs end to end on a small budget.
import { describe, expect, it } from "vitest"
import * as tf from "@tensorflow/tfjs"
import { Effect } from "effect"
import { Trial } from "@tunekit/core"
import { Pbt } from "@tunekit/schedulers"
import { Train } from "@tunekit/tfjs"
import * as asha from "../examples/asha-mlp.js"
import * as bayes from "../examples/mlp-bayes.js"
import * as multiFidelity from "../examples/multi-fidelity.js"
import * as nlp from "../examples/nlp-text.js"
import * as pbt from "../examples/pbt-mlp.js"
import * as quickstart from "../examples/quickstart.js"
import { Cli } from "@tunekit/cli"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as timeseries from "../examples/timeseries-lstm.js"
import * as vision from "../examples/vision-cnn.js"

const states = (trials: ReadonlyArray<Trial.FrozenTrial>) => trials.map((t) => t.state)

describe("TensorFlow.js examples", () => {
  it("quickstart (npm start): TPE with median pruning on the digits, stored in SQLite, listed by the CLI", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-quickstart-"))
    const storage = path.join(dir, "q.db")
    const r = await Effect.runPromise(quickstart.main({ trials: 3, epochs: 2, progress: false, storage }))
    expect(r.trials).toHaveLength(3)
    expect(r.best.values![0]).toBeGreaterThan(0.5)
    expect(r.text).toMatch(/best validation accuracy/)
    expect(r.text).toContain(`npx tunekit trials quickstart --storage ${storage}`)
    const listed = await Effect.runPromise(Cli.run(["trials", "quickstart", "--storage", storage]))
    expect(listed.split("\n").length).toBe(2 + 3)
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("mlp-bayes: GP-BO over an MLP", async () => {
    const r = await Effect.runPromise(bayes.main({ trials: 3, epochs: 1, progress: false }))
    expect(r.trials).toHaveLength(3)
    expect(r.best.values![0]).toBeLessThan(2.3) // below the loss of a uniform guess over 10 classes
  })

  it("asha-mlp: promoted trials resume from their checkpoints", async () => {
    const r = await Effect.runPromise(asha.main({ configs: 6, epochs: 3, progress: false }))
    expect(r.trials).toHaveLength(6)
    // Promotion resumes a paused trial at epoch 2: the same trial then reports 1, 2, 3 in order.
    const top = r.trials.filter((t) => Trial.lastStep(t) === 3)
    expect(top.length).toBeGreaterThan(0)
    for (const t of top) expect(t.intermediate.map((m) => m.step)).toEqual([1, 2, 3])
  })

  it("pbt-mlp: exploits continue from the donors' weights", async () => {
    const r = await Effect.runPromise(pbt.main({ population: 4, epochs: 4, progress: false }))
    const continuations = r.trials.filter((t) => Pbt.lineageOf(t) !== undefined)
    expect(continuations.length).toBeGreaterThan(0)
    expect(states(r.trials)).not.toContain("Failed")
    // A continuation reports from the step after the donor's checkpoint.
    for (const t of continuations) expect(t.intermediate[0]?.step).toBe(Pbt.lineageOf(t)!.step + 1)
  })

  it("multi-fidelity: BOHB and Hyperband over epochs and data fraction", async () => {
    const f = multiFidelity.fidelity(3)
    expect([1, 2, 3].map((r) => f.at(r).dataFraction)).toEqual([1 / 3, 2 / 3, 1])
    const r = await Effect.runPromise(multiFidelity.main({ epochs: 3, configs: 4, progress: false }))
    expect(r.trials).toHaveLength(4)
    expect(r.best.values![0]).toBeGreaterThan(0.3)
  })

  it("vision-cnn: a CNN on the 8x8 digits", async () => {
    const r = await Effect.runPromise(vision.main({ trials: 2, epochs: 1, progress: false }))
    expect(r.trials).toHaveLength(2)
    expect(r.best.values![0]).toBeGreaterThan(0.2)
  })

  it("nlp-text: a transformer on the spam corpus", async () => {
    const r = await Effect.runPromise(nlp.main({ trials: 2, epochs: 1, messages: 200, length: 24, progress: false }))
    expect(r.trials).toHaveLength(2)
    expect(r.best.values![0]).toBeGreaterThan(0.5)
  })

  it("timeseries-lstm: an LSTM/GRU on the sunspots", async () => {
    const r = await Effect.runPromise(timeseries.main({ trials: 2, epochs: 1, progress: false }))
    expect(r.trials).toHaveLength(2)
    expect(r.best.values![0]).toBeGreaterThan(0)
    expect(r.best.values![0]).toBeLessThan(200)
  })

  it("left no tensors behind", async () => {
    await Train.settled()
    expect(tf.memory().numTensors).toBe(0)
  })
})
