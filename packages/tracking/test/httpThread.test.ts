import { Duration, Effect, Either } from "effect"
import { execFile } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { exchange, target } from "../src/internal/httpThread.js"
import { freePort, serve } from "./_mlflow.js"

// A server that answers after the delay a request's path asks for (/wait/MS), and records the
// requests whose connection closed before it answered.
let server: Awaited<ReturnType<typeof serve>>
let url: string
const aborted: Array<string> = []
beforeAll(async () => {
  server = await serve((req, res) => {
    let body = ""
    req.on("data", (c) => (body += c))
    const ms = Number(/\/wait\/(\d+)/.exec(req.url ?? "")?.[1] ?? 0)
    const timer = setTimeout(() => res.end(JSON.stringify({ path: req.url, method: req.method, body })), ms)
    res.on("close", () => {
      if (!res.writableFinished) {
        clearTimeout(timer)
        aborted.push(req.url ?? "")
      }
    })
  })
  url = server.url
})
afterAll(() => server.close())

describe("HTTP exchanges on their own thread", () => {
  it("sends the method, path and body, and returns the status and the answer", async () => {
    const r = await Effect.runPromise(exchange(target(`${url}/base/`), "POST", "/wait/0?x=1", { "content-type": "application/json" }, "{\"a\":1}", 5000))
    expect(r.status).toBe(200)
    expect(JSON.parse(r.text)).toEqual({ path: "/base/wait/0?x=1", method: "POST", body: "{\"a\":1}" })
  })

  it("many at once, each answer to its request", async () => {
    const rs = await Effect.runPromise(
      Effect.forEach(Array.from({ length: 20 }, (_, i) => i), (i) => exchange(target(url), "PUT", `/wait/${(i * 7) % 30}/${i}`, {}, String(i), 5000), {
        concurrency: "unbounded"
      })
    )
    expect(rs.map((r) => JSON.parse(r.text).body)).toEqual(Array.from({ length: 20 }, (_, i) => String(i)))
  })

  it("a refused connection fails with its code; no answer in time fails as a timeout", async () => {
    const down = await freePort()
    const refused = await Effect.runPromise(Effect.either(exchange(target(`http://127.0.0.1:${down}`), "GET", "/", {}, undefined, 5000)))
    expect(Either.isLeft(refused) && refused.left.message).toMatch(/ECONNREFUSED/)
    const late = await Effect.runPromise(Effect.either(exchange(target(url), "GET", "/wait/2000/late", {}, undefined, 100)))
    expect(Either.isLeft(late) && late.left.name).toBe("TimeoutError")
  })

  it("interrupting a request cancels it: the server sees its connection close before it answered", async () => {
    const r = await Effect.runPromise(Effect.either(Effect.timeout(exchange(target(url), "GET", "/wait/3000/cancelled", {}, undefined, 10_000), Duration.millis(100))))
    expect(Either.isLeft(r)).toBe(true)
    await Effect.runPromise(Effect.sleep(200))
    expect(aborted).toContain("/wait/3000/cancelled")
  })

  it("keeps the process alive while a request waits for its answer, and not after", async () => {
    // A process whose only work is one request: it must print the answer, then exit by itself.
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")
    const script = `
      import { Effect } from "effect"
      import { exchange, target } from "./packages/tracking/src/internal/httpThread.ts"
      Effect.runPromise(exchange(target(${JSON.stringify(url)}), "GET", "/wait/1500/alive", {}, undefined, 5000)).then((r) => console.log("answer", r.status))
    `
    // (not execFileSync: this process's server must answer meanwhile)
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: root, encoding: "utf8", timeout: 20_000 }, (e, stdout) =>
        e ? reject(e) : resolve(stdout))
    )
    expect(out.trim()).toBe("answer 200")
  })
})
