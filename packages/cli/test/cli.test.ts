import { Effect } from "effect"
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { beforeAll, describe, expect, it } from "vitest"
import { Space, Study } from "@tunekit/core"
import { Cli } from "../src/index.js"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-cli-"))
const file = path.join(dir, "t.db")
const run = (...args: Array<string>) => Effect.runPromise(Cli.run([...args, "--storage", file]))
const fail = (...args: Array<string>) => Effect.runPromise(Effect.flip(Cli.run(args)))

beforeAll(async () => {
  const space = Space.struct({ lr: Space.float(1e-4, 1e-1, { log: true }), act: Space.categorical(["relu", "tanh"]) })
  const layer = Study.layerDefaults({ seed: 3, storage: file })
  await Effect.runPromise(Effect.scoped(Effect.provide(Study.optimize({
    study: "demo",
    space,
    objective: (c, t) => (t.number === 2 ? NaN : Math.log10(c.lr) ** 2 + (c.act === "relu" ? 0 : 1)),
    trials: 6
  }), layer)))
  await Effect.runPromise(Effect.scoped(Effect.provide(Study.optimize({
    study: "two",
    space: Space.struct({ x: Space.float(0, 1) }),
    directions: ["minimize", "maximize"],
    objective: (c) => [c.x, c.x * c.x],
    trials: 4
  }), layer)))
})

describe("tunekit CLI", () => {
  it("lists studies as a table and as JSON", async () => {
    const text = await run("studies")
    expect(text.split("\n")[0]).toMatch(/^study\s+directions\s+trials\s+complete\s+best\s+created$/)
    expect(text).toMatch(/demo\s+minimize\s+6\s+5/)
    const json = JSON.parse(await run("studies", "--json"))
    expect(json.map((s: { name: string }) => s.name)).toEqual(["demo", "two"])
    expect(json[1].directions).toEqual(["minimize", "maximize"])
  })

  it("lists trials with state, rank, params and the failure reason", async () => {
    const text = await run("trials", "demo")
    const lines = text.split("\n")
    expect(lines.length).toBe(2 + 6)
    expect(lines[2 + 2]).toMatch(/^2\s+Failed\s+-\s+-/)
    expect(lines[2 + 2]).toContain("the objective returned NaN")
    const json = JSON.parse(await run("trials", "demo", "--json"))
    expect(json.filter((r: { rank: number | null }) => r.rank === 1).length).toBe(1)
    expect(Object.keys(json[0].params).sort()).toEqual(["act", "lr"])
  })

  it("shows the best trial, or the Pareto front for several objectives", async () => {
    const rows = JSON.parse(await run("trials", "demo", "--json"))
    const best = rows.find((r: { rank: number | null }) => r.rank === 1)
    const shown = JSON.parse(await run("best", "demo", "--json"))
    expect(shown[0].number).toBe(best.number)
    expect(await run("best", "demo")).toContain(`best trial of "demo" (minimize)`)
    expect(await run("best", "two")).toContain(`Pareto front of "two"`)
  })

  it("exports CSV and JSON", async () => {
    const csv = await run("export", "demo", "--format", "csv")
    const [header, ...lines] = csv.split("\n")
    expect(header).toBe("number,state,params_lr,params_act,value,rank,duration_s,reason")
    expect(lines.length).toBe(6)
    const json = JSON.parse(await run("export", "demo", "--format", "json"))
    expect(json.length).toBe(6)
    const out = path.join(dir, "out.csv")
    expect(await run("export", "demo", "--format", "csv", "--output", out)).toBe(`wrote 6 trials to ${out}`)
    expect(fs.readFileSync(out, "utf8").trimEnd()).toBe(csv)
  })

  it("exports the cross-validation table of a study that reports folds as steps", async () => {
    const layer = Study.layerDefaults({ seed: 1, storage: file })
    await Effect.runPromise(Effect.scoped(Effect.provide(Study.optimize({
      study: "cv",
      space: Space.struct({ depth: Space.int(1, 3) }),
      metric: "score",
      direction: "maximize",
      objective: async (c, t) => {
        const folds = [0.5, 0.6, 0.7].map((s) => s + c.depth / 10)
        for (const [i, s] of folds.entries()) await t.report({ step: i, values: { score: s } })
        return folds.reduce((a, b) => a + b) / 3
      },
      trials: 2
    }), layer)))
    const [header, first] = (await run("export", "cv", "--format", "cv")).split("\n")
    expect(header).toBe("number,state,param_depth,split0_test_score,split1_test_score,split2_test_score,mean_test_score,std_test_score,rank_test_score")
    const cells = first.split(",")
    const depth = Number(cells[2])
    expect(Number(cells[6])).toBeCloseTo(0.6 + depth / 10, 12)
    expect(Number(cells[7])).toBeCloseTo(Math.sqrt(2 / 300), 12)
  })

  it("says clearly what is missing", async () => {
    expect((await Effect.runPromise(Effect.flip(Cli.run(["trials", "nope", "--storage", file])))).message).toBe('no study named "nope" in this storage')
    const missing = await fail("studies", "--storage", path.join(dir, "absent.db"))
    expect(missing._tag).toBe("MissingStorage")
    expect(missing.message).toContain("absent.db")
    expect(fs.existsSync(path.join(dir, "absent.db"))).toBe(false)
    expect((await fail("trials", "--storage", file))._tag).toBe("UsageError")
    expect((await fail("export", "demo", "--storage", file, "--format", "xml")).message).toContain("csv, json or cv, not xml")
    expect((await fail("frobnicate", "--storage", file)).message).toContain("unknown command frobnicate")
  })

  it("runs as an executable with exit codes", () => {
    const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), "../src/bin.ts")
    const args = ["--conditions=source", "--import", "tsx", bin]
    expect(execFileSync(process.execPath, [...args, "best", "demo", "--storage", file], { encoding: "utf8" })).toContain("best trial")
    const bad = spawnSync(process.execPath, [...args, "trials", "nope", "--storage", file], { encoding: "utf8" })
    expect(bad.status).toBe(1)
    expect(bad.stderr).toBe('tunekit: no study named "nope" in this storage\n')
    expect(spawnSync(process.execPath, [...args, "what"], { encoding: "utf8" }).status).toBe(2)
  })

  it("the installed launcher runs the compiled CLI (npm test builds it first)", () => {
    const launcher = path.join(path.dirname(fileURLToPath(import.meta.url)), "../bin/tunekit.js")
    expect(execFileSync(process.execPath, [launcher, "studies", "--storage", file], { encoding: "utf8" })).toMatch(/^study\s+directions/)
  })
})
