// `tunekit dashboard`: the command serves the storage read-only until Ctrl-C, printing its address
// (with the token it made up when bound beyond the loopback); bad flags are usage errors.
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { Storage } from "@tunekit/core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Cli } from "../src/index.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..")
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-cli-dashboard-"))
const file = path.join(dir, "studies.db")

beforeAll(async () => {
  await Effect.runPromise(
    Effect.scoped(Effect.gen(function*() {
      const s = yield* Storage.Storage
      const study = yield* s.createStudy("demo", { directions: ["minimize"] })
      const t = yield* s.createTrial(study.id, { state: "Running" })
      yield* s.finishTrial(t.id, { state: "Complete", values: [0.5] })
    })).pipe(Effect.provide(Storage.layerSqlite(file)))
  )
})
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

/** Starts `tunekit dashboard ARGS`, waits for its address, and gives a way to stop it with SIGINT. */
const start = async (args: ReadonlyArray<string>) => {
  const child = spawn(process.execPath, ["--import", "tsx", "--conditions=source", path.join(root, "packages/cli/src/bin.ts"), "dashboard", ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"]
  })
  let out = ""
  let err = ""
  child.stdout.on("data", (c) => (out += c))
  child.stderr.on("data", (c) => (err += c))
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)))
  const deadline = Date.now() + 30_000
  while (!/http:\/\/\S+/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the dashboard did not start: ${out} ${err}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  const url = out.match(/http:\/\/\S+/)![0]
  return {
    url,
    out: () => out,
    err: () => err,
    stop: async () => {
      child.kill("SIGINT")
      return exited
    }
  }
}

describe("tunekit dashboard", () => {
  it("serves the storage read-only on the loopback until interrupted", async () => {
    const d = await start(["--storage", file, "--port", "0"])
    expect(d.out()).toMatch(/^tunekit dashboard of .*studies\.db \(read-only\): http:\/\/127\.0\.0\.1:\d+\/\n/)
    const studies = await (await fetch(`${d.url}api/studies`)).json()
    expect(studies.studies.map((s: { name: string; trials: number }) => [s.name, s.trials])).toEqual([["demo", 1]])
    const write = await fetch(`${d.url}api/study/demo/notes`, { method: "POST", headers: { "content-type": "application/json" }, body: "{\"text\":\"x\"}" })
    expect(write.status).toBe(403)
    expect(await d.stop()).toBe(130)
  }, 60_000)

  it("bound beyond the loopback, prints the token it made up and requires it", async () => {
    const d = await start(["--storage", file, "--port", "0", "--host", "0.0.0.0", "--allow-write"])
    expect(d.out()).toMatch(/\(read-write\): http:\/\/\S+:\d+\/\?token=[\w-]+\n  its token: [\w-]+ \(give --token to choose one\)/)
    const url = new URL(d.url)
    const local = `http://127.0.0.1:${url.port}`
    expect((await fetch(`${local}/api/studies`)).status).toBe(401)
    expect((await fetch(`${local}/api/studies?token=${url.searchParams.get("token")}`)).status).toBe(200)
    expect(await d.stop()).toBe(130)
  }, 60_000)

  it("refuses bad flags, and says when the storage is missing", async () => {
    const bad = await Effect.runPromise(Effect.flip(Cli.run(["dashboard", "--port", "70000"])))
    expect(bad.message).toMatch(/--port: expected a port from 0 to 65535, got 70000/)
    const unknown = await Effect.runPromise(Effect.flip(Cli.run(["dashboard", "--allow-writes"])))
    expect(unknown.message).toMatch(/unknown option --allow-writes \(did you mean --allow-write\?\)/)
    expect(await Effect.runPromise(Cli.run(["dashboard", "--storage", path.join(dir, "absent.db")]))).toMatch(/no tunekit storage at/)
  })
})
