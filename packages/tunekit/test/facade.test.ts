import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, expectTypeOf, it } from "vitest"
import { optimize, Space, TunekitError } from "../src/index.js"

describe("tunekit.optimize", () => {
  const space = Space.struct({ x: Space.float(-5, 5), kind: Space.categorical(["a", "b"]) })

  it("runs a study from plain async code and gives typed configs", async () => {
    const result = await optimize({
      study: "facade",
      space,
      objective: async ({ x, kind }) => (x - 1) ** 2 + (kind === "a" ? 0 : 1),
      trials: 30,
      seed: 5
    })
    expect(result.trials.length).toBe(30)
    expectTypeOf(result.best!.config).toEqualTypeOf<{ readonly x: number; readonly kind: "a" | "b" }>()
    const best = result.best!
    expect(best.value).toBeCloseTo((best.config.x - 1) ** 2 + (best.config.kind === "a" ? 0 : 1), 12)
    expect(best.value).toBe(Math.min(...result.trials.map((t) => t.value!)))
  })

  it("is reproducible for a seed and stores in SQLite", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-facade-"))
    const storage = path.join(dir, "f.db")
    const a = await optimize({ study: "s", space, objective: ({ x }) => x, trials: 5, seed: 9, storage })
    const b = await optimize({ study: "s2", space, objective: ({ x }) => x, trials: 5, seed: 9 })
    // the seed derives per-study generators from the study's name; same name, same configs
    const c = await optimize({ study: "s", space, objective: ({ x }) => x, trials: 5, seed: 9 })
    expect(c.trials.map((t) => t.config)).toEqual(a.trials.map((t) => t.config))
    expect(b.trials.map((t) => t.config)).not.toEqual(a.trials.map((t) => t.config))
    expect(fs.statSync(storage).size).toBeGreaterThan(0)
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("rejects with a TunekitError naming the problem", async () => {
    const e = await optimize({ study: "bad", space: Space.struct({ lr: Space.float(0, 1, { log: true }) }), objective: () => 1 }).catch((e) => e)
    expect(e).toBeInstanceOf(TunekitError)
    expect(e.message).toBe("lr: a log scale needs low > 0, got low = 0")
    expect((e.cause as { _tag: string })._tag).toBe("InvalidSpace")
  })
})
