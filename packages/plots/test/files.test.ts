// Plots by name to files (.svg, .html, .png through rsvg-convert) and the study report, on real
// SQLite studies run by Study.optimize: a study with a rung scheduler and a failing trial, a PBT
// population, a cross-validated study, a two-objective study, and one whose names hold markup.
import { Effect, Either, Layer, Option } from "effect"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { chromium } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Checkpoint, Space, Storage, Study } from "@tunekit/core"
import { Auto } from "@tunekit/samplers"
import { Asha, Pbt } from "@tunekit/schedulers"
import { File, Kind, Plot, Report, Source } from "../src/index.js"
import { decode, inked } from "./png.js"
import { parse, texts } from "./svg.js"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-plot-files-"))
const db = path.join(dir, "studies.db")
const PROBE = "<img src=x onerror=alert(1)>"
const RUNGS = Asha.rungs({ minResource: 1, maxResource: 9, reductionFactor: 3 })

const reading = <A, E>(program: Effect.Effect<A, E, Storage.Storage>) =>
  Effect.runPromise(Effect.scoped(Effect.provide(program, Storage.layerSqlite(db, { readonly: true }))))
const outcome = <A, E>(program: Effect.Effect<A, E, Storage.Storage>) => reading(Effect.either(program))
const load = (name: string) => reading(Source.load(name))

const run = <A, E>(program: Effect.Effect<A, E, any>, seed = 1) =>
  Effect.runPromise(Effect.scoped(Effect.provide(program, Study.layerDefaults({ seed, storage: db }))) as Effect.Effect<A, E>)

beforeAll(async () => {
  // Learning curves under ASHA (rungs 1 and 3 of 9 steps), chosen by Auto (which records what
  // proposed each trial), with one trial failing.
  const space = Space.struct({
    lr: Space.float(1e-4, 1e-1, { log: true }),
    layers: Space.int(1, 4),
    act: Space.categorical(["relu", "tanh"]),
    dropout: Space.float(0, 0.5),
    wd: Space.float(1e-6, 1e-2, { log: true })
  })
  await run(Study.optimize({
    study: "mlp",
    space,
    metric: "loss",
    objective: async (c, t) => {
      if (t.number === 4) throw new Error("out of memory")
      let loss = 0
      for (let step = 1; step <= 9; step++) {
        loss = (Math.log10(c.lr) + 2.5) ** 2 + c.dropout + (c.act === "relu" ? 0 : 0.3) + c.layers / 10 + 1 / step
        await t.report({ step, values: { loss } })
      }
      return loss
    },
    trials: 24
  }).pipe(Effect.provide(Layer.merge(Auto.layer({ trials: 24 }), Asha.layer({ minResource: 1, maxResource: 9, reductionFactor: 3 })))))

  // A PBT population of 4, exploited every 3 steps to step 9.
  await run(Effect.gen(function*() {
    const checkpoints = yield* Checkpoint.Checkpoint
    return yield* Study.optimize({
      study: "pbt",
      space: Space.struct({ lr: Space.float(1e-3, 1, { log: true }) }),
      metric: "loss",
      objective: async (c, t) => {
        const ckpt = Checkpoint.forTrial(checkpoints, t)
        const start = await Effect.runPromise(ckpt.restore)
        let [step, loss] = Option.isSome(start) ? [start.value.step, (start.value.data as { loss: number }).loss] : [0, 1]
        while (step < 9) {
          step++
          loss *= 1 - Math.min(0.9, c.lr)
          await Effect.runPromise(ckpt.save(step, { loss }))
          await t.report({ step, values: { loss } })
        }
        return loss
      },
      trials: 4,
      concurrency: 4
    })
  }).pipe(Effect.provide(Pbt.layer({ perturbationInterval: 3, hyperparamMutations: { lr: true }, maxStep: 9 })), Effect.provide(Checkpoint.layerMemory)), 2)

  // Three folds a trial, the value their mean.
  await run(Study.optimize({
    study: "cv",
    space: Space.struct({ depth: Space.int(1, 5) }),
    metric: "score",
    direction: "maximize",
    objective: async (c, t) => {
      const folds = [0.5, 0.6, 0.7].map((s) => s + c.depth / 20)
      for (const [i, s] of folds.entries()) await t.report({ step: i, values: { score: s } })
      return folds.reduce((a, b) => a + b) / 3
    },
    trials: 5
  }))

  await run(Study.optimize({
    study: "mo",
    space: Space.struct({ x: Space.float(0, 1) }),
    metrics: ["loss", "latency"],
    directions: ["minimize", "minimize"],
    objective: (c) => [c.x, (1 - c.x) ** 2],
    trials: 8
  }))

  // Markup in the study's name, a parameter's name and a choice.
  await run(Study.optimize({
    study: PROBE,
    space: Space.struct({ [PROBE]: Space.categorical(["<b>bold</b>", "a&b"]), x: Space.float(0, 1) }),
    objective: (c) => c.x + (c[PROBE] === "a&b" ? 1 : 0),
    trials: 6
  }))
}, 120_000)

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

