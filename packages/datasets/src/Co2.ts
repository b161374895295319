/**
 * Mauna Loa weekly atmospheric CO2, March 1958 to December 2001: 2284 weeks, 59 of them missing
 * (NaN). Scripps / CDIAC, public domain.
 *
 * @example
 * import { Co2, Dataset } from "@tunekit/datasets"
 * const s = Dataset.fillMissing(Co2.load(), "linear")
 *
 * @since 0.1.0
 */
import * as Dataset from "./Dataset.js"
import { cached, lines, num, readData } from "./internal/files.js"

/**
 * Loads the series (parsed once per process): `time` the week's date as YYYYMMDD, `values` CO2 in
 * ppm, NaN where the week is missing.
 *
 * @example
 * import { Co2 } from "@tunekit/datasets"
 * Co2.load().missing // 59
 */
export const load: () => Dataset.Series = cached(() => {
  const name = "co2"
  const ls = lines(readData(name, "co2.csv")).slice(1)
  const time: Array<number> = []
  const values: Array<number> = []
  ls.forEach((l, i) => {
    const [date, ppm = ""] = l.split(",")
    time.push(num(name, date, i + 1, 0))
    values.push(ppm.trim() === "" ? NaN : num(name, ppm, i + 1, 1))
  })
  return Dataset.series({ name, time, values, timeName: "date", valueName: "co2" })
})

/**
 * A YYYYMMDD date as milliseconds since the epoch (UTC).
 *
 * @example
 * import { Co2 } from "@tunekit/datasets"
 * new Date(Co2.toEpochMs(19580329)).toISOString() // "1958-03-29T00:00:00.000Z"
 */
export const toEpochMs = (yyyymmdd: number): number =>
  Date.UTC(Math.floor(yyyymmdd / 10000), Math.floor(yyyymmdd / 100) % 100 - 1, yyyymmdd % 100)
