// NLP: spam or ham on the SpamAssassin corpus with a small transformer encoder (self-attention
// written for tunekit), tuned by TPE with median pruning. The vocabulary is fitted on the
// training messages only; layers, heads, widths, dropouts and AdamW's settings are tuned. A config
// whose heads do not divide the model width fails alone, with the reason stored.
//
//   npx tsx --conditions=source examples/nlp-text.ts --trials 12 --epochs 6
import { Effect, Layer, Option } from "effect"
import { Space, Study, Trial } from "@tunekit/core"
import { Tpe } from "@tunekit/samplers"
import { Median } from "@tunekit/schedulers"
import { Backend, Train } from "@tunekit/tfjs"
import { flags, isMain, script } from "./_cli.js"
import { setupOn } from "./_training.js"
import { spam } from "./tfjs-data.js"

export const space = Space.struct({
  layers: Space.int(1, 2),
  heads: Space.categorical([1, 2, 4] as const),
  modelWidth: Space.categorical([16, 32, 48] as const),
  ffWidth: Space.categorical([32, 64] as const),
  dropout: Space.float(0, 0.3),
  attentionDropout: Space.float(0, 0.2),
  learningRate: Space.float(5e-4, 5e-3, { log: true }),
  weightDecay: Space.float(1e-4, 1e-1, { log: true }),
  warmupRatio: Space.float(0, 0.2)
})

export type Config = Space.Type<typeof space>

export interface Options {
  readonly trials?: number
  readonly epochs?: number
  /** Use a stratified sample of this many messages (default: all 6,000 or so). */
  readonly messages?: number
  /** Tokens per message. */
  readonly length?: number
  readonly seed?: number
  readonly progress?: boolean
}

export const main = (options: Options = {}) =>
  Effect.gen(function*() {
    const data = spam({ length: options.length ?? 64, maxVocab: 4000, ...(options.messages ? { limit: options.messages } : {}) })
    const setup = setupOn(data, { backend: yield* Backend.Backend, seed: options.seed ?? 0 })
    const result = yield* Study.optimize({
      study: "spam-transformer",
      space,
      metric: "val_accuracy",
      direction: "maximize",
      trials: options.trials ?? 12,
      progress: options.progress ?? true,
      objective: (c: Config) =>
        Train.fit(setup({
          type: "transformer",
          vocabSize: data.vocabSize,
          layers: c.layers,
          heads: c.heads,
          modelWidth: c.modelWidth,
          ffWidth: c.ffWidth,
          dropout: c.dropout,
          attentionDropout: c.attentionDropout
        }, {
          optimizer: { type: "adamw", learningRate: c.learningRate, weightDecay: c.weightDecay },
          schedule: { type: "cosine", warmup: { ratio: c.warmupRatio } },
          clipNorm: 1,
          batchSize: 32,
          epochs: options.epochs ?? 6
        }))
    }).pipe(
      Effect.provide(Layer.merge(Tpe.layer({ nStartupTrials: 5 }), Median.layer({ nStartupTrials: 3, nWarmupSteps: 1 }))),
      Effect.provide(Study.layerDefaults({ seed: options.seed ?? 5 }))
    )
    const best = Option.getOrThrow(result.best)
    const text = [
      "",
      `best validation accuracy ${best.values![0].toFixed(4)} (trial ${best.number} of ${result.trials.length}; ${data.train.n} training messages, vocabulary ${data.vocabSize})`,
      `best config ${JSON.stringify(Trial.paramValues(best))}`
    ].join("\n")
    return { best, trials: result.trials, text }
  }).pipe(Effect.provide(Backend.layerWasm))

if (isMain(import.meta.url)) {
  script("nlp-text", { trials: flags.trials, epochs: flags.epochs, messages: flags.messages }, main)
}
