// The facade on PostgreSQL: a postgres:// URL as storage, and checkpoints in the same database.
import { Effect, Option } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Checkpoint, Storage } from "@tunekit/core"
import { Postgres, PostgresCheckpoint } from "@tunekit/postgres"
import { Server } from "@tunekit/postgres/testing"
import { optimize, Space } from "../src/index.js"

describe("tunekit.optimize on PostgreSQL", () => {
  let server: Server.Server
  beforeAll(async () => {
    server = await Server.start()
  })
  afterAll(() => server?.stop())

  it("stores the study in the database a postgres:// URL names, with its checkpoints beside it", async () => {
    const url = await server.createDatabase("facade")
    const space = Space.struct({ x: Space.float(0, 1) })
    const result = await optimize({
      study: "shared",
      space,
      storage: url,
      seed: 3,
      trials: 4,
      // An objective that checkpoints through the study's Checkpoint service.
      objective: (config, trial) =>
        Effect.gen(function*() {
          const checkpoints = Option.getOrThrow(yield* Effect.serviceOption(Checkpoint.Checkpoint))
          yield* Effect.orDie(Checkpoint.forTrial(checkpoints, trial).save(1, { x: config.x }))
          return config.x
        })
    })
    expect(result.trials).toHaveLength(4)
    const stored = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function*() {
          const storage = yield* Storage.Storage
          const trials = yield* storage.getTrials((yield* storage.getStudy("shared")).id)
          const checkpoints = yield* Checkpoint.Checkpoint
          // The best trial's checkpoint (retention keeps the best trials' last ones).
          const saved = yield* checkpoints.load({ study: "shared", trial: result.best!.number }, 1)
          return { trials, saved }
        }).pipe(Effect.provide(Postgres.layer(url)), Effect.provide(PostgresCheckpoint.layer(url)))
      )
    )
    expect(stored.trials.map((t) => t.state)).toEqual(["Complete", "Complete", "Complete", "Complete"])
    expect(stored.saved).toEqual({ x: result.best!.config.x })
  })
})
