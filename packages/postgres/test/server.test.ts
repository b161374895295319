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
})
