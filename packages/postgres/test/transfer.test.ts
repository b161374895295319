import { Storage } from "@tunekit/core"
import { Effect, Exit, Layer, Scope } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Transfer } from "@tunekit/transfer"
import { TransferConformance } from "@tunekit/transfer/testing"
import { Postgres, PostgresTransfer } from "../src/index.js"
import { Server } from "../src/testing/index.js"

let server: Server.Server
let admin: pg.Pool
beforeAll(async () => {
  server = await Server.start()
  admin = new pg.Pool({ connectionString: server.url, max: 2 })
  admin.on("error", () => undefined) // its idle connections are cut by the restart below
})
afterAll(async () => {
  await admin?.end()
  await server?.stop()
})

const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
let schemas = 0

/** A transfer database in a fresh schema, and how to drop it. */
const open = async (options: Omit<PostgresTransfer.Options, "url" | "schema"> & { readonly schema?: string } = {}) => {
  const schema = options.schema ?? `transfer_${process.pid}_${schemas++}`
  const scope = await run(Scope.make())
  const transfer = await run(Scope.extend(PostgresTransfer.make({ url: server.url, ...options, schema }), scope))
  return { schema, transfer, close: () => run(Scope.close(scope, Exit.void)) }
}

TransferConformance.suite("postgres", async () => {
  const db = await open()
  return {
    transfer: db.transfer,
    close: async () => {
      await db.close()
      await admin.query(`DROP SCHEMA ${db.schema} CASCADE`)
    }
  }
})

describe("PostgresTransfer", () => {
  it("versions its tables apart from the storage's, beside the storage's in one schema, and keeps them across connections", async () => {
    const schema = `shared_${process.pid}`
    const url = server.url
    const both = Layer.merge(Postgres.layer({ url, schema }), PostgresTransfer.layer({ url, schema }))
    await run(Effect.gen(function*() {
      yield* (yield* Storage.Storage).createStudy("s", { directions: ["minimize"] })
      yield* (yield* Transfer.Transfer).record(TransferConformance.record("t", "s", [1, 2], 5))
    }).pipe(Effect.provide(both)))
    const meta = await admin.query(`SELECT key, value FROM ${schema}.meta ORDER BY key`)
    expect(meta.rows).toEqual([{ key: "schema_version", value: "1" }, { key: "transfer_schema_version", value: "1" }])
    // opened again (its tables current: nothing migrated), the record is there
    const db = await open({ schema })
    expect(await run(db.transfer.studies("t"))).toEqual([TransferConformance.record("t", "s", [1, 2], 5)])
    expect(db.transfer.label).toBe(`${url} (schema ${schema})`)
    await db.close()
  })

  it("refuses tables written by a newer tunekit, naming both versions", async () => {
    const db = await open()
    await db.close()
    await admin.query(`UPDATE ${db.schema}.meta SET value = '7' WHERE key = 'transfer_schema_version'`)
    const e = await run(Effect.flip(Effect.scoped(PostgresTransfer.make({ url: server.url, schema: db.schema }))))
    expect(e._tag).toBe("TransferError")
    expect(e.message).toMatch(/has transfer schema version 7, written by a newer tunekit; this tunekit reads versions up to 1/)
  })

  it("reads a corrupt row as an error naming the task and the field", async () => {
    const db = await open()
    await run(db.transfer.record(TransferConformance.record("kept", "s", [1], 1)))
    await admin.query(`UPDATE ${db.schema}.transfer_studies SET trials = '[{"params":{},"value":"x","state":"Complete"}]'`)
    await admin.query(`UPDATE ${db.schema}.transfer_tasks SET meta_features = '{"logRows":"many"}'`)
    const e = await run(Effect.flip(db.transfer.studies("kept")))
    expect(e._tag).toBe("TransferError")
    expect(e.message).toMatch(/study s of task kept is corrupt: trials\[0\]\.value: expected a number/)
    expect((await run(Effect.flip(db.transfer.tasks))).message).toMatch(/task kept is corrupt: metaFeatures\["logRows"\]|task kept is corrupt: metaFeatures/)
    await db.close()
  })

  it("rides out a server restart", async () => {
    const db = await open()
    await run(db.transfer.saveTask({ name: "before" }))
    await server.restart()
    await run(db.transfer.record(TransferConformance.record("after", "s", [3], 1)))
    expect((await run(db.transfer.tasks)).map((t) => t.name)).toEqual(["after", "before"])
    await db.close()
  })

  it("never shows a password: a wrong one, or a URL that is not PostgreSQL's", async () => {
    const secret = "not-the-password-42"
    await admin.query(`CREATE ROLE tk_transfer LOGIN PASSWORD 'right-one'`)
    const hba = `${server.dir}/data/pg_hba.conf`
    fs.writeFileSync(hba, `host all tk_transfer 127.0.0.1/32 scram-sha-256\n${fs.readFileSync(hba, "utf8")}`)
    await admin.query("SELECT pg_reload_conf()")
    const url = `postgres://tk_transfer:${secret}@127.0.0.1:${server.port}/postgres`
    const e = await run(Effect.flip(Effect.scoped(PostgresTransfer.make(url))))
    expect(e._tag).toBe("TransferError")
    expect(e.message).toContain(`postgres://tk_transfer:***@127.0.0.1:${server.port}/postgres`)
    expect(e.message).toMatch(/password authentication failed/)
    for (const text of [e.message, JSON.stringify(e), String(e)]) expect(text).not.toContain(secret)
    const bad = await run(Effect.flip(Effect.scoped(PostgresTransfer.make(`mysql://root:${secret}@db/x`))))
    expect(bad.message).toMatch(/not a PostgreSQL connection string/)
    expect(bad.message).not.toContain(secret)
  })

  it("layerNamed: a URL is PostgreSQL, anything else an SQLite file", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-transfer-named-"))
    const file = path.join(dir, "tunekit.db")
    const labelOf = (where: string) => run(Effect.scoped(Effect.map(Layer.build(PostgresTransfer.layerNamed(where)), (c) => c.unsafeMap.get(Transfer.Transfer.key) as Transfer.TransferService)).pipe(Effect.map((s) => s.label)))
    expect(await labelOf(file)).toBe(`sqlite:${file}`)
    expect(fs.existsSync(file)).toBe(true)
    expect(await labelOf(server.url)).toBe(`${server.url} (schema tunekit)`)
    fs.rmSync(dir, { recursive: true, force: true })
  })
})
