import { Distribution, Rng, Sampler, Space, Storage, Study } from "@tunekit/core"
import { Postgres } from "@tunekit/postgres"
import { Server } from "@tunekit/postgres/testing"
import { Effect, Layer, Option } from "effect"
import * as net from "node:net"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

let server: Server.Server
let databases = 0
const fresh = () => server.createDatabase(`pgtest_${databases++}`)
beforeAll(async () => {
  server = await Server.start()
})
afterAll(() => server?.stop())

const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
const open = (input: string | Postgres.Options) => run(Postgres.make(input))
const closeAll = (ss: ReadonlyArray<Storage.StorageService>) => Promise.all(ss.map((s) => run(s.close)))
const sql = async (url: string, text: string, values: Array<unknown> = []) => {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    return (await c.query(text, values)).rows
  } finally {
    await c.end()
  }
}
const x = Distribution.float("x", 0, 1)

describe("PostgreSQL storage with concurrent workers", () => {
  it("gives each waiting trial to one of several claimers racing on separate pools", async () => {
    const url = await fresh()
    const workers = await Promise.all(Array.from({ length: 4 }, () => open(url)))
    const st = await run(workers[0].createStudy("s", { directions: ["minimize"] }))
    const n = 120
    for (let i = 0; i < n; i++) await run(workers[0].createTrial(st.id, { state: "Waiting", params: { x: i / n }, distributions: { x } }))
    // 4 pools x 3 claimers each, every claimer taking until none is left.
    const claimed = await Promise.all(workers.flatMap((w, wi) =>
      Array.from({ length: 3 }, async (_, ci) => {
        const mine: Array<number> = []
        for (;;) {
          const t = await run(w.claimWaiting(st.id, `w${wi}:${ci}`))
          if (Option.isNone(t)) return mine
          mine.push(t.value.id)
        }
      })
    ))
    const all = claimed.flat()
    expect(all.length).toBe(n)
    expect(new Set(all).size).toBe(n)
    expect(claimed.filter((c) => c.length > 0).length).toBeGreaterThan(1)
    const trials = await run(workers[1].getTrials(st.id))
    expect(trials.every((t) => t.state === "Running" && t.worker !== undefined)).toBe(true)
    await closeAll(workers)
  })

  it("numbers trials created at once by several workers 0, 1, 2... without a gap or a duplicate", async () => {
    const url = await fresh()
    const workers = await Promise.all(Array.from({ length: 4 }, () => open(url)))
    const st = await run(workers[0].createStudy("s", { directions: ["minimize"] }))
    const numbers = await Promise.all(workers.flatMap((w) =>
      Array.from({ length: 40 }, () => run(w.createTrial(st.id, { state: "Running", params: { x: 0.5 }, distributions: { x } })).then((t) => t.number))
    ))
    expect([...numbers].sort((a, b) => a - b)).toEqual(Array.from({ length: 160 }, (_, i) => i))
    expect(await run(workers[2].nextNumber(st.id))).toBe(160)
    await closeAll(workers)
  })

  it("gives a grid point to one of several workers setting it at once", async () => {
    const url = await fresh()
    const workers = await Promise.all(Array.from({ length: 3 }, () => open(url)))
    const st = await run(workers[0].createStudy("s", { directions: ["minimize"] }))
    const outcomes = await Promise.all(workers.map(async (w) => {
      const t = await run(w.createTrial(st.id, { state: "Running" }))
      return run(Effect.either(w.setParams(t.id, { x: 0.25 }, { x }, "grid:7")))
    }))
    expect(outcomes.filter((o) => o._tag === "Right").length).toBe(1)
    expect(outcomes.filter((o) => o._tag === "Left").map((o) => o._tag === "Left" && o.left._tag)).toEqual(["ClaimTaken", "ClaimTaken"])
    await closeAll(workers)
  })

  // The parameters of a trial running in this process, with distributions the process knows, are
  // set in one statement: the same outcomes as the transaction the other calls take.
  it("sets a running trial's parameters in one write: merged in order, refused once the trial ended elsewhere", async () => {
    const url = await fresh()
    const [a, b] = await Promise.all([open(url), open(url)])
    const y = Distribution.float("y", 0, 1)
    const st = await run(a.createStudy("s", { directions: ["minimize"] }))
    await run(a.createTrial(st.id, { state: "Running", params: { x: 0.5, y: 0.5 }, distributions: { x, y } }))
    const t = await run(a.createTrial(st.id, { state: "Running", params: { y: 0.9, x: 0.1 }, distributions: { y, x } }))
    await run(a.setParams(t.id, { x: 0.7 }, { x }, "grid:1"))
    const set = await run(b.getTrial(t.id))
    expect(Object.entries(set.params)).toEqual([["y", 0.9], ["x", 0.7]])
    expect(set.systemAttrs.claim).toBe("grid:1")
    const other = await run(a.createTrial(st.id, { state: "Running" }))
    expect((await run(Effect.flip(a.setParams(other.id, { x: 0.2 }, { x }, "grid:1"))))._tag).toBe("ClaimTaken")
    // Another worker fails the trial: the write is refused, and its claim stays free.
    await run(b.finishTrial(other.id, { state: "Failed", reason: "stale" }))
    expect((await run(Effect.flip(a.setParams(other.id, { x: 0.3 }, { x }, "grid:2"))))._tag).toBe("TrialStateError")
    expect((await run(b.getTrial(other.id))).params).toEqual({})
    expect(await run(b.claim(st.id, "grid:2"))).toBe(true)
    await closeAll([a, b])
  })

  // A claim that finds nothing reads the next number too, for the nextNumber call after it.
  it("gives the next number after a claim that found nothing, and a fresh one after this process created a trial", async () => {
    const url = await fresh()
    const s = await open(url)
    const st = await run(s.createStudy("s", { directions: ["minimize"] }))
    for (let i = 0; i < 3; i++) await run(s.createTrial(st.id, { state: "Running" }))
    expect(Option.isNone(await run(s.claimWaiting(st.id, "w:1")))).toBe(true)
    expect(await run(s.nextNumber(st.id))).toBe(3)
    expect(Option.isNone(await run(s.claimWaiting(st.id, "w:1")))).toBe(true)
    expect((await run(s.createTrial(st.id, { state: "Running" }))).number).toBe(3)
    expect(await run(s.nextNumber(st.id))).toBe(4)
    await closeAll([s])
  })

  it("sees what other processes changed, and only reads what changed", async () => {
    const url = await fresh()
    const [a, b] = await Promise.all([open(url), open(url)])
    const st = await run(a.createStudy("s", { directions: ["minimize"] }))
    for (let i = 0; i < 5; i++) await run(a.createTrial(st.id, { state: "Running" }))
    const first = await run(b.getTrials(st.id))
    const t = await run(a.createTrial(st.id, { state: "Running" }))
    await run(a.report(t.id, { step: 1, values: { loss: 2 } }))
    await run(a.finishTrial(first[2].id, { state: "Complete", values: [3] }))
    const second = await run(b.getTrials(st.id))
    expect(second.map((x) => x.state)).toEqual(["Running", "Running", "Complete", "Running", "Running", "Running"])
    expect(second[5].intermediate).toEqual([{ step: 1, values: { loss: 2 } }])
    // Unchanged trials are the very objects read before: they were not read and decoded again.
    expect(second[0]).toBe(first[0])
    expect(second[2]).not.toBe(first[2])
    await closeAll([a, b])
  })
})

