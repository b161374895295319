// The JSON that storage keeps in text columns (a trial's parameters, distributions, attributes;
// a study's directions, metrics, attributes), each described by a Schema and decoded through it
// when read, so that a corrupt row fails the read with the trial and the field it is in, not with
// a crash further on.
import { Either, Schema } from "effect"
import { DistributionSchema } from "../Distribution.js"
import * as Options from "../Options.js"
import type { Json } from "../Trial.js"

// What JSON.parse returns is JSON all the way down: only the top level can be of the wrong kind.
const JsonValue = Schema.Unknown as unknown as Schema.Schema<Json>

/** A trial's parameters: internal (numeric) values by name. */
export const Params = Schema.Record({ key: Schema.String, value: Schema.Number })
/** What `Params` accepts: a plain object of numbers (its quick test). */
export const isParams = (v: unknown): v is Schema.Schema.Type<typeof Params> => {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false
  for (const k in v) if (typeof (v as Record<string, unknown>)[k] !== "number") return false
  return true
}
/** A trial's distributions by parameter name. */
export const Distributions = Schema.Record({ key: Schema.String, value: DistributionSchema })
/** User or system attributes. */
export const Attrs = Schema.Record({ key: Schema.String, value: JsonValue })
/** A study's directions. */
export const Directions = Schema.Array(Options.literals("minimize", "maximize"))
/** A study's metric names. */
export const Metrics = Schema.Array(Schema.String)

/** A stored value that does not decode; the storage reports it as a StorageError. */
export class CorruptRow extends Error {}

/**
 * A reader of one kind of column: parses the text as JSON and decodes it; throws `CorruptRow`
 * naming the row (`where`, e.g. "trial 4") and the field (`column` and the path inside it).
 * With `cache`, the values of the last texts read are kept and shared: the trials of a study
 * mostly hold the same distributions and attributes, and decoding them again each time a history
 * is read would cost more than the read (60 us a row without it). Stored values are read-only.
 */
export const reader = <A, I>(
  column: string,
  schema: Schema.Schema<A, I, never>,
  options: {
    readonly cache?: number
    /**
     * A quick test of the parsed JSON that accepts exactly what the schema decodes unchanged: a
     * value it accepts is returned as parsed, anything else goes through the schema (which names
     * what is wrong). For columns read once a trial, where decoding cost 12 us against 2.5 to parse.
     */
    readonly quick?: (parsed: unknown) => parsed is A
  } = {}
) => {
  const decode = Options.decodeEither(Schema.parseJson(schema))
  const decodeText = (text: string, where: string): A =>
    Either.getOrThrowWith(decode(text), (p) => new CorruptRow(`${where} is corrupt: ${Options.format(Options.within(column, p))}`))
  const quick = options.quick
  const read = quick === undefined ? decodeText : (text: string, where: string): A => {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      return decodeText(text, where)
    }
    return quick(parsed) ? parsed : decodeText(text, where)
  }
  const size = options.cache ?? 0
  if (size === 0) return read
  const cache = new Map<string, A>()
  return (text: string, where: string): A => {
    const hit = cache.get(text)
    if (hit !== undefined) return hit
    const value = read(text, where)
    if (cache.size >= size) cache.clear()
    cache.set(text, value)
    return value
  }
}
