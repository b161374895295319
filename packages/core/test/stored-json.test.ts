import { fc, test } from "@fast-check/vitest"
import { Either, Schema } from "effect"
import { expect } from "vitest"
import * as Stored from "../src/internal/storedJson.js"

const decode = Schema.decodeUnknownEither(Stored.Params)

// The quick test of stored parameters may only accept what the schema decodes, unchanged: any value
// it lets through skips the schema. (A value it refuses goes through the schema, which names what is
// wrong, so it may refuse more.)
test.prop([fc.jsonValue()], { numRuns: 500 })("isParams accepts only what Params decodes, as it is", (v) => {
  if (Stored.isParams(v)) {
    const decoded = decode(v)
    expect(Either.isRight(decoded)).toBe(true)
    expect(Either.getOrThrow(decoded)).toEqual(v)
  } else {
    expect(Either.isRight(decode(v)) && typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "number")).toBe(false)
  }
})

test.prop([fc.dictionary(fc.string(), fc.double({ noNaN: true, noDefaultInfinity: true }))])("the reader returns stored parameters as written", (params) => {
  const read = Stored.reader("params", Stored.Params, { quick: Stored.isParams })
  expect(read(JSON.stringify(params), "trial 0")).toEqual(JSON.parse(JSON.stringify(params)))
})