/** Where each plot applies among the studies, with what it needs. */
const where: Record<Kind.Name, { readonly study: string; readonly options?: Kind.Options }> = {
  history: { study: "mlp" },
  importance: { study: "mlp" },
  "parallel-coordinates": { study: "mlp" },
  contour: { study: "mlp" },
  slice: { study: "mlp" },
  rank: { study: "mlp" },
  edf: { study: "mlp" },
  intermediate: { study: "mlp" },
  rungs: { study: "mlp", options: { rungs: RUNGS } },
  lineage: { study: "pbt" },
  folds: { study: "cv" },
  "pareto-front": { study: "mo" },
  timeline: { study: "mlp" }
}

describe("which plots apply", () => {
  it("each study gets the plots it has data for, and the reasons for the others", async () => {
    const [mlp, pbt, cv, mo] = await Promise.all(["mlp", "pbt", "cv", "mo"].map(load))
    // ASHA recorded its rungs in the study: the rungs plot applies without being told them.
    expect(Kind.applicable(mlp)).toEqual(["history", "importance", "parallel-coordinates", "contour", "slice", "rank", "edf", "intermediate", "rungs", "timeline"])
    expect(Kind.applicable(cv, { rungs: RUNGS })).toContain("rungs")
    expect(Kind.applicable(pbt)).toContain("lineage")
    expect(Kind.applicable(cv)).toContain("folds")
    expect(Kind.applicable(cv)).not.toContain("contour") // one parameter
    expect(Kind.check("contour", cv)).toMatch(/a contour needs two parameters, and the study has one \(depth\)/)
    expect(Kind.applicable(mo)).toContain("pareto-front")
    expect(Kind.check("pareto-front", mlp)).toBe("it has 1 objective, and a Pareto front shows 2 or 3")
    expect(Kind.check("folds", mlp)).toMatch(/do not report "loss" by fold/)
    expect(Kind.check("rungs", cv)).toMatch(/--rungs 1,3,9/)
    expect(Kind.check("intermediate", mo)).toMatch(/no trial reported intermediate values/)
  })

  it("an unknown name suggests the close ones", () => {
    const e = Either.getLeft(Kind.decode("parallel")).pipe(Option.getOrThrow)
    expect(e._tag).toBe("UnknownPlot")
    expect(e.message).toMatch(/^unknown plot "parallel" \(did you mean parallel-coordinates\?\); the plots: history, importance/)
    expect(Either.getLeft(Kind.decode("pareto")).pipe(Option.getOrThrow).message).toMatch(/did you mean pareto-front\?/)
    expect(Either.getLeft(Kind.decode("bars")).pipe(Option.getOrThrow).message).not.toMatch(/did you mean/)
  })
})

