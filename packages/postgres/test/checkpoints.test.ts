import { Checkpoint, Retention, Storage } from "@tunekit/core"
import { CheckpointConformance } from "@tunekit/core/testing"
import { Effect, Exit, Scope } from "effect"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { PostgresCheckpoint } from "../src/index.js"
import { Server } from "../src/testing/index.js"

let server: Server.Server
let admin: pg.Pool
beforeAll(async () => {
  server = await Server.start()
  admin = new pg.Pool({ connectionString: server.url, max: 2 })
})
afterAll(async () => {
  await admin?.end()
  await server?.stop()
})

const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
const fail = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(Effect.flip(e))
let schemas = 0

/** A store in a fresh schema, and how to drop it. */
const open = async (options: Omit<PostgresCheckpoint.Options, "url" | "schema"> = {}) => {
  const schema = `ckpt_${process.pid}_${schemas++}`
  const scope = await run(Scope.make())
  const checkpoints = await run(Scope.extend(PostgresCheckpoint.make({ url: server.url, schema, ...options }), scope))
  return {
    schema,
    checkpoints,
    close: async () => {
      await run(Scope.close(scope, Exit.void))
      await admin.query(`DROP SCHEMA ${schema} CASCADE`)
    }
  }
}

// The suite, unchanged; and again with 7-byte chunks, so that every checkpoint of it spans chunks.
CheckpointConformance.suite("postgres", () => open())
CheckpointConformance.suite("postgres, small chunks", () => open({ chunkBytes: 7 }), { numRuns: 10 })

const chunkRows = async (schema: string) => Number((await admin.query(`SELECT count(*) AS n FROM ${schema}.checkpoint_chunks`)).rows[0].n)

