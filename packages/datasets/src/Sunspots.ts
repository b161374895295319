/**
 * Yearly mean sunspot numbers 1700-2008 (309 years, none missing). NOAA National Geophysical
 * Data Center, public domain.
 *
 * @example
 * import { Sunspots } from "@tunekit/datasets"
 * const s = Sunspots.load()
 * s.time[0] // 1700
 *
 * @since 0.1.0
 */
import * as Dataset from "./Dataset.js"
import { cached, lines, num, readData } from "./internal/files.js"

/**
 * Loads the series (parsed once per process): `time` the year, `values` the mean sunspot number.
 *
 * @example
 * import { Dataset, Sunspots } from "@tunekit/datasets"
 * const w = Dataset.windows(Sunspots.load(), { length: 10 })
 */
export const load: () => Dataset.Series = cached(() => {
  const name = "sunspots"
  const ls = lines(readData(name, "sunspots.csv")).slice(1)
  const rows = ls.map((l, i) => l.split(",").map((c, j) => num(name, c, i + 1, j)))
  return Dataset.series({ name, time: rows.map((r) => r[0]), values: rows.map((r) => r[1]), timeName: "year", valueName: "sunactivity" })
})
