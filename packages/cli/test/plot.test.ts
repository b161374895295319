// `tunekit plot KIND STUDY` and `tunekit report STUDY` on a real SQLite study: the files they
// write (SVG, PNG through rsvg-convert, HTML), what they print, and their errors as one line.
import { Effect } from "effect"
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Space, Study } from "@tunekit/core"
import { Cli } from "../src/index.js"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-cli-plot-"))
const file = path.join(dir, "t.db")
const out = (name: string) => path.join(dir, name)
const run = (...args: Array<string>) => Effect.runPromise(Cli.run([...args, "--storage", file]))
const fail = (...args: Array<string>) => Effect.runPromise(Effect.flip(Cli.run([...args, "--storage", file])))

beforeAll(async () => {
  const layer = Study.layerDefaults({ seed: 5, storage: file })
  await Effect.runPromise(Effect.scoped(Effect.provide(Study.optimize({
    study: "demo",
    space: Space.struct({ lr: Space.float(1e-4, 1e-1, { log: true }), units: Space.int(8, 64), act: Space.categorical(["relu", "tanh"]) }),
    metric: "loss",
    objective: async (c, t) => {
      let loss = 0
      for (let step = 1; step <= 4; step++) {
        loss = (Math.log10(c.lr) + 2) ** 2 + c.units / 100 + (c.act === "relu" ? 0 : 0.2) + 1 / step
        await t.report({ step, values: { loss } })
      }
      return loss
    },
    trials: 12
  }), layer)))
  await Effect.runPromise(Effect.scoped(Effect.provide(Study.optimize({
    study: "other",
    space: Space.struct({ lr: Space.float(1e-4, 1e-1, { log: true }) }),
    metric: "loss",
    objective: (c) => (Math.log10(c.lr) + 2) ** 2,
    trials: 6
  }), layer)))
}, 60_000)

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe("tunekit plot", () => {
  it("writes SVG, PNG and HTML by the file's extension, and says what it wrote", async () => {
    const svg = out("history.svg")
    const text = await run("plot", "history", "demo", "--out", svg)
    expect(text).toMatch(new RegExp(`^wrote history of "demo" \\(12 trials\\) to ${svg.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} \\(\\d+\\.\\d kB\\)$`))
    expect(fs.readFileSync(svg, "utf8")).toMatch(/^<svg [^>]*width="900" height="500"/)

    const png = out("parallel.png")
    await run("plot", "parallel-coordinates", "demo", "--out", png)
    const bytes = fs.readFileSync(png)
    expect(bytes.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a")
    expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([900, 500])

    const html = out("importance.html")
    await run("plot", "importance", "demo", "--out", html, "--method", "ped-anova")
    const page = fs.readFileSync(html, "utf8")
    expect(page.startsWith("<!doctype html>")).toBe(true)
    expect(page).toContain("Parameter importance (PED-ANOVA)")
  })

  it("takes the parameters, the studies to compare and the rungs", async () => {
    await run("plot", "slice", "demo", "--params", "lr,units", "--out", out("slice.svg"))
    const slice = fs.readFileSync(out("slice.svg"), "utf8")
    expect(slice).toContain(">units</text>")
    expect(slice).not.toContain(">act</text>")
    expect(await run("plot", "edf", "demo", "--compare", "other", "--out", out("edf.svg"))).toMatch(/^wrote edf of "demo" \(12 trials\) and "other" \(6\) to /)
    expect(await run("plot", "rungs", "demo", "--rungs", "1,2", "--out", out("rungs.svg"))).toMatch(/^wrote rungs of "demo"/)
  })

  it("writes KIND.svg in the current folder by default", async () => {
    const cwd = process.cwd()
    const here = fs.mkdtempSync(path.join(dir, "cwd-"))
    process.chdir(here)
    try {
      await run("plot", "timeline", "demo")
      expect(fs.readdirSync(here)).toEqual(["timeline.svg"])
    } finally {
      process.chdir(cwd)
    }
  })

  it("says in one line why it cannot", async () => {
    expect((await fail("plot", "paralel", "demo")).message).toMatch(/^unknown plot "paralel" \(did you mean parallel-coordinates\?\); the plots: history, /)
    expect((await fail("plot", "history", "nope", "--out", out("x.svg"))).message).toBe('no study named "nope" in this storage')
    expect((await fail("plot", "history", "demo", "--out", out("x.gif"))).message).toBe(`cannot write ${out("x.gif")}: its extension names no format written here; use .svg, .png or .html`)
    expect((await fail("plot", "pareto-front", "demo", "--out", out("x.svg"))).message).toBe(
      'pareto-front does not apply to study "demo": it has 1 objective, and a Pareto front shows 2 or 3; plots that apply: history, importance, parallel-coordinates, contour, slice, rank, edf, intermediate, timeline'
    )
    expect((await fail("plot", "rungs", "demo")).message).toMatch(/the study has no record of a rung scheduler .*, and no rung resources were given \(--rungs 1,3,9/)
    expect((await fail("plot", "rungs", "demo", "--rungs", "3,1")).message).toBe('--rungs: expected increasing positive numbers, comma-separated (1,3,9), got "3,1" (see tunekit plot --help)')
    expect((await fail("plot", "slice", "demo", "--params", "lr,,act")).message).toContain("--params: expected comma-separated parameter names")
    expect((await fail("plot", "slice", "demo", "--params", "depth")).message).toBe('slice: no trial has the parameter "depth" (its parameters: act, lr, units)')
    const absent = await Effect.runPromise(Effect.flip(Cli.run(["plot", "history", "demo", "--storage", out("absent.db")])))
    expect(absent.message).toBe(`no tunekit storage at ${out("absent.db")} (run a study first, or pass --storage FILE)`)
    expect(fs.readdirSync(dir).filter((f) => f.startsWith("x."))).toEqual([])
  })
})

describe("tunekit report", () => {
  it("writes one HTML file with every plot that applies, and lists the others with why", async () => {
    const report = out("report.html")
    const text = await run("report", "demo", "--out", report)
    const [first, plots, ...skipped] = text.split("\n")
    expect(first).toMatch(new RegExp(`^wrote the report of "demo" \\(12 trials\\) to .*report\\.html \\(\\d\\.\\d\\d MB\\)$`))
    expect(plots).toBe("  plots: history, importance, parallel-coordinates, contour, slice, rank, edf, intermediate, timeline")
    expect(skipped.map((l) => l.split(":")[1].trim())).toEqual(["rungs", "lineage", "folds", "pareto-front"])
    const html = fs.readFileSync(report, "utf8")
    expect(html.match(/<div class="chart" id="tk-plot-\d+"/g)).toHaveLength(9)
    expect(html).not.toMatch(/<script[^>]*\bsrc=|<link\b/i)
    expect((await fail("report", "demo", "--out", out("report.pdf"))).message).toMatch(/use \.html$/)
  })

  it("runs from the compiled package, outside the repository (ECharts found from the built files)", () => {
    const launcher = path.join(path.dirname(fileURLToPath(import.meta.url)), "../bin/tunekit.js")
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-cli-report-"))
    try {
      const text = execFileSync(process.execPath, [launcher, "report", "demo", "--storage", file, "--out", "r.html"], { cwd: elsewhere, encoding: "utf8" })
      expect(text).toMatch(/^wrote the report of "demo"/)
      expect(fs.readFileSync(path.join(elsewhere, "r.html"), "utf8")).toMatch(/<script>[\s\S]{1000000,}?<\/script>/)
      const bad = spawnSync(process.execPath, [launcher, "plot", "lineage", "demo", "--storage", file], { cwd: elsewhere, encoding: "utf8" })
      expect(bad.status).toBe(1)
      expect(bad.stderr).toMatch(/^tunekit: lineage does not apply to study "demo": no trial has a PBT lineage .*\n$/)
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true })
    }
  })
})
