// Options and configs decoded through their Schemas, and their problems as tfjs's typed errors
// (the field is the problem's path).
import { Options } from "@tunekit/core"
import { Either, type Schema } from "effect"
import { InvalidModel, InvalidTraining } from "../Errors.js"

/** A problem of the training settings as the typed error, its path as the field. */
export const invalidTraining = (p: Options.Problem): InvalidTraining =>
  new InvalidTraining({ field: p.path === "" ? "training" : p.path, reason: p.message })

/** A problem of a model config as the typed error, its path as the field. */
export const invalidModel = (model: string, p: Options.Problem): InvalidModel =>
  new InvalidModel({ model, field: p.path === "" ? "config" : p.path, reason: p.message })

/**
 * Decodes a builder's config through its Schema: the InvalidModel naming the field, or undefined.
 * Keys the Schema does not describe (a model config's `type`) are left to `Model.ConfigSchema`,
 * which refuses unknown ones.
 */
export const configProblem = (model: string, schema: Schema.Schema<any, any, never>) => {
  const decode = Options.decodeEither(schema, { excess: "ignore" })
  return (config: unknown): InvalidModel | undefined =>
    Either.match(decode(config), { onLeft: (p) => invalidModel(model, p), onRight: () => undefined })
}
