import Database from "better-sqlite3"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { Transfer } from "../src/index.js"
import { TransferConformance } from "../src/testing/index.js"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-transfer-db-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
const rec = TransferConformance.record

// Every layer of the Transfer service runs the conformance suite (PostgreSQL's: packages/postgres/test/transfer.test.ts).
TransferConformance.suite("memory", async () => ({ transfer: Transfer.makeMemory(), close: async () => {} }))
TransferConformance.suite("sqlite", async () => {
  const scope = Effect.runSync(Scope.make())
  const transfer = await Effect.runPromise(Scope.extend(Effect.map(Layer.build(Transfer.layerSqlite(path.join(dir, `t-${Math.random().toString(36).slice(2)}.db`))), Context.get(Transfer.Transfer)), scope))
  return { transfer, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
})

describe("Transfer.layerSqlite", () => {
  it("keeps tasks and studies across connections, and reads a corrupt row as an error naming the field", async () => {
    const file = path.join(dir, "persist.db")
    await Effect.runPromise(Effect.flatMap(Transfer.Transfer, (db) => db.record(rec("kept", "s", [1, 2], 5))).pipe(Effect.provide(Transfer.layerSqlite(file))))
    const studies = await Effect.runPromise(Effect.flatMap(Transfer.Transfer, (db) => db.studies("kept")).pipe(Effect.provide(Transfer.layerSqlite(file))))
    expect(studies).toEqual([rec("kept", "s", [1, 2], 5)])
    const raw = new Database(file)
    raw.prepare(`UPDATE transfer_studies SET trials = '[{"params":{},"value":"x","state":"Complete"}]'`).run()
    raw.close()
    const err = await Effect.runPromise(Effect.flip(Effect.flatMap(Transfer.Transfer, (db) => db.studies("kept")).pipe(Effect.provide(Transfer.layerSqlite(file)))))
    expect(err._tag).toBe("TransferError")
    expect(err.message).toMatch(/study s of task kept is corrupt: trials\[0\]\.value: expected a number/)
  })

  it("refuses an empty path", async () => {
    const err = await Effect.runPromise(Effect.flip(Effect.scoped(Layer.build(Transfer.layerSqlite("")))))
    expect(err.message).toContain("the database path is empty")
  })
})
