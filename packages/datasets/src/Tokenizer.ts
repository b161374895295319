/**
 * A simple vocabulary tokenizer for text models: lowercased word tokens, a vocabulary of the most
 * frequent ones, fitted on the training texts only (words seen only in test texts become the
 * unknown id).
 *
 * Ids: 0 is padding, 1 is an unknown word, 2.. the vocabulary in order of frequency.
 *
 * @example
 * import { SpamAssassin, Split, Tokenizer } from "@tunekit/datasets"
 * const { train, test } = Split.holdout(SpamAssassin.load({ maxChars: 2000 }), { seed: 1, stratify: true })
 * const tok = Tokenizer.fit(train.texts, { maxVocab: 5000 })
 * const ids = tok.encodeAll(test.texts, 200) // 200 ids a text, padded with 0
 *
 * @since 0.1.0
 */
import { Options as Opts } from "@tunekit/core"
import { Schema } from "effect"
import { InvalidDataset } from "./Errors.js"
import { decoder } from "./internal/decode.js"

/**
 * The padding id.
 *
 * @example
 * import { Tokenizer } from "@tunekit/datasets"
 * const mask = [2, 5, Tokenizer.PAD].map((id) => id !== Tokenizer.PAD)
 */
export const PAD = 0
/**
 * The id of a word outside the vocabulary.
 *
 * @example
 * import { Tokenizer } from "@tunekit/datasets"
 * Tokenizer.fit(["a a"]).encode("b")[0] === Tokenizer.UNKNOWN // true
 */
export const UNKNOWN = 1

/** Options of `fit`. */
export interface Options {
  /** Keep at most this many words (the most frequent). Default 10000. */
  readonly maxVocab?: number
  /** Drop words seen fewer times than this in the training texts. Default 2. */
  readonly minCount?: number
  /** Drop tokens longer than this (encoded blobs, URLs). Default 30. */
  readonly maxTokenLength?: number
}

/**
 * The Schema of `fit`'s options, and their JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { Tokenizer } from "@tunekit/datasets"
 * Options.jsonSchema(Tokenizer.OptionsSchema)
 */
export const OptionsSchema: Schema.Schema<Options> = Schema.Struct({
  maxVocab: Schema.optional(Opts.PositiveInt),
  minCount: Schema.optional(Opts.PositiveInt),
  maxTokenLength: Schema.optional(Opts.PositiveInt)
})

const fitOptions = decoder(OptionsSchema, (p) => new InvalidDataset({ dataset: "tokenizer", reason: Opts.format(p) }))

/** A fitted tokenizer. */
export interface Tokenizer {
  /** The vocabulary: word `vocab[i]` has id `i + 2`. */
  readonly vocab: ReadonlyArray<string>
  /** Ids in use: the vocabulary plus padding and unknown (the embedding's input size). */
  readonly size: number
  /** A text's token ids, cut to `maxLength` if given. */
  readonly encode: (text: string, maxLength?: number) => Array<number>
  /** Each text's ids, cut or padded (with 0 at the end) to exactly `maxLength`. */
  readonly encodeAll: (texts: ReadonlyArray<string>, maxLength: number) => Array<Array<number>>
  /** Bag of words: for each text, a count (or 0/1 with `binary`) per vocabulary word (no padding or unknown column). */
  readonly bagOfWords: (texts: ReadonlyArray<string>, options?: { readonly binary?: boolean }) => Array<Array<number>>
}

const TOKEN = /[a-z0-9][a-z0-9']*/g

/**
 * Splits a text into lowercased word tokens (letters, digits, inner apostrophes).
 *
 * @example
 * import { Tokenizer } from "@tunekit/datasets"
 * Tokenizer.tokens("Win $1000 NOW!") // ["win", "1000", "now"]
 */
export const tokens = (text: string, maxTokenLength = 30): Array<string> =>
  (text.toLowerCase().match(TOKEN) ?? []).filter((t) => t.length <= maxTokenLength)

/**
 * Fits a vocabulary on training texts. Ties in frequency are broken alphabetically, so the same
 * texts always give the same ids.
 *
 * @example
 * import { Tokenizer } from "@tunekit/datasets"
 * const tok = Tokenizer.fit(["a cat", "a dog", "a cat"], { minCount: 1 })
 * tok.vocab // ["a", "cat", "dog"]
 * tok.encode("a bird") // [2, 1]
 */
export const fit = (texts: ReadonlyArray<string>, input: Options = {}): Tokenizer => {
  const options = fitOptions(input)
  const maxVocab = options.maxVocab ?? 10000
  const minCount = options.minCount ?? 2
  const maxLen = options.maxTokenLength ?? 30
  const counts = new Map<string, number>()
  for (const t of texts) for (const w of tokens(t, maxLen)) counts.set(w, (counts.get(w) ?? 0) + 1)
  const vocab = [...counts].filter(([, c]) => c >= minCount)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, maxVocab)
    .map(([w]) => w)
  const index = new Map(vocab.map((w, i) => [w, i + 2]))
  const encode = (text: string, maxLength?: number) => {
    const ids = tokens(text, maxLen).map((w) => index.get(w) ?? UNKNOWN)
    return maxLength === undefined ? ids : ids.slice(0, maxLength)
  }
  return {
    vocab,
    size: vocab.length + 2,
    encode,
    encodeAll: (ts, maxLength) =>
      ts.map((t) => {
        const ids = encode(t, maxLength)
        while (ids.length < maxLength) ids.push(PAD)
        return ids
      }),
    bagOfWords: (ts, o = {}) =>
      ts.map((t) => {
        const row = new Array<number>(vocab.length).fill(0)
        for (const w of tokens(t, maxLen)) {
          const id = index.get(w)
          if (id !== undefined) row[id - 2] = o.binary ? 1 : row[id - 2] + 1
        }
        return row
      })
  }
}
