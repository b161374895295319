import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { makeMemory } from "../src/internal/memoryStorage.js"
import { makeSqlite } from "../src/internal/sqliteStorage.js"
import { StorageConformance } from "../src/testing/index.js"

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-storage-"))

StorageConformance.suite("memory", async () => ({ storage: makeMemory(), close: async () => {} }))

StorageConformance.suite("sqlite", async () => {
  const dir = tmp()
  const storage = await Effect.runPromise(makeSqlite(path.join(dir, "t.db")))
  return {
    storage,
    close: async () => {
      await Effect.runPromise(storage.close)
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
})

describe("SQLite storage", () => {
  it("shares a study between two connections to one file", async () => {
    const dir = tmp()
    const file = path.join(dir, "t.db")
    const a = await Effect.runPromise(makeSqlite(file))
    const b = await Effect.runPromise(makeSqlite(file))
    const st = await Effect.runPromise(a.createStudy("s", { directions: ["minimize"] }))
    await Effect.runPromise(b.getTrials(st.id)) // warm b's cache
    const t = await Effect.runPromise(a.createTrial(st.id, { state: "Running" }))
    await Effect.runPromise(a.finishTrial(t.id, { state: "Complete", values: [1] }))
    const seen = await Effect.runPromise(b.getTrials(st.id))
    expect(seen.map((x) => [x.number, x.state, x.values])).toEqual([[0, "Complete", [1]]])
    const t2 = await Effect.runPromise(b.createTrial(st.id, { state: "Running" }))
    expect(t2.number).toBe(1)
    await Effect.runPromise(a.close)
    await Effect.runPromise(b.close)
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("fails with a clear StorageError on a corrupt file", async () => {
    const dir = tmp()
    const file = path.join(dir, "bad.db")
    fs.writeFileSync(file, "this is not an sqlite database, just text that fills the header page ".repeat(100))
    const e = await Effect.runPromise(Effect.flip(makeSqlite(file)))
    expect(e._tag).toBe("StorageError")
    expect(e.message).toContain(file)
    expect(e.message).toMatch(/not a database/)
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("fails with a clear StorageError on a path in a missing folder", async () => {
    const e = await Effect.runPromise(Effect.flip(makeSqlite("/nonexistent-tunekit-dir/sub/t.db")))
    expect(e._tag).toBe("StorageError")
    expect(e.message).toContain("does not exist")
  })

  it("fails with a clear StorageError on an unwritable file", async () => {
    if (process.getuid?.() === 0) {
      // root ignores file modes; a directory in place of the file is unwritable for everyone
      const dir = tmp()
      const e = await Effect.runPromise(Effect.flip(makeSqlite(dir)))
      expect(e._tag).toBe("StorageError")
      expect(e.message).toContain(dir)
      fs.rmSync(dir, { recursive: true, force: true })
      return
    }
    const dir = tmp()
    fs.chmodSync(dir, 0o500)
    const e = await Effect.runPromise(Effect.flip(makeSqlite(path.join(dir, "t.db"))))
    expect(e._tag).toBe("StorageError")
    fs.chmodSync(dir, 0o700)
    fs.rmSync(dir, { recursive: true, force: true })
  })
})
