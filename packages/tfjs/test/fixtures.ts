// Small datasets for the tests: a slice of the digits (a fixture file), and synthetic sequences
// and token data whose answers are known.
import { Rng } from "@tunekit/core"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Data } from "@tunekit/tfjs"

const here = path.dirname(fileURLToPath(import.meta.url))

/** The first 400 digits, pixels scaled to [0, 1], split 300 / 100. */
export const digits = (): { train: Data.Dataset; validation: Data.Dataset } => {
  const rows = fs.readFileSync(path.join(here, "fixtures", "digits-400.csv"), "utf8").trim().split("\n").map((l) => l.split(",").map(Number))
  const x = rows.map((r) => r.slice(0, 64).map((v) => v / 16))
  const y = rows.map((r) => r[64])
  return {
    train: Data.make({ x: x.slice(0, 300), y: y.slice(0, 300) }),
    validation: Data.make({ x: x.slice(300), y: y.slice(300) })
  }
}

/** Windows of a noisy sine: predict the next value from the last `length`. */
export const sine = (n: number, length: number, seed = 1): Data.Dataset => {
  const g = Rng.generator(seed, "sine")
  const x: Array<number> = []
  const y: Array<number> = []
  for (let i = 0; i < n; i++) {
    const phase = g.uniform(0, 2 * Math.PI)
    for (let t = 0; t < length; t++) x.push(Math.sin(phase + t * 0.5))
    y.push(Math.sin(phase + length * 0.5) + 0.01 * g.normal())
  }
  return Data.fromArrays(x, y, [length, 1])
}

/** Token sequences (ids 1..vocab-1, length `len`); the label says whether token 1 occurs. */
export const tokens = (n: number, len: number, vocab: number, seed = 2): Data.Dataset => {
  const g = Rng.generator(seed, "tokens")
  const x: Array<number> = []
  const y: Array<number> = []
  for (let i = 0; i < n; i++) {
    const has = i % 2
    const row = Array.from({ length: len }, () => 2 + g.int(vocab - 2))
    if (has) row[g.int(len)] = 1
    x.push(...row)
    y.push(has)
  }
  return Data.fromArrays(x, y, [len])
}