describe("PostgreSQL history reads", () => {
  it("never goes back in time when reads of one study overlap in a process", async () => {
    const url = await fresh()
    const [writer, reader] = await Promise.all([open(url), open(url)])
    const st = await run(writer.createStudy("s", { directions: ["minimize"] }))
    const ids: Array<number> = []
    for (let i = 0; i < 30; i++) ids.push((await run(writer.createTrial(st.id, { state: "Running" }))).id)
    let writing = true
    const seen: Array<number> = []
    const readers = Array.from({ length: 6 }, async () => {
      while (writing) {
        const trials = await run(reader.getTrials(st.id))
        seen.push(trials.filter((t) => t.state === "Complete").length)
      }
    })
    for (const id of ids) await run(writer.finishTrial(id, { state: "Complete", values: [1] }))
    writing = false
    await Promise.all(readers)
    // In the order reads returned, the count of finished trials never drops.
    expect(seen.every((n, i) => i === 0 || n >= seen[i - 1])).toBe(true)
    expect((await run(reader.getTrials(st.id))).every((t) => t.state === "Complete")).toBe(true)
    await closeAll([writer, reader])
  })
})

describe("PostgreSQL parameter registry", () => {
  it("refuses a conflicting distribution before registering anything, in this process and in another", async () => {
    const url = await fresh()
    const [a, b] = await Promise.all([open(url), open(url)])
    const st = await run(a.createStudy("s", { directions: ["minimize"] }))
    await run(a.createTrial(st.id, { state: "Running", params: { x: 0.5 }, distributions: { x } }))
    const z = Distribution.float("z", 0, 1)
    for (const s of [a, b]) {
      const e = await run(Effect.flip(s.createTrial(st.id, { state: "Running", params: { x: 1, z: 0.5 }, distributions: { x: Distribution.int("x", 0, 3), z } })))
      expect(e._tag).toBe("InvalidSpace")
    }
    // z was not registered by the refused calls: it may still be an int.
    const t = await run(b.createTrial(st.id, { state: "Running", params: { z: 2 }, distributions: { z: Distribution.int("z", 0, 3) } }))
    expect(t.number).toBe(1)
    await closeAll([a, b])
  })
})

