// Close names for a misspelled one: those it begins (or that begin it), and those within two
// edits (Levenshtein distance), as a command line's "did you mean" does.

const distance = (a: string, b: string): number => {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    prev = row
  }
  return prev[b.length]
}

/** Within one edit of the start of `k` (a misspelled abbreviation: "paralel" of parallel-coordinates). */
const nearPrefix = (n: string, k: string) => n.length >= 5 && [-1, 0, 1].some((d) => distance(n, k.slice(0, n.length + d)) <= 1)

export const suggest = (name: string, known: ReadonlyArray<string>): Array<string> => {
  const n = name.toLowerCase().replace(/[_ ]/g, "-")
  return known.filter((k) => (n.length >= 3 && (k.startsWith(n) || n.startsWith(k))) || distance(n, k) <= 2 || nearPrefix(n, k))
}
