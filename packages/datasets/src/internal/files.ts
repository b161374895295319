// Reading the bundled data files. They live in the package's data/ folder, found relative to
// this module: src/internal/ (tests, tsx) and dist/internal/ (the build) are both two levels
// below the package root, so one relative URL serves both.
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { gunzipSync } from "node:zlib"
import { InvalidDataset } from "../Errors.js"

/** The absolute path of a bundled data file. */
export const dataPath = (file: string): string => fileURLToPath(new URL(`../../data/${file}`, import.meta.url))

/** The text of a bundled data file, gunzipped when its name ends in .gz. */
export const readData = (dataset: string, file: string): string => {
  let bytes: Buffer
  try {
    bytes = readFileSync(dataPath(file))
  } catch (e) {
    throw new InvalidDataset({ dataset, reason: `cannot read its data file ${dataPath(file)}: ${(e as Error).message}` })
  }
  return (file.endsWith(".gz") ? gunzipSync(bytes) : bytes).toString("utf8")
}

/** Splits text into trimmed, non-empty lines. */
export const lines = (text: string): Array<string> => text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0)

/** Parses one number, naming the dataset, line and column when it is not one. */
export const num = (dataset: string, cell: string, line: number, column: number): number => {
  const v = cell.trim() === "" ? NaN : Number(cell)
  if (!Number.isFinite(v)) {
    throw new InvalidDataset({ dataset, reason: `line ${line + 1}, column ${column + 1}: ${JSON.stringify(cell)} is not a finite number` })
  }
  return v
}

/**
 * Parses a numeric table whose last column is an integer label. `skip` header lines first.
 */
export const parseLabelled = (dataset: string, text: string, skip: number, sep: RegExp = /,/) => {
  const ls = lines(text)
  const x: Array<Array<number>> = []
  const y: Array<number> = []
  for (let i = skip; i < ls.length; i++) {
    const cells = ls[i].split(sep)
    const row = cells.map((c, j) => num(dataset, c, i, j))
    y.push(row.pop()!)
    x.push(row)
  }
  return { x, y, header: ls.slice(0, skip) }
}

/** One value per process: the bundled datasets are immutable, so each is parsed once. */
export const cached = <A>(make: () => A): (() => A) => {
  let value: A | undefined
  return () => (value ??= make())
}
