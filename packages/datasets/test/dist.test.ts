import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { expect, it } from "vitest"

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

// The loaders find their data relative to their own module, so the built package works from any
// working directory (here: the system's temporary folder), as it will once installed from npm.
it("the built package loads every dataset and trains from dist/, outside the repository", () => {
  const root = path.resolve(pkg, "../..")
  if (!fs.existsSync(path.join(pkg, "dist/index.js"))) {
    execFileSync("npx", ["tsc", "-b", "packages/datasets"], { cwd: root, stdio: "inherit" })
  }
  const script = `
    const m = await import(${JSON.stringify(path.join(pkg, "dist/index.js"))})
    const sizes = [m.BreastCancer, m.Wine, m.Iris, m.Digits, m.Diabetes].map((l) => l.load().x.length)
    sizes.push(m.Sunspots.load().values.length, m.Co2.load().values.length, m.SpamAssassin.load({ maxChars: 100 }).texts.length)
    const { train, test } = m.Split.holdout(m.Wine.load(), { seed: 1, stratify: true })
    const boost = await m.Boosting.score(train, test, { nEstimators: 10 })
    console.log(JSON.stringify({ sizes, boost, dataFile: m.Iris.load().name }))
  `
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: fs.realpathSync(process.env.TMPDIR ?? "/tmp"), encoding: "utf8" })
  const result = JSON.parse(out.trim().split("\n").at(-1)!)
  expect(result.sizes).toEqual([569, 178, 150, 1797, 442, 309, 2284, 6046])
  expect(result.boost).toBeGreaterThan(0.8)
})
