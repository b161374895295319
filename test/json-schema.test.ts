// Every options Schema that a package exports (`*Schema` members of its modules) gives a JSON
// Schema: draft-07, plain JSON (nothing JSON cannot hold), an object or a union of objects. A
// Schema added later without the annotations JSONSchema needs fails here.
import * as Core from "@tunekit/core"
import * as Datasets from "@tunekit/datasets"
import * as Samplers from "@tunekit/samplers"
import * as Schedulers from "@tunekit/schedulers"
import * as Tfjs from "@tunekit/tfjs"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"

const packages: Record<string, Record<string, unknown>> = { core: Core, samplers: Samplers, schedulers: Schedulers, tfjs: Tfjs, datasets: Datasets }

const schemas: Array<[string, Schema.Schema<any, any, never>]> = []
for (const [pkg, modules] of Object.entries(packages)) {
  for (const [mod, exports] of Object.entries(modules)) {
    if (typeof exports !== "object" || exports === null) continue
    for (const [name, value] of Object.entries(exports)) {
      if (name.endsWith("Schema") && Schema.isSchema(value)) schemas.push([`${pkg}/${mod}.${name}`, value as Schema.Schema<any, any, never>])
    }
  }
}

describe("JSON Schema of the options Schemas", () => {
  it("finds the options Schemas of every package", () => {
    const names = schemas.map(([n]) => n)
    for (
      const expected of [
        "core/Sampler.GridOptionsSchema",
        "core/Distribution.DistributionSchema",
        "samplers/Tpe.OptionsSchema",
        "samplers/Gp.OptionsSchema",
        "schedulers/Asha.OptionsSchema",
        "schedulers/Pbt.OptionsSchema",
        "tfjs/Train.OptionsSchema",
        "tfjs/Model.ConfigSchema",
        "datasets/CrossValidation.SchemeSchema",
        "datasets/Boosting.ConfigSchema"
      ]
    ) expect(names).toContain(expected)
    expect(schemas.length).toBeGreaterThanOrEqual(50)
  })

  it.each(schemas)("%s gives one", (_, schema) => {
    const json = Core.Options.jsonSchema(schema) as unknown as Record<string, unknown>
    expect(json.$schema).toBe("http://json-schema.org/draft-07/schema#")
    expect(JSON.parse(JSON.stringify(json))).toEqual(json)
    const root = (typeof json.$ref === "string" ? (json.$defs as Record<string, Record<string, unknown>>)[json.$ref.split("/").pop()!] : json)
    expect(root.type === "object" || Array.isArray(root.anyOf)).toBe(true)
  })
})
