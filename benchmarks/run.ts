// `npm run bench -- NAME [args]`: runs benchmarks/NAME.ts, which exports `main(args)`.
// Each benchmark prints JSON lines on stdout (for machines) and a table on stderr (for people).
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
const [name, ...args] = process.argv.slice(2)
const available = fs
  .readdirSync(here)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts" && !f.startsWith("_"))
  .map((f) => f.slice(0, -3))
if (name === undefined || !available.includes(name)) {
  console.error(`usage: npm run bench -- NAME [options]\nbenchmarks: ${available.join(", ")}`)
  process.exit(name === undefined ? 0 : 2)
}
const mod = (await import(path.join(here, `${name}.ts`))) as { main: (args: ReadonlyArray<string>) => Promise<void> }
await mod.main(args)
