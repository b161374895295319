// Train.fit logs through the tracker: the model's summary and size when it is built, and its final
// weights as an artifact when asked; Train.layer wires the trial's log where the run loop gives one.
import { describe, expect, it } from "vitest"
import { Checkpoint, type Study, Trainer, type Tracker } from "@tunekit/core"
import { Backend, Data, Snapshot, Train } from "@tunekit/tfjs"
import { Effect, Layer } from "effect"
import { lastValueFrom } from "rxjs"
import { digits } from "./fixtures.js"

const d = digits()
const small = { train: Data.take(d.train, Array.from({ length: 64 }, (_, i) => i)), validation: d.validation }
const setup = (epochs: number, earlyStopping?: { readonly patience: number }): Train.Setup => ({
  model: { type: "mlp", layers: 1, width: 8, activation: "relu" },
  task: { kind: "classification", classes: 10 },
  ...small,
  training: { optimizer: { type: "adam", learningRate: 1e-2 }, batchSize: 16, epochs, seed: 1, ...(earlyStopping ? { earlyStopping } : {}) }
})
const recorder = () => {
  const logs: Array<Tracker.Log> = []
  return { logs, log: (l: Tracker.Log) => Effect.sync(() => void logs.push(l)) }
}

describe("Train.fit through the tracker", () => {
  it("logs the model summary and size, and the final weights as a snapshot artifact", async () => {
    const { logs, log } = recorder()
    const last = await Train.run({ ...setup(3), backend: await Effect.runPromise(Effect.provide(Backend.Backend, Backend.layerWasm)), tracking: { log, weights: true } })
    expect(last.step).toBe(3)
    const [note, tags, artifact] = logs
    // 64 inputs -> 8 (520 weights) -> 10 (90 weights)
    const layers = await Train.withModel(setup(3), async ({ model }) => model.layers.length)
    expect(tags).toEqual({ _tag: "Tags", tags: { "model.parameters": "610", "model.bytes": "2440", "model.layers": String(layers) } })
    expect(note._tag === "Note" && note.text).toMatch(/Total params: 610/)
    expect(artifact._tag).toBe("Artifact")
    if (artifact._tag !== "Artifact") return
    expect(artifact.name).toBe("model/weights.tfjs")
    const header = Snapshot.header(artifact.data as Uint8Array)
    expect(header.epoch).toBe(3)
    expect(header.weights.map((w) => w.shape)).toEqual([[64, 8], [8], [8, 10], [10]])
    expect(logs).toHaveLength(3)
  })

  it("without weights asked, only the summary and size; an early stop still logs its final weights", async () => {
    const a = recorder()
    await lastValueFrom(Train.fit({ ...setup(2), tracking: { log: a.log } }))
    expect(a.logs.map((l) => l._tag)).toEqual(["Note", "Tags"])
    const b = recorder()
    const last = await Train.run({ ...setup(40, { patience: 1 }), training: { ...setup(40).training, optimizer: { type: "sgd", learningRate: 5 }, earlyStopping: { patience: 1 } }, tracking: { log: b.log, weights: true } })
    expect(last.step).toBeLessThan(40)
    const artifact = b.logs.find((l) => l._tag === "Artifact")
    expect(artifact !== undefined && artifact._tag === "Artifact" && Snapshot.header(artifact.data as Uint8Array).epoch).toBe(last.step)
  })

  it("Train.layer passes the trial's log (when the run loop gives one) and trackWeights", async () => {
    const { logs, log } = recorder()
    const program = Effect.gen(function*() {
      const trainer = yield* Trainer.Trainer
      const trial = { id: 1, number: 0, study: "s", config: {}, params: {}, resumeFrom: undefined, log } as unknown as Study.TrialContext<unknown>
      return yield* Effect.promise(() => lastValueFrom(trainer.train({}, trial) as never))
    })
    await Effect.runPromise(program.pipe(
      Effect.provide(Train.layer(() => setup(1), { trackWeights: true })),
      Effect.provide(Layer.merge(Backend.layerWasm, Checkpoint.layerMemory))
    ))
    expect(logs.map((l) => l._tag)).toEqual(["Note", "Tags", "Artifact"])
  })
})