describe("File.plot", () => {
  it.each(Kind.names)("%s: writes SVG, HTML and PNG", async (kind) => {
    const { study, options } = where[kind]
    const data = await reading(Effect.flatMap(Source.load(study), (s) => Kind.make(kind, s, options)))
    const { width, height } = Plot.option(data)
    const base = path.join(dir, kind)

    const svg = await reading(File.plot(kind, study, `${base}.svg`, options))
    expect(svg).toMatchObject({ format: "svg", kind, studies: [{ name: study }] })
    const root = parse(fs.readFileSync(`${base}.svg`, "utf8"))
    expect([root.name, root.attrs.width, root.attrs.height]).toEqual(["svg", String(width), String(height)])
    expect(texts(root)).toContain(String((Plot.option(data).option.title as { text: string }).text))
    expect(svg.bytes).toBe(fs.statSync(`${base}.svg`).size)

    await reading(File.plot(kind, study, `${base}.html`, options))
    const html = fs.readFileSync(`${base}.html`, "utf8")
    expect(html.startsWith("<!doctype html>")).toBe(true)
    expect(JSON.parse(/const options = (.*);\n/.exec(html)![1])).toEqual([JSON.parse(JSON.stringify(Plot.option(data).option))])

    const png = await reading(File.plot(kind, study, `${base}.png`, options))
    const bytes = fs.readFileSync(`${base}.png`)
    const image = decode(bytes)
    expect([image.width, image.height]).toEqual([width, height])
    expect(png.bytes).toBe(bytes.length)
    // A drawn chart, not a blank page: a white page with a title inks 0.2% of its pixels; the
    // charts of these studies ink 3% to 35%.
    expect(inked(image)).toBeGreaterThan(0.01)
  })

  it("labels what a PBT exploit changed with 4 significant digits", async () => {
    const file = path.join(dir, "lineage-labels.svg")
    await reading(File.plot("lineage", "pbt", file))
    const labels = texts(parse(fs.readFileSync(file, "utf8"))).filter((t) => t.includes("→"))
    expect(labels.length).toBeGreaterThan(0)
    for (const l of labels) {
      const [from, to] = /^lr (\S+)→(\S+)$/.exec(l)!.slice(1).map(Number)
      for (const v of [from, to]) expect(v).toBe(Number(v.toPrecision(4)))
    }
  })

  it("overlays the compared studies on history and EDF", async () => {
    const file = path.join(dir, "compare.svg")
    const w = await reading(File.plot("history", "mlp", file, { compare: ["cv"] }))
    expect(w.studies.map((s) => s.name)).toEqual(["mlp", "cv"])
    const legend = texts(parse(fs.readFileSync(file, "utf8"))).filter((t) => /^(mlp|cv): /.test(t))
    expect(legend.map((t) => t.split(":")[0])).toEqual(["mlp", "mlp", "cv", "cv"]) // values and best so far, of each
    const edf = path.join(dir, "compare-edf.svg")
    await reading(File.plot("edf", "mlp", edf, { compare: ["cv"] }))
    expect(texts(parse(fs.readFileSync(edf, "utf8")))).toEqual(expect.arrayContaining(["mlp", "cv"]))
  })

  it("writes a PNG at a scale", async () => {
    const data = await reading(Effect.flatMap(Source.load("mlp"), (s) => Kind.make("history", s)))
    const file = path.join(dir, "scaled.png")
    await Effect.runPromise(File.write(file, data, { scale: 2, width: 400, height: 300 }))
    expect(decode(fs.readFileSync(file))).toMatchObject({ width: 800, height: 600 })
  })

  it("says why it cannot: an unknown plot, a missing study, an extension, a plot that does not apply, a parameter, a folder", async () => {
    const fail = async (kind: string, study: string, file: string, options: File.PlotOptions = {}) => {
      const r = await outcome(File.plot(kind, study, path.join(dir, file), options))
      if (Either.isRight(r)) throw new Error(`expected ${kind} ${study} ${file} to fail`)
      return r.left
    }
    expect(await fail("paralel", "mlp", "x.svg")).toMatchObject({ _tag: "UnknownPlot", kind: "paralel" })
    expect(await fail("history", "nope", "x.svg")).toMatchObject({ _tag: "StudyNotFound", study: "nope" })
    const jpg = await fail("history", "mlp", "x.jpg")
    expect(jpg.message).toBe(`cannot write ${path.join(dir, "x.jpg")}: its extension names no format written here; use .svg, .png or .html`)
    const lineage = await fail("lineage", "mlp", "x.svg")
    expect(lineage._tag).toBe("NotApplicable")
    expect(lineage.message).toBe(
      "lineage does not apply to study \"mlp\": no trial has a PBT lineage (a study run with Pbt.layer has one); plots that apply: history, importance, parallel-coordinates, contour, slice, rank, edf, intermediate, rungs, timeline"
    )
    expect((await fail("pareto-front", "mlp", "x.svg")).message).toMatch(/it has 1 objective, and a Pareto front shows 2 or 3/)
    expect((await fail("rungs", "cv", "x.svg"))._tag).toBe("NotApplicable")
    expect(await fail("slice", "mlp", "x.svg", { params: ["lr", "nope"] })).toMatchObject({ _tag: "InvalidPlot", plot: "slice" })
    expect((await fail("slice", "mlp", "x.svg", { compare: ["cv"] })).message).toBe("slice: it shows one study; history and edf overlay several")
    expect((await fail("history", "mlp", "x.svg", { params: ["lr"] })).message).toMatch(/^history: it takes no parameters/)
    expect((await fail("history", "mlp", "no/such/folder/x.svg")).message).toMatch(/^cannot write .*x\.svg: the folder .*folder does not exist$/)
    expect(fs.existsSync(path.join(dir, "x.svg"))).toBe(false)
  })

  it("without rsvg-convert, PNG fails naming the package to install", async () => {
    const saved = process.env.PATH
    const empty = fs.mkdtempSync(path.join(dir, "bin-"))
    process.env.PATH = empty
    try {
      const r = await outcome(File.plot("history", "mlp", path.join(dir, "missing.png")))
      const e = Either.getLeft(r).pipe(Option.getOrThrow)
      expect(e._tag).toBe("MissingConverter")
      expect(e.message).toMatch(/writing PNG needs rsvg-convert, which is not on the PATH: install Debian's librsvg2-bin/)
    } finally {
      process.env.PATH = saved
    }
    expect(fs.existsSync(path.join(dir, "missing.png"))).toBe(false)
  })
})

/** References a page would fetch: a script's or an image's src, a stylesheet link, a CSS url(), an import. */
const fetches = (html: string) => [
  ...html.matchAll(/<(?:script|img|iframe|link|source|video|audio|embed)\b[^>]*\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//gi),
  ...html.matchAll(/url\(\s*["']?\s*(?:https?:)?\/\//gi),
  ...html.matchAll(/@import\s/gi),
  ...html.matchAll(/<link\b/gi)
].map((m) => m[0])

describe("Report", () => {
  it("is one offline file: ECharts inlined, nothing fetched, every plot that applies, the best trials and the settings", async () => {
    const file = path.join(dir, "report.html")
    const w = await reading(Report.write("mlp", file, { rungs: RUNGS }))
    const html = fs.readFileSync(file, "utf8")
    expect(w.bytes).toBe(Buffer.byteLength(html))
    expect(html).toContain(fs.readFileSync(path.join(path.dirname(createRequire(import.meta.url).resolve("echarts")), "echarts.min.js"), "utf8").slice(0, 2000))
    expect(fetches(html)).toEqual([])
    expect(fetches(`<script src="https://cdn.example/echarts.js"></script><link rel=stylesheet href=//x.css><img src='http://x'>`)).toHaveLength(4)

    const mlp = await load("mlp")
    expect(w.plots).toEqual(Kind.applicable(mlp, { rungs: RUNGS }))
    expect(html.match(/<div class="chart" id="tk-plot-\d+"/g)).toHaveLength(w.plots.length)
    expect(w.skipped.map((s) => s.kind)).toEqual(["lineage", "folds", "pareto-front"])
    expect(html).toContain("<li><b>lineage</b>: no trial has a PBT lineage (a study run with Pbt.layer has one)</li>")
    // Contour and rank of the 4 most important of the 5 parameters, as their titles say.
    const options = JSON.parse(/const options = (.*);\n/.exec(html)![1]) as Array<{ title: { text: string } }>
    expect(options.map((o) => o.title.text)).toEqual(expect.arrayContaining(["Contour: the 4 most important parameters", "Rank: the 4 most important parameters"]))

    // The best trials, best first, as the study ranks them.
    const complete = mlp.trials.filter((t) => t.state === "Complete").sort((a, b) => a.values![0] - b.values![0] || a.number - b.number)
    const rows = [...html.matchAll(/<tr><td class="num">(\d+)<\/td><td class="num">(\d+)<\/td>/g)].map((m) => [Number(m[1]), Number(m[2])])
    expect(rows).toEqual(complete.slice(0, 10).map((t, i) => [i + 1, t.number]))
    // The settings: objective, trials by state, what the sampler recorded.
    const state = (s: string) => mlp.trials.filter((t) => t.state === s).length
    expect(html).toContain("<tr><th>objectives</th><td>loss (minimize)</td></tr>")
    expect(html).toContain(`${mlp.trials.length}&nbsp; `)
    for (const s of ["Complete", "Pruned", "Failed"]) expect(state(s)).toBeGreaterThan(0)
    for (const s of ["Complete", "Pruned", "Failed"]) expect(html).toContain(`>${state(s)} ${s.toLowerCase()}</span>`)
    expect(html).toMatch(/<tr><th>proposed by<\/th><td>design \d+/)
    expect(html).toMatch(/<code>auto\.[a-z.]+<\/code>/) // Auto's study attributes
  })

  it("shows a two-objective study's Pareto front, and refuses a file that is not HTML", async () => {
    const report = Report.make({ name: "mo", directions: ["minimize", "minimize"], metrics: ["loss", "latency"] }, (await load("mo")).trials)
    expect(report.plots).toContain("pareto-front")
    expect(report.html).toContain("<h2>Pareto front <span class=\"muted\">(minimize, minimize)</span></h2>")
    const r = await outcome(Report.write("mo", path.join(dir, "report.svg")))
    expect(Either.getLeft(r).pipe(Option.getOrThrow).message).toMatch(/report\.svg: its extension names no format written here; use \.html$/)
  })

  it("escapes every string of the study: markup in names shows as text", async () => {
    const file = path.join(dir, "probe.html")
    await reading(Report.write(PROBE, file))
    const html = fs.readFileSync(file, "utf8")
    const page = html.replace(/<script>[\s\S]*?<\/script>/, "") // without ECharts' own code
    expect(page).not.toContain("<img")
    expect(page).not.toContain("<b>bold")
    expect(page).toContain("<h1>&lt;img src=x onerror=alert(1)&gt;</h1>")
    expect(page).toContain("<th>&lt;img src=x onerror=alert(1)&gt;</th>")
    expect(page).toMatch(/&lt;b&gt;bold&lt;\/b&gt;|a&amp;b/)
    expect(page).toContain("\\u003cimg src=x onerror=alert(1)>")
  })

  it("renders in Chromium offline: every chart drawn, the probe as text, no error, no request", async () => {
    const file = path.join(dir, "probe.html")
    const browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
    })
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
      const problems: Array<string> = []
      page.on("console", (m) => m.type() === "error" && problems.push(m.text()))
      page.on("pageerror", (e) => problems.push(String(e)))
      page.on("dialog", (d) => {
        problems.push(`dialog: ${d.message()}`)
        void d.dismiss()
      })
      page.on("request", (r) => !r.url().startsWith("file:") && problems.push(`request: ${r.url()}`))
      await page.goto(`file://${file}`)
      await page.waitForFunction(() => Array.from(document.querySelectorAll(".chart")).every((c) => c.querySelector("svg path") !== null))
      expect(await page.locator("h1").textContent()).toBe(PROBE)
      expect(await page.locator("img").count()).toBe(0)
      const charts = await page.locator(".chart").count()
      expect(charts).toBe(Report.make({ name: PROBE, directions: ["minimize"] }, (await load(PROBE)).trials).plots.length)
      // The parameter's name is drawn as chart text (an SVG text node), not as markup.
      expect(await page.locator(".chart svg text", { hasText: PROBE }).count()).toBeGreaterThan(0)
      await page.screenshot({ path: path.join(dir, "probe.png"), fullPage: true })
      expect(problems).toEqual([])
    } finally {
      await browser.close()
    }
  })
})
