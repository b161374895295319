// A PostgreSQL database named by its URL wherever the CLI takes a storage: reading commands,
// sweeps (on the command line and in the sweep file), and the URL's password never shown.
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Rng, Space, Storage, Study } from "@tunekit/core"
import { Postgres } from "@tunekit/postgres"
import { Server } from "@tunekit/postgres/testing"
import { Cli, Sweep } from "../src/index.js"

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "sweep-journal.mjs")
// The throwaway server trusts local users: a password in the URL is accepted and ignored, which
// lets these tests check where it would show.
const secret = "hunter2-secret"

let server: Server.Server
let withPassword: string
beforeAll(async () => {
  server = await Server.start()
  const url = await server.createDatabase("cli")
  withPassword = url.replace("postgres@", `postgres:${secret}@`)
})
afterAll(() => server?.stop())

describe("the CLI on a PostgreSQL storage", () => {
  it("reads studies, trials and the best trial from a postgres:// URL", async () => {
    const space = Space.struct({ x: Space.float(0, 1) })
    await Effect.runPromise(
      Study.optimize({ study: "pg-demo", space, objective: (c) => (c.x - 0.3) ** 2, trials: 5 }).pipe(
        Effect.provide(Layer.merge(Postgres.layer(withPassword), Rng.layer({ seed: 3 })))
      ) as Effect.Effect<unknown, unknown>
    )
    const studies = await Effect.runPromise(Cli.run(["studies", "--storage", withPassword]))
    expect(studies).toContain("pg-demo")
    const trials = JSON.parse(await Effect.runPromise(Cli.run(["trials", "pg-demo", "--storage", withPassword, "--json"])))
    expect(trials.length).toBe(5)
    expect(await Effect.runPromise(Cli.run(["best", "pg-demo", "--storage", withPassword]))).toMatch(/best trial of "pg-demo"/)
  })

  it("names the database in errors with its password masked", async () => {
    const missing = withPassword.replace(/\/cli$/, "/no_such_database")
    const e = await Effect.runPromise(Effect.flip(Cli.run(["studies", "--storage", missing])))
    expect(e.message).toContain("postgres://postgres:***@")
    expect(e.message).toContain("no_such_database")
    expect(e.message).not.toContain(secret)
  })

  it("runs a sweep whose file names a postgres:// storage, and another agent by the URL", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-pg-sweep-"))
    const file = path.join(dir, "sweep.yaml")
    fs.writeFileSync(file, [
      "name: pg-sweep",
      `program: ${fixture}`,
      "method: grid",
      "metric: {name: loss}",
      "parameters:",
      "  x: {values: [1, 2, 3, 4]}",
      "  epochs: {value: 1}",
      "  ms: {value: 1}",
      `storage: ${withPassword}`
    ].join("\n") + "\n")
    const first = await Effect.runPromise(Sweep.run(file, { count: 2, warn: () => undefined }))
    expect(first.ran.length).toBe(2)
    expect(first.text).not.toContain(secret)
    expect(first.storage).toBe(Postgres.maskUrl(withPassword))
    const second = await Effect.runPromise(Sweep.agent("pg-sweep", { storage: withPassword }))
    expect(second.ran.length).toBe(2)
    expect(second.trials.map((t) => t.state)).toEqual(["Complete", "Complete", "Complete", "Complete"])
    // The sweep's stored definition (which its agents read) keeps no password either.
    const stored = await Effect.runPromise(Effect.scoped(Effect.provide(
      Effect.flatMap(Storage.Storage, (s) => s.getStudy("pg-sweep")),
      Postgres.layer(withPassword)
    )))
    expect(JSON.stringify(stored.systemAttrs)).not.toContain(secret)
    fs.rmSync(dir, { recursive: true, force: true })
  })
})