describe("PostgreSQL schema versions", () => {
  it("lets workers opening a new database at once migrate it once", async () => {
    const url = await fresh()
    const workers = await Promise.all(Array.from({ length: 6 }, () => open(url)))
    expect(await sql(url, "SELECT value FROM tunekit.meta WHERE key = 'schema_version'")).toEqual([{ value: "1" }])
    const st = await run(workers[3].createStudy("s", { directions: ["minimize"] }))
    expect((await run(workers[5].getStudy("s"))).id).toBe(st.id)
    await closeAll(workers)
  })

  it("refuses a database written by a newer tunekit, naming both versions", async () => {
    const url = await fresh()
    await run((await open(url)).close)
    await sql(url, "UPDATE tunekit.meta SET value = '7' WHERE key = 'schema_version'")
    const e = await run(Effect.flip(Postgres.make(url)))
    expect(e._tag).toBe("StorageError")
    expect(e.message).toMatch(/schema version 7/)
    expect(e.message).toMatch(/up to 1\b/)
  })

  it("keeps stores in separate schemas of one database apart", async () => {
    const url = await fresh()
    const [a, b] = await Promise.all([open({ url, schema: "team_a" }), open({ url, schema: "team_b" })])
    await run(a.createStudy("s", { directions: ["minimize"] }))
    expect(await run(b.listStudies())).toEqual([])
    await closeAll([a, b])
  })
})

/**
 * A TCP proxy before the server that can cut a connection at the worst moment: after the server
 * has answered (a commit done) and before the client hears it.
 */
const proxy = async (port: number) => {
  let drop: string | undefined
  const sockets = new Set<net.Socket>()
  const srv = net.createServer((client) => {
    const upstream = net.connect(port, "127.0.0.1")
    sockets.add(client).add(upstream)
    client.on("data", (d) => upstream.write(d))
    upstream.on("data", (d) => {
      if (drop !== undefined && d.toString("latin1").includes(drop)) {
        drop = undefined
        client.destroy()
        upstream.destroy()
      } else client.write(d)
    })
    const end = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on("error", end).on("close", end)
    upstream.on("error", end).on("close", end)
  })
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve))
  return {
    port: (srv.address() as net.AddressInfo).port,
    /** The next reply from the server (holding `text`) is lost, and its connection cut. */
    loseNextReply: (text = "") => void (drop = text),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        srv.close(() => resolve())
      })
  }
}

