// Data for the TensorFlow.js examples, from @tunekit/datasets: the digits as flat pixels or 8x8
// images, the sunspots as standardized windows, the spam corpus as token ids. Every fitted
// transformation (standardization, vocabulary) is fitted on the training part only. Each comes with
// its task, so that it is a `Problem` of _training.ts.
import { Dataset, Digits, Scaler, SpamAssassin, Split, Sunspots, Tokenizer } from "@tunekit/datasets"
import { Data } from "@tunekit/tfjs"

/**
 * The digits: a stratified, seeded 80/20 holdout, pixels scaled from 0..16 to [0, 1] (a fixed
 * scale, nothing fitted). `image` gives `[8, 8, 1]` samples for CNNs.
 */
export const digits = (options: { readonly seed?: number; readonly image?: boolean } = {}) => {
  const { train, test } = Split.holdout(Digits.load(), { testFraction: 0.2, seed: options.seed ?? 0, stratify: true })
  const shape = options.image ? [Digits.side, Digits.side, 1] : [Digits.side * Digits.side]
  const toData = (d: Dataset.Classification) => Data.make({ x: d.x.map((r) => r.map((v) => v / 16)), y: d.y, inputShape: shape })
  return { train: toData(train), validation: toData(test), classes: 10, task: { kind: "classification", classes: 10 } as const }
}

/**
 * The yearly sunspot numbers as windows of `length` years predicting the next: the last 20% of
 * the years validate (no shuffling across time), standardized with the training years' mean and
 * deviation. `scale` turns a standardized error back into sunspot numbers.
 */
export const sunspots = (length: number) => {
  const { train, test } = Split.chronological(Sunspots.load(), { testFraction: 0.2 })
  const scaler = Scaler.fitValues(train.values)
  // The validation windows start `length` years before the split, so that they predict exactly the held-out years.
  const joined = { ...test, time: [...train.time.slice(-length), ...test.time], values: [...train.values.slice(-length), ...test.values] }
  const toData = (s: Dataset.Series) => {
    const w = Dataset.windows({ ...s, values: scaler.transform(s.values) }, { length })
    return Data.make({ x: w.x, y: w.y, inputShape: [length, 1] })
  }
  return { train: toData(train), validation: toData(joined), scale: scaler.scale, task: { kind: "regression" } as const }
}

/**
 * The SpamAssassin corpus (ham 0, spam 1): a stratified holdout, a vocabulary fitted on the
 * training texts only, each text cut or padded to `length` token ids. `limit` keeps a stratified
 * sample of that many messages (for quick runs).
 */
export const spam = (options: { readonly length: number; readonly maxVocab: number; readonly limit?: number; readonly seed?: number }) => {
  let corpus = SpamAssassin.load({ maxChars: 4000 })
  if (options.limit !== undefined && options.limit < corpus.texts.length) {
    corpus = Split.holdout(corpus, { testFraction: options.limit / corpus.texts.length, seed: options.seed ?? 0, stratify: true }).test
  }
  const { train, test } = Split.holdout(corpus, { testFraction: 0.2, seed: options.seed ?? 0, stratify: true })
  const tokenizer = Tokenizer.fit(train.texts, { maxVocab: options.maxVocab, minCount: 2 })
  const toData = (d: Dataset.Text) => Data.make({ x: tokenizer.encodeAll(d.texts, options.length), y: d.y, inputShape: [options.length] })
  return { train: toData(train), validation: toData(test), vocabSize: tokenizer.size, task: { kind: "classification", classes: 2 } as const }
}
