import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { Trial } from "@tunekit/core"
import * as example from "../examples/transfer-warm-start.js"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-examples-transfer-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe("the hyperparameter-transfer example", () => {
  it("fashion_mnist_cnn starts from mnist_cnn's best config, chosen by the similarity function", async () => {
    const r = await Effect.runPromise(example.main({ trials: 2, epochs: 1, progress: false, database: path.join(dir, "transfer.db") }))
    expect(r.near.map((s) => [s.task.name, s.similarity])).toEqual([["mnist_cnn", 0.8], ["cifar10_resnet", 0.1]])
    expect(r.initial).toMatchObject({ task: "mnist_cnn", value: 0.99, config: { learningRate: 0.001, dropout: 0.2, batchSize: 64 }, notes: [], sampled: [] })
    expect(r.trials).toHaveLength(2)
    expect(Trial.paramValues(r.trials[0])).toEqual({ learningRate: 0.001, dropout: 0.2, batchSize: 64 })
    // ten classes: a trained CNN is well above chance even after one epoch
    expect(r.trials[0].state).toBe("Complete")
    expect(r.trials[0].values![0]).toBeGreaterThan(0.2)
    expect(r.text).toContain(`initial config from mnist_cnn: {"learningRate":0.001,"dropout":0.2,"batchSize":64}`)
    console.log(r.text)
  })
})
