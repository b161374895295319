// `tunekit tasks` on a postgres:// URL: the transfer database in the database that holds the
// studies, the URL's password never shown.
import { Effect, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Rng, Space, Study } from "@tunekit/core"
import { Postgres, PostgresTransfer } from "@tunekit/postgres"
import { Server } from "@tunekit/postgres/testing"
import { Transfer } from "@tunekit/transfer"
import { Cli } from "../src/index.js"

// The throwaway server trusts local users: a password in the URL is accepted and ignored, which
// lets this test check where it would show.
const secret = "hunter2-secret"
let server: Server.Server
let url: string
beforeAll(async () => {
  server = await Server.start()
  url = (await server.createDatabase("tasks")).replace("postgres@", `postgres:${secret}@`)
})
afterAll(() => server?.stop())

const cli = (...args: ReadonlyArray<string>) => Effect.runPromise(Cli.run([...args, "--storage", url]))

describe("tunekit tasks on a PostgreSQL database", () => {
  it("records a study of the database under a task, lists the tasks and compares them", async () => {
    const space = Space.struct({ x: Space.float(0, 1), n: Space.int(1, 4) })
    await Effect.runPromise(
      Study.optimize({ study: "pg-study", space, objective: (c) => (c.x - 0.3) ** 2 + c.n, trials: 5 }).pipe(
        Effect.provide(Layer.merge(Postgres.layer(url), Rng.layer({ seed: 3 })))
      ) as Effect.Effect<unknown, unknown>
    )
    expect(await cli("tasks")).toBe("no tasks")
    expect(await Effect.runPromise(Cli.run(["tasks", "record", "pg-study", "--task", "toy", "--storage", url]))).toBe(
      `recorded study "pg-study" under task "toy": 5 trials, 2 parameters`
    )
    await Effect.runPromise(Effect.flatMap(Transfer.Transfer, (db) =>
      Effect.zip(db.saveTask({ name: "toy", metaFeatures: { logRows: 5, classEntropy: 1 } }), db.saveTask({ name: "other", metaFeatures: { logRows: 7, classEntropy: 0.5 } }))
    ).pipe(Effect.provide(PostgresTransfer.layer(url))))
    const lines = (await cli("tasks")).split("\n")
    expect(lines[0]).toMatch(/^task\s+tags\s+studies\s+trials\s+meta-features\s+best$/)
    expect(lines.find((l) => l.startsWith("toy"))).toMatch(/^toy\s+-\s+1\s+5\s+yes\s+value \d/)
    expect(lines.find((l) => l.startsWith("other"))).toMatch(/^other\s+-\s+0\s+0\s+yes\s+-$/)
    expect((await Effect.runPromise(Cli.run(["tasks", "similar", "toy", "--storage", url]))).split("\n")[1]).toMatch(/^other\s+0\.\d{4}$/)
  })

  it("names the database with its password masked when it cannot be reached", async () => {
    const missing = url.replace(/\/tasks$/, "/no_such_database")
    const e = await Effect.runPromise(Effect.flip(Cli.run(["tasks", "--storage", missing])))
    expect(e.message).toContain("postgres://postgres:***@")
    expect(e.message).toContain("no_such_database")
    expect(e.message).not.toContain(secret)
  })
})
