import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { expect, it } from "vitest"
import { Cli } from "@tunekit/cli"
import { main } from "../examples/random-forest.js"

it("the random-forest example tunes a forest on breast cancer and the CLI lists its study", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-forest-"))
  const storage = path.join(dir, "q.db")
  const { best, trials, text } = await Effect.runPromise(main({ trials: 3, storage, progress: false }))
  expect(trials.length).toBe(3)
  expect(trials.every((t) => t.state === "Complete")).toBe(true)
  // a random forest on this data is far above the majority class (63%)
  expect(best.values![0]).toBeGreaterThan(0.9)
  expect(text).toContain(`npx tunekit trials random-forest --storage ${storage}`)
  const listed = await Effect.runPromise(Cli.run(["trials", "random-forest", "--storage", storage]))
  expect(listed.split("\n").length).toBe(2 + 3)
  fs.rmSync(dir, { recursive: true, force: true })
})
