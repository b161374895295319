// Helpers shared by the benchmarks: argument parsing, medians, JSON lines and tables.

/** Parses `--name value` and `--flag` arguments; comma lists stay strings for the caller to split. */
export const parseArgs = (args: ReadonlyArray<string>): Record<string, string | true> => {
  const out: Record<string, string | true> = {}
  for (let i = 0; i < args.length; i++) {
    const a = args[i]
    if (!a.startsWith("--")) continue
    const next = args[i + 1]
    if (next !== undefined && !next.startsWith("--")) {
      out[a.slice(2)] = next
      i++
    } else out[a.slice(2)] = true
  }
  return out
}

export const median = (xs: ReadonlyArray<number>): number => {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

/**
 * A percentile bootstrap interval of the median (Efron 1979) at `level` (0.9: the 5th and 95th
 * percentiles of 2,000 resampled medians), resampled with a fixed seed so that it reproduces.
 */
export const medianInterval = (xs: ReadonlyArray<number>, level: number): readonly [number, number] => {
  let seed = 12345
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  const medians = Array.from({ length: 2000 }, () => median(xs.map(() => xs[Math.floor(next() * xs.length)]))).sort((a, b) => a - b)
  const cut = (1 - level) / 2
  return [medians[Math.floor(cut * medians.length)], medians[Math.ceil((1 - cut) * medians.length) - 1]]
}

/** Prints one JSON line on stdout. */
export const emit = (record: Record<string, unknown>): void => {
  process.stdout.write(JSON.stringify(record) + "\n")
}

/** Prints a table on stderr. */
export const table = (title: string, header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<unknown>>): void => {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === "number" ? formatNumber(c) : String(c))))]
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? "").length)))
  const line = (r: ReadonlyArray<unknown>) => r.map((c, i) => String(c ?? "").padEnd(widths[i])).join("  ")
  process.stderr.write(`\n${title}\n${line(cells[0])}\n${widths.map((w) => "-".repeat(w)).join("  ")}\n`)
  for (const r of cells.slice(1)) process.stderr.write(line(r) + "\n")
}

/** A number as the tables print it. */
export const formatNumber = (x: number): string =>
  Number.isInteger(x) ? String(x) : Math.abs(x) >= 1000 || Math.abs(x) < 1e-3 ? x.toExponential(3) : x.toFixed(4)
