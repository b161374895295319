import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Checkpoint, Storage, Study } from "@tunekit/core"
import { Postgres, PostgresCheckpoint } from "@tunekit/postgres"
import { Server } from "@tunekit/postgres/testing"
import { Cli } from "../src/index.js"

const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
const cli = (...args: Array<string>) => run(Cli.run(args))

/**
 * A study as one written before retention existed leaves it: 3 complete trials (values 0.3, 0.1,
 * 0.2), a pruned one, a paused one and a continuation of the pruned one (from its step 2), each
 * trial with a checkpoint per reported step.
 */
const writeStudy = (checkpoints: Checkpoint.CheckpointService) =>
  Effect.gen(function*() {
    const storage = yield* Storage.Storage
    const info = yield* storage.createStudy("old", { directions: ["minimize"] })
    const trial = (steps: number) =>
      Effect.gen(function*() {
        const t = yield* storage.createTrial(info.id, { state: "Running", worker: "w" })
        for (let step = 1; step <= steps; step++) {
          yield* Effect.orDie(checkpoints.save({ study: "old", trial: t.number }, step, new Uint8Array(1000 * t.number + step)))
          yield* storage.report(t.id, { step, values: { value: step } })
        }
        return t
      })
    for (const value of [0.3, 0.1, 0.2]) yield* storage.finishTrial((yield* trial(4)).id, { state: "Complete", values: [value] })
    const pruned = yield* trial(3)
    yield* storage.finishTrial(pruned.id, { state: "Pruned", reason: "test" })
    yield* storage.pauseTrial((yield* trial(2)).id)
    yield* storage.createTrial(info.id, { state: "Waiting", systemAttrs: { [Study.RESTORE_FROM]: { trial: pruned.number, step: 2 } } })
  })

describe("tunekit checkpoints (SQLite storage, files)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunekit-cli-ckpt-"))
  const file = path.join(dir, "t.db")
  const folder = path.join(dir, "checkpoints")
  const where = ["--storage", file, "--checkpoints", folder]
  beforeAll(() => run(Effect.scoped(Effect.provide(writeStudy(Checkpoint.makeFiles(folder)), Storage.layerSqlite(file)))))

  it("lists every checkpoint with its size and why it is kept, and what --prune would delete", async () => {
    const text = await cli("checkpoints", "old", ...where)
    const lines = text.split("\n")
    expect(lines[0]).toBe(
      `checkpoints of study "old" in ${folder} (policy, the default: the last 2 of each running trial, the final one of the best 3 complete trials, and what a trial may restore from)`
    )
    const row = (trial: number, step: number) => lines.find((l) => new RegExp(`^${trial}\\s+\\S+\\s+${step}\\s`).test(l))
    expect(row(1, 4)).toMatch(/^1\s+Complete\s+4\s+1\.1 KiB\s+best 3 \(#1\)$/)
    expect(row(2, 4)).toMatch(/best 3 \(#2\)$/)
    expect(row(0, 4)).toMatch(/best 3 \(#3\)$/)
    expect(row(0, 3)).toMatch(/^0\s+Complete\s+3\s+.*not needed$/)
    expect(row(3, 2)).toMatch(/^3\s+Pruned\s+2\s+.*needed by trial 5$/)
    expect(row(3, 3)).toMatch(/not needed$/)
    expect(row(4, 2)).toMatch(/^4\s+Waiting\s+2\s+.*paused trial resumes from it$/)
    expect(row(4, 1)).toMatch(/not needed$/)
    expect(lines.at(-1)).toMatch(/^17 checkpoints \(.*\): 5 kept \(.*\), 12 not needed \(.*\); tunekit checkpoints "old" --prune deletes them$/)
    // Listing deletes nothing.
    expect(fs.readdirSync(path.join(folder, "old", "trial-0"))).toHaveLength(4)
  })

  it("--prune applies the policy (here keep-best 1) and says what it deleted; --json gives the same as data", async () => {
    const json = JSON.parse(await cli("checkpoints", "old", ...where, "--keep-best", "1", "--json"))
    expect(json.policy).toEqual({ keepLast: 2, keepBest: 1 })
    expect(json.checkpoints.filter((c: { kept: boolean }) => c.kept).map((c: { trial: number; step: number; reasons: Array<string> }) => [c.trial, c.step, c.reasons]))
      .toEqual([[1, 4, ["best 1 (#1)"]], [3, 2, ["needed by trial 5"]], [4, 2, ["paused trial resumes from it"]]])
    const text = await cli("checkpoints", "old", ...where, "--keep-best", "1", "--prune")
    expect(text.split("\n").at(-1)).toMatch(/^deleted 14 checkpoints \(.*\); 3 kept \(.*\)$/)
    expect(fs.readdirSync(path.join(folder, "old")).sort()).toEqual(["trial-1", "trial-3", "trial-4"])
    expect(fs.readdirSync(path.join(folder, "old", "trial-3"))).toEqual(["step-2.ckpt"])
    const after = await cli("checkpoints", "old", ...where, "--keep-best", "1")
    expect(after.split("\n").at(-1)).toMatch(/^3 checkpoints \(.*\): 3 kept \(.*\), 0 not needed \(0 B\)$/)
  })

  it("says so for a study without checkpoints, a missing storage, and an unknown study", async () => {
    expect(await cli("checkpoints", "old", "--storage", file, "--checkpoints", path.join(dir, "none"))).toMatch(/\nnone stored$/)
    expect(await cli("checkpoints", "old", "--storage", path.join(dir, "missing.db"))).toMatch(/^no tunekit storage at /)
    const e = await run(Effect.flip(Cli.run(["checkpoints", "nope", ...where])))
    expect(e.message).toContain(`"nope"`)
  })
})

describe("tunekit checkpoints (PostgreSQL storage and checkpoints)", () => {
  let server: Server.Server
  beforeAll(async () => {
    server = await Server.start()
  })
  afterAll(() => server?.stop())

  it("reads the checkpoints from the storage's database by default, and prunes them there", async () => {
    const url = server.url
    await run(Effect.scoped(Effect.gen(function*() {
      const store = yield* PostgresCheckpoint.make(url)
      yield* writeStudy(store).pipe(Effect.provide(Postgres.layer(url)))
    })))
    const text = await cli("checkpoints", "old", "--storage", url)
    expect(text.split("\n")[0]).toContain(`checkpoints of study "old" in ${Postgres.maskUrl(url)}`)
    expect(text.split("\n").at(-1)).toMatch(/^17 checkpoints .*: 5 kept .*, 12 not needed/)
    expect((await cli("checkpoints", "old", "--storage", url, "--prune")).split("\n").at(-1)).toMatch(/^deleted 12 checkpoints \(.*\); 5 kept/)
    const left = await run(Effect.scoped(Effect.flatMap(PostgresCheckpoint.make(url), (s) => s.list!("old"))))
    expect(left.map((e) => [e.trial, e.step])).toEqual([[0, 4], [1, 4], [2, 4], [3, 2], [4, 2]])
  })
})