describe("PostgreSQL storage across lost connections", () => {
  it("applies a write once when the connection is lost after its commit", async () => {
    const url = await fresh()
    const p = await proxy(server.port)
    const s = await open({ url: url.replace(`:${server.port}/`, `:${p.port}/`), poolSize: 1 })
    const st = await run(s.createStudy("s", { directions: ["minimize"] }))
    // The reply lost is the one to the statement that commits: the write happened, unseen.
    const lost = async <A, E>(e: Effect.Effect<A, E>, commit = "") => {
      p.loseNextReply(commit)
      return run(e)
    }
    await run(s.createTrial(st.id, { state: "Waiting", params: { x: 0.1 }, distributions: { x } }))
    const t = await lost(s.createTrial(st.id, { state: "Running", params: { x: 0.5 }, distributions: { x } }))
    const claimed = await lost(s.claimWaiting(st.id, "w:1"))
    expect(Option.isSome(claimed)).toBe(true)
    await lost(s.report(t.id, { step: 1, values: { loss: 1 } }))
    expect(await lost(s.claim(st.id, "asha:0:0"))).toBe(true)
    await lost(s.setParams(t.id, { y: 0.5 }, { y: x }, "grid:1"), "COMMIT")
    await lost(s.setTrialAttr(t.id, "user", "k", 1))
    const done = await lost(s.finishTrial(t.id, { state: "Complete", values: [1] }))
    expect(done.state).toBe("Complete")
    await lost(s.pauseTrial(claimed.pipe(Option.getOrThrow).id))
    const trials = await run(s.getTrials(st.id))
    expect(trials.map((x) => [x.number, x.state])).toEqual([[0, "Waiting"], [1, "Complete"]])
    expect(trials[1].intermediate).toEqual([{ step: 1, values: { loss: 1 } }])
    expect(trials[1].systemAttrs.claim).toBe("grid:1")
    expect(trials[1].userAttrs).toEqual({ k: 1 })
    // A second finish is still refused: the trial was finished once.
    expect((await run(Effect.flip(s.finishTrial(t.id, { state: "Complete", values: [1] }))))._tag).toBe("TrialStateError")
    expect(await run(s.claim(st.id, "asha:0:0"))).toBe(false)
    await run(s.close)
    await p.close()
  })

  it("carries a stream of writes through a server restart, losing and doubling nothing", async () => {
    const url = await fresh()
    const s = await open(url)
    const st = await run(s.createStudy("s", { directions: ["minimize"] }))
    const n = 60
    const writer = (async () => {
      for (let i = 0; i < n; i++) {
        const t = await run(s.createTrial(st.id, { state: "Running", params: { x: i / n }, distributions: { x } }))
        for (let step = 0; step < 3; step++) await run(s.report(t.id, { step, values: { loss: i + step } }))
        await run(s.finishTrial(t.id, { state: "Complete", values: [i] }))
        await new Promise((r) => setTimeout(r, 10))
      }
    })()
    await new Promise((r) => setTimeout(r, 150))
    await server.restart()
    await writer
    const trials = await run(s.getTrials(st.id))
    expect(trials.map((t) => t.number)).toEqual(Array.from({ length: n }, (_, i) => i))
    expect(trials.every((t, i) => t.state === "Complete" && t.values?.[0] === i && t.intermediate.length === 3)).toBe(true)
    await run(s.close)
  })
})