describe("PostgreSQL checkpoints", () => {
  it("stores a checkpoint in chunks, one row each, and reads them back in batches", async () => {
    const { checkpoints: c, close, schema } = await open({ chunkBytes: 1000 })
    try {
      const bytes = new Uint8Array(50_500).map((_, i) => (i * 13) % 256)
      await run(c.save({ study: "s", trial: 1 }, 3, bytes))
      expect(await chunkRows(schema)).toBe(51)
      expect([...(await run(c.load({ study: "s", trial: 1 }, 3))) as Uint8Array]).toEqual([...bytes])
      // Saved again smaller: the old chunks go in the same transaction.
      await run(c.save({ study: "s", trial: 1 }, 3, new Uint8Array([1, 2])))
      expect(await chunkRows(schema)).toBe(1)
      await run(c.remove({ study: "s", trial: 1 }))
      expect(await chunkRows(schema)).toBe(0)
    } finally {
      await close()
    }
  })

  const corrupt = async (damage: (schema: string) => string, reason: string) => {
    const { checkpoints: c, close, schema } = await open({ chunkBytes: 100 })
    try {
      const key = { study: "my study", trial: 4 }
      await run(c.save(key, 9, new Uint8Array(1000).map((_, i) => i % 256)))
      await admin.query(damage(schema))
      for (const e of [await fail(c.load(key, 9)), await fail(c.load(key))]) {
        expect(e._tag).toBe("CheckpointCorrupt")
        if (e._tag !== "CheckpointCorrupt") continue
        expect([e.key, e.step]).toEqual([key, 9])
        expect(e.location).toMatch(new RegExp(`^postgres://.*${schema}\\.checkpoints id \\d+$`))
        expect(e.reason).toContain(reason)
        expect(e.message).toContain(`the checkpoint of study "my study" trial 4 step 9`)
      }
    } finally {
      await close()
    }
  }

  it("fails the load with CheckpointCorrupt on a flipped byte", () =>
    corrupt((s) => `UPDATE ${s}.checkpoint_chunks SET data = set_byte(data, 10, get_byte(data, 10) # 1) WHERE seq = 3`, "its SHA-256 does not match"))
  it("fails the load with CheckpointCorrupt on a chunk cut short", () =>
    corrupt((s) => `UPDATE ${s}.checkpoint_chunks SET data = substring(data from 1 for 50) WHERE seq = 9`, "it holds 950 of its 1000 bytes (cut short)"))
  it("fails the load with CheckpointCorrupt on a missing chunk", () =>
    corrupt((s) => `DELETE FROM ${s}.checkpoint_chunks WHERE seq = 4`, "it has 9 of its 10 chunks (chunk 4 is missing)"))

  it("never deletes a checkpoint under a loader: a delete waits for a load of many chunks to end", async () => {
    const { checkpoints: c, close, schema } = await open({ chunkBytes: 256 })
    try {
      const key = { study: "s", trial: 0 }
      const bytes = new Uint8Array(400_000).map((_, i) => (i * 7) % 256)
      let overlapped = 0
      for (let attempt = 0; attempt < 5 && overlapped === 0; attempt++) {
        await run(c.save(key, 1, bytes))
        const order: Array<string> = []
        const loading = run(c.load(key, 1)).then((d) => (order.push("loaded"), d))
        // Wait until the loader holds the row (FOR SHARE takes a row-share lock on the table).
        let held = false
        for (let i = 0; i < 2000 && !held && order.length === 0; i++) {
          const r = await admin.query(
            `SELECT count(*) AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND c.relname = 'checkpoints' AND l.mode = 'RowShareLock'`,
            [schema]
          )
          held = Number(r.rows[0].n) > 0
        }
        const removing = held ? run(c.remove(key)).then(() => order.push("removed")) : Promise.resolve()
        const data = await loading
        await removing
        expect([...(data as Uint8Array)]).toEqual([...bytes])
        if (held) {
          overlapped++
          expect(order).toEqual(["loaded", "removed"])
          expect(await run(c.steps(key))).toEqual([])
        }
      }
      expect(overlapped).toBe(1)
    } finally {
      await close()
    }
  })

  it("applies retention with two workers on one database: what the policy keeps, nothing lost", async () => {
    const storage = await run(Effect.provide(Storage.Storage, Storage.layerMemory))
    const info = await run(storage.createStudy("s", { directions: ["maximize"] }))
    const one = await open()
    const scope = await run(Scope.make())
    const two = await run(Scope.extend(PostgresCheckpoint.make({ url: server.url, schema: one.schema }), scope))
    try {
      const workers = [one.checkpoints, two].map((store) => Retention.make(store, { keepLast: 2, keepBest: 1 }))
      for (const w of workers) await run(w.settle!("s", storage))
      const trials = await run(Effect.forEach([0, 1, 2, 3], () => storage.createTrial(info.id, { state: "Running", worker: "w" })))
      let most = 0
      await run(Effect.forEach(trials, (t, i) =>
        Effect.gen(function*() {
          const w = workers[i % 2]
          for (let step = 1; step <= 10; step++) {
            yield* w.save({ study: "s", trial: t.number }, step, new Uint8Array(3000).fill(step))
            most = Math.max(most, (yield* w.list!("s")).length)
            yield* storage.report(t.id, { step, values: { value: i } })
          }
          yield* storage.finishTrial(t.id, { state: "Complete", values: [i] })
          yield* w.settle!("s", storage)
        }), { concurrency: "unbounded" }))
      for (const w of workers) await run(w.settle!("s", storage))
      expect(most).toBeLessThanOrEqual(4 * 3 + 1)
      expect((await run(workers[1].list!("s"))).map((e) => [e.trial, e.step])).toEqual([[trials[3].number, 10]])
      expect(await chunkRows(one.schema)).toBe(1)
    } finally {
      await run(Scope.close(scope, Exit.void))
      await one.close()
    }
  })

  CheckpointConformance.exploitRace("two workers on one database", async () => {
    const one = await open()
    const scope = await run(Scope.make())
    const two = await run(Scope.extend(PostgresCheckpoint.make({ url: server.url, schema: one.schema }), scope))
    return { handles: [one.checkpoints, two], close: async () => (await run(Scope.close(scope, Exit.void)), await one.close()) }
  })

  it("refuses a bad connection string with CheckpointError, without showing the password", async () => {
    const e = await fail(Effect.scoped(PostgresCheckpoint.make("mysql://me:secret@db/x")))
    expect(e._tag).toBe("CheckpointError")
    expect(e.message).toContain("not a PostgreSQL connection string")
    expect(e.message).not.toContain("secret")
  })

  it("is the Checkpoint layer with the default retention policy", async () => {
    const label = await run(Effect.scoped(Effect.map(Checkpoint.Checkpoint, (c) => c.label)).pipe(
      Effect.provide(PostgresCheckpoint.layer({ url: server.url, schema: "layer_test" }))
    ))
    expect(label).toMatch(/^postgres:postgres:\/\/.* \(retention: last 2, best 3\)$/)
  })
})
