import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Server } from "@tunekit/postgres/testing"

describe("the throwaway PostgreSQL server", () => {
  let server: Server.Server
  beforeAll(async () => {
    server = await Server.start()
  })
  afterAll(() => server?.stop())

  it("answers queries, keeps its data across a restart, and serves extra databases", async () => {
    const client = new pg.Client({ connectionString: server.url })
    await client.connect()
    await client.query("CREATE TABLE t (x int)")
    await client.query("INSERT INTO t VALUES (42)")
    await client.end()
    await server.restart()
    const again = new pg.Client({ connectionString: server.url })
    await again.connect()
    const { rows } = await again.query("SELECT x FROM t")
    await again.end()
    expect(rows).toEqual([{ x: 42 }])
    const other = new pg.Client({ connectionString: await server.createDatabase("other") })
    await other.connect()
    const { rows: db } = await other.query("SELECT current_database() AS name")
    await other.end()
    expect(db).toEqual([{ name: "other" }])
  })

  it("does not outlive a process killed without stopping it", async () => {
    // A child starts a server, prints its folder and port, and kills itself with SIGKILL.
    const script = `import("@tunekit/postgres/testing").then(async ({ Server }) => {
      const s = await Server.start(); console.log(JSON.stringify({ dir: s.dir, url: s.url })); process.kill(process.pid, "SIGKILL") })`
    let out = ""
    try {
      out = execFileSync(process.execPath, ["-e", script], { encoding: "utf8", cwd: process.cwd() })
    } catch (e) {
      out = String((e as { stdout?: unknown }).stdout ?? "")
    }
    const { dir, url } = JSON.parse(out.trim()) as { dir: string; url: string }
    const refused = async () => {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 })
      try {
        await client.connect()
        await client.end()
        return false
      } catch {
        return true
      }
    }
    const until = Date.now() + 15_000
    while (Date.now() < until && (fs.existsSync(dir) || !(await refused()))) await new Promise((r) => setTimeout(r, 200))
    expect(fs.existsSync(dir)).toBe(false)
    expect(await refused()).toBe(true)
  }, 30_000)
})
