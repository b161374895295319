#!/usr/bin/env node
// The `tunekit` executable: a committed launcher (so that npm can link it at install time) for the
// compiled CLI in dist/, which `npm run build` (or `npm start`) produces.
import { existsSync } from "node:fs"

const compiled = new URL("../dist/bin.js", import.meta.url)
if (!existsSync(compiled)) {
  process.stderr.write("tunekit: the CLI is not built yet; run `npm run build` in the repository first\n")
  process.exit(1)
}
await import(compiled.href)
