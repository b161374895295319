// Options decoded through their Schemas; a problem becomes the module's typed error, thrown where
// the module's functions throw (they are synchronous).
import { Options } from "@tunekit/core"
import { Either, type Schema } from "effect"

export const decoder = <A, I>(schema: Schema.Schema<A, I, never>, error: (problem: Options.Problem) => Error, options?: Options.DecodeOptions) => {
  const decode = Options.decodeEither(schema, options)
  return (input: unknown): A => Either.getOrThrowWith(decode(input), error)
}
