// The cost of plotting a large study with @tunekit/plots: computing each plot's data from the
// trials, and rendering it to SVG with ECharts on the server (median of the repeats, after one
// warm-up), and the size of the SVG and of the self-contained HTML.
//
//   npm run bench -- plots                        # 1,000 trials, 5 repeats
//   npm run bench -- plots --trials 5000 --repeats 3
//
// Prints {"bench":"plots","kind":...,"trials":...,"data_ms":...,"svg_ms":...,"svg_bytes":...} lines and a table.
import { Distribution, Rng, type Trial } from "@tunekit/core"
import { Contour, History, Importance, Intermediate, ParallelCoordinates, Plot, Slice, Source, Timeline } from "@tunekit/plots"
import { emit, median, parseArgs, table } from "./_util.js"

const space = {
  lr: Distribution.float("lr", 1e-5, 1e-1, { log: true }),
  layers: Distribution.int("layers", 1, 6),
  act: Distribution.categorical("act", ["relu", "tanh", "gelu"]),
  dropout: Distribution.float("dropout", 0, 0.5)
}

/** A study of n trials on three workers: a log, an integer, a categorical and a float parameter, 20 reported steps. */
const study = (n: number): Source.Source => {
  const g = Rng.generator(1, "bench-plots")
  const free = [0, 0, 0]
  const trials: Array<Trial.FrozenTrial> = []
  for (let i = 0; i < n; i++) {
    const params = { lr: Math.exp(Math.log(1e-5) + g.next() * Math.log(1e4)), layers: 1 + g.int(6), act: g.int(3), dropout: 0.5 * g.next() }
    const final = 0.1 + 0.05 * (Math.log10(params.lr) + 3) ** 2 + 0.02 * params.layers + (params.act === 1 ? 0.1 : 0) + 0.2 * params.dropout ** 2 + 0.05 * g.next()
    const pruned = g.next() < 0.3
    const steps = pruned ? 3 + g.int(5) : 20
    const w = free.indexOf(Math.min(...free))
    const start = free[w]
    free[w] += steps * 300 + 50
    trials.push({
      id: i + 1,
      number: i,
      state: pruned ? "Pruned" : "Complete",
      params,
      distributions: space,
      values: [final],
      intermediate: Array.from({ length: steps }, (_, s) => ({ step: s + 1, values: { loss: final + 1.5 * Math.exp(-(s + 1) / 4) } })),
      userAttrs: {},
      systemAttrs: {},
      startedAt: start,
      finishedAt: start + steps * 300,
      worker: `host:${w}`,
      reason: undefined
    })
  }
  return Source.make({ name: "bench", directions: ["minimize"], metrics: ["loss"] }, trials)
}

const kinds: ReadonlyArray<readonly [string, (s: Source.Source) => Plot.Data]> = [
  ["history", (s) => History.make(s)],
  ["importance (fANOVA, 64 trees)", (s) => Importance.fanova(s)],
  ["importance (PED-ANOVA)", (s) => Importance.pedAnova(s)],
  ["parallel coordinates", (s) => ParallelCoordinates.make(s)],
  ["contour (lr x dropout)", (s) => Contour.make(s, { params: ["lr", "dropout"] })],
  ["slice", (s) => Slice.make(s)],
  ["intermediate values", (s) => Intermediate.make(s)],
  ["timeline", (s) => Timeline.make(s)]
]

const time = <A>(f: () => A): [A, number] => {
  const t = performance.now()
  const a = f()
  return [a, performance.now() - t]
}

export const main = async (args: ReadonlyArray<string>) => {
  const opts = parseArgs(args)
  const n = Number(opts.trials ?? 1000)
  const repeats = Number(opts.repeats ?? 5)
  const source = study(n)
  const rows: Array<Array<unknown>> = []
  for (const [kind, make] of kinds) {
    make(source) // warm-up
    const dataTimes: Array<number> = []
    const svgTimes: Array<number> = []
    let svg = ""
    let data: Plot.Data | undefined
    for (let r = 0; r < repeats; r++) {
      const [d, dt] = time(() => make(source))
      data = d
      dataTimes.push(dt)
      if (r === 0) Plot.toSvg(d) // warm-up
      const [s, st] = time(() => Plot.toSvg(d))
      svg = s
      svgTimes.push(st)
    }
    const htmlBytes = Buffer.byteLength(Plot.toHtml(data!))
    const record = {
      bench: "plots",
      kind,
      trials: n,
      data_ms: Number(median(dataTimes).toFixed(1)),
      svg_ms: Number(median(svgTimes).toFixed(1)),
      svg_bytes: Buffer.byteLength(svg),
      html_bytes: htmlBytes
    }
    emit(record)
    rows.push([kind, record.data_ms, record.svg_ms, record.svg_bytes, record.html_bytes])
  }
  table(`plots of a study of ${n} trials (medians of ${repeats})`, ["plot", "data ms", "svg ms", "svg bytes", "html bytes"], rows)
}
