import { StorageConformance } from "@tunekit/core/testing"
import { Postgres } from "@tunekit/postgres"
import { Server } from "@tunekit/postgres/testing"
import { Effect } from "effect"
import { afterAll, beforeAll } from "vitest"

let server: Server.Server
let databases = 0
beforeAll(async () => {
  server = await Server.start()
})
afterAll(() => server?.stop())

// The storage conformance suite, unchanged, on a fresh database per test: its tests hold the
// expectations (the same ones memory and SQLite pass).
StorageConformance.suite("postgres", async () => {
  const url = await server.createDatabase(`conformance_${databases++}`)
  const storage = await Effect.runPromise(Postgres.make(url))
  return { storage, close: () => Effect.runPromise(storage.close) }
})