describe("PostgreSQL connection strings and passwords", () => {
  const password = "s3cr3t:p@ss/word"
  let base: string
  beforeAll(async () => {
    // A user who must give a password: scram authentication for them, trust for the rest.
    await sql(server.url, `CREATE ROLE tk_user LOGIN PASSWORD '${password.replace(/'/g, "''")}'`)
    base = await server.createDatabase("pw_test")
    await sql(base, "GRANT ALL ON DATABASE pw_test TO tk_user")
    await sql(base, "GRANT ALL ON SCHEMA public TO tk_user")
    const hba = `${server.dir}/data/pg_hba.conf`
    const fs = await import("node:fs")
    fs.writeFileSync(hba, `host all tk_user 127.0.0.1/32 scram-sha-256\n${fs.readFileSync(hba, "utf8")}`)
    await sql(server.url, "SELECT pg_reload_conf()")
  })
  const hostPort = () => `127.0.0.1:${server.port}`

  it("takes the password from the URL, and never shows it", async () => {
    const s = await open(`postgresql://tk_user:${encodeURIComponent(password)}@${hostPort()}/pw_test`)
    expect(s.label).toBe(`postgresql://tk_user:***@${hostPort()}/pw_test`)
    await run(s.createStudy("s", { directions: ["minimize"] }))
    await run(s.close)
  })

  it("takes the password from PGPASSWORD, a password file or a passfile", async () => {
    const fs = await import("node:fs")
    const os = await import("node:os")
    const path = await import("node:path")
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-pw-"))
    const url = `postgres://tk_user@${hostPort()}/pw_test`
    const saved = process.env.PGPASSWORD
    process.env.PGPASSWORD = password
    try {
      await run((await open(url)).close)
    } finally {
      if (saved === undefined) delete process.env.PGPASSWORD
      else process.env.PGPASSWORD = saved
    }
    const file = path.join(dir, "secret")
    fs.writeFileSync(file, `${password}\n`)
    await run((await open({ url, passwordFile: file })).close)
    const passfile = path.join(dir, "pgpass")
    fs.writeFileSync(passfile, `otherhost:*:*:*:nope\n127.0.0.1:${server.port}:pw_test:tk_user:${password.replace(/:/g, "\\:")}\n`, { mode: 0o600 })
    const s = await open(`${url}?passfile=${encodeURIComponent(passfile)}`)
    expect(s.label).not.toContain(password)
    await run(s.close)
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("fails with a StorageError that names the URL without its password", async () => {
    const wrong = "not-the-password-42"
    const e = await run(Effect.flip(Postgres.make(`postgres://tk_user:${wrong}@${hostPort()}/pw_test`)))
    expect(e._tag).toBe("StorageError")
    expect(e.message).toContain(`postgres://tk_user:***@${hostPort()}/pw_test`)
    expect(e.message).toMatch(/password authentication failed/)
    for (const text of [e.message, JSON.stringify(e), String(e), JSON.stringify(e.cause ?? null)]) expect(text).not.toContain(wrong)
    const bad = await run(Effect.flip(Postgres.make(`mysql://root:${wrong}@db/x`)))
    expect(bad.message).not.toContain(wrong)
    expect(bad.message).toMatch(/not a PostgreSQL connection string/)
  })

  it("fails fast with a clear StorageError when the database does not exist", async () => {
    const e = await run(Effect.flip(Postgres.make(`postgres://postgres@${hostPort()}/no_such_db`)))
    expect(e.message).toMatch(/no_such_db/)
  })
})

describe("PostgreSQL storage followed by its changes", () => {
  it("changedTrials reads the trials that changed since a reader's counter, from another pool (what the dashboard does)", async () => {
    const url = await fresh()
    const [writer, reader] = await Promise.all([open(url), open(url)])
    const st = await run(writer.createStudy("s", { directions: ["minimize"] }))
    const changes = (since: number) => run(reader.changedTrials!(st.id, since))
    const a = await run(writer.createTrial(st.id, { state: "Running", params: { x: 0.5 }, distributions: { x } }))
    const b = await run(writer.createTrial(st.id, { state: "Running" }))
    const first = await changes(0)
    expect(first.trials.map((t) => t.number)).toEqual([0, 1])
    expect((await changes(first.seq)).trials).toEqual([])
    await run(writer.report(b.id, { step: 1, values: { loss: 0.3 } }))
    const reported = await changes(first.seq)
    expect(reported.trials.map((t) => [t.number, t.intermediate])).toEqual([[1, [{ step: 1, values: { loss: 0.3 } }]]])
    expect(reported.seq).toBeGreaterThanOrEqual(first.seq)
    await run(writer.finishTrial(a.id, { state: "Complete", values: [0.1] }))
    const finished = await changes(reported.seq)
    expect(finished.trials.map((t) => [t.number, t.state])).toEqual([[0, "Complete"]])
    await closeAll([writer, reader])
  })
})

describe("PostgreSQL storage under Study.optimize with racing workers", () => {
  // Random sampling reads no history, so trial N's params are a function of the seed and N alone,
  // however the workers' creates interleave: a trial that got a number other than the one it was
  // sampled for keeps the sample for its number (`TrialInit.later`) or is sampled again.
  it("gives every trial number the params one process gives it", async () => {
    const url = await fresh()
    const space = Space.struct({ a: Space.float(-1, 1), b: Space.int(0, 9), c: Space.categorical(["p", "q", "r"] as const) })
    const study = (trials: number) =>
      Study.optimize({ study: "race", space, metric: "v", trials, objective: (c) => c.a * c.a + c.b })
    const sampling = Layer.merge(Sampler.layerRandom, Rng.layer({ seed: 7 }))
    await Promise.all(Array.from({ length: 4 }, () =>
      Effect.runPromise(study(50).pipe(Effect.provide(Layer.merge(Postgres.layer(url), sampling))))))
    const alone = await Effect.runPromise(Effect.gen(function*() {
      yield* study(200)
      const storage = yield* Storage.Storage
      return yield* storage.getTrials((yield* storage.getStudy("race")).id)
    }).pipe(Effect.provide(Layer.merge(Storage.layerMemory, sampling))))
    const raced = await Effect.runPromise(Effect.gen(function*() {
      const storage = yield* Storage.Storage
      return yield* storage.getTrials((yield* storage.getStudy("race")).id)
    }).pipe(Effect.scoped, Effect.provide(Postgres.layer(url))))
    expect(raced.map((t) => t.state)).toEqual(Array(200).fill("Complete"))
    expect(raced.map((t) => [t.number, t.params])).toEqual(alone.map((t) => [t.number, t.params]))
  })
})
