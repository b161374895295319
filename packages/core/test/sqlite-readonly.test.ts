// SQLite storage opened read-only (what the `tunekit` reading commands use), and the empty path.
import Database from "better-sqlite3"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { Storage, Study } from "../src/index.js"
import { makeSqlite } from "../src/internal/sqliteStorage.js"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-readonly-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe("SQLite storage, read-only", () => {
  it("reads what a writer stores, while the writer has the file open, and refuses to write", async () => {
    const file = path.join(dir, "shared.db")
    const writer = await Effect.runPromise(makeSqlite(file))
    const st = await Effect.runPromise(writer.createStudy("s", { directions: ["minimize"] }))
    const t = await Effect.runPromise(writer.createTrial(st.id, { state: "Running" }))
    await Effect.runPromise(writer.finishTrial(t.id, { state: "Complete", values: [2] }))

    const reader = await Effect.runPromise(makeSqlite(file, { readonly: true }))
    const info = await Effect.runPromise(reader.getStudy("s"))
    expect((await Effect.runPromise(reader.getTrials(info.id))).map((x) => x.values)).toEqual([[2]])
    // a later write by the writer is seen by the open reader
    const t2 = await Effect.runPromise(writer.createTrial(st.id, { state: "Running" }))
    await Effect.runPromise(writer.finishTrial(t2.id, { state: "Complete", values: [1] }))
    expect((await Effect.runPromise(reader.getTrials(info.id))).map((x) => x.values)).toEqual([[2], [1]])

    const refused = await Effect.runPromise(Effect.flip(reader.createStudy("other", { directions: ["minimize"] })))
    expect(refused._tag).toBe("StorageError")
    expect(refused.message).toMatch(/readonly/)
    await Effect.runPromise(reader.close)
    await Effect.runPromise(writer.close)
  })

  it("does not create a missing file", async () => {
    const file = path.join(dir, "absent.db")
    const e = await Effect.runPromise(Effect.flip(makeSqlite(file, { readonly: true })))
    expect(e.message).toBe(`storage open failed: cannot open SQLite database ${file}: the file does not exist`)
    expect(fs.existsSync(file)).toBe(false)
  })

  it("says so when the file is an SQLite database of something else", async () => {
    const file = path.join(dir, "other.db")
    const db = new Database(file)
    db.exec("CREATE TABLE notes (body TEXT)")
    db.close()
    const e = await Effect.runPromise(Effect.flip(makeSqlite(file, { readonly: true })))
    expect(e.message).toContain("it is not a tunekit database")
  })
})

describe("SQLite storage path", () => {
  it("an empty path is an error, not a temporary database", async () => {
    for (const p of ["", "  "]) {
      const e = await Effect.runPromise(Effect.flip(Effect.provide(Effect.void, Storage.layerSqlite(p))))
      expect(e._tag).toBe("StorageError")
      expect(e.message).toBe('storage open failed: the SQLite file name is empty; give a path (or ":memory:" for a database in this process only)')
    }
  })

  it("a postgres:// URL is an error naming the PostgreSQL layer, and no file is made", async () => {
    const e = await Effect.runPromise(Effect.flip(Effect.provide(Effect.void, Study.layerDefaults({ storage: "postgresql://u:secret@db:5432/hpo" }))))
    expect(e._tag).toBe("StorageError")
    expect(e.message).toContain("open it with Postgres.layer(url) from @tunekit/postgres")
    expect(e.message).not.toContain("secret")
    expect(fs.existsSync("postgresql:")).toBe(false)
  })
})
