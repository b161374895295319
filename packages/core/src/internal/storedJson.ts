// The JSON that storage keeps in text columns (a trial's parameters, distributions, attributes;
// a study's directions, metrics, attributes), each described by a Schema and decoded through it
// when read, so that a corrupt row fails the read with the trial and the field it is in, not with
// a crash further on.
import { Either, Schema } from "effect"
import { DistributionSchema } from "../Distribution.js"
import * as Options from "../Options.js"
import type { Json } from "../Trial.js"

const JsonSchema: Schema.Schema<Json> = Schema.Union(
  Schema.Null,
  Schema.Boolean,
  Schema.Number,
  Schema.String,
  Schema.Array(Schema.suspend(() => JsonSchema)),
  Schema.Record({ key: Schema.String, value: Schema.suspend(() => JsonSchema) })
)

/** A trial's parameters: internal (numeric) values by name. */
export const Params = Schema.Record({ key: Schema.String, value: Schema.Number })
/** A trial's distributions by parameter name. */
export const Distributions = Schema.Record({ key: Schema.String, value: DistributionSchema })
/** User or system attributes. */
export const Attrs = Schema.Record({ key: Schema.String, value: JsonSchema })
/** A study's directions. */
export const Directions = Schema.Array(Options.literals("minimize", "maximize"))
/** A study's metric names. */
export const Metrics = Schema.Array(Schema.String)

/** A stored value that does not decode; the storage reports it as a StorageError. */
export class CorruptRow extends Error {}

/**
 * A reader of one kind of column: parses the text as JSON and decodes it; throws `CorruptRow`
 * naming the row (`where`, e.g. "trial 4") and the field (`column` and the path inside it).
 */
export const reader = <A, I>(column: string, schema: Schema.Schema<A, I, never>) => {
  const decode = Options.decodeEither(Schema.parseJson(schema))
  return (text: string, where: string): A =>
    Either.getOrThrowWith(decode(text), (p) => new CorruptRow(`${where} is corrupt: ${Options.format(Options.within(column, p))}`))
}
